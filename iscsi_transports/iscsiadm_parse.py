"""Pure parsers for iscsiadm output (open-iscsi 2.1.8 formats).

Kept apart from :mod:`iscsi_transports.iscsiadm` (which runs processes) so
they can be tested, fuzzed and reused on captured output.  The contract:
any malformed input raises :class:`~iscsi_transports.exception.
IscsiadmParseError` and nothing else, because a caller that decides on
fallback must not be surprised by an ``IndexError`` from a stray line.
"""

from __future__ import annotations

import functools
import ipaddress as ipaddr
import re
import socket
import typing

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod

#: iscsiadm prints an unset target portal group tag of a static node
#: record as the unsigned form of -1.
UNSET_TPGT = 4294967295

#: The three target name forms (RFC 3720/3980), unanchored so that the
#: session line pattern can embed them.
_TARGET_PATTERNS = (
    r"iqn\.\d{4}-\d{2}(?:\.[A-Za-z0-9-]+)+(?::[^\s\x00-\x1f\x7f]+)?",
    r"eui\.[0-9A-Fa-f]{16}",
    r"naa\.(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})",
)
_TARGET_RE = re.compile("^(?:%s)$" % "|".join(_TARGET_PATTERNS), re.ASCII)
#: A dotted quad exactly as ipaddress prints it (no leading zeros), so the
#: common IPv4 portal skips the much slower IPv4Address round trip.
_IPV4 = (r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
         r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
_IPV4_RE = re.compile("^%s$" % _IPV4, re.ASCII)
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$", re.ASCII)
_SESSION_RE = re.compile(
    r"^(?P<transport>[A-Za-z0-9_]+): \[(?P<sid>\d+)\] (?P<portal>\S+),"
    r"(?P<tpgt>\d+) (?P<target>\S+)(?: \((?P<flash>non-flash|flash)\))?$", re.ASCII)
_NODE_RE = re.compile(r"^(?P<portal>\S+),(?P<tpgt>-?\d+) (?P<target>\S+)$", re.ASCII)


@functools.cache
def _fast_session_re() -> re.Pattern[str]:
    """A session line with an IP portal, validated by one match (the IPv6
    address still goes through :func:`_fast_ipv6`).

    Compiled on first use: most commands never parse sessions, and the
    console script's start-up should not pay for it.
    """
    return re.compile(
        r"^(?P<transport>[A-Za-z0-9_]+): \[(?P<sid>\d+)\] "
        r"(?:(?P<host>%s)|\[(?P<host6>[0-9A-Fa-f:]{2,39})\])"
        r":(?P<port>\d{1,5}),(?P<tpgt>\d+) (?P<target>%s)"
        r"(?: \((?P<flash>non-flash|flash)\))?$"
        % (_IPV4, "|".join(_TARGET_PATTERNS)), re.ASCII)


# NamedTuples, not dataclasses: a host with thousands of sessions builds
# two of these per line, and a tuple is built several times faster than a
# frozen dataclass (benchmarks/bench_parsing.py).
class Portal(typing.NamedTuple):
    """An iSCSI portal; ``str()`` gives the form iscsiadm's ``-p`` takes."""

    host: str
    port: int = 3260

    def __str__(self) -> str:
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)


class Target(typing.NamedTuple):
    """A node record or a discovered target: portal, tpgt and name."""

    portal: Portal
    tpgt: int
    name: str

    def as_dict(self) -> dict[str, object]:
        return {"portal": str(self.portal), "tpgt": self.tpgt,
                "target": self.name}


class Session(typing.NamedTuple):
    """One line of ``iscsiadm -m session``."""

    transport: str
    sid: int
    portal: Portal
    tpgt: int
    target: str
    flash: bool = False


def is_target_name(name: str) -> bool:
    """True for an ``iqn.``, ``eui.`` or ``naa.`` name (RFC 3720/3980)."""
    return isinstance(name, str) and _TARGET_RE.match(name) is not None


