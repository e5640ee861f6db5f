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

"""The option group and the one way options are registered.

Options are declared next to the code that reads them, and each owner
registers its own on the :class:`oslo_config.cfg.ConfigOpts` object the
caller owns (nova's, the console script's, a test's) when it is first used,
so ``iscsi-transports list`` never imports the driver, iscsiadm or netlink
code.  Nothing is registered on a global at import.

This is a leaf: it imports nothing from the library, so every option owner
can import it.  The list of every option for oslo-config-generator is
:mod:`iscsi_transports.opts`, which nothing in the library imports.
"""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

__all__ = ["GROUP", "register"]

#: The option group: the library's name with ``_``.
GROUP = "iscsi_transports"


def register(conf: cfg.ConfigOpts, options: Sequence[cfg.Opt]) -> None:
    """Register one owner's ``options`` on ``conf`` (idempotent)."""
    conf.register_opts(list(options), group=GROUP)
