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

"""Nova/cinder iSCSI connection properties, validated into typed paths.

The driver receives the ``data`` dict cinder returns from
``initialize_connection``: ``target_portal``/``target_iqn``/``target_lun``
for one path, ``target_portals``/``target_iqns``/``target_luns`` for
multipath, and CHAP settings (``auth_*``, ``discovery_auth_*``, with the
mutual-CHAP ``*_in`` variants).  :meth:`ConnectionProperties.parse` checks
all of it once, before any of it reaches an iscsiadm argv, and the typed
value travels from there.  The device info the driver returns
(:class:`DeviceInfo`) is declared and shaped here too, so nova's stored copy
and ``disconnect_volume`` agree on it.
"""

from __future__ import annotations

import hashlib
import os
import re
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from iscsi_transports import chap
from iscsi_transports import exception
from iscsi_transports import portal as portal_mod
from iscsi_transports.attach import sysfs

if TYPE_CHECKING:
    from iscsi_transports.selection import rules

__all__ = ["ConnectionProperties", "DeviceInfo", "TargetInfo", "VolumePath"]

_CHAP_FIELDS = ("username", "password", "username_in", "password_in")
#: The list keys of a multipath volume.
_LIST_KEYS = ("target_portals", "target_iqns", "target_luns")


class VolumePath(typing.NamedTuple):
    """One portal/target/LUN to log in to; ``iqn`` None means discover."""

    portal: str
    iqn: str | None
    lun: int

    @property
    def lock_name(self) -> str:
        """Per-target lock: unrelated volumes attach in parallel.

        Hashed because an IQN may contain ``:`` and be longer than a lock
        file name should be.
        """
        key = "%s|%s" % (self.portal, self.iqn or "")
        return "target-" + hashlib.sha256(key.encode()).hexdigest()[:20]

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def _invalid(reason: str) -> exception.InvalidConnectionProperties:
    return exception.InvalidConnectionProperties(reason=reason)


def _portal(value: Any) -> str:
    """The canonical text of a portal in any form cinder drivers send
    (see :func:`~iscsi_transports.portal.parse_sent_portal`)."""
    try:
        return str(portal_mod.parse_sent_portal(value))
    except exception.InvalidPortal as error:
        raise _invalid(str(error)) from None


def _iqn(value: Any) -> str | None:
    if value is None:
        return None
    if not portal_mod.is_target_name(value):
        raise _invalid("%r is not an iqn./eui./naa. target name" % (value,))
    return str(value)


