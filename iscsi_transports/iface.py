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

"""The iface record: the value type, its naming rules and its text format.

An open-iscsi iface record binds sessions to a transport and, for offload
cards, to one port (``iface.hwaddress``).  iscsiadm stores each record as a
file named after the iface under ``/etc/iscsi/ifaces``, so the name is a path
component: it is validated here, once, before it reaches any command line.
"""

from __future__ import annotations

import dataclasses
import ipaddress as ipaddr
import re
from collections.abc import Iterable, Mapping

from iscsi_transports import exception

__all__ = ["BUILTIN_IFACES", "MAX_NAME_LEN", "Iface", "differences",
           "format_record", "is_hwaddress", "is_ipv6", "normalize_hwaddress",
           "offload_name", "parse_record", "validate_ipaddress",
           "validate_name"]

#: open-iscsi's ISCSI_MAX_IFACE_LEN is 65 including the terminating NUL.
MAX_NAME_LEN = 64
#: Records built into iscsiadm; they cannot be created, changed or deleted.
BUILTIN_IFACES = frozenset({"default", "iser"})
#: How iscsiadm prints a field that has no value.
UNSET_VALUES = frozenset({"", "<empty>", "<NULL>", "<null>"})

# Used with fullmatch: ``$`` would also accept a trailing newline.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_MAC_LOOSE_RE = re.compile(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}")

# Record keys of the fields that have attributes; everything else is kept in
# Iface.extra under its full key.
_FIELD_KEYS = {
    "name": "iface.iscsi_ifacename",
    "transport_name": "iface.transport_name",
    "hwaddress": "iface.hwaddress",
    "ipaddress": "iface.ipaddress",
    "net_ifacename": "iface.net_ifacename",
    "initiatorname": "iface.initiatorname",
}
_KEY_FIELDS = {key: field for field, key in _FIELD_KEYS.items()}


def validate_name(name: str, *, allow_builtin: bool = True) -> str:
    """Return ``name`` if it is a safe iface name, else raise.

    The rules are open-iscsi's (at most 64 characters) plus ours: the name
    is used as a file name and an argv element, so it may not contain a path
    separator, ``..``, white space or shell metacharacters, and may not start
    with ``-`` (it would read as an option) or ``.`` (a hidden file).
    """
    if not isinstance(name, str) or not name:
        raise exception.InvalidIfaceName(name=name, reason="it is empty")
    if len(name) > MAX_NAME_LEN:
        raise exception.InvalidIfaceName(
            name=name, reason="it is longer than %d characters" % MAX_NAME_LEN)
    if ".." in name:
        raise exception.InvalidIfaceName(
            name=name, reason="'..' could escape the iface directory")
    if not _NAME_RE.fullmatch(name):
        raise exception.InvalidIfaceName(
            name=name, reason="only letters, digits and '_.:-' are allowed, "
                              "starting with a letter or digit")
    if not allow_builtin and name in BUILTIN_IFACES:
        raise exception.InvalidIfaceName(
            name=name, reason="it is built into iscsiadm and cannot be "
                              "created or changed")
    return name


def normalize_hwaddress(value: str) -> str:
    """Return a MAC address in the lower-case colon form sysfs and iscsiadm use.

    Accepts ``-`` separators and upper case, which operators copy from
    vendor tools; rejects everything else, including the all-zero address
    an unconfigured port reports.
    """
    if not isinstance(value, str) or not _MAC_LOOSE_RE.fullmatch(value.strip()):
        raise exception.InvalidHwAddress(
            value=value, reason="expected six hex octets like 00:07:43:05:97:07")
    mac = value.strip().lower().replace("-", ":")
    if mac == "00:00:00:00:00:00":
        raise exception.InvalidHwAddress(value=value,
                                         reason="the all-zero address is unset")
    return mac


def is_hwaddress(value: str | None) -> bool:
    return bool(value) and bool(_MAC_RE.fullmatch(value or ""))


def validate_ipaddress(value: str) -> str:
    """Return the canonical text form of an IPv4 or IPv6 address."""
    try:
        return str(ipaddr.ip_address(str(value).strip()))
    except ValueError:
        raise exception.InvalidIPAddress(
            value=value, reason="not an IPv4 or IPv6 address") from None


def is_ipv6(value: str | None) -> bool:
    try:
        return ipaddr.ip_address(value or "").version == 6
    except ValueError:
        return False


def offload_name(transport_name: str, hwaddress: str,
                 ipaddress: str | None = None) -> str:
    """The iface name ``iscsiadm -m iface`` gives an offload port.

    ``<transport>.<hwaddress>`` with the MAC in lower case; open-iscsi tells
    IPv4 from IPv6 ifaces by ``ipv6`` in the name when the address does not
    say, so an IPv6 iface gets a ``.ipv6`` suffix.
    """
    name = "%s.%s" % (transport_name, normalize_hwaddress(hwaddress))
    if ipaddress and is_ipv6(ipaddress):
        name += ".ipv6"
    return validate_name(name)


