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

"""dm-multipath maps of attached volumes: wait for one, tear one down.

multipathd builds a map (``/dev/dm-N``, uuid ``mpath-<wwid>``) when it
sees the paths of a LUN; this module waits for that map for the volume's
WWID, nudges multipathd when its configuration keeps it from acting on
its own, flushes the map on detach, and says which maps still hold a
session's disks, so that a detach never logs out a path a live map
holds (with ``queue_if_no_path``, LIO's and many arrays' built-in
default, every opener of a map without paths hangs).

Everything the kernel says is read through :class:`~iscsi_transports.
attach.sysfs.Sysfs` (maps are ``block/dm-N`` with ``dm/uuid`` and
``slaves/``), every command goes through the root executor via
:class:`~iscsi_transports.multipathd.Multipathd`.  Logging in, scanning and
deleting disks are the caller's: a map is only ever flushed here, its
paths are left for the caller to remove.
"""

from __future__ import annotations

import logging
import os
import time
import typing
from collections.abc import Callable, Iterator, Sequence

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import multipathd as multipathd_mod
from iscsi_transports.attach import sysfs

if typing.TYPE_CHECKING:
    from iscsi_transports.privileged import client

__all__ = ["Multipath", "MultipathMap", "Teardown", "multipath_opts",
           "node_settings"]

LOG = logging.getLogger(__name__)

multipath_opts = [
    cfg.FloatOpt(
        "multipath_map_wait", default=30.0, min=1,
        help="Seconds to wait, in all, for multipathd to build the map of "
             "a newly attached multipath volume. Polls are short at first "
             "(multipathd usually has the map within a second of the "
             "paths' uevents) and once a second later."),
    cfg.FloatOpt(
        "multipath_path_wait", default=5.0, min=0,
        help="Once the map exists, seconds to wait for paths that are not "
             "in it yet (and for udev's dm-uuid-mpath link) before the map "
             "is returned as it is. A volume is usable with one path; late "
             "paths join the map when multipathd sees them."),
    cfg.StrOpt(
        "multipath_wwids_file", default="/etc/multipath/wwids",
        help="multipath-tools' wwids file (multipath.conf 'wwids_file'). "
             "A new volume whose WWID is not listed there is told to "
             "multipathd at once ('multipath -a', 'multipathd add path'): "
             "with find_multipaths strict (Debian's default) or yes, "
             "multipathd would not build its map alone. A "
             "listed WWID is left to multipathd for a second first."),
    cfg.IntOpt(
        "multipath_flush_attempts", default=3, min=1,
        help="How many times a detach runs 'multipath -f' on a map that "
             "is still there (a map briefly held open, by udev's blkid for "
             "instance, refuses the flush)."),
    cfg.FloatOpt(
        "multipath_flush_interval", default=2.0, min=0,
        help="Seconds between two flush attempts of one map."),
    cfg.IntOpt(
        "multipath_replacement_timeout", default=15, min=1,
        help="node.session.timeo.replacement_timeout of the node records "
             "of multipath volumes: seconds iSCSI waits for a lost session "
             "to come back before failing its I/O, which is when "
             "dm-multipath fails the path and resends the I/O on another. "
             "open-iscsi's default of 120 stalls I/O on a cut path for two "
             "minutes although other paths are up. Not lower than the time "
             "a portal takes to fail over on the array side, or every "
             "short blip fails a path."),
    cfg.IntOpt(
        "multipath_noop_out_interval", default=5, min=0,
        help="node.conn[0].timeo.noop_out_interval of multipath node "
             "records: seconds between the NOP-Out pings that find a dead "
             "connection while no I/O runs. A cut path is found within "
             "interval + timeout seconds, then fails after "
             "multipath_replacement_timeout more."),
    cfg.IntOpt(
        "multipath_noop_out_timeout", default=5, min=0,
        help="node.conn[0].timeo.noop_out_timeout of multipath node "
             "records: seconds a NOP-Out ping may go unanswered before the "
             "connection is declared dead and recovery starts."),
]

