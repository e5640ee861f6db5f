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

"""Local addresses and routes, behind a small interface.

Source-IP derivation and the per-portal ``auto`` choice need two answers
from the kernel: which address sits on which network interface, and which
interface and source address reach a portal (``ip route get``).  They are
asked through :class:`Network` so that tests and host snapshots can supply
them as data (:class:`StaticNetwork`) and only a live host pays for
netlink (:class:`NetlinkNetwork`, pyroute2).

pyroute2 costs about half a second to import, so it is imported on first
use, never at module import: ``iscsi-transports list`` and nova's start-up
do not need it.
"""

from __future__ import annotations

import abc
import ipaddress as ipaddr
import json
import socket
import typing
from typing import Any

from oslo_config import cfg

from iscsi_transports import config

network_opts = [
    cfg.StrOpt(
        "network_file",
        help="Read local addresses and routes from this JSON file (the "
             "network.json of an iscsi-transports snapshot) instead of "
             "asking the kernel. Like sysfs_root, for replaying another "
             "host."),
]

#: Routing table numbers as the kernel names them (``ip route show table``).
MAIN_TABLE = 254


class Address(typing.NamedTuple):
    """One local IP address and the interface it is configured on."""

    ip: str
    prefixlen: int
    netdev: str

    @property
    def network(self) -> ipaddr.IPv4Network | ipaddr.IPv6Network:
        return ipaddr.ip_interface("%s/%d" % (self.ip, self.prefixlen)).network

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Route(typing.NamedTuple):
    """A route: where traffic to ``destination`` (a CIDR) leaves the host.

    As a table entry ``source_ip`` is the preferred source (``src``) and may
    be unset; as the answer of :meth:`Network.route_to` it is the address
    the kernel would send from.
    """

    destination: str
    netdev: str
    source_ip: str | None = None
    gateway: str | None = None
    metric: int = 0

    def describe(self) -> str:
        text = "dev %s" % self.netdev
        if self.gateway:
            text = "via %s %s" % (self.gateway, text)
        return text + (" src %s" % self.source_ip if self.source_ip else "")

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Network(abc.ABC):
    """Where the host's addresses are and how it reaches a destination."""

    @abc.abstractmethod
    def addresses(self) -> list[Address]:
        """Every local address, in interface order."""

    @abc.abstractmethod
    def routes(self) -> list[Route]:
        """The main routing table's unicast routes (for snapshots)."""

    @abc.abstractmethod
    def route_to(self, destination_ip: str) -> Route | None:
        """How ``destination_ip`` is reached, or None when it is not."""

    def netdev_of(self, ip: str) -> str | None:
        """The interface that carries local address ``ip``."""
        wanted = ipaddr.ip_address(ip)
        return next((address.netdev for address in self.addresses()
                     if ipaddr.ip_address(address.ip) == wanted), None)

    def as_dict(self) -> dict[str, Any]:
        return {"addresses": [item.as_dict() for item in self.addresses()],
                "routes": [item.as_dict() for item in self.routes()]}


class StaticNetwork(Network):
    """Addresses and routes given as data; routing by longest prefix match.

    This is the main table only: policy routing (``ip rule``) is not
    modelled.  ``lookups`` holds answers recorded from a live kernel for
    given destinations (``snapshot --portal``); they win over the table.
    """

    def __init__(self, addresses: list[Address], routes: list[Route],
                 lookups: dict[str, Route | None] | None = None) -> None:
        self._addresses = list(addresses)
        self._routes = list(routes)
        self.lookups = dict(lookups or {})

    def addresses(self) -> list[Address]:
        return list(self._addresses)

    def routes(self) -> list[Route]:
        return list(self._routes)

    def route_to(self, destination_ip: str) -> Route | None:
        target = ipaddr.ip_address(destination_ip)
        if str(target) in self.lookups:
            return self.lookups[str(target)]
        if self.netdev_of(str(target)):
            # The kernel delivers to a local address over loopback.
            return Route("%s/%d" % (target, target.max_prefixlen), "lo",
                         source_ip=str(target))
        route = _longest_match(self._routes, target)
        if route is None:
            return None
        # Answer as the kernel does: for this one destination.
        return route._replace(
            destination="%s/%d" % (target, target.max_prefixlen),
            source_ip=route.source_ip or self._source_for(route))

    def _source_for(self, route: Route) -> str | None:
        """The kernel's choice without ``src``: an address on the egress
        interface, preferring the one whose subnet holds the next hop."""
        hop = ipaddr.ip_address(
            route.gateway or route.destination.split("/")[0])
        candidates = [address for address in self._addresses
                      if address.netdev == route.netdev
                      and ipaddr.ip_address(address.ip).version == hop.version]
        on_link = [address for address in candidates
                   if hop in address.network]
        chosen = (on_link or candidates)[:1]
        return chosen[0].ip if chosen else None

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["lookups"] = {ip: route.as_dict() if route else None
                           for ip, route in sorted(self.lookups.items())}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StaticNetwork:
        """The inverse of :meth:`as_dict` (``network.json``)."""
        lookups = {ip: Route(**route) if route else None
                   for ip, route in (data.get("lookups") or {}).items()}
        return cls([Address(**item) for item in data.get("addresses", [])],
                   [Route(**item) for item in data.get("routes", [])],
                   lookups)

    @classmethod
    def from_file(cls, path: str) -> StaticNetwork:
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))


