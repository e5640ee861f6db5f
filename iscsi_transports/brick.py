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

"""os-brick's iSCSI connector API, served by this library.

nova, cinder (backup, image copy) and glance_store attach iSCSI volumes
through os-brick's ``InitiatorConnector`` API, so that one implementation
of host attach logic serves all of them.  :class:`ISCSIConnector` keeps that
API (it subclasses os-brick's own ``ISCSIConnector``, so callers and their
tests that check the type keep working) and sends every call to
:class:`~iscsi_transports.attach.driver.ISCSIDriver`: transport selection, TCP
fallback, sessions, disks and detach are the library's; the API, the
encrypted-volume symlink handling and the exceptions are os-brick's.

This is the only module that imports os-brick (it needs the optional
``os-brick`` extra, installed from a clone or the sdist, not PyPI:
``pip install '/path/to/iscsi-transports[os-brick]'``);
:mod:`iscsi_transports.adopt` makes os-brick's own factory and
``get_connector_properties`` use it (``iscsi-transports run``).

Locking with os-brick: wherever os-brick still runs on the host (cinder's
or glance's connector, a service not yet switched), both could act on one
target.  os-brick serialises all of its iSCSI connects and disconnects on
the external lock ``connect_volume`` (its per-portal
``connect_to_iscsi_portal-<portal>-<iqn>`` locks are only taken inside it)
and its extends on ``extend_volume``, as exclusive ``lockf`` locks on
``<lock_path>/os-brick-<name>``.  This connector takes the same files as
*shared* locks (Linux open file description read locks): os-brick waits
while any attach of ours runs and ours wait while os-brick runs, but our
own attaches still run in parallel under the library's per-target locks.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import struct
import time
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from os_brick import exception as brick_exception
from os_brick import initiator
from os_brick import utils as brick_utils
from os_brick.initiator.connectors import iscsi as brick_iscsi
from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports.attach import driver as driver_mod

LOG = logging.getLogger(__name__)

#: os-brick's lock file prefix (``os_brick.initiator.connectors.base``).
BRICK_LOCK_PREFIX = "os-brick-"
#: os-brick's transport values that name no iface: the default choice.
_NO_IFACE = ("default", "tcp", "")
#: ``struct flock`` on 64-bit Linux: type, whence, start, len, pid.
_FLOCK = struct.Struct("hhqqi4x")
_Execute = Callable[..., tuple[str, str]]


class Driver(typing.Protocol):
    """What the connector needs from :class:`~iscsi_transports.attach.
    driver.ISCSIDriver`.

    ``transport`` is an explicit choice for this call, in the syntax of
    ``[iscsi_transports] transport`` (None: as configured); ``volume_type``
    ``iser`` makes an iSER volume.  Errors are the library's typed errors.
    """

    @property
    def options(self) -> Any:
        """The ``[iscsi_transports]`` options (``device_dir``)."""

    @property
    def iscsiadm(self) -> Any:
        """The iscsiadm runner: its ``privileged`` root operations."""

    def connect_volume(self, connection_properties: Mapping[str, Any],
                       volume_type: str = "iscsi", *,
                       transport: str | None = None, multipath: bool = False,
                       enforce_multipath: bool = False,
                       scan_attempts: int | None = None
                       ) -> Mapping[str, Any]:
        """Device info: ``path``, ``scsi_wwn``, ``multipath_id`` (a map)."""

    def disconnect_volume(self, connection_properties: Mapping[str, Any],
                          device_info: Mapping[str, Any] | None = None,
                          force: bool = False, *,
                          transport: str | None = None) -> None:
        """Detach; device info None: sysfs tells what is attached."""

    def extend_volume(self, connection_properties: Mapping[str, Any], *,
                      transport: str | None = None) -> int:
        """Rescan each path; the new size in bytes."""

    def get_volume_paths(self, connection_properties: Mapping[str, Any], *,
                         transport: str | None = None) -> list[str]:
        """The volume's disks attached now."""

    def connector_properties(self, *, transport: str | None = None
                             ) -> dict[str, Any]:
        """``initiator``: the IQN the chosen iface logs in with."""


