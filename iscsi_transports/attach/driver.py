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

"""ISCSIDriver: attach and detach iSCSI volumes through the active transport.

For each attach the driver asks the :class:`~iscsi_transports.selection.
manager.TransportManager` which transport and iface to use, makes sure the
iface record exists, and passes ``-I <iface>`` to every node, discovery,
update, login, logout and delete command, so it never touches sessions or
records of other ifaces bound to the same target.

The kernel is the source of truth (:mod:`iscsi_transports.attach.sysfs`):
under the target's lock the driver reads the sessions from sysfs, reuses
one only when target, portal *and* iface match, else writes a node record
(``-o new``, then manual LUN scans, manual startup, our login window and
CHAP written into it by the root daemon) and logs in; then it scans
exactly the volume's LUN
and returns the udev link of the disk at that ``H:C:T:L``.  A detach
removes only this volume's disks and logs out only a session no other
disk (and no waiting attach) uses.  A failed attach undoes what it made,
and only then, for a transport-class error (see
:mod:`iscsi_transports.attach.fallback`), retries once over software TCP
and says why.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from oslo_config import cfg

from iscsi_transports import base
from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports.attach import connection
from iscsi_transports.attach import disks
from iscsi_transports.attach import fallback
from iscsi_transports.attach import inflight
from iscsi_transports.attach import ledger
from iscsi_transports.attach import multipath as multipath_mod
from iscsi_transports.attach import sysfs
from iscsi_transports.iscsiadm import errors as iscsiadm_errors
from iscsi_transports.iscsiadm import ifaces
from iscsi_transports.iscsiadm import parse
from iscsi_transports.iscsiadm import runner
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import rules

if typing.TYPE_CHECKING:
    from iscsi_transports.privileged import client

__all__ = ["DiscoveryResult", "ISCSIDriver", "Manager", "driver_opts"]

LOG = logging.getLogger(__name__)

#: The iser transport and its built-in iface.
ISER = "iser"
#: node.startup of our records, and of a record before we log it out.
STARTUP = "manual"
#: Seconds a login's iscsiadm may run beyond our records' login window.
LOGIN_MARGIN = 30
INITIATOR_FILE = "/etc/iscsi/initiatorname.iscsi"

driver_opts = [
    cfg.StrOpt("device_dir", default="/dev/disk/by-path",
               help="Directory of udev's by-path links, reported to "
                    "os-brick as the search path. The driver itself finds "
                    "disks through sysfs by their SCSI address."),
    cfg.IntOpt("device_scan_attempts", default=5, min=1,
               help="How many times an attach rescans for the LUN after "
                    "its first scan while it waits for the disk, with "
                    "os-brick's growing back-off: rescans come 4, 9, 16, "
                    "... x device_scan_interval seconds apart and the wait "
                    "ends one step after the last (5 attempts of 1 s: 139 "
                    "s in all). sysfs is polled every 10 ms at first, "
                    "doubling up to 50 ms until the first rescan. nova "
                    "passes its num_volume_device_scan_tries instead."),
    cfg.FloatOpt("device_scan_interval", default=1.0, min=0,
                 help="The unit of the LUN rescan back-off, in seconds "
                      "(see device_scan_attempts); also, times "
                      "device_scan_attempts, how long udev's link to a "
                      "disk that has appeared is waited for."),
    cfg.BoolOpt("remove_devices_on_disconnect", default=True,
                help="Flush and delete the SCSI disk of each path before "
                     "logging out of it on detach."),
    cfg.IntOpt("node_login_timeout", default=15, min=1,
               help="Seconds per login attempt set on the node records "
                    "this library creates (node.conn[0].timeo."
                    "login_timeout)."),
    cfg.IntOpt("node_login_retries", default=4, min=1,
               help="Login attempts set on the node records this library "
                    "creates (node.session.initial_login_retry_max). The "
                    "login window is node_login_timeout x "
                    "node_login_retries; the login's iscsiadm may run 30 "
                    "seconds longer (and at least iscsiadm_timeout), so "
                    "iscsid's answer comes back instead of a kill."),
]

_Result = TypeVar("_Result")


class DiscoveryResult(typing.TypedDict):
    """What :meth:`ISCSIDriver.discover` (``iscsi-transports discover``)
    returns: the targets found and how they were reached."""

    targets: list[dict[str, object]]
    transport: str
    iface: str
    fallback: bool
    reason: str
    requested: str


class Manager(Protocol):
    """What the driver needs from a transport manager.

    :class:`~iscsi_transports.selection.manager.TransportManager` is the
    real one; a test (or an integration) may give any object with these
    methods.
    """

    def active(self, portal: str | None = None) -> rules.Selection: ...

    def select(self, requested: str) -> rules.Selection: ...

    def fallback_selection(self, reason: str,
                           requested: str | None = None
                           ) -> rules.Selection: ...

    def detect(self, name: str) -> base.Detection: ...

    @property
    def transports(self) -> dict[str, base.Transport]: ...


class ISCSIDriver:
    """Connects and disconnects iSCSI volumes (nova/cinder properties).

    ``executor`` is the one seam for root operations (iscsiadm, LUN
    scans, rescans, flushes, deletes, multipath): the library's
    :class:`~iscsi_transports.privileged.client.Executor` unless given.
    ``sleep``, ``clock``, ``dev_root`` and ``initiator_file`` inject the
    rest of the host.
    """

    def __init__(self, conf: cfg.ConfigOpts, manager: Manager | None = None,
                 sleep: Callable[[float], None] = time.sleep, *,
                 executor: client.Executor | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 dev_root: str = "/dev",
                 initiator_file: str = INITIATOR_FILE,
                 maps: multipath_mod.Multipath | None = None) -> None:
        config.register(conf, driver_opts)
        manager_mod.register_opts(conf)
        self.conf = conf
        self._manager = manager
        self._manager_lock = threading.Lock()
        self.iscsiadm = runner.Iscsiadm(conf, executor=executor)
        self.view = sysfs.Sysfs(self.options.sysfs_root, dev_root)
        self._sleep, self._clock = sleep, clock
        self._inflight = inflight.Registry()
        self.initiator_file = initiator_file
        #: Ifaces already ensured by this driver object: later attaches
        #: skip the ``-o show`` (the iface lock still guards changes).
        self._ensured: set[str] = set()
        self._maps = maps

    @property
    def options(self) -> Any:
        return self.conf.iscsi_transports

    @property
    def writer(self) -> client.Executor:
        """The root operations of the kernel writes (LUN scans, rescans,
        flushes, deletes): the runner's.  Resolved on first use: the daemon
        starts only then."""
        return self.iscsiadm.privileged

    @property
    def _disks(self) -> disks.Waiter:
        return disks.Waiter(self.view, self.writer, self._sleep, self._clock)

    @property
    def maps(self) -> multipath_mod.Multipath:
        """dm-multipath maps: the given one, else built on first use with
        the runner's root executor, so a volume without a map never loads
        it."""
        if self._maps is None:
            self._maps = multipath_mod.Multipath(
                self.conf, self.view, self.iscsiadm.privileged,
                clock=self._clock, sleep=self._sleep)
        return self._maps

    @property
    def ifaces(self) -> ifaces.IfaceRecords:
        """The iface records on disk, through this driver's iscsiadm."""
        return ifaces.IfaceRecords(self.iscsiadm)

    @property
    def manager(self) -> Manager:
        """The transport manager, built on first use and only once, even
        when the first attaches arrive together (nova attaches in threads)."""
        if self._manager is None:
            with self._manager_lock:
                if self._manager is None:
                    self._manager = manager_mod.TransportManager(self.conf)
        return self._manager

    # -- selection ---------------------------------------------------------

    def select(self, volume_type: str = "iscsi", portal: str | None = None,
               transport: str | None = None) -> rules.Selection:
        """The selection for a volume.

        An ``iser`` volume uses iSER (the volume asked for it, whatever
        ``enabled_transports`` says); if it cannot, the driver falls back
        as ``fallback_to_tcp`` says, with the reason.  ``transport`` is an
        explicit choice for this call (a plugin or iface name); None (or
        ``auto``) is the configured one, where ``portal`` lets ``auto``
        choose the port the route to the portal goes through.
        """
        if volume_type == "iser":
            return self._iser_selection()
        if transport is None or transport == rules.AUTO:
            return self.manager.active(portal)
        try:
            return self.manager.select(transport)
        except exception.TransportUnusable as error:
            if not self.options.fallback_to_tcp:
                raise
            return self.manager.fallback_selection(error.reason, transport)

    def _iser_selection(self) -> rules.Selection:
        plugin = self.manager.transports.get(ISER)
        if plugin is None:
            reason = "the volume asks for iSER, but no iser plugin is loaded"
            if not self.options.fallback_to_tcp:
                raise exception.TransportUnusable(name=ISER, reason=reason)
            return self.manager.fallback_selection(reason, ISER)
        return rules.Selection(
            transport=plugin, iface=plugin.generate_iface(), fallback=False,
            reason="the volume asks for iSER (driver_volume_type iser)",
            requested=ISER)

    def _may_fall_back(self, selection: rules.Selection) -> bool:
        return bool(self.options.fallback_to_tcp) and \
            selection.iface.name != rules.DEFAULT_IFACE

    def prepare_iface(self, selection: rules.Selection) -> None:
        """Validate and ensure the iface record; IfaceUnusable if not."""
        record = selection.iface
        if record.builtin or record.name in self._ensured:
            return
        try:
            detection = self.manager.detect(selection.transport.name)
            problems = selection.transport.validate_iface(record, detection)
            if problems:
                raise exception.InvalidIfaceRecord(record.name, problems)
            self.ifaces.ensure(record)
        except fallback.HOST_ERRORS:
            raise
        except (exception.IscsiadmError, exception.IfaceConflict,
                exception.InvalidInput) as error:
            raise fallback.IfaceUnusable(name=record.name,
                                         reason=str(error)) from error
        self._ensured.add(record.name)

    def with_fallback(self, selection: rules.Selection,
                      action: Callable[[rules.Selection], _Result]
                      ) -> _Result:
        """Run ``action(selection)``; once more over TCP if it may help.

        ``action`` has undone its own leftovers before it raises, so the
        TCP attempt starts on a clean host.
        """
        try:
            return action(selection)
        except exception.IscsiTransportsError as error:
            if not (fallback.is_transport_error(error) and
                    self._may_fall_back(selection)):
                raise
            reason = ("%s (iface %s) failed: %s" % (
                selection.transport.name, selection.iface.name, error))
            LOG.warning("Falling back to software iSCSI over TCP: %s", reason)
            return action(self.manager.fallback_selection(
                reason, selection.requested))

    # -- connect ---------------------------------------------------------

    def connect_volume(self, connection_properties: Mapping[str, Any],
                       volume_type: str = "iscsi", *,
                       transport: str | None = None,
                       multipath: bool = False,
                       enforce_multipath: bool = False,
                       scan_attempts: int | None = None
                       ) -> connection.DeviceInfo:
        """Attach the volume; the device info.

        The result has ``path``, ``scsi_wwn``, ``paths``, ``targets`` (one
        entry per path with the transport and iface it used), ``transport``,
        ``iface``, ``fallback``, ``reason`` and ``requested``.

        ``multipath`` off (nova's ``volume_use_multipath = False``): the
        portals are tried in the order given and the first that works is
        the one session and disk; ``path`` is that disk's udev link.  On:
        every portal is logged in to at once, and once at least one path
        is up ``path`` is the dm-multipath map multipathd builds for the
        LUN's WWID, with ``multipath_id`` and ``map``.  Given one portal
        (no ``target_portals``), the other portals discovery lists for
        the target are paths too.  Without multipathd a multipath attach
        is a single-path one, or with ``enforce_multipath`` a
        MultipathdNotRunning before any login; when multipathd builds no
        map, the first path's disk is returned with a warning, or with
        ``enforce_multipath`` MultipathMapNotFound and every path undone.
        ``scan_attempts`` replaces ``device_scan_attempts`` for this call.
        """
        # Validated once, before anything runs.
        props = connection.ConnectionProperties.parse(connection_properties)
        budget = disks.Budget(scan_attempts or
                              self.options.device_scan_attempts,
                              self.options.device_scan_interval)
        if multipath and not self.maps.daemon_running():
            if enforce_multipath:
                self.maps.require_daemon()
            LOG.warning("multipathd is not running: attaching %s through "
                        "one path", props.paths[0].portal)
            multipath = False
        LOG.debug("Attaching %r (multipath %s)", props, multipath)
        if multipath:
            if not connection_properties.get("target_portals") and \
                    props.paths[0].iqn:
                props = self._target_portals(props, volume_type, transport)
            info = self._connect_multipath(props, volume_type, transport,
                                           budget, enforce_multipath)
        else:
            info = self._connect_first(props, volume_type, transport, budget)
        ledger.record(self.conf, info)
        return info

    def _connect_first(self, props: connection.ConnectionProperties,
                       volume_type: str, transport: str | None,
                       budget: disks.Budget) -> connection.DeviceInfo:
        """The first portal that works, in the order given: one session,
        one disk (N disks of one LUN would be N duplicate LVM PVs)."""
        errors: list[exception.IscsiTransportsError] = []
        for path in props.paths:
            try:
                return self.with_fallback(
                    self.select(volume_type, path.portal, transport),
                    functools.partial(self._connect, paths=[path],
                                      props=props, budget=budget,
                                      plan=_Plan()))
            except exception.IscsiTransportsError as error:
                if len(props.paths) == 1:
                    raise
                LOG.warning("Portal %s failed, trying the next: %s",
                            path.portal, error)
                errors.append(error)
        raise errors[0]

    def _connect_multipath(self, props: connection.ConnectionProperties,
                           volume_type: str, transport: str | None,
                           budget: disks.Budget, enforce: bool = False
                           ) -> connection.DeviceInfo:
        """Every portal at once, then the map of the LUN.

        Each path runs in a thread of its own under its target's lock, so
        a dead portal costs one login window, not one per portal.  The
        volume is attached when one path is.  When multipathd builds no
        map (a blacklist, ``find_multipaths`` rules) the first path's
        disk is the volume, with a warning, as os-brick does, unless
        multipath is enforced; any other failure after the logins (paths
        of different LUNs) undoes every path.
        """
        made: list[_Made] = []
        plan = _Plan(multipath_mod.node_settings(self.conf), True, made)
        jobs = [functools.partial(
            self.with_fallback, self.select(volume_type, path.portal,
                                            transport),
            functools.partial(self._connect, paths=[path], props=props,
                              budget=budget, plan=plan))
            for path in props.paths]
        try:
            results, errors = _in_parallel(jobs)
        except BaseException:
            self._undo_all(made, [])
            raise
        for index, error in errors:
            LOG.warning("Path %s of a multipath volume failed: %s",
                        props.paths[index].portal, error)
        if not results:
            raise errors[0][1]
        info = connection.merge_device_info(results)
        try:
            found = self.maps.wait_for_map(
                self._volume_wwid(info), [str(t.get("disk"))
                                          for t in info["targets"]])
        except exception.MultipathMapNotFound as error:
            if enforce:
                self._undo_all(made, [])
                raise
            return self._first_path_only(info, made, error)
        except BaseException:
            self._undo_all(made, [str(t.get("scsi_wwn"))
                                  for t in info["targets"]
                                  if t.get("scsi_wwn")])
            raise
        LOG.info("Multipath volume %s: map %s with paths %s", found.wwid,
                 found.name, ", ".join(found.paths))
        info["path"], info["scsi_wwn"] = found.path, found.wwid
        info["multipath_id"], info["map"] = found.wwid, found.name
        return info

    def _target_portals(self, props: connection.ConnectionProperties,
                        volume_type: str, transport: str | None
                        ) -> connection.ConnectionProperties:
        """A multipath volume given one portal (Ceph iSCSI, LVM with a
        single-path connector, ...): every portal SendTargets discovery
        at it lists for the target, as os-brick does (non-persistent: no
        record is written).  A failed discovery leaves the one portal."""
        (path,) = props.paths

        def discover(selection: rules.Selection) -> list[parse.Target]:
            self.prepare_iface(selection)
            return self.iscsiadm.discover(path.portal, _iface_args(selection),
                                          dict(props.discovery_auth))

        try:
            found = self.with_fallback(
                self.select(volume_type, path.portal, transport), discover)
        except exception.IscsiTransportsError as error:
            LOG.warning("Discovery at %s failed, attaching through that "
                        "portal alone: %s", path.portal, error)
            return props
        paths = connection.with_portals(path, [
            str(target.portal) for target in found
            if target.name == path.iqn])
        LOG.info("Discovery at %s lists %s for %s", path.portal,
                 ", ".join(p.portal for p in paths), path.iqn)
        return props._replace(paths=tuple(paths))

    @staticmethod
    def _volume_wwid(info: connection.DeviceInfo) -> str:
        """The one WWID every path reports; VolumeAttachFailed if the
        paths disagree (not one LUN) or the kernel shows none."""
        wwids = {t.get("scsi_wwn") for t in info["targets"]}
        if len(wwids) != 1 or None in wwids:
            raise exception.VolumeAttachFailed(
                target=", ".join(str(t["portal"]) for t in info["targets"]),
                reason="the paths report WWIDs %s, not one LUN's: no "
                       "multipath map" % ", ".join(sorted(map(str, wwids))))
        return str(wwids.pop())

    def _first_path_only(self, info: connection.DeviceInfo,
                         made: list[_Made],
                         error: exception.MultipathMapNotFound
                         ) -> connection.DeviceInfo:
        """The device info of the first path alone, its disk the volume;
        the other paths this attach made are undone (two disks of one
        LUN would be duplicate LVM physical volumes on the host)."""
        first = info["targets"][0]
        LOG.warning("%s: using %s (%s at %s) alone, without multipath; "
                    "check multipathd's blacklist and find_multipaths",
                    error, first["device"], first["iqn"], first["portal"])
        others = [item for item in made
                  if (item.portal, item.iqn) != (first["portal"],
                                                 first["iqn"])]
        self._undo_all(others, [])
        return {**info, "path": first["device"],
                "scsi_wwn": first["scsi_wwn"], "paths": [first["device"]],
                "targets": [first]}

    def _undo_all(self, made: list[_Made], wwids: list[str]) -> None:
        """Undo a multipath attach that failed after its logins: the maps
        multipathd made of its paths (never forced), then each path under
        its target's lock."""
        for wwid in dict.fromkeys(wwids):
            try:
                self.maps.flush(wwid)
            except exception.IscsiTransportsError as error:
                LOG.error("Could not flush the map of the failed attach of "
                          "%s: %s", wwid, error)
        for item in made:
            with self.iscsiadm.external_lock(item.path.lock_name):
                self._undo(item)

    def _connect(self, selection: rules.Selection,
                 paths: list[connection.VolumePath],
                 props: connection.ConnectionProperties,
                 budget: disks.Budget, plan: _Plan | None = None
                 ) -> connection.DeviceInfo:
        plan = plan or _Plan()
        self.prepare_iface(selection)
        attached: list[connection.AttachedPath] = []
        errors: list[exception.IscsiTransportsError] = []
        for path in paths:
            found, failed = self._attach_path(selection, path, props, budget,
                                              plan)
            attached += found
            errors += failed
        if not attached:
            if errors:
                raise errors[0]
            raise exception.VolumeAttachFailed(
                target=", ".join(path.portal for path in paths),
                reason="discovery through iface %s found no target at the "
                       "portal" % selection.iface.name)
        return connection.device_info(selection, attached)

    def _attach_path(self, selection: rules.Selection,
                     path: connection.VolumePath,
                     props: connection.ConnectionProperties,
                     budget: disks.Budget, plan: _Plan
                     ) -> tuple[list[connection.AttachedPath],
                                list[exception.IscsiTransportsError]]:
        """Attach one path (each target at the portal when it has no
        IQN; only the first that works for a single-path volume) under
        its target's lock; a failed target is undone."""
        key = path.lock_name
        attached, errors = [], []
        with self._inflight.attaching(key), self.iscsiadm.external_lock(key):
            adopted = self._inflight.take_over(key)
            targets = [path] if path.iqn else self._discover(
                path, _iface_args(selection), props)
            for target in targets:
                try:
                    attached.append(self._attach_target(
                        selection, target, props, budget, adopted, plan))
                except exception.IscsiTransportsError as error:
                    LOG.warning("Path %s %s failed: %s", target.portal,
                                target.iqn, error)
                    errors.append(error)
                    continue
                if not plan.multipath:
                    break
        return attached, errors

    def _attach_target(self, selection: rules.Selection,
                       target: connection.VolumePath,
                       props: connection.ConnectionProperties,
                       budget: disks.Budget, adopted: bool, plan: _Plan
                       ) -> connection.AttachedPath:
        """Log in if needed, scan the LUN, wait for its disk; on failure
        undo what this attach made, then raise."""
        made = _Made(target, selection.iface.name, _iface_args(selection))
        lun = props.kernel_lun(target)
        start = self._clock()
        try:
            # One read of the target's sessions serves the reuse check and
            # the portal group of a new record (sysfs is read per session).
            known = self.view.sessions(made.iqn)
            sessions = sysfs.matching(known, target.portal, made.iface)
            if sessions:
                made.session = adopted
            else:
                sessions = self._login(made, props, plan.settings, known)
            logged_in = self._clock()
            found = self._disks.wait(sessions[0], lun, budget)
            disk_at = self._clock()
            if found.scanned:
                made.disk = found.disk
            if plan.multipath:
                # The caller gets the map (and its dm-uuid link): a path
                # only has to be a disk for multipathd, so udev's links
                # to it are not waited for (under load, a second or more).
                device = os.path.join(self.view.dev_root,
                                      found.disk.name or "")
            else:
                device = self._disks.stable_path(found, lun, budget)
        except BaseException:
            self._undo(made)
            raise
        LOG.debug("Path %s %s LUN %d: session after %.2f s, disk %s after "
                  "%.2f s, %s after %.2f s", target.portal, made.iqn, lun,
                  logged_in - start, found.disk.name, disk_at - start,
                  device, self._clock() - start)
        if plan.made is not None:
            plan.made.append(made)
        return connection.AttachedPath(target, str(found.disk.hctl), device,
                                       found.disk.scsi_wwn, found.disk.name)

    def _login(self, made: _Made, props: connection.ConnectionProperties,
               extra: Mapping[str, str],
               known: Sequence[sysfs.Session]) -> list[sysfs.Session]:
        """``-o new``, every setting (``extra``: the multipath timeouts)
        written into the record by the root daemon, ``--login``: two
        processes, CHAP or not."""
        record_portal = self._record_portal(made, known)
        made.record = True
        self.iscsiadm.node_new(made.iqn, record_portal, made.iface_args)
        # The record -o new wrote, by its portal group when it has one:
        # the bare portal may match this iface's records of several.
        self.iscsiadm.node_update(made.iqn, record_portal, made.iface_args,
                                  {**self.node_settings(), **extra,
                                   **props.session_auth})
        made.session = True
        try:
            made.session = self.iscsiadm.login(made.iqn, made.portal,
                                               made.iface_args,
                                               timeout=self.login_timeout())
        except exception.TargetError as error:
            refined = iscsiadm_errors.explain_refusal(error,
                                                      props.session_auth)
            if refined is error:
                raise
            raise refined from error
        sessions = self.view.matching_sessions(made.iqn, made.portal,
                                               made.iface)
        if not sessions:
            raise exception.VolumeAttachFailed(
                target=made.iqn, reason="iscsiadm logged in at %s through "
                "iface %s, but the kernel shows no such session"
                % (made.portal, made.iface))
        return sessions

    def _record_portal(self, made: _Made,
                       known: Sequence[sysfs.Session]) -> str:
        """The portal ``-o new`` gets: with the target portal group when
        one is known (a per-iface directory of the target's records, else
        a session to it among ``known``, the target's sessions read under
        its lock), so that open-iscsi writes the per-iface layout
        and keeps other ifaces' records; NodeRecordConflict when another
        iface's single-file record would be replaced (see
        :mod:`iscsi_transports.iscsiadm.nodes`)."""
        layout = self.iscsiadm.node_layout(made.iqn, made.portal)
        if layout.single_file_iface not in (None, made.iface):
            raise exception.NodeRecordConflict(
                target=made.iqn, portal=made.portal, iface=made.iface,
                path=layout.single_file, owner=layout.single_file_iface)
        tpgt = next(iter(layout.tpgts), None)
        if tpgt is None:
            portal = sysfs.parse_portal(made.portal)
            tpgt = next((session.tpgt for session in known
                         if session.portal == portal and
                         session.tpgt is not None), None)
        return made.portal if tpgt is None else "%s,%d" % (made.portal, tpgt)

    def _session_record(self, made: _Made, session: sysfs.Session) -> str:
        """The portal naming the record of a live ``session`` for the root
        daemon's write: with its portal group when the target's records
        at that portal are kept per iface (the daemon writes one record,
        and the bare portal may match this iface's records of several
        groups), else bare (the single-file record)."""
        if session.tpgt is not None and session.tpgt in \
                self.iscsiadm.node_layout(made.iqn, made.portal).tpgts:
            return "%s,%d" % (made.portal, session.tpgt)
        return made.portal

    def node_settings(self) -> dict[str, str]:
        """What every node record this driver creates is set to.

        ``node.session.scan = manual``: the kernel adds no LUN on its own,
        the driver scans exactly the one it attaches.  ``node.startup =
        manual``: iscsid logs in at boot only to what an operator set up;
        nova attaches its volumes itself.  The login window (timeout per
        attempt x attempts) is set here, below the iscsiadm timeout.
        """
        return {"node.session.scan": "manual",
                "node.startup": STARTUP,
                "node.conn[0].timeo.login_timeout":
                    str(self.options.node_login_timeout),
                "node.session.initial_login_retry_max":
                    str(self.options.node_login_retries)}

    def login_timeout(self) -> int:
        """How long ``--login`` may run: our records' login window plus a
        margin, so iscsiadm reports iscsid's answer (exit 8 for a dead
        portal) instead of being killed."""
        window = self.options.node_login_timeout * \
            self.options.node_login_retries
        return int(window + LOGIN_MARGIN)

    def _undo(self, made: _Made) -> None:
        """Remove what a failed attach made, and nothing else: the disk
        it scanned in, the session it logged in (unless other disks use
        it), the node record it wrote (unless a session uses it)."""
        LOG.info("Undoing the failed attach of %s at %s (iface %s)",
                 made.iqn, made.portal, made.iface)
        try:
            # Read again: a map may have come or gone since the scan.
            current = made.disk and self.view.disk(made.disk.name or "")
            if current:
                disks.remove(self.writer, [current], force=True)
            if made.session and not self._in_use(made):
                self.iscsiadm.logout(made.iqn, made.portal, made.iface_args)
            if made.record and not self.view.matching_sessions(
                    made.iqn, made.portal, made.iface):
                self.iscsiadm.node_delete(made.iqn, made.portal,
                                          made.iface_args)
        except exception.IscsiTransportsError as error:
            LOG.error("Could not undo all of the failed attach of %s: %s",
                      made.iqn, error)

    def _in_use(self, made: _Made) -> bool:
        return any(disk.is_disk for session in self.view.matching_sessions(
            made.iqn, made.portal, made.iface)
            for disk in self.view.disks(session))

    def _discover(self, path: connection.VolumePath,
                  iface_args: list[str],
                  props: connection.ConnectionProperties
                  ) -> list[connection.VolumePath]:
        """The one target discovery lists at exactly ``path``'s portal (a
        target may advertise other portals too; they are not ours);
        AmbiguousTarget when it lists several."""
        found = self.iscsiadm.discover(path.portal, iface_args,
                                       dict(props.discovery_auth))
        wanted = sysfs.parse_portal(path.portal)
        names = [t.name for t in found
                 if sysfs.parse_portal(str(t.portal)) == wanted]
        return [connection.only_target(path, names)] if names else []

    # -- discovery -----------------------------------------------------------

    def discover(self, portal: str,
                 connection_properties: Mapping[str, Any] | None = None,
                 volume_type: str = "iscsi") -> DiscoveryResult:
        """SendTargets discovery through the active iface, with fallback.

        What ``iscsi-transports discover`` prints: ``targets`` plus the
        transport, iface and fallback reason used.  No node record is
        written.
        """
        props = connection.ConnectionProperties.parse(
            {**(connection_properties or {}), "target_portal": portal})
        (path,) = props.paths

        def run(selection: rules.Selection) -> DiscoveryResult:
            self.prepare_iface(selection)
            found = self.iscsiadm.discover(path.portal,
                                           _iface_args(selection),
                                           dict(props.discovery_auth))
            return {"targets": [t.as_dict() for t in found],
                    "transport": selection.transport.name,
                    "iface": selection.iface.name,
                    "fallback": selection.fallback,
                    "reason": selection.reason,
                    "requested": selection.requested}

        return self.with_fallback(self.select(volume_type), run)

    # -- disconnect ----------------------------------------------------------

    def disconnect_volume(self, connection_properties: Mapping[str, Any],
                          device_info: Mapping[str, Any] | None = None,
                          force: bool = False, *,
                          transport: str | None = None) -> None:
        """Remove this volume's disks; log out of a session only when no
        other disk uses it and no attach of its target is in flight.

        ``device_info`` (what :meth:`connect_volume` returned) names the
        ifaces used; without it sysfs tells which sessions hold the LUN.
        A multipath map of the volume (the one the attach recorded as
        ``multipath_id``, in ``device_info`` or the properties as nova
        keeps it, or any map holding the LUN's disks) is flushed first:
        if it stays, MultipathFlushFailed and nothing is touched.

        ``force``: go on past a map or disks that cannot be flushed or
        deleted, then raise one :class:`~iscsi_transports.exception.
        VolumeDetachIncomplete` saying what was left.  Disks held by a
        device-mapper map are always left (with their session) and
        reported the same way.
        """
        # Only the paths: a detach needs no CHAP settings, and must not be
        # refused over them.
        props = connection.ConnectionProperties.parse_paths(
            connection_properties)
        if not connection_properties.get("target_portals"):
            props = self._discovered_paths(props, device_info)
        left = self._flush_maps(props, connection_properties, device_info,
                                force)
        names = connection.device_names(connection_properties, device_info)
        for path in props.paths:
            lun = props.kernel_lun(path)
            with self.iscsiadm.external_lock(path.lock_name):
                for iqn in self._targets_of(path, lun, device_info, names):
                    target = path._replace(iqn=iqn)
                    for iface, args, recorded in self._ifaces_of(
                            target, lun, device_info, transport):
                        left += self._detach_target(
                            _Made(target, iface, args), path.lock_name, lun,
                            recorded, force)
        if left:
            raise exception.VolumeDetachIncomplete(left="; ".join(left))
        ledger.forget(self.conf, self.view, [
            (path.iqn, path.portal, props.kernel_lun(path))
            for path in props.paths])

    def _discovered_paths(self, props: connection.ConnectionProperties,
                          device_info: Mapping[str, Any] | None
                          ) -> connection.ConnectionProperties:
        """A volume given one portal may have been attached through the
        other portals discovery listed (single-portal multipath): those
        the attach recorded, else the target's sessions elsewhere whose
        disk of the LUN is a multipath map's path."""
        (path,) = props.paths
        if not path.iqn:
            return props
        lun = props.kernel_lun(path)
        portals = [str(t.get("portal")) for t in _recorded_targets(
            device_info) if t.get("iqn") == path.iqn and t.get("portal")]
        if not portals:
            portals = [str(session.portal)
                       for session in self.view.sessions(path.iqn)
                       for disk in self.view.disks(session)
                       if disk.hctl.lun == lun and any(
                           holder.multipath_wwid for holder in disk.holders)]
        return props._replace(
            paths=tuple(connection.with_portals(path, portals)))

    def _flush_maps(self, props: connection.ConnectionProperties,
                    connection_properties: Mapping[str, Any],
                    device_info: Mapping[str, Any] | None,
                    force: bool) -> list[str]:
        """Flush the volume's multipath maps before any path is touched
        (a map without paths hangs its openers); what a forced detach
        left.  The map is this volume's alone (one LUN, one WWID), so it
        needs none of the targets' locks."""
        left = []
        for wwid in self._map_wwids(props, connection_properties,
                                    device_info):
            teardown = self.maps.flush(wwid, force=force)
            if teardown.left is not None:
                left.append("multipath map %s (%s) with paths %s: %s" % (
                    teardown.left.name, wwid,
                    ", ".join(teardown.left.paths) or "none",
                    teardown.reason))
        return left

    def _map_wwids(self, props: connection.ConnectionProperties,
                   connection_properties: Mapping[str, Any],
                   device_info: Mapping[str, Any] | None) -> list[str]:
        """WWIDs of the live multipath maps of this volume, read from
        sysfs: the recorded one, and those holding the LUN's disks (nova
        passes no device info to a detach)."""
        recorded = [(device_info or {}).get("multipath_id"),
                    connection_properties.get("multipath_id")]
        found = [wwid for wwid in recorded if isinstance(wwid, str) and
                 wwid and self.view.multipath_map(wwid) is not None]
        names = connection.device_names(connection_properties, device_info)
        for path in props.paths:
            lun = props.kernel_lun(path)
            for iqn in self._targets_of(path, lun, device_info, names):
                found += [holder.multipath_wwid
                          for _session, disk in self._lun_sessions(
                              path._replace(iqn=iqn), lun)
                          for holder in disk.holders
                          if holder.multipath_wwid]
        return list(dict.fromkeys(found))

    def _detach_target(self, made: _Made, key: str, lun: int,
                       recorded: bool, force: bool) -> list[str]:
        """Detach the LUN from one (target, portal, iface) under lock
        ``key``; what was left."""
        sessions = self.view.matching_sessions(made.iqn, made.portal,
                                               made.iface)
        left: list[str] = []
        logged_out = False
        for session in sessions:
            mine = [d for d in self.view.disks(session) if d.hctl.lun == lun]
            kept: dict[str, str] = {}
            if self.options.remove_devices_on_disconnect:
                kept = disks.remove(self.writer, mine, force).left
            left += ["%s (%s): %s" % (name, made.iqn, why)
                     for name, why in kept.items()]
            others = [d.name or str(d.hctl) for d in self.view.disks(session)
                      if d.is_disk and (d.hctl.lun != lun or d.name in kept)]
            if others:
                LOG.info("Keeping %s to %s: %s still use it", session.name,
                         made.iqn, ", ".join(others))
                continue
            # Holders first: a plain volume never builds the map reader.
            holding = self.maps.maps_holding(session) if any(
                disk.holders for disk in self.view.disks(session)) else []
            if holding:
                LOG.info("Keeping %s to %s: multipath map %s holds its "
                         "disks", session.name, made.iqn,
                         ", ".join(found.name for found in holding))
                continue
            if self._inflight.busy(key):
                LOG.info("Keeping %s to %s for the attach waiting on it",
                         session.name, made.iqn)
                self._inflight.hand_over(key)
                continue
            self._keep_from_boot(made, session)
            self.iscsiadm.logout(made.iqn, made.portal, made.iface_args)
            logged_out = True
        if (logged_out or (recorded and not sessions)) and \
                not self.view.matching_sessions(made.iqn, made.portal,
                                                made.iface):
            self.iscsiadm.node_delete(made.iqn, made.portal, made.iface_args)
        return left

    def _keep_from_boot(self, made: _Made, session: sysfs.Session) -> None:
        """``node.startup = manual`` in the session's record before the
        logout, so iscsid does not log in again at boot.  A record that is
        gone (files removed under open-iscsi's node directory) has
        nothing to log in at boot: the logout goes ahead (``--logout``
        matches sessions, not records), and the record delete after it
        finds nothing, which it accepts."""
        try:
            self.iscsiadm.node_update(made.iqn,
                                      self._session_record(made, session),
                                      made.iface_args,
                                      {"node.startup": STARTUP})
        except (exception.NodeRecordNotFound,
                exception.NoObjectsFound) as error:
            LOG.warning("%s to %s at %s has no node record (%s): logging "
                        "out anyway", session.name, made.iqn, made.portal,
                        error)

    def _targets_of(self, path: connection.VolumePath, lun: int,
                    device_info: Mapping[str, Any] | None,
                    names: Sequence[str]) -> list[str]:
        """The target names of a path: its IQN; without one, those the
        attach recorded at its portal, else the one target at the portal
        that has the LUN (see :func:`~iscsi_transports.attach.connection.
        detach_target`; ``names``: the device paths handed out)."""
        if path.iqn:
            return [path.iqn]
        recorded = [t.get("iqn") for t in _recorded_targets(device_info)
                    if t.get("portal") == path.portal and t.get("iqn")]
        if recorded:
            return list(dict.fromkeys(str(iqn) for iqn in recorded))
        return connection.detach_target(
            path, [(session.target, disk.name or "")
                   for session, disk in self._lun_sessions(path, lun)],
            names)

    def _lun_sessions(self, path: connection.VolumePath, lun: int
                      ) -> list[tuple[sysfs.Session, sysfs.Disk]]:
        """Sessions at ``path``'s portal (to its target, if it has one)
        with kernel LUN ``lun``, any iface."""
        portal = sysfs.parse_portal(path.portal)
        return [(session, disk)
                for session in self.view.sessions(path.iqn)
                if session.portal == portal
                for disk in self.view.disks(session)
                if disk.hctl.lun == lun]

    def _ifaces_of(self, target: connection.VolumePath, lun: int,
                   device_info: Mapping[str, Any] | None,
                   transport: str | None
                   ) -> list[tuple[str, list[str], bool]]:
        """(iface name, iscsiadm iface arguments, recorded by the attach)
        for each iface ``target``'s LUN may be attached through: the one
        the attach recorded, else the ifaces of the sessions that have
        the LUN, else the one an attach would choose now."""
        info = device_info or {}
        for recorded in _recorded_targets(info):
            if (recorded.get("portal"), recorded.get("iqn")) == \
                    (target.portal, target.iqn) and recorded.get("iface"):
                name = str(recorded["iface"])
                return [(name, self._recorded_iface_args(
                    recorded.get("transport") or info.get("transport"),
                    name), True)]
        if info.get("iface"):
            name = str(info["iface"])
            return [(name, self._recorded_iface_args(info.get("transport"),
                                                     name), True)]
        found = {session.iface: session.transport
                 for session, _disk in self._lun_sessions(target, lun)
                 if session.iface}
        if found:
            return [(name, self._recorded_iface_args(kind, name), False)
                    for name, kind in found.items()]
        selection = self.select(portal=target.portal, transport=transport)
        return [(selection.iface.name, _iface_args(selection), False)]

    def _recorded_iface_args(self, transport_name: str | None,
                             iface_name: str) -> list[str]:
        """The recorded transport's iface arguments; plain ``-I`` when that
        plugin is gone, so the session can still be logged out."""
        transport = self.manager.transports.get(transport_name or "")
        if transport is None:
            return base.iface_args(iface_name)
        return transport.iscsiadm_args(iface_name)

    # -- what callers ask of an attached volume --------------------------------

    def _attached(self, connection_properties: Mapping[str, Any]
                  ) -> list[tuple[sysfs.Session, sysfs.Disk, int]]:
        props = connection.ConnectionProperties.parse_paths(
            connection_properties)
        found = []
        for path in props.paths:
            lun = props.kernel_lun(path)
            found += [(session, disk, lun)
                      for session, disk in self._lun_sessions(path, lun)
                      if disk.name]
        return found

    def get_volume_paths(self, connection_properties: Mapping[str, Any], *,
                         transport: str | None = None) -> list[str]:
        """The volume's disks attached now (udev links where udev made
        them); never logs in, [] when none."""
        return [self.view.stable_path(disk.name or "", session, lun)
                for session, disk, lun in self._attached(
                    connection_properties)]

    def extend_volume(self, connection_properties: Mapping[str, Any], *,
                      transport: str | None = None) -> int:
        """Make the kernel re-read every path's size, then grow the
        volume's multipath map if it has one; the new size in bytes (the
        map's, which is what its user sees).  VolumeDeviceNotFound when no
        path is attached."""
        attached = self._attached(connection_properties)
        if not attached:
            raise exception.VolumeDeviceNotFound(
                target=_describe(connection_properties),
                paths="the sessions in sysfs")
        sizes = []
        for _session, disk, _lun in attached:
            name = disk.name or ""
            self.writer.rescan_disk(name)
            now = self.view.disk(name)
            if now is not None and now.size is not None:
                sizes.append(now.size)
        if not sizes:
            raise exception.VolumeDeviceNotFound(
                target=_describe(connection_properties),
                paths="the rescanned disks")
        for wwid in dict.fromkeys(holder.multipath_wwid
                                  for _session, disk, _lun in attached
                                  for holder in disk.holders):
            size = self.maps.resize(wwid) if wwid else None
            if size is not None:
                return size
        return max(sizes)

    def connector_properties(self, *, transport: str | None = None
                             ) -> dict[str, Any]:
        """``initiator``: the IQN the iface an attach would choose logs in
        with (cinder must export the volume to it).

        An iface record may carry its own ``iface.initiatorname`` (set by
        the operator, read from the record on disk), or an offload card
        port (iSCSI host) one of its own; both can differ from
        ``/etc/iscsi/initiatorname.iscsi``, which software ifaces use.
        """
        selection = self.select(transport=transport)
        initiator = selection.iface.initiatorname
        source = "iface record"
        if initiator is None and not selection.iface.builtin:
            # The operator's name in the record on disk (the selection
            # only knows the fields the library sets).
            record = self.ifaces.show(selection.iface.name)
            initiator = record.initiatorname if record else None
        if initiator is None and selection.port and selection.port.host:
            initiator = self.view.host_initiator(selection.port.host)
            source = "iSCSI host %s" % selection.port.host
        if initiator is None:
            initiator = self._initiator_name()
            source = self.initiator_file
        return {"initiator": initiator, "initiator_source": source,
                "transport": selection.transport.name,
                "iface": selection.iface.name}

    def _initiator_name(self) -> str | None:
        """open-iscsi's initiator name.  Debian's file is root's alone, so
        a service user the file refuses asks the root daemon (which reads
        open-iscsi's own file); a missing file is no name, here."""
        try:
            with open(self.initiator_file, encoding="utf-8") as handle:
                return host_mod.parse_initiator_name(handle.read())
        except PermissionError:
            return self.iscsiadm.privileged.read_initiator_file() or None
        except (OSError, UnicodeDecodeError):
            return None


