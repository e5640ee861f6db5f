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

"""Turning a configured transport or iface name into what the driver uses.

Kept apart from the plugin loading in :mod:`iscsi_transports.selection.manager` so
that the rules for *which* transport, port and iface are used live in one
small place.  ``source_ip`` and ``transport = auto`` are derived from the
host's addresses and routes by :mod:`iscsi_transports.selection.derive` and turned
into a :class:`Selection` here.  Nothing here falls back: an unusable
request raises
:class:`~iscsi_transports.exception.TransportUnusable` with the reason, and
the manager decides whether to fall back to TCP.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import TYPE_CHECKING, Any, Protocol

from iscsi_transports import base
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod

if TYPE_CHECKING:
    # derive and network are imported where source_ip and auto need them:
    # the plain configured-transport path stays cheap to import.
    from iscsi_transports.selection import derive
    from iscsi_transports.selection import network as network_mod

TCP = "tcp"
DEFAULT_IFACE = "default"
#: The ``transport`` value that picks per portal from the routing table.
AUTO = "auto"
#: The names iscsiadm gives the ifaces it makes from an offload host's
#: kernel ifaces (``iface_setup_binding_from_kern_iface``):
#: ``<transport>.<mac>.ipv4.<n>`` / ``.ipv6.<n>``.
_KERNEL_IFACE_RE = re.compile(r"(?P<port>.+)\.(?P<family>ipv4|ipv6)\.\d+")


class Transports(Protocol):
    """What selection needs from the manager."""

    @property
    def transports(self) -> dict[str, base.Transport]: ...

    def detect(self, name: str) -> base.Detection: ...

    def unknown_reason(self, name: str) -> str: ...

    @property
    def host(self) -> host_mod.Host: ...

    @property
    def network(self) -> network_mod.Network: ...


class Selection(typing.NamedTuple):
    """The transport and iface the driver should use, and why."""

    transport: base.Transport
    iface: iface_mod.Iface
    fallback: bool
    reason: str
    requested: str
    port: base.Port | None = None

    @property
    def iface_name(self) -> str:
        return self.iface.name

    def as_dict(self) -> dict[str, Any]:
        return {"transport": self.transport.name, "iface": self.iface.name,
                "fallback": self.fallback, "reason": self.reason,
                "requested": self.requested,
                "port": self.port.as_dict() if self.port else None}


def parse_request(requested: str,
                  known: dict[str, base.Transport]) -> tuple[str, str | None]:
    """(transport name, iface name or None) for a configured value.

    A plugin name selects the plugin's first usable port; anything else is
    read as an iface name ``<transport>.<rest>``, which must be safe before
    it goes anywhere near iscsiadm.
    """
    if requested == DEFAULT_IFACE:
        return TCP, None
    if requested in known:
        return requested, None
    try:
        iface_mod.validate_name(requested)
    except exception.InvalidIfaceName as error:
        raise exception.TransportUnusable(name=requested,
                                          reason=str(error)) from None
    name, _, rest = requested.partition(".")
    return name, (requested if rest else None)


def active(manager: Transports, requested: str, portal: str | None = None,
           source_ip: str | None = None) -> Selection:
    """The selection for the configuration; never falls back.

    ``source_ip`` wins over ``requested``; ``auto`` picks per ``portal``
    (without one: the first usable offload transport, else tcp).
    """
    if source_ip or requested == AUTO:
        # Lazy: derive and network cost list and the driver's plain
        # configured-transport path start-up time they never use.
        from iscsi_transports.selection import derive
    if source_ip:
        return from_choice(manager, derive.from_source_ip(manager, source_ip),
                           "source_ip=%s" % source_ip)
    if requested == AUTO:
        choice = (derive.for_portal(manager, portal) if portal
                  else derive.first_offload(manager))
        return from_choice(manager, choice, AUTO)
    return select(manager, requested)


def from_choice(manager: Transports, choice: derive.Choice,
                requested: str) -> Selection:
    """A derived choice as a selection; TransportUnusable if it failed."""
    if not choice.ok or choice.transport is None:
        raise exception.TransportUnusable(name=requested,
                                          reason=choice.reason)
    transport = manager.transports[choice.transport]
    if choice.port is None:
        record = iface_mod.Iface(name=DEFAULT_IFACE, transport_name=TCP)
    else:
        record = transport.iface_for_port(choice.port)
    return Selection(transport=transport, iface=record, fallback=False,
                     reason="%s: %s" % (requested, choice.reason),
                     requested=requested, port=choice.port)


def select(manager: Transports, requested: str) -> Selection:
    """The selection for a transport or iface name; never falls back."""
    transports = manager.transports
    name, iface_name = parse_request(requested, transports)
    transport = transports.get(name)
    if transport is None:
        raise exception.TransportUnusable(
            name=requested, reason=manager.unknown_reason(name))
    detection = manager.detect(name)
    if not detection.usable:
        raise exception.TransportUnusable(name=requested,
                                          reason=detection.reason)
    port = transport.choose_port(detection, iface_name)
    record_name = None
    if port is None and iface_name is not None:
        port, record_name = kernel_iface_port(transport, detection,
                                              iface_name)
    if port is None or port.iface_name is None:
        raise exception.TransportUnusable(
            name=requested, reason=no_port_reason(detection, iface_name))
    reason = detection.reason
    if requested != DEFAULT_IFACE:
        reason = "configured transport %s: %s" % (requested, reason)
    record = transport.iface_for_port(port)
    if record_name is not None:
        record = dataclasses.replace(record, name=record_name)
    return Selection(transport=transport, iface=record,
                     fallback=False, reason=reason, requested=requested,
                     port=port)


def kernel_iface_port(transport: base.Transport, detection: base.Detection,
                      iface_name: str) -> tuple[base.Port | None, str | None]:
    """The port behind an open-iscsi kernel iface name, and that name.

    For offload hosts with kernel ifaces (qla4xxx, be2iscsi, qedi)
    iscsiadm names the records ``<transport>.<mac>.ipv4.0``; such a name in
    ``transport`` selects the port ``<transport>.<mac>`` (``.ipv6`` for
    IPv6) and keeps the record name as written.
    """
    match = _KERNEL_IFACE_RE.fullmatch(iface_name)
    if match is None:
        return None, None
    candidates = [match.group("port")]
    if match.group("family") == "ipv6":
        candidates.insert(0, match.group("port") + ".ipv6")
    for candidate in candidates:
        port = transport.choose_port(detection, candidate)
        if port is not None:
            return port, iface_name
    return None, None


def no_port_reason(detection: base.Detection, iface_name: str | None) -> str:
    if iface_name is None:
        return "%s has no port with a hardware address" % detection.transport
    available = [port.iface_name for port in detection.ports
                 if port.iface_name]
    return "no %s port matches iface %s on this host (available: %s)" % (
        detection.transport, iface_name, ", ".join(available) or "none")
