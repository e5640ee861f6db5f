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

"""Every iSCSI volume on the host, its state and who holds it (read only).

``iscsi-transports volumes`` and callers such as nova or a vendor's tool
(:func:`read`) get one :class:`Volume` per LUN: a dm-multipath map with
its paths, else one disk of a session, else a session with no disk at
all.  Everything comes from what the kernel shows, through the one sysfs
reader (:class:`~iscsi_transports.attach.sysfs.Sysfs`): sessions and their
state, disks and their state and size, maps and their ``slaves``.  Who
holds a volume comes from the mount table (``<proc>/self/mountinfo``, this
mount namespace's), the block devices stacked on it (``holders``) and the
processes that have it open (``<proc>/<pid>/fd``, a guest's QEMU), and
whether this library attached it from the records its attaches left
(:mod:`iscsi_transports.attach.ledger`), with the transport asked for and
the fallback reason.  Nothing is written and no process is run.

The kernel does not say directly whether the target still reports a LUN.
What it does show: when the LUN is gone, the disk's next revalidation (a
rescan: ``iscsiadm -m session -R``, or ``1`` into its ``rescan``) fails
READ CAPACITY and the kernel sets its capacity to 0.  A disk of size 0 is
therefore reported as :data:`LUN_GONE`; one not rescanned since the array
unmapped it still looks healthy here.

Sessions, disks and processes come and go while they are read: anything
that vanishes meanwhile is skipped, never an error.
"""

from __future__ import annotations

import logging
import os
import stat
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports.attach import ledger
from iscsi_transports.attach import sysfs
from iscsi_transports.selection import manager as manager_mod

__all__ = ["DEGRADED", "EMPTY", "FAILED", "LEFTOVER_STATES", "LUN_GONE", "OK",
           "STATES", "Inventory", "Path", "Process", "Users", "Volume",
           "read"]

LOG = logging.getLogger(__name__)

#: Every path up and the LUN reported.
OK = "ok"
#: A multipath map with some paths down and at least one up.
DEGRADED = "degraded"
#: No path up: the session is not logged in, the disk is offline, or a
#: map has no live path (or no path at all).
FAILED = "failed"
#: The target no longer reports the LUN (capacity 0 after a rescan).
LUN_GONE = "lun-gone"
#: A logged-in session with no disk (no LUN scanned, or all removed).
EMPTY = "empty"
STATES = (OK, DEGRADED, FAILED, LUN_GONE, EMPTY)
#: What the future clean-up is for, and doctor warns about.
LEFTOVER_STATES = (FAILED, LUN_GONE)

LOGGED_IN = "LOGGED_IN"
RUNNING = "running"
#: Processes that open every path as a matter of course: not users.
_INFRASTRUCTURE = ("multipathd",)
#: At most this many open descriptors are looked at, all processes
#: together, so that a host with millions of sockets is not walked.
MAX_FDS = 262144


class Path(typing.NamedTuple):
    """One path of a volume: a session and its disk for the LUN."""

    sid: int | None
    target_iqn: str | None
    portal: str | None
    iface: str | None
    transport: str | None
    session_state: str | None
    hctl: str | None
    lun: int | None
    disk: str | None
    disk_state: str | None
    stable_path: str | None
    #: The session is logged in and the disk running.
    up: bool

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Process(typing.NamedTuple):
    pid: int
    comm: str | None


class Users(typing.NamedTuple):
    """Who holds a volume (its disks, its map, what is stacked on them)."""

    #: Mount points, as the mount table spells them.
    mounts: tuple[str, ...] = ()
    #: Block devices stacked on it other than its own map (``dm-5``, with
    #: the dm name when it has one: ``dm-5 (vg-lv)``).
    holders: tuple[str, ...] = ()
    processes: tuple[Process, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.mounts or self.holders or self.processes)