def _lun(value: Any) -> int:
    """A LUN: an integer, or its decimal digits as text (never a float,
    a sign or a bool, which ``int()`` would quietly turn into one)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid("LUN %r is not a whole number" % (value,))
    if value < 0:
        raise _invalid("LUN %r is negative" % (value,))
    return value


def _list(props: Mapping[str, Any], key: str) -> list[Any] | None:
    """A multipath list, None when absent or empty; refused when it is no
    list (a string would be read one character per path)."""
    value = props.get(key)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise _invalid("%s must be a list, not %s" % (
            key, type(value).__name__))
    return list(value) or None


def paths(props: Mapping[str, Any]) -> list[VolumePath]:
    """Every path in ``props``: the multipath lists when present."""
    if not isinstance(props, Mapping):
        raise _invalid("expected a mapping of connection properties, not "
                       "%s" % type(props).__name__)
    portals, iqns, luns = (_list(props, key) for key in _LIST_KEYS)
    if portals:
        iqns = iqns or [props.get("target_iqn")] * len(portals)
        luns = luns or [props.get("target_lun", 0)] * len(portals)
        if not len(portals) == len(iqns) == len(luns):
            raise _invalid("target_portals, target_iqns and target_luns "
                           "differ in length")
        return [VolumePath(_portal(portal), _iqn(iqn), _lun(lun))
                for portal, iqn, lun in zip(portals, iqns, luns)]
    if not props.get("target_portal"):
        raise _invalid("neither target_portal nor target_portals is set")
    return [VolumePath(_portal(props["target_portal"]),
                       _iqn(props.get("target_iqn")),
                       _lun(props.get("target_lun", 0)))]


def _chap(props: Mapping[str, Any], prefix: str,
          record_prefix: str) -> dict[str, str]:
    method = props.get(prefix + "method")
    if not method or str(method).upper() == "NONE":
        return {}
    if str(method).upper() != "CHAP":
        raise _invalid("%smethod %r is not supported (only CHAP)"
                       % (prefix, method))
    settings = {record_prefix + "authmethod": "CHAP"}
    for field in _CHAP_FIELDS:
        value = props.get(prefix + field)
        if value:
            settings[record_prefix + field] = _chap_value(prefix + field,
                                                          value)
    return settings


def _chap_value(key: str, value: Any) -> str:
    """A CHAP name or secret open-iscsi keeps whole (:mod:`chap`, the rule
    the root daemon checks again); the message names the key, never the
    value."""
    problem = chap.problem(value)
    if problem:
        raise _invalid("%s %s" % (key, problem))
    return str(value)


def session_auth(props: Mapping[str, Any]) -> dict[str, str]:
    """``node.session.auth.*`` settings for login CHAP (empty: none)."""
    return _chap(props, "auth_", "node.session.auth.")


def discovery_auth(props: Mapping[str, Any]) -> dict[str, str]:
    """``discovery.sendtargets.auth.*`` settings for discovery CHAP."""
    return _chap(props, "discovery_auth_", "discovery.sendtargets.auth.")


def addressing_mode(props: Mapping[str, Any]) -> str | None:
    """cinder's ``addressing_mode`` (how the array numbers LUNs), checked
    against every path's LUN so a LUN the kernel cannot address fails
    here, before any login."""
    mode = props.get("addressing_mode")
    if mode is not None and not isinstance(mode, str):
        raise _invalid("addressing_mode %r is not a string" % (mode,))
    return mode


def only_target(path: VolumePath, found: Sequence[str]) -> VolumePath:
    """``path`` with the one target discovery ``found`` at its portal.

    Without ``target_iqn`` the LUN number alone names the volume only
    when the portal has one target: with two, LUN N of each is a
    different volume, and guessing attaches another instance's disk.
    AmbiguousTarget (nothing done yet) when there are several.
    """
    names = list(dict.fromkeys(found))
    if len(names) > 1:
        raise exception.AmbiguousTarget(portal=path.portal, lun=path.lun,
                                        targets=", ".join(names))
    return path._replace(iqn=names[0]) if names else path


def with_portals(path: VolumePath, portals: Sequence[str]
                 ) -> list[VolumePath]:
    """``path`` and the same target and LUN at each of ``portals`` (the
    paths of a volume given one portal whose target discovery lists at
    more, as os-brick finds them); each portal checked, none twice."""
    texts = [path.portal] + [_portal(portal) for portal in portals]
    return [path._replace(portal=text) for text in dict.fromkeys(texts)]


#: udev's by-path name of an iSCSI disk: ``ip-<portal>-iscsi-<target>-lun-N``
#: (with a ``pci-...-`` prefix for offload HBAs).
_BY_PATH_RE = re.compile(r"-iscsi-(?P<target>.+)-lun-(?:\d+|0x[0-9a-f]+)\Z")


def device_names(props: Mapping[str, Any],
                 device_info: Mapping[str, Any] | None) -> list[str]:
    """The file names of the device paths an attach handed out, as a
    detach may be given them: nova's ``device_path`` in the properties,
    the device info's ``path`` and ``paths``."""
    info = device_info or {}
    given = [props.get("device_path"), info.get("path"),
             *(info.get("paths") or ())]
    return [os.path.basename(value) for value in given
            if isinstance(value, str) and value]


def detach_target(path: VolumePath, holders: Sequence[tuple[str, str]],
                  names: Sequence[str]) -> list[str]:
    """Which target a detach of ``path`` without ``target_iqn`` (and no
    recorded targets) acts on, of the targets ``holders`` at its portal
    that have the LUN (pairs of target and disk name).

    A device path the attach handed out settles it (the disk's kernel
    name, or the target in udev's by-path name); else the LUN must be
    one target's, since nova retrying a detach must never flush another
    volume that has the same LUN number at that portal.  AmbiguousTarget
    when several remain; no target (nothing attached) is no error.
    """
    targets = list(dict.fromkeys(target for target, _disk in holders))
    named = [target for target, disk in holders if disk in names]
    for name in names:
        match = _BY_PATH_RE.search(name)
        if match and match["target"] in targets:
            named.append(match["target"])
    named = list(dict.fromkeys(named))
    if len(named) == 1 or len(targets) <= 1:
        return named or targets
    raise exception.AmbiguousTarget(portal=path.portal, lun=path.lun,
                                    targets=", ".join(named or targets))