def _unset(value: str | None) -> str | None:
    if value is None or value.strip() in UNSET_VALUES:
        return None
    return value.strip()


@dataclasses.dataclass(frozen=True)
class Iface:
    """One iface record.

    Unset fields are ``None``.  ``extra`` holds any other ``iface.*`` keys
    (VLAN, MTU, bootproto, ...) by their full record key, so a record read
    from iscsiadm can be written back without losing what we do not model.
    """

    name: str
    transport_name: str
    hwaddress: str | None = None
    ipaddress: str | None = None
    net_ifacename: str | None = None
    initiatorname: str | None = None
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_name(self.name)
        if not self.transport_name or not _NAME_RE.fullmatch(self.transport_name):
            raise exception.InvalidInput(
                reason="iface %s has no valid transport name (%r)"
                       % (self.name, self.transport_name))
        if self.hwaddress is not None:
            object.__setattr__(self, "hwaddress",
                               normalize_hwaddress(self.hwaddress))
        if self.ipaddress is not None:
            object.__setattr__(self, "ipaddress",
                               validate_ipaddress(self.ipaddress))
        for key in self.extra:
            if not key.startswith("iface.") or not _NAME_RE.fullmatch(key):
                raise exception.InvalidInput(
                    reason="%r is not an iface record key" % key)
        self._check_values()

    def _check_values(self) -> None:
        # iscsiadm stores a record as one "key = value" line per field: a
        # line break in a value would write fields nobody asked for, and a
        # NUL cannot be passed in argv at all.
        for key, value in self.fields().items():
            if not isinstance(value, str) or _CONTROL_RE.search(value):
                raise exception.InvalidInput(
                    reason="iface %s: %s must be text without control "
                           "characters, not %r" % (self.name, key, value))

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_IFACES

    def fields(self) -> dict[str, str]:
        """The record's set fields by record key, in a stable order."""
        out = {}
        for field, key in _FIELD_KEYS.items():
            value = getattr(self, field)
            if value is not None:
                out[key] = value
        out.update(sorted(self.extra.items()))
        return out

    def settable_fields(self) -> dict[str, str]:
        """The fields ``iscsiadm -o update`` is asked to set (not the name)."""
        fields = self.fields()
        fields.pop(_FIELD_KEYS["name"])
        return fields

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {f: getattr(self, f) for f in _FIELD_KEYS}
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_fields(cls, fields: Mapping[str, str],
                    name: str | None = None) -> Iface:
        """Build a record from ``iface.key -> value`` pairs (unset dropped)."""
        kwargs: dict[str, str] = {}
        extra: dict[str, str] = {}
        for key, raw in fields.items():
            value = _unset(raw)
            if value is None:
                continue
            if key in _KEY_FIELDS:
                kwargs[_KEY_FIELDS[key]] = value
            elif key.startswith("iface."):
                extra[key] = value
        if name is not None:
            kwargs["name"] = name
        if "name" not in kwargs:
            raise exception.InvalidInput(reason="iface record has no name")
        kwargs.setdefault("transport_name", "tcp")
        return cls(extra=extra, **kwargs)  # type: ignore[arg-type]


def parse_record(text: str, name: str | None = None) -> Iface:
    """Parse ``iscsiadm -m iface -I X -o show`` output or an iface file.

    Both are ``key = value`` lines with ``#`` comments
    (``# BEGIN RECORD 2.1.8`` / ``# END RECORD``).
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.startswith("iface."):
            raise exception.IscsiadmParseError(what="iface record", line=line)
        fields[key] = value.strip()
    return Iface.from_fields(fields, name=name)


def format_record(iface: Iface, version: str = "2.1.8") -> str:
    """Render a record in iscsiadm's record format (for snapshots and docs)."""
    lines = ["# BEGIN RECORD %s" % version]
    lines += ["%s = %s" % (key, value) for key, value in iface.fields().items()]
    lines.append("# END RECORD")
    return "\n".join(lines) + "\n"


def differences(existing: Iface, wanted: Iface,
                keys: Iterable[str] | None = None) -> dict[str, tuple]:
    """Fields where ``existing`` differs from ``wanted``: key -> (have, want).

    Only the fields ``wanted`` sets are compared (unless ``keys`` is given),
    because iscsiadm fills every record with defaults we did not ask for.
    """
    have, want = existing.fields(), wanted.fields()
    return {key: (have.get(key), want.get(key))
            for key in (keys if keys is not None else want)
            if have.get(key) != want.get(key)}
