"""The one seam through which the attach wing changes the kernel as root.

Attach and detach need four root writes besides iscsiadm: a LUN scan
(``<sysfs>/class/scsi_host/hostH/scan``), a size rescan and a delete of a
disk (its ``device/rescan`` and ``device/delete``), and a flush of the
disk's buffers before the delete.  The driver makes all four through a
:class:`KernelWriter` it is given, and nowhere else.

The method names and arguments are those of the privileged executor
(``iscsi_transports.privileged.client.Executor``: ``scan_host``,
``rescan_disk``, ``flush_disk``, ``delete_disk``), so moving the writes
into the privileged daemon is a one-line change where the driver builds
its writer.  Until then :class:`SysfsWriter` writes the files itself and
runs ``blockdev --flushbufs`` through the iscsiadm runner's root helper.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from typing import Protocol

from iscsi_transports import exception
from iscsi_transports.iscsiadm import runner

__all__ = ["KernelWriter", "SysfsWriter"]

LOG = logging.getLogger(__name__)

#: Kernel names of SCSI disks: nothing else is flushed, rescanned or
#: deleted (the privileged daemon checks the same).
_DISK_RE = re.compile(r"sd[a-z]{1,4}")
_SCAN_RE = re.compile(r"(\d+|-) (\d+|-) (\d+|-)")
#: The object went away while we wrote: for a delete that is success.
_GONE = (errno.ENOENT, errno.ENODEV, errno.ENXIO)


class KernelWriter(Protocol):
    """Root writes the driver needs; see the module docstring."""

    def scan_host(self, host: int, hctl: str) -> None:
        """Write ``"C T L"`` to SCSI host ``host``'s ``scan`` file."""

    def rescan_disk(self, name: str) -> None:
        """Make the kernel re-read disk ``name``'s size."""

    def flush_disk(self, name: str) -> bool:
        """Flush disk ``name``'s buffers; False if it is gone."""

    def delete_disk(self, name: str) -> bool:
        """Remove disk ``name`` from its host; False if it is gone."""


def _disk(name: str) -> str:
    if not isinstance(name, str) or not _DISK_RE.fullmatch(name):
        raise exception.InvalidInput(reason="%r is not a SCSI disk name"
                                     % (name,))
    return name


class SysfsWriter:
    """Writes sysfs files directly; flushes through ``blockdev``.

    Direct writes need the process to be root (the console script, a
    privileged daemon); ``blockdev`` runs through the configured root
    helper like iscsiadm.
    """

    def __init__(self, sysfs_root: str, iscsiadm: runner.Iscsiadm) -> None:
        self.sysfs_root = sysfs_root
        self.iscsiadm = iscsiadm

    @staticmethod
    def _write(path: str, value: str) -> bool:
        """Write ``value``; False if the object is gone."""
        try:
            with open(path, "w", encoding="ascii") as handle:
                handle.write(value)
        except OSError as error:
            if error.errno in _GONE:
                return False
            raise exception.SysfsWriteFailed(
                path=path, value=value,
                reason=error.strerror or str(error)) from error
        return True

    def scan_host(self, host: int, hctl: str) -> None:
        if isinstance(host, bool) or not isinstance(host, int) or host < 0 \
                or not _SCAN_RE.fullmatch(hctl):
            raise exception.InvalidInput(reason="bad scan request host%r %r"
                                         % (host, hctl))
        LOG.debug("Scanning host%d for %s", host, hctl)
        path = os.path.join(self.sysfs_root, "class", "scsi_host",
                            "host%d" % host, "scan")
        if not self._write(path, hctl):
            raise exception.SysfsWriteFailed(path=path, value=hctl,
                                             reason="the SCSI host is gone")

    def _device_file(self, name: str, attr: str) -> str:
        return os.path.join(self.sysfs_root, "block", _disk(name), "device",
                            attr)

    def rescan_disk(self, name: str) -> None:
        self._write(self._device_file(name, "rescan"), "1")

    def flush_disk(self, name: str) -> bool:
        if not os.path.exists(os.path.join(self.sysfs_root, "block",
                                           _disk(name))):
            return False
        self.iscsiadm.run_command(["blockdev", "--flushbufs", "/dev/" + name])
        return True

    def delete_disk(self, name: str) -> bool:
        LOG.debug("Deleting SCSI disk %s", name)
        try:
            return self._write(self._device_file(name, "delete"), "1")
        except exception.SysfsWriteFailed as error:
            raise exception.DeviceRemovalFailed(
                device=name, link=error.path, reason=error.reason) from error
