# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The one place that runs anything as root.

nova-compute runs as an unprivileged service user and reaches root through
oslo.privsep daemons; this package is the library's own privsep context,
:data:`context`, and its few narrow root operations.  Each operation is
declared once, where it does its work, as an entry point of the context
(:func:`entrypoint`): the iscsiadm, multipath and multipathd runs of
:mod:`~iscsi_transports.privileged.commands`, the SCSI writes and disk
reads of :mod:`~iscsi_transports.privileged.scsi`, the record reads and
writes of :mod:`~iscsi_transports.privileged.records`.  Each checks its
arguments *inside* the daemon (:mod:`~iscsi_transports.privileged.validate`)
before it runs iscsiadm or multipath with a checked argv, writes a SCSI
``scan``, ``delete`` or ``rescan`` file, flushes a disk, or writes the CHAP
lines of an open-iscsi record (so that no secret is ever on a command line).

Callers reach the operations through one typed
:class:`~iscsi_transports.privileged.client.Executor`, which calls the
entry point (the daemon, for a service user) or, in a tool already running
as root such as the console script, the same function's body in process.

The context is created at import, on oslo.config's global ``CONF``, because
that is how oslo.privsep finds it again inside ``privsep-helper``
(``--privsep_context iscsi_transports.privileged.context``) and reads its
``[iscsi_transports_privileged]`` section (user, group, capabilities,
helper_command).  It is the one exception to "nothing registered on a global
at import", and nothing on the console script's cold path imports this
package.

Capabilities: the daemon keeps ``CAP_SYS_ADMIN`` only.  It runs as uid 0
(``privsep-helper`` started through the root helper, as nova's are), so it
owns ``/etc/iscsi``, ``/run/lock/iscsi`` and the sysfs files it writes
without ``CAP_DAC_OVERRIDE``; the ``BLKFLSBUF`` ioctl of a flush needs
``CAP_SYS_ADMIN``; the commands it starts (iscsiadm, multipath) are
executed as uid 0 and get the full set back from the bounding set, as every
privsep daemon's children do.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Callable

from oslo_config import cfg
from oslo_privsep import capabilities
from oslo_privsep import priv_context

__all__ = ["CFG_SECTION", "CONTEXT_PATH", "context", "entrypoint",
           "list_opts"]

_P = typing.ParamSpec("_P")
_R = typing.TypeVar("_R")

#: The configuration section of the daemon (user, group, capabilities,
#: helper_command, thread_pool_size, logger_name).
CFG_SECTION = "iscsi_transports_privileged"
#: What ``privsep-helper --privsep_context`` names.
CONTEXT_PATH = __name__ + ".context"
CAPABILITIES = [capabilities.CAP_SYS_ADMIN]
LOGGER_NAME = __name__ + ".daemon"

context = priv_context.PrivContext(
    __name__,
    cfg_section=CFG_SECTION,
    pypath=CONTEXT_PATH,
    capabilities=CAPABILITIES,
    logger_name=LOGGER_NAME,
)
#: The daemon's threads mostly wait on iscsiadm, and a login to a dead
#: portal waits its whole login window: oslo.privsep's default of one
#: thread per CPU would queue a multipath volume's parallel logins, and
#: every other attach on the host, behind two such logins on a 2-CPU
#: compute node.  A waiting thread costs a stack, not a CPU.
THREAD_POOL_SIZE = 64
cfg.CONF.set_default("thread_pool_size", THREAD_POOL_SIZE,
                     group=CFG_SECTION)


def list_opts() -> tuple[cfg.OptGroup, list[cfg.Opt]]:
    """oslo.privsep's options of :data:`context`'s section, with the
    defaults the context sets, for the sample configuration.

    Copies: the originals are oslo.privsep's, shared by every context.
    """
    group = cfg.OptGroup(
        CFG_SECTION, title="iscsi-transports privileged daemon",
        help="oslo.privsep's options for the library's root daemon (the "
             "iscsi_transports.privileged.context privsep context).")
    options = copy.deepcopy(priv_context.OPTS)
    for option in options:
        if option.name == "capabilities":
            option.default = CAPABILITIES
            option.sample_default = "CAP_SYS_ADMIN"
        elif option.name == "logger_name":
            option.default = LOGGER_NAME
        elif option.name == "thread_pool_size":
            option.default = THREAD_POOL_SIZE
            option.sample_default = None
    return group, options


def entrypoint(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Declare ``function`` a root operation: an entry point of
    :data:`context`, which the daemon runs by this name.

    oslo.privsep's own decorator loses the signature (it returns a
    partial); this keeps it for type checks and keeps the undecorated
    function as ``__wrapped__``, which a caller that is root already runs
    in process (:class:`~iscsi_transports.privileged.client.Executor`).
    Through the daemon a tuple or list in the answer arrives as a tuple:
    the executor turns each answer back into its declared type.
    """
    declared = functools.update_wrapper(context.entrypoint(function),
                                        function)
    return typing.cast(Callable[_P, _R], declared)
