"""ocs: Emulex OneConnect iSCSI through Emulex's out-of-tree ocs driver."""

from __future__ import annotations

from iscsi_transports import offload


class OcsTransport(offload.OffloadTransport):
    """Emulex OneConnect iSCSI via the out-of-tree ocs driver; the HBA carries its own IP.

    The driver is not in the kernel tree and publishes no PCI id table we
    could follow, so its hardware is found by the driver its functions are
    bound to; ``extra_pci_ids`` can name the functions when it is unloaded.
    """

    name = "ocs"
    kernel_modules = ("ocs",)
    vendor_family = "Emulex OneConnect (ocs driver)"
    ipaddress_policy = offload.IP_HBA
    pci_drivers = ("ocs",)
