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

"""Software iSCSI over TCP: the transport that always works."""

from __future__ import annotations

from iscsi_transports import base
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod


class TcpTransport(base.Transport):
    """Software iSCSI over TCP (iscsi_tcp); the fallback for every other transport."""

    name = "tcp"
    kernel_modules = ("iscsi_tcp",)
    builtin_iface = "default"

    def detect(self, host: host_mod.Host) -> base.Detection:
        """Always usable; each NIC is a port a ``tcp.<mac>`` iface can pin.

        The iscsi_tcp module is loaded on demand by iscsid, so its absence
        is reported but does not make the transport unusable.
        """
        ports = tuple(
            base.Port(transport=self.name, hwaddress=dev.hwaddress,
                      netdev=dev.name, pci_address=dev.pci_address,
                      iface_name=iface_mod.offload_name(self.name,
                                                        dev.hwaddress))
            for dev in host.netdevs.values()
            if dev.pci_address and dev.hwaddress
            and iface_mod.is_hwaddress(dev.hwaddress)
            and dev.hwaddress != "00:00:00:00:00:00")
        loaded = host.module_loaded("iscsi_tcp")
        reason = "software iSCSI over TCP is always available (iface default)"
        if not loaded:
            reason += "; iscsi_tcp will be loaded on first login"
        return base.Detection(transport=self.name, usable=True, reason=reason,
                              module_loaded=loaded, ports=ports)

    def generate_iface(self, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       name: str | None = None) -> iface_mod.Iface:
        """``default``, or a ``tcp.<mac>`` iface bound to one NIC.

        open-iscsi refuses ``iface.ipaddress`` on software iSCSI ifaces
        (exit 11), so a source address is never written; the NIC is pinned
        by its hardware address.
        """
        if hwaddress is None:
            return iface_mod.Iface(name=name or self.builtin_iface or "default",
                                   transport_name=self.name)
        return iface_mod.Iface(
            name=name or iface_mod.offload_name(self.name, hwaddress),
            transport_name=self.name, hwaddress=hwaddress)
