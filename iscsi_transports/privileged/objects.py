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

"""Proofs that a kernel object is one the library manages, read as root.

A name that passes :mod:`~iscsi_transports.privileged.validate` is only a
well-formed name: ``sda`` is a disk name whether it is an iSCSI volume or
the host's root disk.  Before the daemon deletes, flushes, rescans or
reads a disk, scans a SCSI host, or logs out of or deletes a target's
node, it proves from the kernel's own view (sysfs and procfs under
:data:`~iscsi_transports.privileged.paths.PATHS`) that the object is what
the library makes:

* a disk is an iSCSI disk: its ``/sys/class/block/<disk>/device``
  resolves to ``.../sessionN/targetH:C:T/H:C:T:L`` and ``sessionN`` is in
  ``/sys/class/iscsi_session``; a device-mapper map is read only when
  every disk under it is one;
* a disk that is changed or read is not in use by the host: neither it,
  its partitions nor anything stacked on them (``holders/``) is a mounted
  file system (``/proc/self/mountinfo``: the device number, and the
  source device for file systems such as btrfs that report an anonymous
  one, which is how the root file system is found too) or active swap
  (``/proc/swaps``);
* a multipath map that is flushed is made of iSCSI disks only, and not in
  use by the host either;
* a SCSI host that is scanned is an iSCSI host (``/sys/class/iscsi_host``);
* a target that is logged out of or whose node record is deleted is not
  one the firmware booted from (iBFT's ``/sys/firmware/ibft/target*`` and
  the offload adapters' ``/sys/firmware/iscsi_boot*/target*``): the host's
  own root may be on it.

Each refusal is a :class:`~iscsi_transports.exception.
PrivilegedRequestRefused` naming the object and the rule.  The proofs are
reads of the kernel's state at the time of the request; the kernel can
change between the proof and the write (a disk removed and its name
reused), so the writes that can check again do (the flush and the read
compare the opened device's number with the proven one).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re

from iscsi_transports.privileged import paths
from iscsi_transports.privileged import validate

#: ``.../sessionN/targetH:C:T/H:C:T:L``: where the kernel puts an iSCSI
#: session's SCSI devices.
_ISCSI_DEVICE_RE = re.compile(
    r"/(session[0-9]+)/target([0-9]+):[0-9]+:[0-9]+/([0-9]+):[0-9]+:[0-9]+"
    r":[0-9]+\Z")
_DEVNUM_RE = re.compile(r"^[0-9]+:[0-9]+\Z")
#: More block devices stacked on one disk than any host has; a loop in a
#: (damaged) tree stops here.
MAX_STACK = 256


def _sysfs(*parts: str) -> str:
    return os.path.join(paths.PATHS.sysfs, *parts)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


def disk_exists(name: str) -> bool:
    return os.path.exists(_sysfs("class", "block", name))


def device_number(operation: str, name: str) -> str:
    """``major:minor`` of block device ``name`` as sysfs reports it."""
    number = _read(_sysfs("class", "block", name, "dev"))
    if number is None or not _DEVNUM_RE.match(number):
        raise validate.refuse(operation, "%s has no device number in sysfs"
                              % name)
    return number


def iscsi_disk(operation: str, name: str) -> None:
    """Refused unless SCSI disk ``name`` is a LUN of an iSCSI session."""
    sysfs = os.path.realpath(paths.PATHS.sysfs)
    device = os.path.realpath(_sysfs("class", "block", name, "device"))
    match = _ISCSI_DEVICE_RE.search(device)
    if match is None or os.path.commonpath([sysfs, device]) != sysfs or \
            match.group(2) != match.group(3) or not os.path.isdir(
                _sysfs("class", "iscsi_session", match.group(1))):
        raise validate.refuse(operation, "%s is not a disk of an iSCSI "
                              "session" % name)


def unused_disk(operation: str, name: str) -> None:
    """Refused while ``name``, a partition of it, or anything stacked on
    them holds a mounted file system or active swap."""
    family = _stacked(name)
    numbers = {number for number in
               (_read(_sysfs("class", "block", member, "dev"))
                for member in family) if number}
    mounted_numbers, mounted_names = _mounts(operation)
    if numbers & mounted_numbers or family & mounted_names:
        raise validate.refuse(operation, "%s holds a mounted file system"
                              % name)
    if family & _swaps():
        raise validate.refuse(operation, "%s holds active swap" % name)


def _stacked(name: str) -> set[str]:
    """``name``, its partitions, and what is stacked on any of them
    (``holders/``), transitively."""
    found: set[str] = set()
    pending = [name]
    while pending and len(found) < MAX_STACK:
        member = pending.pop()
        if member in found:
            continue
        found.add(member)
        node = os.path.realpath(_sysfs("class", "block", member))
        with contextlib.suppress(OSError):
            pending += [entry for entry in os.listdir(node)
                        if entry.startswith(member) and
                        os.path.exists(os.path.join(node, entry,
                                                    "partition"))]
        with contextlib.suppress(OSError):
            pending += os.listdir(os.path.join(node, "holders"))
    return found


def _dev_name(source: str) -> str | None:
    """The kernel name a ``/dev`` path leads to (``/dev/mapper/x`` ->
    ``dm-3``), None for anything else."""
    if not source.startswith("/dev/"):
        return None
    dev = paths.PATHS.dev
    return os.path.basename(os.path.realpath(
        os.path.join(dev, source[len("/dev/"):])))


def _unescape(field: str) -> str:
    """A ``mountinfo`` or ``swaps`` field with the kernel's octal escapes
    (``\\040`` for a space) undone."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mounts(operation: str) -> tuple[set[str], set[str]]:
    """Device numbers and source device names of the daemon's mounts."""
    numbers: set[str] = set()
    names: set[str] = set()
    text = _read(os.path.join(paths.PATHS.proc, "self", "mountinfo"))
    if text is None:
        raise validate.refuse(operation, "/proc/self/mountinfo is not "
                              "readable, so no disk can be shown unused")
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 3:
            continue
        numbers.add(fields[2])
        if " - " in line:
            after = line.split(" - ", 1)[1].split(" ")
            name = _dev_name(_unescape(after[1])) if len(after) > 1 else None
            if name:
                names.add(name)
    return numbers, names


