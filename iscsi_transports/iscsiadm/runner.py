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

"""The one module that runs iscsiadm.

It builds argv lists (never shell strings) and runs them through the
library's root operations (:mod:`iscsi_transports.privileged`: the daemon
for a service user, in process for root), which check the argv and run
iscsiadm; node settings (CHAP included) and discovery CHAP are written into
the record by the same operations instead of passed as ``-n``/``-v`` pairs,
so no secret is ever in a process's argv and no ``-o update`` process runs.
It turns open-iscsi's exit codes (``include/iscsi_err.h``) into the typed
errors of :mod:`iscsi_transports.exception`; every command line that leaves
this module (logs, exceptions) has its CHAP secrets masked.  Output parsing
lives in :mod:`iscsi_transports.iscsiadm.parse`, exit codes and masking in
:mod:`iscsi_transports.iscsiadm.errors`, iface record management in
:mod:`iscsi_transports.iscsiadm.ifaces` (which uses this module; this module
never uses it).  The attach wing's root writes (LUN scans, rescans, disk
flushes and deletes) go through :attr:`Iscsiadm.privileged` too.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import state
from iscsi_transports.iscsiadm import errors
from iscsi_transports.iscsiadm import nodes
from iscsi_transports.iscsiadm import parse

if TYPE_CHECKING:
    from iscsi_transports.privileged import client

LOG = logging.getLogger(__name__)
#: Named here: in the class, ``nodes`` is the listing method.
RecordLayout = nodes.RecordLayout
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

iscsiadm_opts = [
    cfg.IntOpt("iscsiadm_timeout", default=120, min=1,
               help="Seconds an iscsiadm command may run before it is "
                    "killed and reported as timed out."),
    *nodes.nodes_opts,
    *state.state_opts,
]


class Iscsiadm:
    """Runs iscsiadm commands built from typed arguments."""

    def __init__(self, conf: cfg.ConfigOpts,
                 executor: client.Executor | None = None) -> None:
        config.register(conf, iscsiadm_opts)
        self.conf = conf
        self._executor = executor
        #: Every secret written into a record so far (or, never by the
        #: library, passed on a command line), scrubbed from the output of
        #: all later errors: iscsiadm may echo what a record holds.
        self._secrets: set[str] = set()

    @property
    def privileged(self) -> client.Executor:
        """The root operations: the given executor, else the library's
        (through the daemon, or in process when already root)."""
        if self._executor is None:
            # Lazy: oslo.privsep is not loaded until something runs as root.
            from iscsi_transports.privileged import client
            self._executor = client.executor()
        return self._executor

    @property
    def options(self) -> Any:
        return self.conf.iscsi_transports

    def run(self, args: Sequence[str], ok_codes: Iterable[int] = (0,),
            timeout: float | None = None) -> str:
        """Run iscsiadm with ``args``; return stdout or raise a typed error.

        An exit code in ``ok_codes`` other than 0 (21 "no objects found"
        for listings) returns the output as success.  ``timeout`` replaces
        ``iscsiadm_timeout`` for this command when longer (a login).
        """
        argv = ["iscsiadm", *args]
        self._secrets.update(errors.secrets_of(argv))
        shown = " ".join(errors.mask_argv(argv))
        LOG.debug("Running %s", shown)
        started = time.monotonic()
        timeout = int(max(timeout or 0, self.options.iscsiadm_timeout))
        try:
            result = self.privileged.iscsiadm(args, timeout)
        except exception.PrivilegedCommandTimeout:
            raise exception.IscsiadmTimeout(errors.mask_argv(argv),
                                            timeout) from None
        except exception.PrivilegedOperationFailed as error:
            raise exception.IscsiadmNotFound(errors.mask_argv(argv), None,
                                             error.reason) from None
        if result.exit_code not in list(ok_codes):
            raise self._failed(argv, result.exit_code, result.stderr,
                               result.stdout)
        LOG.debug("%s succeeded in %.3fs", shown, time.monotonic() - started)
        return result.stdout

    def _remember_secrets(self, settings: Mapping[str, str]) -> None:
        self._secrets.update(value for key, value in settings.items()
                             if errors.is_secret_key(key) and value)

    def _failed(self, argv: list[str], exit_code: int | None, stderr: str,
                stdout: str) -> exception.IscsiadmError:
        error = errors.error_for(argv, exit_code, stderr, stdout, self._secrets)
        LOG.debug("%s", error.message)
        return error

    # -- locks -----------------------------------------------------

    def lock_path(self) -> str:
        """[oslo_concurrency] lock_path when set, else <state_path>/locks."""
        return state.lock_path(self.conf)

    def external_lock(self, name: str) -> Any:
        """A lock held across processes (nova-compute, the console script),
        its file usable by both; see :func:`iscsi_transports.state.external_lock`."""
        return state.external_lock(self.conf, name)

    @property
    def db_root(self) -> str:
        """open-iscsi's records directory (see :func:`nodes.db_root`)."""
        return nodes.db_root(self.options.iscsi_db_path)

    # -- listings -------------------------------------------------------------

    def nodes(self) -> list[parse.Target]:
        return parse.parse_targets(self.run(["-m", "node"], (0, 21)))

    def node_layout(self, target: str, portal: str) -> RecordLayout:
        """Which records ``target`` has at ``portal`` (see
        :mod:`iscsi_transports.iscsiadm.nodes`), as the root daemon reads
        them from open-iscsi's records directory."""
        tpgts, owner = self.privileged.read_node_layout(target, portal)
        single = nodes.single_file(self.db_root, target, portal)
        return nodes.RecordLayout(single if owner else None, owner,
                                  tuple(tpgts))

    # -- discovery -----------------------------------------------------------

    def discover(self, portal: str, iface_args: Sequence[str],
                 auth: dict[str, str] | None = None) -> list[parse.Target]:
        """SendTargets discovery through the iface ``iface_args`` names
        (the transport's :meth:`~iscsi_transports.base.Transport.
        iscsiadm_args`).

        ``-o nonpersistent``: the targets are listed, no node record is
        written or rewritten (iscsiadm's default would create, update and
        delete records, other volumes' included).  Without CHAP this is
        one process (``-m discovery``).  With discovery CHAP the settings
        go into a discoverydb record first (``-o new``, then the CHAP
        lines written into it by the root operations) and ``--discover``
        uses it: two processes.
        """
        db = ["-t", "sendtargets", "-p", portal,
              *checked_iface_args(iface_args)]
        if not auth:
            return parse.parse_discovery(self.run(
                ["-m", "discovery", *db, "-o", "nonpersistent"]))
        self.run(["-m", "discoverydb", *db, "-o", "new"])
        self._remember_secrets(auth)
        self.privileged.write_discovery_auth(portal, auth)
        return parse.parse_discovery(self.run(
            ["-m", "discoverydb", *db, "--discover", "-o", "nonpersistent"]))

    # -- nodes ---------------------------------------------------------------

    @staticmethod
    def node_args(target: str, portal: str,
                  iface_args: Sequence[str]) -> list[str]:
        return ["-m", "node", "-T", target, "-p", portal,
                *checked_iface_args(iface_args)]

    def node_new(self, target: str, portal: str,
                 iface_args: Sequence[str]) -> None:
        """A static node record bound to the iface (no discovery needed)."""
        self.run([*self.node_args(target, portal, iface_args), "-o", "new"])

    def node_update(self, target: str, portal: str, iface_args: Sequence[str],
                    settings: dict[str, str]) -> None:
        """Set node fields, written into the record by the root
        operations in one call (no process, no secret on a command line)."""
        self._remember_secrets(settings)
        self.privileged.write_node_settings(target, portal,
                                            _iface_name(iface_args), settings)

    def login(self, target: str, portal: str, iface_args: Sequence[str],
              timeout: float | None = None) -> bool:
        """Log in; False when the session already existed (exit 15).

        ``timeout`` should exceed the login window the node record sets
        (iscsid's own retries), so that iscsiadm reports why the login
        failed instead of being killed.
        """
        try:
            self.run([*self.node_args(target, portal, iface_args),
                      "--login"], timeout=timeout)
        except exception.SessionExists:
            return False
        return True

    def logout(self, target: str, portal: str,
               iface_args: Sequence[str]) -> None:
        """Log out of this iface's session only; none (21) is fine."""
        self.run([*self.node_args(target, portal, iface_args), "--logout"],
                 (0, 21))

    def node_delete(self, target: str, portal: str,
                    iface_args: Sequence[str]) -> None:
        self.run([*self.node_args(target, portal, iface_args),
                  "-o", "delete"], (0, 21))