# -- errors ---------------------------------------------------------------

#: The library's typed errors as os-brick's, most specific first.  Callers
#: act on these types (nova ignores VolumeDeviceNotFound on detach); the
#: message stays ours: masked, written for an operator.
_ERRORS: tuple[tuple[type[exception.IscsiTransportsError],
                     type[brick_exception.BrickException]], ...] = (
    (exception.VolumeDeviceNotFound, brick_exception.VolumeDeviceNotFound),
    (exception.InvalidInput, brick_exception.InvalidParameterValue),
    (exception.TargetError, brick_exception.FailedISCSITargetPortalLogin),
    (exception.IscsiadmConnectionError,
     brick_exception.FailedISCSITargetPortalLogin),
    (exception.TransportTimeout,
     brick_exception.FailedISCSITargetPortalLogin),
)


def brick_error(error: exception.IscsiTransportsError
                ) -> brick_exception.BrickException:
    """os-brick's exception for one of ours."""
    for ours, theirs in _ERRORS:
        if isinstance(error, ours):
            return theirs(message=str(error))
    return brick_exception.BrickException(message=str(error))


@contextlib.contextmanager
def _as_brick_errors() -> Iterator[None]:
    try:
        yield
    except exception.IscsiTransportsError as error:
        raise brick_error(error) from error


# -- os-brick's lock --------------------------------------------------------

def brick_lock_path(conf: cfg.ConfigOpts) -> str | None:
    """The directory of os-brick's lock files, as os-brick computes it:
    ``[os_brick] lock_path``, else ``[oslo_concurrency] lock_path``."""
    for group in ("os_brick", "oslo_concurrency"):
        try:
            path = conf[group].lock_path
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
            continue
        if path:
            return str(path)
    return None


@contextlib.contextmanager
def shared_brick_lock(lock_path: str | None, name: str,
                      delay: float = 0.01,
                      sleep: Callable[[float], None] = time.sleep
                      ) -> Iterator[None]:
    """Hold os-brick's external lock ``name`` shared.

    An open file description lock conflicts with the classic ``lockf``
    lock os-brick (fasteners) takes, even within one process, and belongs
    to this file descriptor, so threads of one process can share it.  It
    is polled like fasteners does, so an eventlet hub keeps running.
    Without a lock path os-brick cannot take its external locks either:
    there is nothing to share.
    """
    if not lock_path:
        LOG.debug("No os-brick lock path configured: not sharing %s", name)
        yield
        return
    os.makedirs(lock_path, exist_ok=True)
    path = os.path.join(lock_path, BRICK_LOCK_PREFIX + name.replace(os.sep,
                                                                     "_"))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        request = _FLOCK.pack(fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
        while True:
            try:
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            sleep(delay)
        yield
    finally:
        os.close(fd)


# -- the connector --------------------------------------------------------

def operator_set(conf: cfg.ConfigOpts, name: str) -> bool:
    """True when ``[iscsi_transports] name`` comes from configuration
    (a file, the command line, an override), not from its default."""
    location = conf.get_location(name, group="iscsi_transports")
    return location is not None and location.location not in (
        cfg.Locations.opt_default, cfg.Locations.set_default)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the options whose origin the connector looks at."""
    from iscsi_transports.iscsiadm import runner
    from iscsi_transports.selection import manager
    manager.register_opts(conf)
    config.register(conf, [*runner.iscsiadm_opts, *driver_mod.driver_opts])


def caller_transport(conf: cfg.ConfigOpts, transport: str | None
                     ) -> str | None:
    """The transport the caller's own configuration names (nova's
    ``[libvirt] iscsi_iface``), used only when ``[iscsi_transports]
    transport`` is not set; None means "as configured".  ``iser`` is not
    an iface: it makes the volume an iSER volume (see the connector)."""
    if not transport or transport in _NO_IFACE or transport == "iser":
        return None
    register_opts(conf)
    if operator_set(conf, "transport"):
        return None
    return transport


def make_driver(conf: cfg.ConfigOpts) -> Driver:
    """The library's driver for a connector: every root operation goes
    through the library's privsep daemon (in process when root)."""
    register_opts(conf)
    return driver_mod.ISCSIDriver(conf)