class Volume(typing.NamedTuple):
    """One LUN on the host (see the module docstring)."""

    state: str
    #: Why the state is not ``ok``, one line each.
    problems: tuple[str, ...]
    paths: tuple[Path, ...]
    #: The map's kernel name (``dm-0``) and dm name, for a multipath map.
    map: str | None
    map_name: str | None
    scsi_wwn: str | None
    #: The path to hand out: the map's or the disk's udev link.
    stable_path: str | None
    size: int | None
    #: False when the kernel says the LUN is gone; None when it cannot
    #: tell (no disk running to ask).
    lun_reported: bool | None
    users: Users
    #: Whether this library's attach recorded it (see ledger).
    managed: bool
    requested: str | None
    fallback: bool | None
    reason: str | None

    @property
    def in_use(self) -> bool:
        return bool(self.users)

    @property
    def first(self) -> Path | None:
        return self.paths[0] if self.paths else None

    @property
    def device(self) -> str:
        """What names it on the host: its map, else its disk, else its
        session (``dm-0``, ``sdb``, ``session3``)."""
        first = self.first or _NO_PATH
        return self.map or first.disk or "session%s" % first.sid

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``iscsi-transports volumes`` (keys are a contract)."""
        first = self.first or _NO_PATH
        return {
            "device": self.device,
            "target_iqn": first.target_iqn, "portal": first.portal,
            "iface": first.iface, "transport": first.transport,
            "lun": first.lun, "disk": first.disk,
            "disks": [path.disk for path in self.paths if path.disk],
            "stable_path": self.stable_path, "map": self.map,
            "map_name": self.map_name, "scsi_wwn": self.scsi_wwn,
            "size": self.size, "state": self.state,
            "problems": list(self.problems),
            "lun_reported": self.lun_reported,
            "paths_up": sum(path.up for path in self.paths),
            "paths": [path.as_dict() for path in self.paths],
            "in_use": self.in_use,
            "users": {"mounts": list(self.users.mounts),
                      "holders": list(self.users.holders),
                      "processes": [p._asdict()
                                    for p in self.users.processes]},
            "managed": self.managed, "requested": self.requested,
            "fallback": self.fallback, "reason": self.reason}


_NO_PATH = Path(*(None,) * 11, up=False)


class Inventory(typing.NamedTuple):
    volumes: tuple[Volume, ...]
    #: What could not be read or looks wrong outside any one volume.
    problems: tuple[str, ...]

    @property
    def leftovers(self) -> tuple[Volume, ...]:
        """Volumes in :data:`LEFTOVER_STATES`."""
        return tuple(volume for volume in self.volumes
                     if volume.state in LEFTOVER_STATES)

    def as_dict(self) -> dict[str, Any]:
        return {"volumes": [volume.as_dict() for volume in self.volumes],
                "problems": list(self.problems)}


def read(conf: cfg.ConfigOpts, *, sysfs_root: str | None = None,
         dev_root: str = "/dev", proc_root: str = "/proc",
         processes: bool = True) -> Inventory:
    """Every iSCSI volume on the host.

    ``conf`` gives the state directory (the attach records) and, unless
    ``sysfs_root`` is given, ``[iscsi_transports] sysfs_root``.
    ``processes`` False skips the walk of every process's open files.
    """
    manager_mod.register_opts(conf)
    view = sysfs.Sysfs(sysfs_root or conf[config.GROUP].sysfs_root, dev_root)
    records, problems = ledger.read(conf)
    return _Reader(view, proc_root, records, problems).read(processes)


class _Reader:
    """One pass over the host: what :func:`read` builds."""

    def __init__(self, view: sysfs.Sysfs, proc_root: str,
                 records: Sequence[ledger.Attachment],
                 problems: Iterable[str]) -> None:
        self.view = view
        self.proc_root = proc_root
        self.records = {item.key: item for item in records}
        self.problems = list(problems)

    def read(self, processes: bool) -> Inventory:
        sessions = {session.sid: session for session in self.view.sessions()}
        disks = {sid: self.view.disks(session)
                 for sid, session in sessions.items()}
        groups = self._groups(sessions, disks)
        devices = {name for group in groups for name in group.devices}
        numbers = {name: self.view.block_devno(name) for name in devices}
        mounts = _mounts(self.proc_root)
        openers = self._openers(numbers) if processes and devices else {}
        volumes = [self._volume(group, numbers, mounts, openers)
                   for group in groups]
        self._stale_records(volumes)
        return Inventory(tuple(volumes), tuple(self.problems))

    # -- grouping ------------------------------------------------------------

    def _groups(self, sessions: dict[int, sysfs.Session],
                disks: dict[int, tuple[sysfs.Disk, ...]]) -> list[_Group]:
        """Maps first (with the paths they hold), then the disks no map
        holds, then the sessions with no disk."""
        by_name = {disk.name: (sessions[sid], disk)
                   for sid, found in disks.items() for disk in found
                   if disk.name}
        groups: list[_Group] = []
        in_maps: set[str] = set()
        for holder in self.view.maps():
            if holder.multipath_wwid is None:
                continue
            pairs = [by_name.get(name) or (None, self.view.disk(name))
                     for name in holder.slaves]
            if holder.slaves and not any(session for session, _ in pairs):
                continue  # a map of other disks (FC, local)
            in_maps.update(holder.slaves)
            groups.append(_Group(holder, [(s, d) for s, d in pairs if d],
                                 self.view.holders(holder.name)))
        for sid, found in disks.items():
            for disk in found:
                if disk.is_disk and disk.name not in in_maps:
                    groups.append(_Group(None, [(sessions[sid], disk)]))
        for sid, session in sessions.items():
            if not any(disk.is_disk for disk in disks[sid]):
                groups.append(_Group(None, [(session, None)]))
        return groups

    # -- one volume ------------------------------------------------------------

    def _volume(self, group: _Group, numbers: _Numbers,
                mounts: dict[tuple[int, int], list[str]],
                openers: dict[tuple[int, int], list[Process]]) -> Volume:
        paths = tuple(self._path(session, disk)
                      for session, disk in group.pairs)
        found = [disk for _session, disk in group.pairs if disk]
        state, problems = _state(group, paths, found)
        record = self._record(paths)
        holder = group.map
        return Volume(
            state=state, problems=tuple(problems), paths=paths,
            map=holder.name if holder else None,
            map_name=holder.dm_name if holder else None,
            scsi_wwn=(holder.multipath_wwid if holder else None) or next(
                (disk.scsi_wwn for disk in found if disk.scsi_wwn), None),
            stable_path=(self.view.stable_path(holder.name) if holder else
                         paths[0].stable_path),
            size=self.view.block_size(holder.name) if holder else next(
                (disk.size for disk in found), None),
            lun_reported=_lun_reported(found),
            users=self._users(group, numbers, mounts, openers),
            managed=record is not None,
            requested=record.requested if record else None,
            fallback=record.fallback if record else None,
            reason=record.reason if record else None)

    def _path(self, session: sysfs.Session | None,
              disk: sysfs.Disk | None) -> Path:
        stable = None
        if disk is not None and disk.name:
            stable = self.view.stable_path(disk.name, session,
                                           disk.hctl.lun)
        up = bool(session and session.state == LOGGED_IN and disk and
                  disk.state == RUNNING)
        return Path(
            sid=session.sid if session else None,
            target_iqn=session.target if session else None,
            portal=str(session.portal) if session else None,
            iface=session.iface if session else None,
            transport=session.transport if session else None,
            session_state=session.state if session else None,
            hctl=str(disk.hctl) if disk else None,
            lun=disk.hctl.lun if disk else None,
            disk=disk.name if disk else None,
            disk_state=disk.state if disk else None,
            stable_path=stable, up=up)

    def _record(self, paths: Sequence[Path]) -> ledger.Attachment | None:
        for path in paths:
            key = (path.target_iqn, path.portal, path.iface, path.lun)
            if key in self.records:
                return self.records[key]
        return None

    def _stale_records(self, volumes: Sequence[Volume]) -> None:
        """Records of paths the host no longer has: detached outside the
        library (or a detach whose record could not be removed)."""
        live = {(path.target_iqn, path.portal, path.iface, path.lun)
                for volume in volumes for path in volume.paths}
        for key in sorted(self.records):
            if key not in live:
                self.problems.append(
                    "attach record of %s at %s (iface %s, LUN %d) names no "
                    "disk on this host: detached outside the library"
                    % key)

    # -- users ---------------------------------------------------------------

    def _users(self, group: _Group, numbers: _Numbers,
               mounts: dict[tuple[int, int], list[str]],
               openers: dict[tuple[int, int], list[Process]]) -> Users:
        names = group.devices
        devices = [number for number in map(numbers.get, names) if number]
        found_mounts = sorted({point for number in devices
                               for point in mounts.get(number, ())})
        processes = sorted({process for number in devices
                            for process in openers.get(number, ())})
        return Users(tuple(found_mounts), tuple(group.stacked),
                     tuple(processes))

    def _openers(self, numbers: _Numbers
                 ) -> dict[tuple[int, int], list[Process]]:
        """Processes with one of the devices open, by device number."""
        wanted = {number for number in numbers.values() if number}
        found: dict[tuple[int, int], list[Process]] = {}
        seen, refused = 0, 0
        for pid in _pids(self.proc_root):
            fd_dir = os.path.join(self.proc_root, str(pid), "fd")
            try:
                entries = os.listdir(fd_dir)
            except PermissionError:
                refused += 1
                continue
            except OSError:
                continue  # exited meanwhile
            seen += len(entries)
            if seen > MAX_FDS:
                self.problems.append(
                    "stopped looking for processes that hold volumes open "
                    "after %d open files: the process list is incomplete"
                    % MAX_FDS)
                break
            for number in _open_devices(fd_dir, entries, wanted):
                comm = _comm(self.proc_root, pid)
                if comm not in _INFRASTRUCTURE:
                    found.setdefault(number, []).append(Process(pid, comm))
        if refused:
            self.problems.append(
                "the open files of %d processes of other users were not "
                "checked (uid %d): run as root to see every process that "
                "holds a volume" % (refused, os.geteuid()))
        return found


#: Block device numbers by kernel name (None: the device went away).
_Numbers = dict[str, "tuple[int, int] | None"]


class _Group(typing.NamedTuple):
    """The kernel objects of one volume: a map (or None) and its
    (session, disk) pairs; a session with no disk has disk None."""

    map: sysfs.Holder | None
    pairs: list[tuple[sysfs.Session | None, sysfs.Disk | None]]
    #: What is stacked on the map.
    above: tuple[sysfs.Holder, ...] = ()

    @property
    def disks(self) -> list[sysfs.Disk]:
        return [disk for _session, disk in self.pairs if disk]

    @property
    def stacked(self) -> list[str]:
        """Holders of the disks and of the map, other than the map."""
        own = self.map.name if self.map else None
        holders = [holder for disk in self.disks for holder in disk.holders]
        holders += self.above
        return sorted({_describe(holder) for holder in holders
                       if holder.name != own})

    @property
    def devices(self) -> list[str]:
        """Block devices whose users are the volume's users."""
        names = [disk.name for disk in self.disks if disk.name]
        if self.map:
            names.append(self.map.name)
        names += [holder.name for disk in self.disks
                  for holder in disk.holders]
        names += [holder.name for holder in self.above]
        return list(dict.fromkeys(names))


