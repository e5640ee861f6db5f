"""Nova/cinder iSCSI connection properties, validated into typed paths.

The driver receives the ``data`` dict cinder returns from
``initialize_connection``: ``target_portal``/``target_iqn``/``target_lun``
for one path, ``target_portals``/``target_iqns``/``target_luns`` for
multipath, and CHAP settings (``auth_*``, ``discovery_auth_*``, with the
mutual-CHAP ``*_in`` variants).  Everything is checked here, before any of
it reaches an iscsiadm argv.  The device info the driver returns is shaped
here too, so nova's stored copy and ``disconnect_volume`` agree on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

from iscsi_transports import exception
from iscsi_transports import iscsiadm_parse as parse

_CHAP_FIELDS = ("username", "password", "username_in", "password_in")


@dataclasses.dataclass(frozen=True)
class VolumePath:
    """One portal/target/LUN to log in to; ``iqn`` None means discover."""

    portal: str
    iqn: str | None
    lun: int

    @property
    def lock_name(self) -> str:
        """Per-target lock: unrelated volumes attach in parallel.

        Hashed because an IQN may contain ``/``, which a lock file name
        cannot.
        """
        key = "%s|%s" % (self.portal, self.iqn or "")
        return "target-" + hashlib.sha256(key.encode()).hexdigest()[:20]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _invalid(reason: str) -> exception.InvalidConnectionProperties:
    return exception.InvalidConnectionProperties(reason=reason)


def _portal(value: Any) -> str:
    try:
        return str(parse.parse_portal(value))
    except exception.InvalidPortal as error:
        raise _invalid(str(error)) from None


def _iqn(value: Any) -> str | None:
    if value is None:
        return None
    if not parse.is_target_name(value):
        raise _invalid("%r is not an iqn./eui./naa. target name" % (value,))
    return str(value)


def _lun(value: Any) -> int:
    try:
        lun = int(value)
    except (TypeError, ValueError):
        raise _invalid("LUN %r is not a number" % (value,)) from None
    if lun < 0 or isinstance(value, bool):
        raise _invalid("LUN %r is not a valid LUN" % (value,))
    return lun


def paths(props: Mapping[str, Any]) -> list[VolumePath]:
    """Every path in ``props``: the multipath lists when present."""
    portals = props.get("target_portals")
    if portals:
        iqns = props.get("target_iqns") or [props.get("target_iqn")] * len(
            portals)
        luns = props.get("target_luns") or [props.get("target_lun", 0)] * len(
            portals)
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
            if any(ch in str(value) for ch in "\n\0"):
                raise _invalid("%s%s contains a line break" % (prefix, field))
            settings[record_prefix + field] = str(value)
    return settings


def session_auth(props: Mapping[str, Any]) -> dict[str, str]:
    """``node.session.auth.*`` settings for login CHAP (empty: none)."""
    return _chap(props, "auth_", "node.session.auth.")


def discovery_auth(props: Mapping[str, Any]) -> dict[str, str]:
    """``discovery.sendtargets.auth.*`` settings for discovery CHAP."""
    return _chap(props, "discovery_auth_", "discovery.sendtargets.auth.")


def merge_device_info(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One device info for several iface groups: the first one's choice,
    every group's paths and targets."""
    merged = dict(results[0])
    merged["paths"] = [p for result in results for p in result["paths"]]
    merged["targets"] = [t for result in results for t in result["targets"]]
    return merged


def selection_info(selection: Any) -> dict[str, Any]:
    """The part of the device info that says which transport and why."""
    return {"transport": selection.transport.name,
            "iface": selection.iface.name, "fallback": selection.fallback,
            "reason": selection.reason, "requested": selection.requested}
