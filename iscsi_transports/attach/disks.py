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

"""A volume's disks: scanning exactly its LUN, waiting, and removing them.

Our node records have ``node.session.scan = manual``, so the kernel adds
no disk on its own: after a login, or on a session that already exists
(where "reported LUNs data has changed" maps nothing), the driver writes
``"0 <target id> <kernel LUN>"`` to the session host's ``scan`` file and
waits for the block device under that ``H:C:T:L`` in sysfs.

Waiting follows os-brick's schedule, for arrays slow to map a LUN: the
scan is written at once, then rescanned ``device_scan_attempts`` times
with a growing back-off, 4, 9, 16, 25, ... x ``device_scan_interval``
seconds apart, and the wait ends one more step after the last rescan
(nova's 5 attempts of 1 s: rescans after 4, 13, 29, 54 and 90 s, 139 s
in all, as os-brick waits).  sysfs is polled at 10 ms, doubling up to
50 ms until the first rescan (a LUN usually appears within milliseconds
of the scan, and every pause past its arrival is latency the caller
pays; see the attach latency benchmark), then every half second.
udev's link to a disk that has appeared is waited for
``device_scan_attempts`` x ``device_scan_interval`` seconds at most.
Each look is a few reads of one session's sysfs directory, or one
``readlink`` of the by-path name udev gives the disk; the whole
``/dev/disk`` listing, whose cost grows with the host's disks, is read
at pauses doubling up to the interval (at each look only for a session
udev names no by-path link for).

Removal flushes the disk, then deletes it; a disk held by a device-mapper
map is left alone (its map goes first) and so keeps its session.
"""

from __future__ import annotations

import logging
import os
import typing
from collections.abc import Callable

from iscsi_transports import exception
from iscsi_transports.attach import sysfs

if typing.TYPE_CHECKING:
    from iscsi_transports.privileged import client

LOG = logging.getLogger(__name__)

#: The first pause between two looks at sysfs; it doubles up to
#: MAX_POLL until the first rescan, then LATE_POLL.
FIRST_POLL = 0.01
MAX_POLL = 0.05
LATE_POLL = 0.5


class Budget(typing.NamedTuple):
    """How long to wait for a LUN, and when to scan for it again."""

    #: Rescans after the first scan.
    attempts: int
    #: The unit of the back-off: rescan k comes (k + 1)^2 units after
    #: the one before it.
    interval: float

    def scan_offsets(self) -> list[float]:
        """Seconds from the start of the wait at which the LUN is scanned:
        at once, then after 4, 9, 16, ... intervals (os-brick's
        back-off)."""
        offsets = [0.0]
        for step in range(2, self.attempts + 2):
            offsets.append(offsets[-1] + step * step * self.interval)
        return offsets

    @property
    def total(self) -> float:
        """The whole wait: one more step after the last rescan."""
        return self.scan_offsets()[-1] + \
            (self.attempts + 2) ** 2 * self.interval

    @property
    def link_wait(self) -> float:
        """How long udev's link to a disk that is there is waited for."""
        return self.attempts * self.interval


class Found(typing.NamedTuple):
    """A LUN's disk on a session, whether this attach scanned it in, and
    until when udev's link to it is waited for."""

    session: sysfs.Session
    disk: sysfs.Disk
    scanned: bool
    deadline: float