def _describe(holder: sysfs.Holder) -> str:
    return "%s (%s)" % (holder.name, holder.dm_name) if holder.dm_name \
        else holder.name


def _state(group: _Group, paths: Sequence[Path],
           disks: Sequence[sysfs.Disk]) -> tuple[str, list[str]]:
    """The volume's state and why it is not ``ok``."""
    problems = [problem for problem in map(_path_problem, paths)
                if problem]
    up = sum(path.up for path in paths)
    if group.map is not None and not group.map.slaves:
        return FAILED, ["map %s has no paths" % group.map.name]
    if not disks:
        session = paths[0]
        if session.session_state != LOGGED_IN:
            return FAILED, ["session%s is %s" % (session.sid,
                                                 session.session_state)]
        return EMPTY, ["session%s has no disk" % session.sid]
    if _lun_reported(disks) is False:
        return LUN_GONE, ["the target no longer reports the LUN (%s: "
                          "capacity 0)" % ", ".join(
                              disk.name or str(disk.hctl) for disk in disks
                              if disk.size == 0)] + problems
    if not up:
        if group.map is not None:
            problems.insert(0, "map %s has no live path" % group.map.name)
        return FAILED, problems
    if up < len(paths):
        return DEGRADED, problems
    return OK, []


def _path_problem(path: Path) -> str | None:
    if path.session_state != LOGGED_IN:
        if path.sid is None:
            return "%s is no iSCSI disk" % (path.disk or "a path")
        return "session%s is %s" % (path.sid, path.session_state)
    if path.disk_state != RUNNING:
        return "%s is %s" % (path.disk or path.hctl, path.disk_state)
    return None


