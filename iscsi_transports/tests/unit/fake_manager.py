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

"""A TransportManager stand-in for driver tests: fixed selections, no
entry points, no sysfs.

It subclasses the driver's :class:`~iscsi_transports.attach.driver.Manager`
protocol explicitly, so mypy (which checks this one test module) fails when
the fake and the protocol drift apart.
"""

from __future__ import annotations

from typing import Any

from iscsi_transports import base
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod
from iscsi_transports.attach import driver
from iscsi_transports.plugins import iser
from iscsi_transports.plugins import tcp
from iscsi_transports.selection import rules

MAC = "00:07:43:05:97:07"
PCI = "0000:05:00.4"


class FakeOffload(base.Transport):
    """A pretend offload card (cxgb4i-like) with one port."""

    name = "cxgb4i"
    offload = True

    def detect(self, host: host_mod.Host) -> base.Detection:
        port = base.Port(transport=self.name, hwaddress=MAC, pci_address=PCI,
                         iface_name=iface_mod.offload_name(self.name, MAC))
        return base.Detection(transport=self.name, usable=True,
                              reason="card found", ports=(port,))

    def generate_iface(self, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       name: str | None = None) -> iface_mod.Iface:
        return iface_mod.Iface(
            name=name or iface_mod.offload_name(self.name, hwaddress or MAC),
            transport_name=self.name, hwaddress=hwaddress or MAC)


class FakeManager(driver.Manager):
    """``active()`` returns the offload card, or tcp when ``offload`` off."""

    def __init__(self, conf: Any, offload: bool = True,
                 iser_usable: bool = False,
                 tcp_iface: iface_mod.Iface | None = None) -> None:
        self.conf = conf
        self.tcp_iface = tcp_iface
        self._transports: dict[str, base.Transport] = {
            "tcp": tcp.TcpTransport(conf), "cxgb4i": FakeOffload(conf),
            "iser": iser.IserTransport(conf)}
        self.offload = offload
        self.iser_usable = iser_usable
        self.fallback_reasons: list[str] = []
        self.portals: list[str | None] = []
        #: Portals ``active(portal)`` sends over tcp (as ``auto`` may).
        self.tcp_portals: set[str] = set()

    @property
    def transports(self) -> dict[str, base.Transport]:
        return self._transports

    def get(self, name: str) -> base.Transport:
        return self.transports[name]

    def detect(self, name: str) -> base.Detection:
        sysfs = host_mod.Host(self.conf.iscsi_transports.sysfs_root)
        return self.transports[name].detect(sysfs)

    def active(self, portal: str | None = None) -> rules.Selection:
        self.portals.append(portal)
        if portal in self.tcp_portals:
            return self.fallback_selection("portal routed via tcp", "auto")
        if self.tcp_iface is not None:
            return rules.Selection(
                transport=self.transports["tcp"], iface=self.tcp_iface,
                fallback=False, reason="named tcp iface", requested="tcp")
        if not self.offload:
            return self.fallback_selection("configured default", "default")
        plugin = self.transports["cxgb4i"]
        port = self.detect("cxgb4i").ports[0]
        return rules.Selection(transport=plugin,
                               iface=plugin.iface_for_port(port),
                               fallback=False, reason="card found",
                               requested="cxgb4i", port=port)

    def select(self, name: str) -> rules.Selection:
        if name == "iser" and self.iser_usable:
            plugin = self.transports["iser"]
            return rules.Selection(
                transport=plugin, iface=plugin.generate_iface(),
                fallback=False, reason="rdma ready", requested="iser")
        raise exception.TransportUnusable(name=name, reason="no RDMA device")

    def fallback_selection(self, reason: str,
                           requested: str | None = None) -> rules.Selection:
        self.fallback_reasons.append(reason)
        return rules.Selection(
            transport=self.transports["tcp"],
            iface=iface_mod.Iface(name="default", transport_name="tcp"),
            fallback=reason != "configured default", reason=reason,
            requested=requested or "cxgb4i")