def _longest_match(routes: list[Route],
                   target: ipaddr.IPv4Address | ipaddr.IPv6Address
                   ) -> Route | None:
    """The most specific route covering ``target``; lowest metric on ties."""
    best: tuple[int, int] | None = None
    chosen = None
    for route in routes:
        network = ipaddr.ip_network(route.destination, strict=False)
        if network.version != target.version or target not in network:
            continue
        rank = (-network.prefixlen, route.metric)
        if best is None or rank < best:
            best, chosen = rank, route
    return chosen


class NetlinkNetwork(Network):
    """The live kernel, asked over rtnetlink with pyroute2.

    Addresses and routes are read once per object, like
    :class:`~iscsi_transports.host.Host` reads sysfs; route lookups are
    asked each time, as the kernel's answer is the authority.
    """

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        # About 0.5 s to import: only when asked.
        from pyroute2 import IPRoute  # type: ignore[import-untyped]

        with IPRoute() as ipr:
            return list(getattr(ipr, method)(*args, **kwargs))

    def _names(self) -> dict[int, str]:
        if "links" not in self._cache:
            self._cache["links"] = {
                link["index"]: link.get_attr("IFLA_IFNAME")
                for link in self._call("get_links")}
        names: dict[int, str] = self._cache["links"]
        return names

    def addresses(self) -> list[Address]:
        if "addresses" not in self._cache:
            names = self._names()
            self._cache["addresses"] = [
                Address(ip=str(ipaddr.ip_address(item.get_attr("IFA_ADDRESS"))),
                        prefixlen=item["prefixlen"],
                        netdev=names.get(item["index"], str(item["index"])))
                for item in self._call("get_addr")]
        return list(self._cache["addresses"])

    def routes(self) -> list[Route]:
        if "routes" not in self._cache:
            names = self._names()
            self._cache["routes"] = [
                route for route in (_route_from(item, names) for item in
                                    self._call("get_routes",
                                               table=MAIN_TABLE))
                if route is not None]
        return list(self._cache["routes"])

    def route_to(self, destination_ip: str) -> Route | None:
        from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

        target = str(ipaddr.ip_address(destination_ip))
        try:
            answer = self._call("route", "get", dst=target)
        except NetlinkError:  # ENETUNREACH, EHOSTUNREACH, ...
            return None
        return _route_from(answer[0], self._names()) if answer else None


_UNICAST, _LOCAL = 1, 2


def _route_from(message: Any, names: dict[int, str]) -> Route | None:
    """A :class:`Route` from an ``RTM_NEWROUTE`` message (first next hop of
    a multipath route); None for blackhole, unreachable and the like."""
    if message["type"] not in (_UNICAST, _LOCAL):
        return None
    oif, gateway = message.get_attr("RTA_OIF"), message.get_attr("RTA_GATEWAY")
    hops = message.get_attr("RTA_MULTIPATH") or []
    if oif is None and hops:
        oif, gateway = hops[0]["oif"], hops[0].get_attr("RTA_GATEWAY")
    if oif is None:
        return None
    family_any = ("%s" % ipaddr.IPv4Address(0)
                  if message["family"] == socket.AF_INET else "::")
    return Route(
        destination="%s/%d" % (message.get_attr("RTA_DST") or family_any,
                               message["dst_len"]),
        netdev=names.get(oif, str(oif)),
        source_ip=message.get_attr("RTA_PREFSRC"), gateway=gateway,
        metric=message.get_attr("RTA_PRIORITY") or 0)


def from_conf(conf: cfg.ConfigOpts) -> Network:
    """The network the configuration names: a file, else the live kernel."""
    config.register(conf, network_opts)
    path = conf.iscsi_transports.network_file
    return StaticNetwork.from_file(path) if path else NetlinkNetwork()
