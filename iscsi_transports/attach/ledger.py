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

"""What each attach used, kept in the state directory until its detach.

The kernel says what is attached (sessions, disks, maps); it cannot say
which transport an attach asked for, which one it got, or why it fell back
from iSER or an offload card to TCP: that is only in the attach's device
info, which the caller keeps or not.  So a successful attach writes one
small JSON file per path in ``<state_path>/attachments/`` (target, portal,
iface, LUN, the transport asked for and the one used, the fallback
reason) and the detach removes it.  ``iscsi-transports volumes`` (see
:mod:`iscsi_transports.attach.inventory`) reads them back to tell the
volumes this library attached from the others.

The files are written by the process that attaches (nova-compute as its
service user, or the console script as root), exactly as the iface
ownership markers are: through :func:`iscsi_transports.state.open_file`,
so root never follows a link the service user planted and what root
writes stays the directory owner's.  A file is written whole under a
temporary name and renamed, so a reader never sees half of one.  The
record is bookkeeping: failing to write or remove it is logged and never
fails the attach or detach it describes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import state
from iscsi_transports.attach import sysfs

__all__ = ["SUBDIR", "Attachment", "directory", "forget",
           "from_device_info", "read", "record"]

LOG = logging.getLogger(__name__)

#: The subdirectory of the state directory (one of ``state.SUBDIRS``).
SUBDIR = "attachments"
_SUFFIX = ".json"
_TEMPORARY = ".tmp-"
#: A record file larger than this is no record of ours.
_MAX_BYTES = 16384


class Attachment(typing.NamedTuple):
    """One path an attach made, as recorded at its success."""

    target_iqn: str
    #: Normalised (``10.0.0.1:3260``, ``[fd00::1]:3260``).
    portal: str
    iface: str
    #: The LUN in the kernel's numbering (``H:C:T:L``'s L).
    kernel_lun: int
    #: The LUN as cinder gave it.
    lun: int
    #: The transport the attach asked for (``auto``, ``iser``, a plugin).
    requested: str | None
    #: The transport the path was attached with.
    transport: str | None
    fallback: bool
    reason: str | None
    scsi_wwn: str | None
    #: The multipath map's WWID, for a multipath attach.
    multipath_id: str | None
    #: When the attach finished (seconds since the epoch).
    attached_at: float | None

    @property
    def key(self) -> tuple[str, str, str, int]:
        """What names a path on the host: target, portal, iface, LUN."""
        return (self.target_iqn, self.portal, self.iface, self.kernel_lun)

    @property
    def file_name(self) -> str:
        digest = hashlib.sha256(json.dumps(list(self.key)).encode())
        return digest.hexdigest()[:32] + _SUFFIX


def directory(conf: cfg.ConfigOpts) -> str:
    """Where the records are (not created)."""
    return os.path.join(state.directory(conf), SUBDIR)


def from_device_info(info: Mapping[str, Any]) -> list[Attachment]:
    """The records of an attach's device info, one per target path.

    A path's fallback is the attach's when the path used the transport
    the attach settled on (``auto`` may use another for another portal).
    """
    found = []
    now = time.time()
    for target in info.get("targets") or ():
        hctl = sysfs.Hctl.parse(str(target.get("hctl") or ""))
        if hctl is None or not target.get("iqn"):
            continue
        same = target.get("transport") == info.get("transport")
        found.append(Attachment(
            target_iqn=str(target["iqn"]),
            portal=str(sysfs.parse_portal(str(target["portal"]))),
            iface=str(target.get("iface") or ""), kernel_lun=hctl.lun,
            lun=int(target.get("lun") or 0),
            requested=_text(info.get("requested")),
            transport=_text(target.get("transport")),
            fallback=bool(info.get("fallback")) and same,
            reason=_text(info.get("reason")) if same else None,
            scsi_wwn=_text(target.get("scsi_wwn")),
            multipath_id=_text(info.get("multipath_id")), attached_at=now))
    return found


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def record(conf: cfg.ConfigOpts, info: Mapping[str, Any]) -> None:
    """Record a successful attach (its device info); logged, never
    raised, when the state directory refuses it."""
    try:
        state.ensure(conf, SUBDIR)
        for item in from_device_info(info):
            _write(directory(conf), item)
    except (OSError, exception.StateDirUnusable) as error:
        LOG.warning("Could not record the attach of %s in %s: %s",
                    info.get("path"), directory(conf), error)


def _write(path: str, item: Attachment) -> None:
    data = json.dumps(item._asdict(), sort_keys=True).encode() + b"\n"
    temporary = _TEMPORARY + item.file_name
    fd = state.open_file(path, temporary, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    dir_fd = state.open_directory(path, _fix(path))
    try:
        os.replace(temporary, item.file_name, src_dir_fd=dir_fd,
                   dst_dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def _fix(path: str) -> str:
    return "remove %s if it is not the service user's directory" % path


def read(conf: cfg.ConfigOpts) -> tuple[list[Attachment], list[str]]:
    """Every record, and one problem line per file that is no record.

    Read only: a missing directory is no record at all.  Files are opened
    without following links and read up to a bound.
    """
    path = directory(conf)
    try:
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                         os.O_CLOEXEC)
    except FileNotFoundError:
        return [], []
    except OSError as error:
        return [], ["attach records in %s cannot be read (%s)"
                    % (path, error.strerror)]
    try:
        found, problems = [], []
        for name in sorted(os.listdir(dir_fd)):
            if not name.endswith(_SUFFIX) or name.startswith(_TEMPORARY):
                continue
            item = _read_one(dir_fd, name)
            if isinstance(item, Attachment):
                found.append(item)
            elif item is not None:
                problems.append("attach record %s: %s"
                                % (os.path.join(path, name), item))
        return found, problems
    finally:
        os.close(dir_fd)


def _read_one(dir_fd: int, name: str) -> Attachment | str | None:
    """The record in ``name``, what is wrong with it, or None if it went
    away meanwhile (a detach)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        return "cannot be opened (%s)" % error.strerror
    with os.fdopen(fd, "rb") as handle:
        try:
            data = json.loads(handle.read(_MAX_BYTES))
            item = Attachment(**{field: data[field]
                                 for field in Attachment._fields})
        except (OSError, ValueError, KeyError, TypeError,
                RecursionError) as error:
            return "not a record (%s)" % error
    wrong = [field for field, kinds in _TYPES.items()
             if not _fits(getattr(item, field), kinds)]
    return "not a record (bad %s)" % ", ".join(wrong) if wrong else item