def checked_iface_args(iface_args: Sequence[str]) -> list[str]:
    """A transport's iface arguments, refused unless they bind the command
    to one valid iface (``-I <name>``) and are plain argv words.

    The ``-I`` is what keeps a logout or a node delete away from the
    sessions and records of other ifaces, so a plugin may add arguments
    but never drop it.
    """
    if isinstance(iface_args, str):
        raise exception.InvalidInput(
            reason="iscsiadm iface arguments must be a list, not the "
                   "string %r" % iface_args)
    args = list(iface_args)
    if not all(isinstance(arg, str) and arg and not _CONTROL_RE.search(arg)
               for arg in args):
        raise exception.InvalidInput(
            reason="iscsiadm iface arguments must be non-empty text "
                   "without control characters: %r" % (args,))
    names = [args[index + 1] for index, arg in enumerate(args[:-1])
             if arg == "-I"]
    if len(names) != 1:
        raise exception.InvalidInput(
            reason="iscsiadm iface arguments must name exactly one iface "
                   "with -I: %r" % (args,))
    iface_mod.validate_name(names[0])
    return args


def _iface_name(iface_args: Sequence[str]) -> str:
    """The iface a checked ``iface_args`` names (the word after ``-I``)."""
    args = checked_iface_args(iface_args)
    return args[args.index("-I") + 1]