class Waiter:
    """Scans for and waits on one LUN; the host is injected."""

    def __init__(self, view: sysfs.Sysfs, writer: client.Executor,
                 sleep: Callable[[float], None],
                 clock: Callable[[], float]) -> None:
        self.view = view
        self.writer = writer
        self.sleep = sleep
        self.clock = clock

    def present(self, session: sysfs.Session, lun: int) -> sysfs.Disk | None:
        """The LUN's disk on ``session`` once it has a block device."""
        for disk in self.view.disks(session):
            if disk.hctl.lun == lun and disk.name:
                return disk
        return None

    def scan(self, session: sysfs.Session, lun: int) -> None:
        self.writer.scan_host(session.host,
                              str(sysfs.ScanTriple(0, session.target_id, lun)))

    def wait(self, session: sysfs.Session, lun: int,
             budget: Budget) -> Found:
        """The disk of kernel LUN ``lun`` on ``session``, scanned for if
        absent; VolumeDeviceNotFound when the budget runs out."""
        start = self.clock()
        disk = self.present(session, lun)
        if disk is not None:
            return Found(session, disk, False, start + budget.link_wait)
        deadline = start + budget.total
        pending = [start + offset for offset in budget.scan_offsets()]
        scans = 0
        pause = FIRST_POLL
        while True:
            now = self.clock()
            if pending and now >= pending[0]:
                self.scan(session, lun)
                scans += 1
                pending.pop(0)
            disk = self.present(session, lun)
            if disk is not None:
                return Found(session, disk, True,
                             min(deadline, now + budget.link_wait))
            now = self.clock()
            if now >= deadline:
                raise exception.VolumeDeviceNotFound(
                    target="%s LUN %d" % (session.target, lun),
                    paths="%d:0:%s:%d under %s after %d scans in %.1f s" % (
                        session.host, "-" if session.target_id is None
                        else session.target_id, lun, session.name, scans,
                        budget.total))
            wake = min(deadline, pending[0]) if pending else deadline
            self.sleep(max(min(pause, wake - now), 0))
            pause = min(pause * 2, MAX_POLL if scans < 2 else LATE_POLL)

    def stable_path(self, found: Found, lun: int, budget: Budget) -> str:
        """The udev link that resolves to the disk, waiting for udev until
        the budget ends; else ``/dev/sdX`` (a host without udev links),
        with a warning.

        When udev will make a by-path link (the session has a persistent
        portal), that is waited for: udev writes the by-id and by-path
        links one after the other, and the path handed out should not
        depend on which came first.
        """
        name = found.disk.name or ""
        bare = os.path.normpath(os.path.join(self.view.dev_root, name))
        by_path = os.path.join(self.view.dev_root, "disk", "by-path", "")
        wanted = by_path if sysfs.by_path_name(found.session, lun) else None
        pause = listing_pause = FIRST_POLL
        next_listing = self.clock()
        while True:
            now = self.clock()
            # Without a by-path name to look for, only the listing can
            # find a link: it is read at each short poll then.
            if now >= next_listing or wanted is None:
                path = self.view.stable_path(name, found.session, lun)
                next_listing = now + listing_pause
                listing_pause = min(listing_pause * 2,
                                    budget.interval or FIRST_POLL)
            else:
                path = self.view.udev_by_path(name, found.session,
                                              lun) or bare
            if path != bare and (wanted is None or path.startswith(wanted)):
                return path
            now = self.clock()
            if now >= found.deadline:
                path = self.view.stable_path(name, found.session, lun)
                LOG.warning("udev made no %slink to %s (%s) within %.1f s: "
                            "returning %s", "by-path " if wanted else "",
                            name, found.disk.hctl, budget.link_wait, path)
                return path
            self.sleep(min(pause, found.deadline - now))
            pause = min(pause * 2, MAX_POLL)


class Removal(typing.NamedTuple):
    """What a removal did: disks deleted, disks left and why."""

    removed: list[str]
    left: dict[str, str]


def remove(writer: client.Executor, disks: list[sysfs.Disk],
           force: bool = False) -> Removal:
    """Flush and delete each disk; a held one is left with the reason.

    Without ``force`` a flush or delete failure is raised at once (the
    disk is kept: deleting it could lose writes).  With ``force`` (nova's
    forced detach of a target that is gone) a disk whose flush fails is
    deleted anyway and every failure is returned in ``left``.
    """
    removed: list[str] = []
    left: dict[str, str] = {}
    for disk in disks:
        name = disk.name
        if name is None:
            continue
        if disk.holders:
            left[name] = "held by %s" % ", ".join(h.name for h in disk.holders)
            LOG.warning("Not deleting %s (%s): %s", name, disk.hctl,
                        left[name])
            continue
        try:
            writer.flush_disk(name)
        except exception.IscsiTransportsError as error:
            if not force:
                raise
            LOG.warning("Forced detach: %s could not be flushed: %s", name,
                        error)
        try:
            if writer.delete_disk(name):
                removed.append(name)
        except exception.IscsiTransportsError as error:
            if not force:
                raise
            left[name] = str(error)
    return Removal(removed, left)
