"""The fictional ACME A100 iSCSI offload card as an iscsi-transports plugin.

A plugin only *describes*: it reads the host inventory it is given and
returns data.  iscsi-transports runs iscsiadm, holds the locks and applies
the root helper, so this module needs none of that, and it imports cleanly
on a host without the card.
"""

from __future__ import annotations

from iscsi_transports import base
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod

#: (PCI vendor, PCI device) of the cards this plugin drives.  Operators can
#: add newer models with ``[iscsi_transports] extra_pci_ids = acme:1d0f:a101``.
PCI_IDS = frozenset({(0x1D0F, 0xA100)})
MODULE = "acme_iscsi"


class AcmeTransport(base.Transport):
    """ACME A100 iSCSI offload card (example out-of-tree plugin)."""

    name = "acme"
    offload = True
    kernel_modules = (MODULE,)

    def detect(self, host: host_mod.Host) -> base.Detection:
        """One port per iSCSI host that the ACME driver registered."""
        cards = host.functions_with_ids(PCI_IDS | self.configured_pci_ids())
        hardware = tuple(
            base.Hardware(pci_address=card.address, pci_id=card.pci_id,
                          model="ACME A100", driver=card.driver)
            for card in cards)
        loaded = host.module_loaded(MODULE)
        ports = tuple(self._ports(host, {card.address for card in cards}))
        if not hardware:
            reason = "no ACME card found"
        elif not loaded:
            reason = "ACME card found, but module %s is not loaded" % MODULE
        elif not ports:
            reason = "ACME card found, but it has no iSCSI host with a MAC"
        else:
            reason = "%d ACME port(s) ready" % len(ports)
        return base.Detection(
            transport=self.name, usable=bool(loaded and ports),
            reason=reason, hardware=hardware, module_loaded=loaded,
            ports=ports)

    def _ports(self, host: host_mod.Host,
               addresses: set[str]) -> list[base.Port]:
        ports = []
        for iscsi_host in host.iscsi_hosts:
            mac = iscsi_host.hwaddress
            if iscsi_host.pci_address not in addresses or not mac \
                    or not iface_mod.is_hwaddress(mac):
                continue
            ports.append(base.Port(
                transport=self.name, host=iscsi_host.name,
                iface_name=iface_mod.offload_name(self.name, mac),
                hwaddress=mac, ipaddress=iscsi_host.ipaddress,
                netdev=iscsi_host.netdev,
                pci_address=iscsi_host.pci_address))
        return ports

    def generate_iface(self, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       name: str | None = None) -> iface_mod.Iface:
        """``acme.<mac>``: the record ``iscsiadm -m iface`` would create."""
        if not hwaddress:
            raise exception.InvalidInput(
                reason="an ACME iface needs the port's hwaddress")
        return iface_mod.Iface(
            name=name or iface_mod.offload_name(self.name, hwaddress,
                                                ipaddress),
            transport_name=self.name,
            hwaddress=iface_mod.normalize_hwaddress(hwaddress),
            ipaddress=ipaddress)
