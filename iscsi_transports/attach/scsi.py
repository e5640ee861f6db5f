"""Removing the SCSI disk of a path before its session is logged out.

When a session goes away under a disk the kernel still knows, the dead
``sdX`` stays until the next rescan, and the next LUN that reuses its
address can meet I/O errors.  So, as os-brick does, the driver flushes the
disk (``blockdev --flushbufs``) and deletes it (``1`` into
``<sysfs_root>/block/sdX/device/delete``) before ``--logout``.

Only the disks of the paths being detached are touched: a path's disk is
found through the by-path names udev gives exactly that portal, target and
LUN.  A missing link or an unknown disk means it is already gone, never an
error.  A disk still held (a multipath map in ``holders/``) is left alone
and logged: its holder must go first.
"""

from __future__ import annotations

import errno
import glob
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from iscsi_transports import exception
from iscsi_transports.attach import connection
from iscsi_transports.iscsiadm import runner

if TYPE_CHECKING:
    from iscsi_transports.privileged import client

LOG = logging.getLogger(__name__)

#: Kernel names of SCSI disks; nothing else is flushed or deleted (and the
#: rootwrap filter for blockdev allows only these).
_DISK_RE = re.compile(r"^sd[a-z]+$")
_GONE = (errno.ENOENT, errno.ENODEV, errno.ENXIO)


def by_path_name(path: connection.VolumePath) -> str:
    """The name udev gives the path's disk (the ``pci-...-`` form ends
    with it)."""
    return "ip-%s-iscsi-%s-lun-%d" % (path.portal, path.iqn, path.lun)


def _is_of(link: str, name: str) -> bool:
    base = os.path.basename(link)
    return base == name or (base.startswith("pci-") and
                            base.endswith("-" + name))


def links(device_dir: str, path: connection.VolumePath,
          device_info: Mapping[str, Any] | None = None) -> list[str]:
    """By-path links of ``path``'s disk: those the attach returned and
    those in ``device_dir`` now, ``pci-...`` (offload) forms included."""
    name = by_path_name(path)
    info = device_info or {}
    recorded = [str(p) for p in [info.get("path"), *(info.get("paths") or ())]
                if p]
    found = glob.glob(os.path.join(glob.escape(device_dir),
                                   "pci-*-" + glob.escape(name)))
    candidates = [*recorded, os.path.join(device_dir, name), *sorted(found)]
    return [link for link in dict.fromkeys(candidates) if _is_of(link, name)]


def kernel_name(link: str) -> str | None:
    """``sdX`` the link points to; None if it is gone or not a SCSI disk."""
    if not os.path.lexists(link):
        return None
    name = os.path.basename(os.path.realpath(link))
    return name if _DISK_RE.match(name) else None


def holders(sysfs_root: str, name: str) -> list[str]:
    """What holds the disk open (``dm-0`` for a multipath map)."""
    try:
        return sorted(os.listdir(os.path.join(sysfs_root, "block", name,
                                              "holders")))
    except OSError:
        return []


def remove_device(iscsiadm: runner.Iscsiadm, sysfs_root: str,
                  link: str) -> str | None:
    """Flush and delete the disk ``link`` names; its name if deleted.

    Raises CommandFailed when the flush fails (the disk is kept: deleting
    it could lose writes) and DeviceRemovalFailed when the kernel refuses
    the delete.
    """
    name = kernel_name(link)
    delete = os.path.join(sysfs_root, "block", name or "", "device", "delete")
    if name is None or not os.path.exists(delete):
        LOG.debug("No SCSI disk behind %s: nothing to remove", link)
        return None
    held = holders(sysfs_root, name)
    if held:
        LOG.warning("Not deleting %s (%s): it is still held by %s", name,
                    link, ", ".join(held))
        return None
    executor = iscsiadm.privileged
    if executor is not None:
        return _remove_privileged(executor, name, link)
    iscsiadm.run_command(["blockdev", "--flushbufs", "/dev/" + name])
    LOG.debug("Deleting SCSI device %s (%s)", name, link)
    try:
        with open(delete, "w", encoding="ascii") as handle:
            handle.write("1")
    except OSError as error:
        if error.errno in _GONE:
            return None
        raise exception.DeviceRemovalFailed(
            device=name, link=link, reason=error.strerror or str(error)
        ) from error
    return name


def _remove_privileged(executor: client.Executor, name: str,
                       link: str) -> str | None:
    """Flush and delete through the root daemon (same errors as above)."""
    try:
        executor.flush_disk(name)
    except exception.PrivilegedOperationFailed as error:
        raise exception.CommandFailed(cmd="flush /dev/%s" % name,
                                      reason=error.reason) from None
    LOG.debug("Deleting SCSI device %s (%s)", name, link)
    try:
        deleted = executor.delete_disk(name)
    except (exception.PrivilegedOperationFailed,
            exception.PrivilegedRequestRefused) as error:
        raise exception.DeviceRemovalFailed(
            device=name, link=link, reason=error.reason) from None
    return name if deleted else None


def remove_devices(iscsiadm: runner.Iscsiadm, sysfs_root: str,
                   candidates: Iterable[str], force: bool = False
                   ) -> list[str]:
    """Remove each distinct disk among ``candidates``; the names deleted.

    With ``force`` (nova's forced detach, for a target that is already
    gone) a disk that cannot be flushed or deleted is logged and left, so
    the session can still be logged out; writes it held may be lost.
    """
    removed: list[str] = []
    seen: set[str] = set()
    for link in candidates:
        name = kernel_name(link)
        if name is None or name in seen:
            continue
        seen.add(name)
        try:
            if remove_device(iscsiadm, sysfs_root, link):
                removed.append(name)
        except (exception.CommandFailed,
                exception.DeviceRemovalFailed) as error:
            if not force:
                raise
            LOG.warning("Forced detach: leaving %s (%s): %s", name, link,
                        error)
    return removed
