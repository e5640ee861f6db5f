"""nova's libvirt iSCSI and iSER volume drivers, attaching through this
library.

Each class is nova's own with one change: its ``connector`` is
:class:`iscsi_transports.brick.ISCSIConnector`, built from the same nova
options nova gives os-brick's (``volume_use_multipath`` or
``iser_use_multipath``, ``num_volume_scan_tries`` or
``num_iser_scan_tries``, ``volume_enforce_multipath``, and ``[libvirt]
iscsi_iface`` as the transport).  ``get_config``, ``connect_volume``,
``disconnect_volume`` (with ``force``), ``extend_volume`` and whatever nova
adds to them later stay nova's.

The one method replaced is ``__init__``: nova's does nothing but call the
base class's and build os-brick's connector, and building that connector
runs ``iscsiadm -m iface`` through privsep whenever ``[libvirt]
iscsi_iface`` is set.  Ours calls the same base ``__init__`` and builds ours
instead.  nova's tests run against these classes (``tools/nova-tests.sh``)
check that the drivers end up with exactly the attributes nova's own have,
so a nova that adds to ``__init__`` is noticed.  nova uses
them once its ``VOLUME_DRIVERS`` names them (two lines; see the nova
integration page).

nova is not a dependency of this library: this module is imported by nova,
inside nova-compute.
"""

from __future__ import annotations

try:
    import nova.conf
    from nova import utils
    from nova.virt.libvirt.volume import iscsi
    from nova.virt.libvirt.volume import iser
    from nova.virt.libvirt.volume import volume
except ImportError as error:  # pragma: no cover - depends on the host
    raise ImportError(
        "iscsi_transports.nova_libvirt is loaded by nova-compute: nova is "
        "not importable here (%s)" % error) from None

from iscsi_transports import brick

CONF = nova.conf.CONF


def _connector(transport: str, use_multipath: bool,
               scan_attempts: int) -> brick.ISCSIConnector:
    return brick.ISCSIConnector(
        utils.get_root_helper(), use_multipath=use_multipath,
        device_scan_attempts=scan_attempts, transport=transport,
        enforce_multipath=CONF.libvirt.volume_enforce_multipath, conf=CONF)


class LibvirtISCSIVolumeDriver(iscsi.LibvirtISCSIVolumeDriver):
    """nova's iSCSI volume driver with the iscsi-transports connector."""

    def __init__(self, host: object) -> None:
        volume.LibvirtBaseVolumeDriver.__init__(self, host, is_block_dev=True)
        self.connector = _connector(
            self._get_transport(), CONF.libvirt.volume_use_multipath,
            CONF.libvirt.num_volume_scan_tries)


class LibvirtISERVolumeDriver(iser.LibvirtISERVolumeDriver):
    """nova's iSER volume driver with the iscsi-transports connector."""

    def __init__(self, connection: object) -> None:
        volume.LibvirtBaseVolumeDriver.__init__(self, connection,
                                                is_block_dev=True)
        self.connector = _connector(
            self._get_transport(), CONF.libvirt.iser_use_multipath,
            CONF.libvirt.num_iser_scan_tries)