def _lun_reported(disks: Sequence[sysfs.Disk]) -> bool | None:
    """False when the kernel set the capacity of every running disk of
    the LUN to 0 (see the module docstring); None when no disk runs."""
    running = [disk for disk in disks if disk.state == RUNNING]
    if not running:
        return None
    return not all(disk.size == 0 for disk in running)


# -- the mount table and the processes ---------------------------------------


def _mounts(proc_root: str) -> dict[tuple[int, int], list[str]]:
    """Mount points by device number, from ``self/mountinfo``."""
    try:
        with open(os.path.join(proc_root, "self", "mountinfo"),
                  encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return {}
    found: dict[tuple[int, int], list[str]] = {}
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 5:
            continue
        major, _colon, minor = fields[2].partition(":")
        if major.isdigit() and minor.isdigit():
            found.setdefault((int(major), int(minor)), []).append(
                _unescape(fields[4]))
    return found


def _unescape(text: str) -> str:
    """mountinfo's octal escapes (``\\040`` for a space)."""
    if "\\" not in text:
        return text
    return text.encode("latin-1", "replace").decode(
        "unicode_escape", "replace")


def _pids(proc_root: str) -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir(proc_root)
                      if name.isdigit())
    except OSError:
        return []


def _open_devices(fd_dir: str, entries: Sequence[str],
                  wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the ``wanted`` block devices these descriptors are: only
    those whose link names something under ``/dev`` are stat'ed."""
    found = set()
    for entry in entries:
        path = os.path.join(fd_dir, entry)
        try:
            if not os.readlink(path).startswith("/dev/"):
                continue
            info = os.stat(path)
        except OSError:
            continue  # closed meanwhile
        number = (os.major(info.st_rdev), os.minor(info.st_rdev))
        if stat.S_ISBLK(info.st_mode) and number in wanted:
            found.add(number)
    return found


def _comm(proc_root: str, pid: int) -> str | None:
    try:
        with open(os.path.join(proc_root, str(pid), "comm"),
                  encoding="utf-8", errors="replace") as handle:
            return handle.read().strip() or None
    except OSError:
        return None
