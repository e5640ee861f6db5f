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

"""Choosing a transport port from addresses: ``source_ip`` and ``auto``.

Two ways to let the host's network decide, instead of naming a transport:

``source_ip``
    Walk local IP -> interface -> its MAC and PCI function -> the offload
    transport whose hardware that is -> its port -> the iface
    ``<transport>.<hwaddress>``.  Offload HBAs with an IP stack of their own
    (qla4xxx, be2iscsi, bnx2i, qedi) match on the address their iSCSI host
    reports too.  Every step that fails says which step and why.
``auto``
    Per portal: ask the routing table which interface reaches the portal
    and use a usable offload port on that interface, else software TCP.
    HBAs whose IP stack the kernel does not route through (qla4xxx,
    be2iscsi) are never found this way: name them, or use ``source_ip``.

The functions return a :class:`Choice`; :mod:`iscsi_transports.selection.rules`
turns it into what the driver uses.  Nothing here falls back.
"""

from __future__ import annotations

import ipaddress as ipaddr
import typing
from collections.abc import Iterator
from typing import Protocol

from iscsi_transports import base
from iscsi_transports import host as host_mod
from iscsi_transports import portal as portal_mod
from iscsi_transports.selection import network as network_mod

TCP = "tcp"


class Manager(Protocol):
    """What derivation needs from the transport manager."""

    @property
    def transports(self) -> dict[str, base.Transport]: ...

    @property
    def host(self) -> host_mod.Host: ...

    @property
    def network(self) -> network_mod.Network: ...

    def detect(self, name: str) -> base.Detection: ...


class Step(typing.NamedTuple):
    """One link of a derivation: what was looked up and what was found."""

    name: str
    ok: bool
    detail: str


class Choice(typing.NamedTuple):
    """A transport and port derived from the network, with the steps taken.

    ``ok`` with transport ``tcp`` and no port means software iSCSI over the
    ``default`` iface was the right answer; not ``ok`` means the last step
    failed and says why.
    """

    transport: str | None
    port: base.Port | None
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def reason(self) -> str:
        last = self.steps[-1]
        if not last.ok:
            return "step %d (%s) failed: %s" % (len(self.steps), last.name,
                                                last.detail)
        return "; ".join(step.detail for step in self.steps)


def _offload_ports(manager: Manager) -> Iterator[tuple[str, base.Port]]:
    """(transport name, port) of every offload transport, in manager order."""
    for name, transport in manager.transports.items():
        if transport.offload:
            for port in manager.detect(name).ports:
                yield name, port


def _finish(manager: Manager, name: str, port: base.Port,
            steps: list[Step]) -> Choice:
    """Check that the transport is usable and the port can be used."""
    detection = manager.detect(name)
    if not detection.usable:
        steps.append(Step("usable", False, detection.reason))
        return Choice(name, port, tuple(steps))
    chosen = manager.transports[name].choose_port(detection, port.iface_name)
    if chosen is None:
        steps.append(Step("iface", False, "%s port %s cannot be used: %s"
                          % (name, port.host, detection.reason)))
        return Choice(name, port, tuple(steps))
    steps.append(Step("iface", True, "%s is usable, iface %s"
                      % (name, chosen.iface_name)))
    return Choice(name, chosen, tuple(steps))


def _failed(steps: list[Step], name: str, detail: str) -> Choice:
    return Choice(None, None, (*steps, Step(name, False, detail)))


def from_source_ip(manager: Manager, source_ip: str) -> Choice:
    """The offload port that sends from ``source_ip``."""
    try:
        ip = str(ipaddr.ip_address(source_ip))
    except ValueError:
        return _failed([], "address", "%r is not an IP address" % source_ip)
    hba = next(((name, port) for name, port in _offload_ports(manager)
                if port.ipaddress == ip), None)
    if hba is not None:
        name, port = hba
        return _finish(manager, name, port, [Step(
            "hba address", True, "%s is the address of %s port %s (%s)"
            % (ip, name, port.host, port.pci_address or "no PCI function"))])
    return _from_netdev(manager, ip)