#: The first walks of every dm device of the host, then one a second.
_EARLY_POLLS = (0.02, 0.05, 0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.3, 0.5)
_LATE_POLL = 1.0
#: Between those, the holders of the map's own paths (one directory
#: each) are read at pauses from 10 ms doubling up to 50 ms: every pause
#: past the map's (and its link's) arrival is latency the attach pays.
_FIRST_PATH_POLL = 0.01
_MAX_PATH_POLL = 0.05
#: Seconds after which multipathd is told about a WWID its wwids file
#: lists, and about paths missing from a map.  It normally builds the map
#: within a second of the paths' uevents; past that something (a lost
#: uevent, ``find_multipaths yes`` with one path) keeps it from acting
#: alone.  A WWID the file does not list is told at once.
NUDGE_AFTER = 1.0


def node_settings(conf: cfg.ConfigOpts) -> dict[str, str]:
    """The node-record settings of a
    multipath volume's paths, so that a cut path fails over in seconds."""
    config.register(conf, multipath_opts)
    options = conf.iscsi_transports
    return {
        "node.session.timeo.replacement_timeout":
            str(options.multipath_replacement_timeout),
        "node.conn[0].timeo.noop_out_interval":
            str(options.multipath_noop_out_interval),
        "node.conn[0].timeo.noop_out_timeout":
            str(options.multipath_noop_out_timeout),
    }


class MultipathMap(typing.NamedTuple):
    """A multipathd map as the kernel shows it now."""

    wwid: str
    #: Kernel name, ``dm-3``.
    name: str
    #: device-mapper name (``mpatha`` with user_friendly_names, else the
    #: WWID): what ``multipath -f`` and ``multipath -ll`` take.
    dm_name: str | None
    #: ``/dev/dm-3``.
    device: str
    #: ``/dev/disk/by-id/dm-uuid-mpath-<wwid>`` once udev made it.
    link: str | None
    #: Its paths (``sdb``, ``sdc``), sorted.
    paths: tuple[str, ...]

    @property
    def path(self) -> str:
        """The path to hand out: the stable link, else the device."""
        return self.link or self.device


class Teardown(typing.NamedTuple):
    """What a flush did: ``left`` is the map if it is still there."""

    wwid: str
    #: The disks the map held: the caller removes them next.
    paths: tuple[str, ...]
    attempts: int
    left: MultipathMap | None
    reason: str | None

    @property
    def removed(self) -> bool:
        return self.left is None


