"""qedi: QLogic FastLinQ (QL41xxx/QL45xxx) iSCSI offload functions."""

from __future__ import annotations

from iscsi_transports import offload

QLOGIC = 0x1077


class QediTransport(offload.OffloadTransport):
    """QLogic FastLinQ iSCSI offload (qedi); needs iface.ipaddress and iscsiuio."""

    name = "qedi"
    kernel_modules = ("qedi",)
    vendor_family = "QLogic FastLinQ iSCSI"
    ipaddress_policy = offload.IP_REQUIRED
    needs_iscsiuio = True
    pci_drivers = ("qedi",)
    #: drivers/scsi/qedi/qedi_main.c qedi_pci_tbl.
    pci_ids = {
        (QLOGIC, 0x165E): "QLogic FastLinQ iSCSI",
        (QLOGIC, 0x8084): "QLogic FastLinQ iSCSI",
    }