def validate_target_name(name: str) -> str:
    if not is_target_name(name):
        raise exception.InvalidTargetName(
            value=name, reason="expected iqn.YYYY-MM.domain[:id], eui.<16 "
                               "hex> or naa.<16 or 32 hex>")
    return name


def _split_host_port(text: str) -> tuple[str, str]:
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("unbalanced brackets")
        return host, rest[1:]
    if text.count(":") > 1:  # a bare IPv6 address, no port
        return text, ""
    host, _, port = text.partition(":")
    return host, port


def _fast_ipv6(host: str) -> str | None:
    """The C library's canonical text of an IPv6 address, or None.

    inet_ntop prints what ipaddress prints, ten times faster, except that
    it writes IPv4-compatible addresses with dots: those (and anything
    inet_pton refuses, such as a scope id) go the slow way.
    """
    try:
        text = socket.inet_ntop(socket.AF_INET6,
                                socket.inet_pton(socket.AF_INET6, host))
    except (OSError, ValueError):
        return None
    return None if "." in text else text


@functools.lru_cache(maxsize=1024)
def _check_host(host: str, bracketed: bool) -> str:
    # Cached: a host's sessions and nodes repeat a handful of portals.
    if not bracketed and _IPV4_RE.match(host):
        return host
    if bracketed or ":" in host:
        return (host.isascii() and _fast_ipv6(host)
                or str(ipaddr.IPv6Address(host)))
    try:
        return str(ipaddr.IPv4Address(host))
    except ValueError:
        if not _HOSTNAME_RE.match(host) or host.replace(".", "").isdigit():
            raise ValueError("not an address or host name") from None
        return host


def parse_portal(text: str, default_port: int = 3260) -> Portal:
    """``10.0.0.1:3260``, ``[fe80::1]:3260``, ``host`` -> :class:`Portal`.

    Raises :class:`~iscsi_transports.exception.InvalidPortal`.
    """
    try:
        if not isinstance(text, str) or not text or text != text.strip():
            raise ValueError("empty or padded")
        host, port = _split_host_port(text)
        port_no = int(port) if port else default_port
        if port and not (port.isascii() and port.isdigit()) \
                or not 0 < port_no < 65536:
            raise ValueError("port out of range")
        return Portal(_check_host(host, text.startswith("[")), port_no)
    except ValueError as error:
        raise exception.InvalidPortal(value=text, reason=str(error)) from None


def _portal_or_parse_error(text: str, what: str, line: str) -> Portal:
    try:
        return parse_portal(text)
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
        if not match or not is_target_name(match["target"]):
            raise exception.IscsiadmParseError(what=what, line=line)
        targets.append(Target(
            portal=_portal_or_parse_error(match["portal"], what, line),
            tpgt=_tpgt(match["tpgt"]), name=match["target"]))
    return targets


def parse_discovery(text: str) -> list[Target]:
    return parse_targets(text, "discovery")


def parse_sessions(text: str) -> list[Session]:
    """``-m session`` lines for every transport (tcp, iser and offload)."""
    return [_session(line) for line in _lines(text, "session")]


def _session(line: str) -> Session:
    # One match validates the common line (IP portal) completely; anything
    # else (host names, scope ids, odd IPv6 forms) takes the general path.
    fast = _fast_session_re().match(line)
    if fast is not None:
        transport, sid, host, host6, port, tpgt, target, flash = fast.groups()
        host = host if host6 is None else _fast_ipv6(host6)
        if host is not None and 0 < (port_no := int(port)) < 65536:
            return Session(transport, int(sid), Portal(host, port_no),
                           _tpgt(tpgt), target, flash == "flash")
    match = _SESSION_RE.match(line)
    if not match or not is_target_name(match["target"]):
        raise exception.IscsiadmParseError(what="session", line=line)
    return Session(
        match["transport"], int(match["sid"]),
        _portal_or_parse_error(match["portal"], "session", line),
        _tpgt(match["tpgt"]), match["target"], match["flash"] == "flash")


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