def _from_netdev(manager: Manager, ip: str) -> Choice:
    netdev_name = manager.network.netdev_of(ip)
    if netdev_name is None:
        return _failed([], "netdev", "no local interface or offload HBA has "
                       "address %s (local addresses: %s)" % (
                           ip, _addresses(manager.network)))
    steps = [Step("netdev", True, "%s is on %s" % (ip, netdev_name))]
    netdev = manager.host.netdevs.get(netdev_name)
    if netdev is None or not netdev.hwaddress:
        return _failed(steps, "hwaddress", "%s has no hardware address in "
                       "sysfs (class/net/%s/address)"
                       % (netdev_name, netdev_name))
    steps.append(Step("hwaddress", True, "%s has MAC %s"
                      % (netdev_name, netdev.hwaddress)))
    if not netdev.pci_address:
        return _failed(steps, "pci", "%s is not on a PCI function (a "
                       "virtual interface such as a bridge, bond or VLAN); "
                       "use the physical port's address" % netdev_name)
    steps.append(Step("pci", True, "%s is PCI function %s"
                      % (netdev_name, netdev.pci_address)))
    return _from_pci(manager, netdev, steps)


def _from_pci(manager: Manager, netdev: host_mod.NetDev,
              steps: list[Step]) -> Choice:
    on_netdev = _ports_on(manager, netdev.name)
    if on_netdev:
        name, port = on_netdev[0]
        steps.append(Step("transport", True, "%s port %s is on %s"
                          % (name, port.host, netdev.name)))
        return _finish(manager, name, port, steps)
    owners = _hardware_owners(manager, netdev.pci_address or "")
    if not owners:
        return _failed(steps, "transport", "no offload transport recognises "
                       "%s (%s): a plain NIC, software iSCSI over TCP applies"
                       % (netdev.pci_address, _pci_text(manager, netdev)))
    detection = manager.detect(owners[0])
    detail = ("%s at %s is %s hardware, but it has no iSCSI host port on %s: "
              "%s" % (netdev.name, netdev.pci_address, owners[0], netdev.name,
                      detection.reason))
    return _failed(steps, "port", detail)


def _ports_on(manager: Manager, netdev: str) -> list[tuple[str, base.Port]]:
    """Offload ports riding on interface ``netdev`` (by name or MAC)."""
    mac = getattr(manager.host.netdevs.get(netdev), "hwaddress", None)
    return [(name, port) for name, port in _offload_ports(manager)
            if port.netdev == netdev or (mac and port.hwaddress == mac)]


def _hardware_owners(manager: Manager, pci_address: str) -> list[str]:
    return [name for name, transport in manager.transports.items()
            if transport.offload and any(
                item.pci_address == pci_address
                for item in manager.detect(name).hardware)]


def _pci_text(manager: Manager, netdev: host_mod.NetDev) -> str:
    function = manager.host.pci_functions.get(netdev.pci_address or "")
    pci_id = function.pci_id if function else "unknown id"
    return "%s, driver %s" % (pci_id, netdev.driver or "none")


def _addresses(network: network_mod.Network) -> str:
    return ", ".join(item.ip for item in network.addresses()) or "none"


def for_portal(manager: Manager, portal: str) -> Choice:
    """The best usable port whose interface the kernel routes ``portal``
    through: an offload port in manager order, else software TCP."""
    host = portal_mod.parse_portal(portal).host
    try:
        ip = str(ipaddr.ip_address(host))
    except ValueError:
        return _tcp([], "portal %s is a host name; auto needs an address"
                    % portal)
    route = manager.network.route_to(ip)
    if route is None:
        return _tcp([], "no route to portal %s" % portal)
    steps = [Step("route", True, "portal %s goes out %s"
                  % (portal, route.describe()))]
    rejected = []
    for name, port in _ports_on(manager, route.netdev):
        on_port = Step("port", True, "%s port %s is on %s"
                       % (name, port.host, route.netdev))
        choice = _finish(manager, name, port, [*steps, on_port])
        if choice.ok:
            return choice
        rejected.append("%s port %s: %s" % (name, port.host,
                                            choice.steps[-1].detail))
    detail = "%s has no usable offload port" % route.netdev
    if rejected:
        detail += " (%s)" % "; ".join(rejected)
    return _tcp(steps, detail)


def first_offload(manager: Manager) -> Choice:
    """``auto`` without a portal: the first usable offload transport in
    manager order (in-tree order, then out-of-tree), else software TCP."""
    for name, transport in manager.transports.items():
        detection = manager.detect(name)
        if transport.offload and detection.usable:
            port = transport.choose_port(detection)
            if port is not None:
                return Choice(name, port, (Step(
                    "offload", True, "no portal given: first usable offload "
                    "transport %s, iface %s" % (name, port.iface_name)),))
    return _tcp([], "no portal given and no usable offload transport")


def _tcp(steps: list[Step], why: str) -> Choice:
    detail = "%s: software iSCSI over TCP (iface default)" % why
    return Choice(TCP, None, (*steps, Step("tcp", True, detail)))