class _Plan(typing.NamedTuple):
    """How one attach treats its paths.

    Single path: the first target that works.  Multipath: every target,
    with the multipath node settings, and ``made`` collects what each
    path made, so a failure after the logins can undo all of them.
    """

    settings: Mapping[str, str] = {}
    multipath: bool = False
    made: list[_Made] | None = None


class _Made:
    """What one attach (or detach) of a target works on, and what the
    attach made: the node record, the session, the disk it scanned."""

    def __init__(self, path: connection.VolumePath, iface: str,
                 iface_args: list[str]) -> None:
        self.path = path
        self.iqn = path.iqn or ""
        self.portal = path.portal
        self.iface = iface
        self.iface_args = iface_args
        self.record = False
        self.session = False
        self.disk: sysfs.Disk | None = None


def _in_parallel(jobs: Sequence[Callable[[], _Result]]
                 ) -> tuple[list[_Result],
                            list[tuple[int, exception.IscsiTransportsError]]]:
    """Run every job in a thread of its own and wait for all of them: the
    results in job order, and the typed errors with the job's index.
    Another exception is raised once every job has ended (the caller
    undoes what the others made)."""
    outcomes: list[tuple[_Result | None, BaseException | None]] = [
        (None, None)] * len(jobs)

    def run(index: int) -> None:
        try:
            outcomes[index] = (jobs[index](), None)
        except BaseException as error:  # handed to the calling thread
            outcomes[index] = (None, error)

    threads = [threading.Thread(target=run, args=(index,), daemon=True,
                                name="attach-path-%d" % index)
               for index in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results: list[_Result] = []
    errors: list[tuple[int, exception.IscsiTransportsError]] = []
    for index, (result, error) in enumerate(outcomes):
        if isinstance(error, exception.IscsiTransportsError):
            errors.append((index, error))
        elif error is not None:
            raise error
        else:
            results.append(typing.cast(_Result, result))
    return results, errors


def _recorded_targets(device_info: Mapping[str, Any] | None
                      ) -> list[Mapping[str, Any]]:
    targets = (device_info or {}).get("targets") or ()
    return [t for t in targets if isinstance(t, Mapping)]


def _describe(props: Mapping[str, Any]) -> str:
    return "%s %s" % (props.get("target_portal") or props.get(
        "target_portals"), props.get("target_iqn") or "")


def _iface_args(selection: rules.Selection) -> list[str]:
    """What every iscsiadm command through the selection's iface carries."""
    return selection.transport.iscsiadm_args(selection.iface.name)