class ISCSIConnector(brick_iscsi.ISCSIConnector):
    """os-brick's iSCSI connector, attaching through iscsi-transports.

    ``root_helper`` and ``execute`` are os-brick's connector arguments:
    accepted, kept by os-brick's base class, and not used.  Every root
    operation goes through the library's privsep daemon, which the caller's
    root helper starts (nova, cinder and os-brick's other callers hand it to
    oslo.privsep at start-up), so no command runs under ``root_helper`` or
    through ``execute``.
    """

    def __init__(self, root_helper: str, driver: Any = None,
                 execute: _Execute | None = None,
                 use_multipath: bool = False,
                 device_scan_attempts: int = (
                     initiator.DEVICE_SCAN_ATTEMPTS_DEFAULT),
                 transport: str = "default", *args: Any,
                 enforce_multipath: bool = False,
                 conf: cfg.ConfigOpts | None = None,
                 iscsi_driver: Driver | None = None,
                 **kwargs: Any) -> None:
        # os-brick's ISCSIConnector.__init__ is skipped on purpose: it runs
        # iscsiadm to check ``transport`` against a fixed list, and which
        # transport and iface to use is this library's decision.
        super(brick_iscsi.ISCSIConnector, self).__init__(
            root_helper, driver, execute, *args,
            device_scan_attempts=device_scan_attempts, **kwargs)
        self.conf = cfg.CONF if conf is None else conf
        self.use_multipath = use_multipath
        self.enforce_multipath = enforce_multipath
        #: What the caller asked for, as os-brick keeps it.
        self.transport = transport
        self.volume_type = "iser" if transport == "iser" else "iscsi"
        self.iscsi_driver = iscsi_driver or make_driver(self.conf)

    # -- what the driver is asked with -----------------------------------

    def _transport(self) -> str | None:
        return caller_transport(self.conf, self.transport)

    def _scan_attempts(self) -> int | None:
        """nova's ``num_volume_scan_tries`` unless the operator set
        ``[iscsi_transports] device_scan_attempts``."""
        if operator_set(self.conf, "device_scan_attempts"):
            return None
        return int(self.device_scan_attempts)

    def _lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        return shared_brick_lock(brick_lock_path(self.conf), name)

    @staticmethod
    def get_connector_properties(root_helper: str, *args: Any,
                                 **kwargs: Any) -> dict[str, Any]:
        """The initiator name of the iface attaches will log in through.

        An offload HBA can log in with its own initiator name, not the one
        in ``/etc/iscsi/initiatorname.iscsi``: cinder must export the
        volume to the one that will be used.
        """
        conf = kwargs.get("conf") or cfg.CONF
        iscsi_driver = kwargs.get("iscsi_driver") or make_driver(conf)
        asked = kwargs.get("transport") or nova_iface(conf)
        with _as_brick_errors():
            props = iscsi_driver.connector_properties(
                transport=caller_transport(conf, asked))
        return {"initiator": props["initiator"]} if props.get(
            "initiator") else {}

    def get_search_path(self) -> str:
        """Where udev links the disks of iSCSI volumes."""
        return str(self.iscsi_driver.options.device_dir)

    def get_volume_paths(self, connection_properties: dict[str, Any]
                         ) -> list[str]:
        """The volume's disks that are attached now (no login)."""
        if not ("target_portal" in connection_properties or
                "target_portals" in connection_properties):
            return []
        with _as_brick_errors():
            return list(self.iscsi_driver.get_volume_paths(
                connection_properties, transport=self._transport()))

    def check_valid_device(self, path: str, run_as_root: bool = True
                           ) -> bool:
        """Whether one block of ``path`` can be read, as os-brick checks
        it with ``dd``: through the library's root daemon (which accepts
        only a disk, a dm map or a udev link to one)."""
        real = os.path.normpath(path)
        if not real.startswith("/dev/") or real != path:
            LOG.warning("Not checking %r: not a device path under /dev", path)
            return False
        try:
            self.iscsi_driver.iscsiadm.privileged.read_block(path)
        except exception.PrivilegedError as error:
            LOG.error("Failed to read the device %s: %s", path, error)
            return False
        return True

    # -- attach, detach, extend ------------------------------------------

    @brick_utils.connect_volume_prepare_result
    def connect_volume(self, connection_properties: dict[str, Any]
                       ) -> dict[str, Any]:
        """Attach the volume; os-brick's device info (``type``, ``path``,
        ``scsi_wwn``, ``multipath_id`` for a multipath map) plus the
        library's record of the transport and iface used."""
        enforce = bool(self.enforce_multipath or
                       connection_properties.get("enforce_multipath"))
        with self._lock("connect_volume"), _as_brick_errors():
            result = self.iscsi_driver.connect_volume(
                connection_properties, volume_type=self.volume_type,
                transport=self._transport(), multipath=self.use_multipath,
                enforce_multipath=enforce,
                scan_attempts=self._scan_attempts())
        return device_info(result)

    @brick_utils.connect_volume_undo_prepare_result(unlink_after=True)
    def disconnect_volume(self, connection_properties: dict[str, Any],
                          device_info: dict[str, Any] | None,
                          force: bool = False,
                          ignore_errors: bool = False) -> None:
        """Detach the volume.  ``force`` goes on past disks that cannot be
        flushed; with ``ignore_errors`` too, what could not be cleaned is
        logged instead of raised (os-brick's contract)."""
        try:
            with self._lock("connect_volume"), _as_brick_errors():
                self.iscsi_driver.disconnect_volume(
                    connection_properties, device_info, force=force,
                    transport=self._transport())
        except brick_exception.BrickException as error:
            if not (force and ignore_errors):
                raise
            LOG.warning("Forced detach left something behind (errors "
                        "ignored as asked): %s", error)

    @brick_utils.connect_volume_undo_prepare_result
    def extend_volume(self, connection_properties: dict[str, Any]) -> int:
        """Rescan every path of the volume; its new size in bytes."""
        with self._lock("extend_volume"):
            try:
                return int(self.iscsi_driver.extend_volume(
                    connection_properties, transport=self._transport()))
            except exception.VolumeDeviceNotFound as error:
                raise brick_exception.VolumePathsNotFound() from error
            except exception.IscsiTransportsError as error:
                raise brick_error(error) from error


def device_info(result: Mapping[str, Any]) -> dict[str, Any]:
    """os-brick's device info from the driver's result.

    ``multipath_id`` is there only for a multipath map (os-brick's
    contract: callers test for the key); the library's own keys stay, so
    that a caller passing the device info back to ``disconnect_volume``
    detaches exactly what was attached.
    """
    info = {"type": "block", **result}
    info.setdefault("scsi_wwn", None)
    if not info.get("multipath_id"):
        info.pop("multipath_id", None)
    return info


def nova_iface(conf: cfg.ConfigOpts) -> str | None:
    """nova's ``[libvirt] iscsi_iface`` where nova registered it (None
    elsewhere).  nova's iSCSI volume driver hands it to its connector as
    the transport, but nova's ``get_volume_connector`` calls os-brick's
    module-level ``get_connector_properties``, which passes no transport:
    without this the initiator reported could be another iface's."""
    try:
        value = conf.libvirt.iscsi_iface
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return None
    return str(value) if value else None
