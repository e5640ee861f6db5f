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

"""SCSI writes and disk reads and flushes as root: sysfs ``scan``,
``delete``, ``rescan``, the ``BLKFLSBUF`` ioctl and a one-block read.

Each takes a checked name or number, never a path: the path is built here
from :data:`~iscsi_transports.privileged.paths.PATHS`, and the object is
proven to be the library's (:mod:`~iscsi_transports.privileged.objects`:
an iSCSI host, an iSCSI disk the host does not use) before anything is
written or opened.  A disk still held (a multipath map in ``holders/``) is
never deleted, whatever the caller asked: deleting it under the map would
lose the map's writes.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import stat
from collections.abc import Callable

from iscsi_transports import exception
from iscsi_transports import privileged
from iscsi_transports.privileged import objects
from iscsi_transports.privileged import paths
from iscsi_transports.privileged import validate

LOG = logging.getLogger(__name__)

#: ``_IO(0x12, 97)`` from linux/fs.h: what ``blockdev --flushbufs`` calls.
BLKFLSBUF = 0x1261
#: What ``dd if=DEV of=/dev/null count=1`` reads: one 512-byte block.
BLOCK = 512
_GONE = (errno.ENOENT, errno.ENODEV, errno.ENXIO)
#: What a udev link may lead to: a disk or a dm map (``/dev/<name>``).
_DEVICE_RE = re.compile(r"^(?:sd[a-z]{1,4}|dm-[0-9]{1,6})\Z")


def _write(operation: str, path: str, text: str) -> None:
    """Write ``text`` to an existing sysfs file (never create one)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (path, error.strerror)) from None
    try:
        os.write(fd, text.encode("ascii"))
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (path, error.strerror)) from None
    finally:
        os.close(fd)


@privileged.entrypoint
def scan_host(host: int, hctl: str) -> None:
    """Ask SCSI host ``host`` to scan ``"channel target lun"``."""
    operation = "scan a SCSI host"
    validate.host_number(operation, host)
    validate.hctl(operation, hctl)
    objects.iscsi_host(operation, host)
    _write(operation, os.path.join(paths.PATHS.scsi_host(host), "scan"),
           hctl)


@privileged.entrypoint
def rescan_disk(name: str) -> None:
    """Re-read a disk's size and attributes (after a volume extend)."""
    operation = "rescan a SCSI disk"
    validate.disk(operation, name)
    if not objects.changeable_disk(operation, name):
        raise exception.PrivilegedOperationFailed(
            operation, "%s: no such disk" % name)
    _write(operation, os.path.join(paths.PATHS.disk(name), "device",
                                   "rescan"), "1")


@privileged.entrypoint
def delete_disk(name: str) -> bool:
    """Remove a SCSI disk from the kernel; False if it was already gone.

    Refused while anything holds the disk (``holders/`` not empty).
    """
    operation = "delete a SCSI disk"
    validate.disk(operation, name)
    if not objects.changeable_disk(operation, name):
        return False
    disk = paths.PATHS.disk(name)
    try:
        held = os.listdir(os.path.join(disk, "holders"))
    except FileNotFoundError:
        return False
    if held:
        raise validate.refuse(operation, "%s is held by %s" % (
            name, ", ".join(sorted(held))))
    try:
        _write(operation, os.path.join(disk, "device", "delete"), "1")
    except exception.PrivilegedOperationFailed:
        if not os.path.exists(os.path.join(disk, "device", "delete")):
            return False
        raise
    LOG.debug("Deleted SCSI disk %s", name)
    return True


@privileged.entrypoint
def flush_disk(name: str) -> bool:
    """Flush a disk's buffers (``BLKFLSBUF``); False if it is gone."""
    operation = "flush a SCSI disk"
    validate.disk(operation, name)
    if not objects.changeable_disk(operation, name):
        return False
    number = objects.device_number(operation, name)
    path = os.path.join(paths.PATHS.dev, name)
    try:
        fd = _open_block(operation, path, path, number)
    except OSError as error:
        if error.errno in _GONE:
            return False
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (path, error.strerror)) from None
    _use_block_device(operation, path, fd, number,
                      lambda device: fcntl.ioctl(device, BLKFLSBUF, 0))
    return True


def _open_block(operation: str, shown: str, path: str, number: str) -> int:
    """``path`` opened for reading, refused before the open unless it is
    block device ``number``: opening anything else as root can act on it
    (a tape rewinds, a watchdog arms, a FIFO blocks).  OSError as
    raised."""
    if not _is_device(os.stat(path), number):
        raise validate.refuse(operation, "%s is not a block device, or not "
                              "the one sysfs names %s" % (shown, number))
    return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)


def _is_device(info: os.stat_result, number: str) -> bool:
    return stat.S_ISBLK(info.st_mode) and "%d:%d" % (
        os.major(info.st_rdev), os.minor(info.st_rdev)) == number


def _use_block_device(operation: str, path: str, fd: int, number: str,
                      use: Callable[[int], object]) -> None:
    """``use(fd)`` on an opened ``path``, then close it: refused unless the
    descriptor is the block device ``number`` (``major:minor``) that was
    proven (the name may have been replaced since it was checked); an
    OSError is PrivilegedOperationFailed."""
    try:
        if not _is_device(os.fstat(fd), number):
            raise validate.refuse(operation, "%s is not a block device, or "
                                  "not the one sysfs names %s"
                                  % (path, number))
        use(fd)
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (path, error.strerror)) from None
    finally:
        os.close(fd)


@privileged.entrypoint
def read_block(path: str) -> None:
    """Read the first block of a volume's device, as os-brick's
    ``check_valid_device`` does with ``dd``: PrivilegedOperationFailed if
    the kernel refuses (a dead path gives EIO).

    ``path`` is a disk, a dm map or a udev link to one; the link is
    resolved here and must end on a block device under ``/dev`` that is
    an unused iSCSI disk or a map of them, so the caller can name no other
    file.  Checked before the open, not only
    after: opening a character device as root can have side effects (a
    tape rewinds, a watchdog arms); the descriptor is checked again in
    case the name was replaced in between.

    The read itself can block in the kernel (D state) on a path whose
    target died, with no timeout: it ties up one of the daemon's threads
    until the SCSI layer fails the command (``replacement_timeout``), as
    os-brick's ``dd`` would tie up its process.
    """
    operation = "read a block device"
    name = validate.device_path(operation, path)
    dev = os.path.realpath(paths.PATHS.dev)
    real = os.path.realpath(os.path.join(dev, name))
    if os.path.commonpath([dev, real]) != dev:
        raise validate.refuse(operation, "%s leads out of /dev" % path)
    device = os.path.basename(real)
    if os.path.dirname(real) != dev or not _DEVICE_RE.match(device):
        raise validate.refuse(operation, "%s is not a disk or dm map" % path)
    objects.readable_device(operation, device)
    number = objects.device_number(operation, device)
    try:
        fd = _open_block(operation, path, real, number)
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (path, error.strerror)) from None
    _use_block_device(operation, path, fd, number,
                      lambda device: os.read(device, BLOCK))
