"""A thin adapter with the shape of nova's libvirt ISCSI volume driver.

nova calls ``connect_volume(connection_info, instance)`` and expects
``connection_info['data']['device_path']`` to be set; it later calls
``disconnect_volume(connection_info, instance)`` with the same dict (nova
saves it in the block device mapping).  We also store which transport and
iface were used under ``data['iscsi_transports']``, so the detach logs out
of exactly the session the attach made, even after a TCP fallback.
``driver_volume_type`` ``'iser'`` selects the iSER transport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from iscsi_transports.attach import driver as driver_mod

__all__ = ["INFO_KEY", "ISCSIVolumeDriver"]

#: Key under connection_info['data'] where the attach records its choice.
INFO_KEY = "iscsi_transports"


class ISCSIVolumeDriver:
    """nova's LibvirtISCSIVolumeDriver connect/disconnect, via ISCSIDriver."""

    def __init__(self, conf: cfg.ConfigOpts, manager: driver_mod.Manager | None = None,
                 execute: Callable[..., tuple[str, str]] | None = None,
                 driver: driver_mod.ISCSIDriver | None = None) -> None:
        self.driver = driver or driver_mod.ISCSIDriver(
            conf, manager=manager, execute=execute)

    def connect_volume(self, connection_info: dict[str, Any],
                       instance: object) -> None:
        data = connection_info["data"]
        volume_type = connection_info.get("driver_volume_type") or "iscsi"
        info = self.driver.connect_volume(data, volume_type=volume_type)
        data["device_path"] = info["path"]
        data[INFO_KEY] = {"transport": info["transport"],
                          "iface": info["iface"],
                          "fallback": info["fallback"],
                          "reason": info["reason"],
                          "targets": info["targets"]}

    def disconnect_volume(self, connection_info: dict[str, Any],
                          instance: object, force: bool = False) -> None:
        data = connection_info["data"]
        self.driver.disconnect_volume(data, data.get(INFO_KEY), force=force)
