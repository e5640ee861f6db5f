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

"""iSER: iSCSI Extensions for RDMA, through the built-in ``iser`` iface."""

from __future__ import annotations

from iscsi_transports import base
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod


class IserTransport(base.Transport):
    """iSER (ib_iser) over InfiniBand, RoCE or iWARP; the target must support iSER too."""

    name = "iser"
    kernel_modules = ("ib_iser",)
    needs_target_support = True
    builtin_iface = "iser"

    def detect(self, host: host_mod.Host) -> base.Detection:
        ports = tuple(self._ports(host))
        loaded = host.module_loaded("ib_iser")
        if not ports:
            reason = ("no RDMA device found (nothing in "
                      "/sys/class/infiniband): iSER needs an InfiniBand, "
                      "RoCE or iWARP adapter")
        elif not loaded:
            reason = ("RDMA device %s found, but kernel module ib_iser is "
                      "not loaded (modprobe ib_iser)" % ports[0].host)
        else:
            reason = "RDMA device %s and ib_iser ready (iface iser)" % (
                ", ".join(port.host or "" for port in ports))
        return base.Detection(transport=self.name,
                              usable=bool(ports) and loaded, reason=reason,
                              module_loaded=loaded, ports=ports)

    def _ports(self, host: host_mod.Host) -> list[base.Port]:
        ports = []
        for device in host.rdma_devices:
            pci = host_mod.pci_address_of(
                host.resolved("class", "infiniband", device))
            netdev = next((dev for dev in host.netdevs.values()
                           if pci and dev.pci_address == pci), None)
            ports.append(base.Port(
                transport=self.name, iface_name=self.builtin_iface,
                host=device, pci_address=pci,
                netdev=netdev.name if netdev else None,
                hwaddress=netdev.hwaddress if netdev else None))
        return ports

    def generate_iface(self, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       name: str | None = None) -> iface_mod.Iface:
        """The built-in ``iser`` iface: iscsiadm knows it without a record."""
        return iface_mod.Iface(name=name or "iser", transport_name=self.name)