def _fits(value: Any, kinds: Any) -> bool:
    """``isinstance``, except that a bool is no number (JSON's ``true``
    is no LUN)."""
    if isinstance(value, bool):
        return kinds is bool
    return isinstance(value, kinds)


#: What each field of a record file must hold (a bool is no number).
_TYPES: dict[str, Any] = {
    "target_iqn": str, "portal": str, "iface": str, "kernel_lun": int,
    "lun": int, "requested": (str, type(None)),
    "transport": (str, type(None)), "fallback": bool,
    "reason": (str, type(None)), "scsi_wwn": (str, type(None)),
    "multipath_id": (str, type(None)),
    "attached_at": (int, float, type(None))}


def forget(conf: cfg.ConfigOpts, view: sysfs.Sysfs,
           paths: Iterable[tuple[str | None, str, int]]) -> None:
    """Remove the records of detached ``paths`` ((target or None for any,
    portal, kernel LUN)), each only once sysfs shows no disk left at its
    target, portal, iface and LUN: a path kept (held, another iface)
    keeps its record.  Logged, never raised."""
    wanted = [(iqn, sysfs.parse_portal(portal), lun)
              for iqn, portal, lun in paths]
    try:
        found, _problems = read(conf)
        gone = [item for item in found
                if any(_matches(item, *path) for path in wanted) and
                not view.find_disks(item.target_iqn, item.portal, item.iface,
                                    item.kernel_lun)]
        if gone:
            _remove(directory(conf), gone)
    except (OSError, exception.StateDirUnusable,
            exception.InvalidInput) as error:
        LOG.warning("Could not remove the attach records of a detach from "
                    "%s: %s", directory(conf), error)


def _matches(item: Attachment, iqn: str | None, portal: sysfs.Portal,
             lun: int) -> bool:
    return (iqn is None or item.target_iqn == iqn) and \
        item.kernel_lun == lun and item.portal == str(portal)


def _remove(path: str, items: list[Attachment]) -> None:
    dir_fd = state.open_directory(path, _fix(path))
    try:
        for item in items:
            try:
                os.unlink(item.file_name, dir_fd=dir_fd)
            except FileNotFoundError:
                continue  # another detach of the same path
    finally:
        os.close(dir_fd)