class Multipath:
    """Waits for, inspects and flushes multipathd's maps."""

    def __init__(self, conf: cfg.ConfigOpts, view: sysfs.Sysfs,
                 executor: client.Executor, proc_root: str = "/proc",
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        config.register(conf, multipath_opts)
        self.options = conf.iscsi_transports
        self.view = view
        self.daemon = multipathd_mod.Multipathd(conf, executor, proc_root)
        self._clock = clock
        self._sleep = sleep

    # -- reading ---------------------------------------------------------

    def daemon_running(self) -> bool:
        """Whether multipathd's socket listens (no process run)."""
        return self.daemon.listening()

    def require_daemon(self) -> None:
        """MultipathdNotRunning unless multipathd's socket listens."""
        if not self.daemon_running():
            raise exception.MultipathdNotRunning(
                reason="nothing listens on %s" % multipathd_mod.SOCKET)

    def find(self, wwid: str,
             paths: Sequence[str] = ()) -> MultipathMap | None:
        """The map of ``wwid`` (a disk's ``scsi_wwn``), or None; with
        ``paths``, only a map holding one of those disks (read from their
        ``holders/``, not from every dm device)."""
        holder = self.view.multipath_map(wwid, paths)
        return self._map(holder, wwid) if holder else None

    def _map(self, holder: sysfs.Holder, wwid: str) -> MultipathMap:
        device = os.path.join(self.view.dev_root, holder.name)
        wanted = os.path.join(self.view.dev_root, "disk", "by-id",
                              "dm-uuid-mpath-" + wwid)
        # One link resolved, not a walk of /dev/disk: this runs every poll.
        link = wanted if os.path.realpath(wanted) == os.path.realpath(
            device) else None
        return MultipathMap(wwid, holder.name, holder.dm_name, device, link,
                            tuple(sorted(holder.slaves)))

    def holder_of(self, disk: str) -> MultipathMap | None:
        """The live multipath map that holds disk ``disk`` (``sdb``)."""
        found = self.view.disk(disk)
        for holder in found.holders if found else ():
            wwid = holder.multipath_wwid
            if wwid:
                return self._map(holder, wwid)
        return None

    def maps_holding(self, session: sysfs.Session | int
                     ) -> list[MultipathMap]:
        """Live maps that hold a disk of ``session``: while this is not
        empty the session must stay logged in, whatever else says so."""
        found: dict[str, MultipathMap] = {}
        for disk in self.view.disks(session):
            for holder in disk.holders:
                wwid = holder.multipath_wwid
                if wwid and holder.name not in found:
                    found[holder.name] = self._map(holder, wwid)
        return [found[name] for name in sorted(found)]

    # -- attach ----------------------------------------------------------

    def wait_for_map(self, wwid: str,
                     paths: Sequence[str]) -> MultipathMap:
        """The map multipathd builds for ``wwid`` from disks ``paths``.

        Returns as soon as the map holds every path and udev's dm-uuid
        link exists; once the map holds at least one path, waits at most
        ``multipath_path_wait`` more for the rest.  multipathd is told
        once, ``multipath -a <wwid>`` while there is no map and
        ``multipathd add path`` for each path not in it: at once when
        there is no map and the wwids file does not list the WWID
        (``find_multipaths strict``, Debian's default, would never build
        it), else after :data:`NUDGE_AFTER` seconds without it.  Raises MultipathdNotRunning
        (checked first) or MultipathMapNotFound when the total
        ``multipath_map_wait`` ends without a map.
        """
        self.require_daemon()
        start = self._clock()
        deadline = start + self.options.multipath_map_wait
        settle_by: float | None = None
        told: set[str] = set()
        nudge_at = start + NUDGE_AFTER
        listed: bool | None = None
        polls = _polls()
        next_walk = start
        pause = _FIRST_PATH_POLL
        while True:
            found = self.find(wwid, paths) if paths else None
            now = self._clock()
            if found is None and now >= next_walk:
                # A map holding none of the paths yet (or no paths given):
                # every dm device, on the slower schedule.
                found = self.find(wwid)
                next_walk = now + next(polls)
            if found is None and listed is None:
                listed = self.listed(wwid)
                if not listed:
                    nudge_at = now  # find_multipaths strict would not act
            if found is not None and found.paths:
                missing = [name for name in paths
                           if name not in found.paths]
                if settle_by is None:
                    LOG.debug("Multipath map %s (%s) seen after %.2f s with "
                              "paths %s, link %s", found.name, wwid,
                              now - start, ", ".join(found.paths),
                              found.link or "not yet")
                if not missing and found.link:
                    LOG.debug("Multipath map %s (%s) with paths %s after "
                              "%.2f s (multipathd told: %s)", found.name,
                              wwid, ", ".join(found.paths), now - start,
                              ", ".join(sorted(told)) or "nothing")
                    return found
                if settle_by is None:
                    settle_by = min(deadline,
                                    now + self.options.multipath_path_wait)
                if now >= settle_by:
                    LOG.warning("Multipath map %s (%s) returned with paths "
                                "%s; not there yet: %s", found.name, wwid,
                                ", ".join(found.paths), ", ".join(
                                    missing or ["udev's dm-uuid link"]))
                    return found
            elif now >= deadline:
                raise exception.MultipathMapNotFound(
                    wwid=wwid, seconds=self.options.multipath_map_wait,
                    paths=", ".join(paths) or "none")
            if now >= nudge_at and self._nudge(
                    wwid, found, paths, told, now < start + NUDGE_AFTER):
                polls = _polls()  # multipathd acts within milliseconds
                next_walk = now + next(polls)
                pause = _FIRST_PATH_POLL
            delay = pause if paths else next_walk - now
            self._sleep(max(0.0, min(delay, (settle_by or deadline) - now)))
            pause = min(pause * 2, _MAX_PATH_POLL)

    def listed(self, wwid: str) -> bool:
        """Whether multipath-tools' wwids file lists ``wwid``: then
        multipathd builds its map alone whatever ``find_multipaths`` says.
        An unreadable file counts as not listing it (telling multipathd
        needlessly costs two processes; not telling it, the map)."""
        try:
            with open(self.options.multipath_wwids_file,
                      encoding="utf-8", errors="replace") as handle:
                return any(line.strip() == "/%s/" % wwid for line in handle)
        except OSError:
            return False

    def _nudge(self, wwid: str, found: MultipathMap | None,
               paths: Sequence[str], told: set[str], early: bool) -> bool:
        """Tell multipathd what it has not acted on, once per item; a
        refusal is logged, the wait goes on (the map may still come).
        Whether anything was told.

        While there is no map, one path per poll: the map multipathd
        builds for it adopts the LUN's other paths it already knows
        (``multipath -a`` + one ``add path``: 2 processes, whatever the
        number of paths).  Paths still missing from a map are told next.
        ``early`` (before :data:`NUDGE_AFTER`), only paths udev has
        linked are told: multipathd takes a path's WWID from udev's
        database and refuses (``failed to get udev uid``) one udev has not
        processed yet -- whose uevent, once the WWID is in the wwids
        file, makes multipathd add it alone anyway.
        """
        steps: list[tuple[Callable[[str], None], str]] = []
        if found is None and wwid not in told:
            steps.append((self.daemon.add_wwid, wwid))
        missing = [name for name in paths if name not in told and (
            found is None or name not in found.paths) and (
            not early or self.view.stable_links(name))]
        steps += [(self.daemon.add_path, name)
                  for name in (missing[:1] if found is None else missing)]
        steps = [(step, item) for step, item in steps if item not in told]
        for step, item in steps:
            told.add(item)
            try:
                step(item)
            except exception.MultipathCommandFailed as error:
                LOG.warning("Telling multipathd about %s failed: %s",
                            item, error)
        return bool(steps)

    # -- extend ----------------------------------------------------------

    def resize(self, wwid: str) -> int | None:
        """Grow the map of ``wwid`` to its rescanned paths' size; the map's
        size in bytes, None when there is no map.  Without it the map (the
        device the guest uses) keeps its old size however the paths
        grew."""
        found = self.find(wwid)
        if found is None:
            return None
        self.daemon.resize(found.dm_name or wwid)
        return self.view.block_size(found.name)

    # -- detach ----------------------------------------------------------

    def flush(self, wwid: str, force: bool = False) -> Teardown:
        """Flush and remove the map of ``wwid``, leaving its paths.

        ``multipath -f`` refuses a map that is open (a guest, a mount,
        LVM on it), and this never forces it: up to
        ``multipath_flush_attempts`` tries, ``multipath_flush_interval``
        apart, each checked in sysfs.  A map that stays raises
        MultipathFlushFailed, or with ``force`` is returned in
        ``Teardown.left`` for the caller to report (its paths must then
        stay logged in).  No map: nothing to do, ``attempts`` 0.
        """
        found = self.find(wwid)
        if found is None:
            return Teardown(wwid, (), 0, None, None)
        reason = None
        attempts = self.options.multipath_flush_attempts
        for attempt in range(1, attempts + 1):
            try:
                self.daemon.flush(found.dm_name or wwid)
            except (exception.MultipathCommandFailed,
                    exception.PrivilegedError) as error:
                reason = error.message
            current = self.find(wwid)
            if current is None:
                LOG.info("Flushed multipath map %s (%s), paths %s",
                         found.name, wwid, ", ".join(found.paths))
                return Teardown(wwid, found.paths, attempt, None, None)
            found = current
            reason = reason or "the map is still there"
            if attempt < attempts:
                self._sleep(self.options.multipath_flush_interval)
        if not force:
            raise exception.MultipathFlushFailed(
                name=found.dm_name or found.name, wwid=wwid,
                attempts=attempts, reason=reason,
                paths=", ".join(found.paths) or "no path")
        LOG.warning("Forced detach leaves multipath map %s (%s) with paths "
                    "%s: %s", found.name, wwid, ", ".join(found.paths),
                    reason)
        return Teardown(wwid, found.paths, attempts, found, reason)


def _polls() -> Iterator[float]:
    yield from _EARLY_POLLS
    while True:
        yield _LATE_POLL
