"""Where the disk of a logged-in path appears, and waiting for it.

udev names iSCSI disks under ``/dev/disk/by-path`` after the portal, target
and LUN; for offload HBAs the name starts with the card's PCI address.  The
directory, the number of looks and the pause between them are options, so
tests need no real devices.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from iscsi_transports import exception
from iscsi_transports.attach import connection
from iscsi_transports.selection import rules


def candidates(device_dir: str, selection: rules.Selection,
               path: connection.VolumePath) -> list[str]:
    """by-path names udev gives the disk: ``pci-...`` first for offload."""
    name = "ip-%s-iscsi-%s-lun-%d" % (path.portal, path.iqn, path.lun)
    names = [name]
    port = selection.port
    if selection.transport.offload and port and port.pci_address:
        names.insert(0, "pci-%s-%s" % (port.pci_address, name))
    return [os.path.join(device_dir, n) for n in names]


def _present(wanted: list[list[str]]) -> list[str]:
    found = []
    for names in wanted:
        existing = [name for name in names if os.path.exists(name)]
        if existing:
            found.append(existing[0])
    return found


def wait_for_devices(wanted: list[list[str]], attempts: int, interval: float,
                     sleep: Callable[[float], None]) -> list[str]:
    """The first present name of each path, once any path has one."""
    for attempt in range(attempts):
        found = _present(wanted)
        if found:
            return found
        if attempt + 1 < attempts:
            sleep(interval)
    raise exception.VolumeDeviceNotFound(
        target="%d path(s)" % len(wanted),
        paths=", ".join(name for names in wanted for name in names))