class ConnectionProperties(typing.NamedTuple):
    """Cinder's connection properties, validated: the paths to log in to,
    how their LUNs are addressed, and the iscsiadm settings for login and
    discovery CHAP.

    The settings hold secrets: they go to iscsiadm's argv (which the
    iscsiadm layer masks) and nowhere else.
    """

    paths: tuple[VolumePath, ...]
    session_auth: Mapping[str, str]
    discovery_auth: Mapping[str, str]
    addressing_mode: str | None = None

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> ConnectionProperties:
        """Check everything once; InvalidConnectionProperties if not."""
        parsed = cls(tuple(paths(props)), session_auth(props),
                     discovery_auth(props), addressing_mode(props))
        for path in parsed.paths:
            parsed.kernel_lun(path)
        return parsed

    @classmethod
    def parse_paths(cls, props: Mapping[str, Any]) -> ConnectionProperties:
        """Only the paths and LUN addressing: what a detach, an extend or a
        path listing needs (no CHAP settings to refuse them over)."""
        parsed = cls(tuple(paths(props)), {}, {}, addressing_mode(props))
        for path in parsed.paths:
            parsed.kernel_lun(path)
        return parsed

    def kernel_lun(self, path: VolumePath) -> int:
        """The LUN number the kernel gives ``path``'s LUN (``H:C:T:L``)."""
        return sysfs.kernel_lun(path.lun, self.addressing_mode)

    def __repr__(self) -> str:
        # The CHAP settings must not reach a log through a repr.
        return "ConnectionProperties(paths=%r)" % (self.paths,)


class AttachedPath(typing.NamedTuple):
    """One path an attach made usable: its target (discovered ones have
    their IQN filled in), the disk's SCSI address, the path handed out
    and the disk's WWN."""

    path: VolumePath
    hctl: str
    device: str
    scsi_wwn: str | None
    #: The disk's kernel name (``sdb``): what a multipath map holds.
    disk: str | None = None


class TargetInfo(typing.TypedDict):
    """One attached path of the device info, with the transport and iface
    it used (``auto`` may use different ones for different portals)."""

    portal: str
    iqn: str | None
    lun: int
    transport: str
    iface: str
    hctl: str
    device: str
    #: The disk's kernel name (``sdb``).
    disk: str | None
    #: The WWID the disk reports (one for every path of a LUN).
    scsi_wwn: str | None


class _AnyDeviceInfo(typing.TypedDict):
    """The keys of every device info (see :class:`DeviceInfo`)."""

    type: str
    path: str
    scsi_wwn: str | None
    paths: list[str]
    targets: list[TargetInfo]
    transport: str
    iface: str
    fallback: bool
    reason: str
    requested: str


class DeviceInfo(_AnyDeviceInfo, total=False):
    """What ``connect_volume`` returns and ``disconnect_volume`` reads back.

    nova keeps part of it (``transport``, ``iface``, ``fallback``,
    ``reason``, ``targets``) in the block device mapping, so a detach reads
    it back as a plain mapping that may lack keys.  A multipath attach
    adds the map's WWID (``multipath_id``, os-brick's key: callers test
    for it) and kernel name (``map``, ``dm-3``).
    """

    multipath_id: str
    map: str


def device_info(selection: rules.Selection,
                attached: list[AttachedPath]) -> DeviceInfo:
    """The device info of one iface group's paths."""
    return {"type": "block", "path": attached[0].device,
            "scsi_wwn": attached[0].scsi_wwn,
            "paths": [a.device for a in attached],
            "targets": [{"portal": a.path.portal, "iqn": a.path.iqn,
                         "lun": a.path.lun,
                         "transport": selection.transport.name,
                         "iface": selection.iface.name, "hctl": a.hctl,
                         "device": a.device, "disk": a.disk,
                         "scsi_wwn": a.scsi_wwn}
                        for a in attached],
            "transport": selection.transport.name,
            "iface": selection.iface.name, "fallback": selection.fallback,
            "reason": selection.reason, "requested": selection.requested}


def merge_device_info(results: list[DeviceInfo]) -> DeviceInfo:
    """One device info for several iface groups: the first one's choice,
    every group's paths and targets."""
    merged = results[0].copy()
    merged["paths"] = [p for result in results for p in result["paths"]]
    merged["targets"] = [t for result in results for t in result["targets"]]
    return merged
