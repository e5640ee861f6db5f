"""Every configuration option of the library, for oslo-config-generator.

Options are declared next to the code that reads them; this module only
gathers them.  Each owner registers its own options, on the
:class:`oslo_config.cfg.ConfigOpts` object the caller owns (nova's, the
console script's, a test's), when it is first used, so that
``iscsi-transports list`` never imports the driver, iscsiadm or netlink
code; ``register_opts`` registers all of them at once.  Nothing is
registered on a global at import.
"""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

GROUP = "iscsi_transports"


def _all_opts() -> list[cfg.Opt]:
    # Imported here so that ``opts`` stays cheap to import and the option
    # owners may import ``opts.GROUP`` without a cycle.
    from iscsi_transports import base
    from iscsi_transports import doctor
    from iscsi_transports import driver
    from iscsi_transports import iscsiadm
    from iscsi_transports import manager
    from iscsi_transports import network

    return [*manager.manager_opts, *base.plugin_opts, *iscsiadm.iscsiadm_opts,
            *driver.driver_opts, *network.network_opts,
            *doctor.doctor_opts]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The ``oslo.config.opts`` entry point."""
    return [(GROUP, _all_opts())]


def register(conf: cfg.ConfigOpts, options: Sequence[cfg.Opt]) -> None:
    """Register one owner's ``options`` on ``conf`` (idempotent)."""
    conf.register_opts(list(options), group=GROUP)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option on ``conf`` (idempotent)."""
    register(conf, _all_opts())
