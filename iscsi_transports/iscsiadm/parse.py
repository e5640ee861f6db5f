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

"""Pure parsers for iscsiadm output (open-iscsi 2.1.8 formats).

Kept apart from :mod:`iscsi_transports.iscsiadm` (which runs processes) so
they can be tested, fuzzed and reused on captured output.  The contract:
any malformed input raises :class:`~iscsi_transports.exception.
IscsiadmParseError` and nothing else, because a caller that decides on
fallback must not be surprised by an ``IndexError`` from a stray line.
"""

from __future__ import annotations

import re
import typing

from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod
from iscsi_transports import portal as portal_mod

#: iscsiadm prints an unset target portal group tag of a static node
#: record as the unsigned form of -1.
UNSET_TPGT = 4294967295

_NODE_RE = re.compile(r"^(?P<portal>\S+),(?P<tpgt>-?\d+) (?P<target>\S+)$", re.ASCII)


class Target(typing.NamedTuple):
    """A node record or a discovered target: portal, tpgt and name."""

    portal: portal_mod.Portal
    tpgt: int
    name: str

    def as_dict(self) -> dict[str, object]:
        return {"portal": str(self.portal), "tpgt": self.tpgt,
                "target": self.name}


def _portal_or_parse_error(text: str, what: str, line: str) -> portal_mod.Portal:
    try:
        return portal_mod.parse_portal(text)
    except exception.InvalidPortal:
        raise exception.IscsiadmParseError(what=what, line=line) from None


def _lines(text: str, what: str) -> list[str]:
    if not isinstance(text, str):
        raise exception.IscsiadmParseError(what=what, line=text)
    return [stripped for line in text.splitlines()
            if (stripped := line.strip())]


def _tpgt(value: str) -> int:
    number = int(value)
    return -1 if number == UNSET_TPGT else number


def parse_targets(text: str, what: str = "node") -> list[Target]:
    """``-m node`` and sendtargets discovery: ``portal,tpgt target`` lines."""
    targets = []
    for line in _lines(text, what):
        match = _NODE_RE.match(line)
        if not match or not portal_mod.is_target_name(match["target"]):
            raise exception.IscsiadmParseError(what=what, line=line)
        targets.append(Target(
            portal=_portal_or_parse_error(match["portal"], what, line),
            tpgt=_tpgt(match["tpgt"]), name=match["target"]))
    return targets


def parse_discovery(text: str) -> list[Target]:
    return parse_targets(text, "discovery")


def parse_iface_list(text: str) -> list[iface_mod.Iface]:
    """``-m iface``: ``name transport,hwaddress,ipaddress,netdev,iname``."""
    ifaces = []
    for line in _lines(text, "iface list"):
        name, _, rest = line.partition(" ")
        values = rest.split(",")
        if len(values) != 5:
            raise exception.IscsiadmParseError(what="iface list", line=line)
        keys = ("iface.transport_name", "iface.hwaddress", "iface.ipaddress",
                "iface.net_ifacename", "iface.initiatorname")
        ifaces.append(_iface(dict(zip(keys, values)), name, line))
    return ifaces


def _iface(fields: dict[str, str], name: str, line: str) -> iface_mod.Iface:
    try:
        return iface_mod.Iface.from_fields(fields, name=name)
    except exception.InvalidInput:
        raise exception.IscsiadmParseError(what="iface", line=line) from None


def parse_iface_record(text: str) -> iface_mod.Iface:
    """``-m iface -I X -o show``: the ``# BEGIN RECORD`` block."""
    if not isinstance(text, str) or "iface.iscsi_ifacename" not in text:
        raise exception.IscsiadmParseError(what="iface record", line=text)
    try:
        return iface_mod.parse_record(text)
    except exception.IscsiadmParseError:
        raise
    except exception.InvalidInput:
        raise exception.IscsiadmParseError(what="iface record",
                                           line=text[:200]) from None


def read_initiator_name(path: str) -> str | None:
    """``InitiatorName=`` of open-iscsi's initiator name file; None if the
    file is missing or has none."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    return host_mod.parse_initiator_name(text)
