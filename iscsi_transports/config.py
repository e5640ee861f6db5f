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
