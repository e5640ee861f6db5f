"""ISCSIDriver: attach and detach iSCSI volumes through the active transport.

For each attach the driver asks the :class:`~iscsi_transports.selection.
manager.TransportManager` which transport and iface to use, makes sure the iface
record exists, and passes ``-I <iface>`` to every node, discovery, update,
login, logout and delete command, so an attach never touches sessions of
other ifaces bound to the same target.  When the chosen transport turns
out to be unusable (its iface cannot be created or is invalid, or
discovery/login through it fails with a transport-class error) it retries
once over software TCP (iface ``default``) and says why; it never does so
for authentication or target errors, which TCP would hit too.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import typing
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from oslo_config import cfg

from iscsi_transports import base
from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports.attach import connection
from iscsi_transports.attach import devices
from iscsi_transports.attach import fallback
from iscsi_transports.attach import scsi
from iscsi_transports.iscsiadm import ifaces
from iscsi_transports.iscsiadm import runner
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import rules

__all__ = ["DiscoveryResult", "ISCSIDriver", "Manager", "driver_opts"]

LOG = logging.getLogger(__name__)

driver_opts = [
    cfg.StrOpt("device_dir", default="/dev/disk/by-path",
               help="Directory where udev creates the by-path links of "
                    "iSCSI disks."),
    cfg.IntOpt("device_scan_attempts", default=5, min=1,
               help="How many times to look for the disk after login."),
    cfg.FloatOpt("device_scan_interval", default=1.0, min=0,
                 help="Seconds between two looks for the disk."),
    cfg.BoolOpt("remove_devices_on_disconnect", default=True,
                help="Flush and delete the SCSI disk of each path before "
                     "logging out of it on detach."),
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
    """Connects and disconnects iSCSI volumes (nova/cinder properties)."""

    def __init__(self, conf: cfg.ConfigOpts, manager: Manager | None = None,
                 execute: Callable[..., tuple[str, str]] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        config.register(conf, driver_opts)
        manager_mod.register_opts(conf)
        self.conf = conf
        self._manager = manager
        self._manager_lock = threading.Lock()
        self.iscsiadm = runner.Iscsiadm(conf, execute=execute)
        self._sleep = sleep
        #: Ifaces already ensured by this driver object: later attaches
        #: skip the ``-o show`` (the iface lock still guards changes).
        self._ensured: set[str] = set()

    @property
    def options(self) -> Any:
        return self.conf.iscsi_transports

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

    def select(self, volume_type: str = "iscsi",
               portal: str | None = None) -> rules.Selection:
        """The selection for a volume type: ``iser`` volumes use iSER.

        ``portal`` lets ``transport = auto`` choose the port the route to
        the portal goes through.
        """
        if volume_type != "iser":
            return self.manager.active(portal)
        try:
            return self.manager.select("iser")
        except exception.TransportUnusable as error:
            if not self.options.fallback_to_tcp:
                raise
            return self.manager.fallback_selection(error.reason, "iser")

    def _may_fall_back(self, selection: rules.Selection) -> bool:
        return bool(self.options.fallback_to_tcp) and \
            selection.iface.name != "default"

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
        """Run ``action(selection)``; once more over TCP if it may help."""
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
                       volume_type: str = "iscsi") -> connection.DeviceInfo:
        """Log in to every path and return the device info.

        The result has ``path`` (first disk found), ``paths``, ``targets``,
        ``transport``, ``iface``, ``fallback``, ``reason`` and
        ``requested``.
        """
        # Validated once, before anything runs.
        props = connection.ConnectionProperties.parse(connection_properties)
        results: list[connection.DeviceInfo] = []
        errors: list[exception.IscsiTransportsError] = []
        groups = self._group_paths(props.paths, volume_type)
        for selection, group in groups:
            try:
                results.append(self.with_fallback(
                    selection, functools.partial(
                        self._connect, paths=group, props=props)))
            except exception.IscsiTransportsError as error:
                if len(groups) == 1:
                    raise
                LOG.warning("Paths through iface %s failed: %s",
                            selection.iface.name, error)
                errors.append(error)
        if not results:
            raise errors[0]
        return connection.merge_device_info(results)

    def _group_paths(self, paths: tuple[connection.VolumePath, ...],
                     volume_type: str
                     ) -> list[tuple[rules.Selection,
                                     list[connection.VolumePath]]]:
        """Paths by the iface chosen for their portal (``auto`` may pick
        different ports for different portals)."""
        groups: dict[str, tuple[rules.Selection,
                                list[connection.VolumePath]]] = {}
        for path in paths:
            selection = self.select(volume_type, path.portal)
            groups.setdefault(selection.iface.name, (selection, []))[1].append(
                path)
        return list(groups.values())

    def _connect(self, selection: rules.Selection,
                 paths: list[connection.VolumePath],
                 props: connection.ConnectionProperties
                 ) -> connection.DeviceInfo:
        self.prepare_iface(selection)
        sessions = {(str(s.portal), s.target) for s in self.iscsiadm.sessions()
                    if s.transport == selection.iface.transport_name}
        logged_in, errors = [], []
        for path in paths:
            try:
                logged_in += self._login_path(selection, path, props, sessions)
            except exception.IscsiTransportsError as error:
                LOG.warning("Path %s %s failed: %s", path.portal, path.iqn,
                            error)
                errors.append(error)
        if errors and not logged_in:
            raise errors[0]
        if not logged_in:
            raise exception.VolumeAttachFailed(
                target=", ".join(path.portal for path in paths),
                reason="discovery through iface %s found no targets"
                       % selection.iface.name)
        found = self.wait_for_devices(selection, logged_in)
        return connection.device_info(selection, found, logged_in)

    def _login_path(self, selection: rules.Selection,
                    path: connection.VolumePath,
                    props: connection.ConnectionProperties,
                    sessions: set[tuple[str, str]]
                    ) -> list[connection.VolumePath]:
        iface_args = _iface_args(selection)
        with self.iscsiadm.external_lock(path.lock_name):
            targets = [path] if path.iqn else self._discover(
                path, iface_args, props)
            for target in targets:
                if target.iqn is None or \
                        (target.portal, target.iqn) in sessions:
                    continue
                self.iscsiadm.node_new(target.iqn, target.portal, iface_args)
                self.iscsiadm.node_update(target.iqn, target.portal,
                                          iface_args,
                                          dict(props.session_auth))
                self.iscsiadm.login(target.iqn, target.portal, iface_args)
        return targets

    def _discover(self, path: connection.VolumePath,
                  iface_args: list[str],
                  props: connection.ConnectionProperties
                  ) -> list[connection.VolumePath]:
        found = self.iscsiadm.discover(path.portal, iface_args,
                                       dict(props.discovery_auth))
        here = [t for t in found if str(t.portal) == path.portal]
        return [connection.VolumePath(str(t.portal), t.name, path.lun)
                for t in here or found]

    # -- discovery -----------------------------------------------------------

    def discover(self, portal: str,
                 connection_properties: Mapping[str, Any] | None = None,
                 volume_type: str = "iscsi") -> DiscoveryResult:
        """SendTargets discovery through the active iface, with fallback.

        What ``iscsi-transports discover`` prints: ``targets`` plus the
        transport, iface and fallback reason used.
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

    # -- devices -----------------------------------------------------------

    def wait_for_devices(self, selection: rules.Selection,
                         paths: list[connection.VolumePath]) -> list[str]:
        return devices.wait_for_devices(
            [devices.candidates(self.options.device_dir, selection, path)
             for path in paths],
            self.options.device_scan_attempts,
            self.options.device_scan_interval, self._sleep)

    # -- disconnect ----------------------------------------------------------

    def disconnect_volume(self, connection_properties: Mapping[str, Any],
                          device_info: Mapping[str, Any] | None = None,
                          force: bool = False) -> None:
        """Remove each path's disk (``force``: go on past one that fails),
        then log out of and delete only our iface's node records.

        ``device_info`` is what :meth:`connect_volume` returned; without
        it the active selection's iface is used, and ``default`` too (the
        attach may have fallen back).
        """
        # Only the paths: a detach needs no CHAP settings, and must not be
        # refused over them.
        for path in connection.paths(connection_properties):
            if path.iqn is None:
                continue
            with self.iscsiadm.external_lock(path.lock_name):
                if self.options.remove_devices_on_disconnect:
                    scsi.remove_devices(self.iscsiadm, self.options.sysfs_root,
                                        scsi.links(self.options.device_dir,
                                                   path, device_info), force)
                for iface_args in self._ifaces_of(path, device_info):
                    self.iscsiadm.logout(path.iqn, path.portal, iface_args)
                    self.iscsiadm.node_delete(path.iqn, path.portal,
                                              iface_args)

    def _ifaces_of(self, path: connection.VolumePath,
                   device_info: Mapping[str, Any] | None
                   ) -> list[list[str]]:
        """The iscsiadm iface arguments of each session ``path`` may have:
        the one the attach recorded, else the active choice's and
        ``default``."""
        info = device_info or {}
        for target in info.get("targets") or ():
            if (target.get("portal"), target.get("iqn")) == (path.portal,
                                                            path.iqn):
                return [self._recorded_iface_args(
                    target.get("transport") or info.get("transport"),
                    target["iface"])]
        if info.get("iface"):
            return [self._recorded_iface_args(info.get("transport"),
                                              info["iface"])]
        chosen = _iface_args(self.select(portal=path.portal))
        fallback = self._recorded_iface_args(rules.TCP, rules.DEFAULT_IFACE)
        return [chosen] if chosen == fallback else [chosen, fallback]

    def _recorded_iface_args(self, transport_name: str | None,
                             iface_name: str) -> list[str]:
        """The recorded transport's iface arguments; plain ``-I`` when that
        plugin is gone, so the session can still be logged out."""
        transport = self.manager.transports.get(transport_name or "")
        if transport is None:
            return base.iface_args(iface_name)
        return transport.iscsiadm_args(iface_name)


def _iface_args(selection: rules.Selection) -> list[str]:
    """What every iscsiadm command through the selection's iface carries."""
    return selection.transport.iscsiadm_args(selection.iface.name)
