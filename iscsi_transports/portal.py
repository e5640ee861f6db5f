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

"""Portal and target-name values: what an iSCSI address looks like.

A portal (``10.0.0.1:3260``, ``[fe80::1]:3260``, ``host``) and a target name
(``iqn.``, ``eui.``, ``naa.``) reach iscsiadm's argv, so they are validated
here once, into the canonical text iscsiadm prints, by whoever receives them
first: the connection properties, the console script, the parsers of
iscsiadm output (:mod:`iscsi_transports.iscsiadm.parse`) and source-IP
derivation.
"""

from __future__ import annotations

import functools
import ipaddress as ipaddr
import re
import socket
import typing

from iscsi_transports import exception

__all__ = ["DEFAULT_PORT", "MAX_TARGET_NAME_BYTES", "Portal",
           "is_target_name", "parse_portal", "parse_sent_portal",
           "validate_target_name"]

#: The IANA iSCSI port.
DEFAULT_PORT = 3260

#: RFC 3720 (3.2.6.1): an iSCSI name is at most 223 bytes (UTF-8).
MAX_TARGET_NAME_BYTES = 223
#: The three target name forms (RFC 3720/3980).  The type prefix is
#: matched in either case (RFC 3722 folds names to lower case, and some
#: arrays print ``IQN.``); the name itself is kept as sent, because
#: open-iscsi and the kernel compare target names byte for byte
#: (``strcmp``), so the login must carry what the target was given.  No
#: ``/``: a target name is a directory name under open-iscsi's records.
TARGET_PATTERNS = (
    r"(?i:iqn)\.\d{4}-\d{2}(?:\.[A-Za-z0-9-]+)+(?::[^\s\x00-\x1f\x7f/]+)?",
    r"(?i:eui)\.[0-9A-Fa-f]{16}",
    r"(?i:naa)\.(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})",
)
# \Z, not $: "$" also matches before a trailing newline.
_TARGET_RE = re.compile(r"^(?:%s)\Z" % "|".join(TARGET_PATTERNS), re.ASCII)
#: A dotted quad exactly as ipaddress prints it (no leading zeros), so the
#: common IPv4 portal skips the much slower IPv4Address round trip.
IPV4_PATTERN = (r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
         r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
_IPV4_RE = re.compile(r"^%s\Z" % IPV4_PATTERN, re.ASCII)
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\Z", re.ASCII)


class Portal(typing.NamedTuple):
    """An iSCSI portal; ``str()`` gives the form iscsiadm's ``-p`` takes."""

    host: str
    port: int = 3260

    def __str__(self) -> str:
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)


def is_target_name(name: str) -> bool:
    """True for an ``iqn.``, ``eui.`` or ``naa.`` name (RFC 3720/3980)."""
    return (isinstance(name, str) and _TARGET_RE.match(name) is not None
            and len(name.encode("utf-8", "replace"))
            <= MAX_TARGET_NAME_BYTES)


def validate_target_name(name: str) -> str:
    if not is_target_name(name):
        raise exception.InvalidTargetName(
            value=name, reason="expected iqn.YYYY-MM.domain[:id], eui.<16 "
                               "hex> or naa.<16 or 32 hex>, at most %d "
                               "bytes, no /" % MAX_TARGET_NAME_BYTES)
    return name


def _split_host_port(text: str) -> tuple[str, str | None]:
    """The host and the port text; None when no port is given (a colon
    with nothing after it is an empty port, not none)."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("unbalanced brackets")
        return host, rest[1:] if rest else None
    if text.count(":") > 1:  # a bare IPv6 address, no port
        return text, None
    host, colon, port = text.partition(":")
    return host, port if colon else None


def canonical_ipv6(host: str) -> str | None:
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
        return ((host.isascii() and canonical_ipv6(host))
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
        if port is not None and not (port.isascii() and port.isdigit()):
            raise ValueError("the port is not a decimal number")
        port_no = default_port if port is None else int(port)
        if not 0 < port_no < 65536:
            raise ValueError("port out of range")
        return Portal(_check_host(host, text.startswith("[")), port_no)
    except ValueError as error:
        raise exception.InvalidPortal(value=text, reason=str(error)) from None




#: A target portal group tag after the portal (``10.0.0.1:3260,1``), as
#: iscsiadm prints portals and some cinder drivers send them.
_TPGT_RE = re.compile(r",(\d{1,5})\Z", re.ASCII)


def parse_sent_portal(text: str) -> Portal:
    """A portal as cinder drivers send it: :func:`parse_portal`'s forms,
    and two more that real drivers use.

    - ``addr:port,tpgt``: the group tag is dropped (the driver finds the
      group of a record or session itself); at most 65535.
    - An IPv6 address without brackets followed by ``:port`` (PowerStore
      sends ``fd00::1:3260``): the last colon separates the port when
      what comes before it parses as an IPv6 address and the port is
      decimal.  A bare IPv6 address whose last group is decimal digits
      is therefore read with a port: cinder sends no portal without one.

    Raises :class:`~iscsi_transports.exception.InvalidPortal` naming the
    text as sent.
    """
    if not isinstance(text, str):
        return parse_portal(text)
    bare = text
    tag = _TPGT_RE.search(bare)
    if tag:
        if int(tag.group(1)) > 65535:
            raise exception.InvalidPortal(value=text,
                                          reason="portal group tag too large")
        bare = bare[:tag.start()]
    if not bare.startswith("[") and bare.count(":") > 1:
        address, _, port = bare.rpartition(":")
        if port.isascii() and port.isdigit() and address.isascii() and \
                canonical_ipv6(address):
            bare = "[%s]:%s" % (address, port)
    try:
        return parse_portal(bare)
    except exception.InvalidPortal as error:
        raise exception.InvalidPortal(value=text,
                                      reason=error.kwargs["reason"]) from None