def _swaps() -> set[str]:
    """Kernel names of the block devices in use as swap."""
    text = _read(os.path.join(paths.PATHS.proc, "swaps")) or ""
    names = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        name = _dev_name(_unescape(fields[0])) if fields else None
        if name:
            names.add(name)
    return names


def changeable_disk(operation: str, name: str) -> bool:
    """Whether disk ``name`` exists (False: gone, nothing to do), refused
    unless it is an unused iSCSI disk."""
    if not disk_exists(name):
        return False
    iscsi_disk(operation, name)
    unused_disk(operation, name)
    return True


def readable_device(operation: str, name: str) -> None:
    """A disk or dm map ``name`` that may be read: an unused iSCSI disk,
    or a map whose every underlying disk is one."""
    if not disk_exists(name):
        raise validate.refuse(operation, "%s is not a block device the "
                              "kernel knows" % name)
    if validate.DISK_RE.match(name):
        iscsi_disk(operation, name)
    else:
        disks = _underlying(name)
        if not disks:
            raise validate.refuse(operation, "%s is not on an iSCSI disk"
                                  % name)
        for disk in disks:
            iscsi_disk(operation, disk)
    unused_disk(operation, name)


def _underlying(name: str) -> set[str]:
    """The disks under device-mapper device ``name`` (``slaves/``,
    transitively); empty if anything under it is not a SCSI disk."""
    disks: set[str] = set()
    pending, seen = [name], set[str]()
    while pending and len(seen) < MAX_STACK:
        member = pending.pop()
        if member in seen:
            continue
        seen.add(member)
        try:
            slaves = os.listdir(_sysfs("class", "block", member, "slaves"))
        except OSError:
            slaves = []
        if validate.DISK_RE.match(member):
            disks.add(member)
        elif not slaves:
            return set()
        pending += slaves
    return disks


def map_device(name: str) -> str | None:
    """The ``dm-N`` of multipath map ``name`` (its alias, or the WWID its
    ``mpath-`` uuid holds); None if there is none."""
    for path in sorted(glob.glob(_sysfs("class", "block", "dm-*"))):
        alias = _read(os.path.join(path, "dm", "name"))
        uuid = _read(os.path.join(path, "dm", "uuid")) or ""
        if uuid.startswith("mpath-") and name in (alias, uuid[6:]):
            return os.path.basename(path)
    return None


def iscsi_map(operation: str, name: str) -> None:
    """Refused unless multipath map ``name``, if there is one, is made of
    iSCSI disks only and holds no mounted file system or swap.  No map:
    nothing to prove (multipath finds nothing to flush)."""
    device = map_device(name)
    if device is None:
        return
    disks = _underlying(device)
    if not disks:
        raise validate.refuse(operation, "map %s is not on iSCSI disks"
                              % name)
    for disk in sorted(disks):
        iscsi_disk(operation, disk)
    unused_disk(operation, device)


def iscsi_host(operation: str, host: int) -> None:
    if not os.path.isdir(_sysfs("class", "iscsi_host", "host%d" % host)):
        raise validate.refuse(operation, "host%d is not an iSCSI host" % host)


def boot_targets() -> set[str]:
    """Target names the firmware booted from (iBFT and offload boot
    tables)."""
    pattern = [_sysfs("firmware", "ibft", "target*", "target-name"),
               _sysfs("firmware", "iscsi_boot*", "target*", "target-name")]
    return {name for path in pattern for name in
            (_read(found) for found in sorted(glob.glob(path))) if name}


def not_boot_target(operation: str, target: str) -> None:
    """Refused if the firmware booted from ``target``: the host's own
    root may be on its session."""
    if target.lower() in {name.lower() for name in boot_targets()}:
        raise validate.refuse(operation, "%s is the target the firmware "
                              "booted from" % target)
