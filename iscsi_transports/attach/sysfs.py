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

"""iSCSI sessions and their SCSI disks as the kernel shows them in sysfs.

The kernel is the source of truth for what is attached: this module reads
it, nothing else.  It runs no process, writes nothing and parses no
iscsiadm output, so every rule here runs on a built tree in unit tests, on
a snapshot of a real host and on the real kernel alike (``sysfs_root`` and
``dev_root`` are injected).

The kernel ABI used (``drivers/scsi/scsi_transport_iscsi.c``,
``Documentation/ABI``):

- ``class/iscsi_session/sessionN``: ``targetname``, ``tpgt``,
  ``ifacename``, ``initiatorname``, ``state`` (``LOGGED_IN``, ``FAILED``,
  ``FREE``), ``recovery_tmo`` and, on recent kernels, ``target_id``.  The
  link resolves into ``devices/.../hostH/sessionN/iscsi_session/``: the
  session device is a child of its SCSI host, which is how the host is
  found (as open-iscsi does).
- ``class/iscsi_connection/connectionN:0``: ``persistent_address`` and
  ``persistent_port`` (the portal logged in to, which udev names disks
  after), ``address`` and ``port`` (the current ones).  Some offload
  drivers lack the persistent pair; the current pair stands in, as in
  open-iscsi's ``iscsi_sysfs_get_sessioninfo_by_id``.
- ``class/scsi_host/hostH/proc_name``: the driver; ``iscsi_tcp`` and
  ``iscsi_iser`` name the ``tcp`` and ``iser`` transports.
- ``.../sessionN/targetH:C:T/H:C:T:L/``: one SCSI device per LUN with
  ``state``, ``type``, ``wwid``, ``vpd_pg83`` and ``block/sdX`` (``size``
  in 512-byte sectors, ``holders/dm-N`` with ``dm/name`` and ``dm/uuid``).

A missing or unreadable attribute means "absent", never an error: sessions
come and go while we read.  A session without a target name, a portal or
a SCSI host (half created or half removed) is skipped, so one odd session
never fails an attach of another volume.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import typing

from iscsi_transports import exception
from iscsi_transports import host as host_view
from iscsi_transports import portal as portal_mod

LOG = logging.getLogger(__name__)

_SESSION_RE = re.compile(r"^session(\d+)$")
_HOST_RE = re.compile(r"^host(\d+)$")
_TARGET_RE = re.compile(r"^target(\d+):(\d+):(\d+)$")
_HCTL_RE = re.compile(r"^(\d+):(\d+):(\d+):(\d+)$")
_UNSET = ("", "<NULL>", "<null>", "(null)")
_SECTOR = 512

#: ``addressing_mode`` values of cinder's connection properties (os-brick's
#: ``constants.SCSI_ADDRESSING_MODES``); absent means SAM.
SAM = "SAM"
TRANSPARENT = "transparent"
SAM2 = "SAM2"
SAM3_FLAT = "SAM3-flat"
ADDRESSING_MODES = (TRANSPARENT, SAM, SAM2, SAM3_FLAT)
#: Flat space addressing (SAM-2 method 01b): ``0x40`` in the first byte,
#: which the kernel's ``scsilun_to_int`` turns into 16384 + LUN.
_FLAT_SPACE = 0x4000
_FLAT_MAX = 0x3FFF
_LUN_MAX = 2 ** 64 - 1

#: Designator types of VPD page 0x83 and the prefix the kernel's ``wwid``
#: gives them; udev's ``scsi_id`` (and os-brick) print the type's digit.
_WWID_TYPES = {"t10.": "1", "eui.": "2", "naa.": "3"}
_T10, _EUI64, _NAA = 1, 2, 3
_BINARY, _ASCII = 1, 2
#: scsi_id's search order: (designator type, NAA type or None, code set).
_VPD83_ORDER = tuple(
    (kind, naa, code)
    for kind, naa in ((_NAA, 6), (_NAA, 5), (_NAA, None), (_EUI64, None),
                      (_T10, None), (0, None))
    for code in (_BINARY, _ASCII))
_VENDOR_LENGTH, _MODEL_LENGTH = 8, 16


class Portal(typing.NamedTuple):
    """A portal, its address normalised (see :func:`normalise_address`)."""

    address: str
    port: int = 3260

    def __str__(self) -> str:
        if ":" in self.address:
            return "[%s]:%d" % (self.address, self.port)
        return "%s:%d" % (self.address, self.port)


class Session(typing.NamedTuple):
    """One iSCSI session the kernel has (``class/iscsi_session/sessionN``)."""

    sid: int
    target: str
    portal: Portal
    host: int
    tpgt: int | None
    #: open-iscsi's iface name (``default``, ``iser``, ``bnx2i.<mac>``).
    iface: str | None
    #: The session's initiator name, else its iSCSI host's.
    initiator: str | None
    #: open-iscsi's transport name: ``tcp``, ``iser``, ``bnx2i``, ...
    transport: str | None
    state: str | None
    recovery_tmo: int | None
    #: SCSI target id of the session on its host (for scans); None when
    #: the kernel does not say and nothing has been scanned yet.
    target_id: int | None
    #: The PCI function above the SCSI host (offload HBAs, iSER HCAs):
    #: udev's by-path names start with ``pci-<it>-``.
    pci_address: str | None
    #: ``address:port`` exactly as udev writes it in by-path names
    #: (``persistent_address``/``persistent_port`` verbatim); None when
    #: the driver does not export them, and udev makes no by-path link.
    persistent: str | None

    @property
    def name(self) -> str:
        return "session%d" % self.sid


class Hctl(typing.NamedTuple):
    """A SCSI address: host, channel, target id, LUN (kernel numbering)."""

    host: int
    channel: int
    target: int
    lun: int

    def __str__(self) -> str:
        return "%d:%d:%d:%d" % self

    @classmethod
    def parse(cls, text: str) -> Hctl | None:
        match = _HCTL_RE.match(text)
        if not match:
            return None
        return cls(*(int(part) for part in match.groups()))


class Holder(typing.NamedTuple):
    """A block device stacked on disks: a disk's ``holders/dm-N``, or a
    multipath map with its paths."""

    name: str
    #: ``dm/name`` and ``dm/uuid``: None for holders that are no
    #: device-mapper device (md, bcache).
    dm_name: str | None
    dm_uuid: str | None
    #: The block devices it sits on (``slaves/``): a map's paths.
    slaves: tuple[str, ...] = ()

    @property
    def multipath_wwid(self) -> str | None:
        """The WWID of a multipathd map (``dm/uuid`` is ``mpath-<wwid>``)."""
        if self.dm_uuid and self.dm_uuid.startswith("mpath-"):
            return self.dm_uuid[len("mpath-"):] or None
        return None


class Disk(typing.NamedTuple):
    """One SCSI device of a session, with its block device if it has one."""

    hctl: Hctl
    #: The session it belongs to; None if not under an iSCSI session.
    sid: int | None
    #: Kernel block name (``sdb``); None while the disk driver has not
    #: bound yet, or for a device that is no disk.
    name: str | None
    #: ``running``, ``offline``, ``blocked``, ``transport-offline``, ...
    state: str | None
    #: SCSI peripheral type: 0 a disk, 12 a storage array controller.
    scsi_type: int | None
    #: The kernel's ``wwid`` as it reads (``naa.6001405...``).
    wwid: str | None
    #: The WWN as udev's ``scsi_id`` and os-brick spell it (``36001405...``).
    scsi_wwn: str | None
    size: int | None
    holders: tuple[Holder, ...] = ()

    @property
    def is_disk(self) -> bool:
        return self.scsi_type == 0


class ScanTriple(typing.NamedTuple):
    """What to write to ``class/scsi_host/hostH/scan`` for one LUN.

    ``target`` None is the wildcard ``-``: the kernel then scans the LUN
    on every session of the host, which is exact only for transports with
    one session per host (``tcp``, ``iser``).
    """

    channel: int
    target: int | None
    lun: int

    def __str__(self) -> str:
        target = "-" if self.target is None else str(self.target)
        return "%d %s %d" % (self.channel, target, self.lun)


# -- values ---------------------------------------------------------------


def normalise_address(text: str) -> str:
    """One spelling per address: no brackets, IPv6 compressed, an
    IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) as IPv4, host names in
    lower case.  Kernels print IPv6 addresses in full (``%pI6``), iscsiadm
    in brackets, cinder either way."""
    value = text.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value.lower()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def parse_portal(text: str, default_port: int = 3260) -> Portal:
    """``10.0.0.1:3260``, ``[::1]:3260``, ``::1``, ``host`` -> Portal.

    The one portal parser (:func:`iscsi_transports.portal.parse_portal`)
    reads it; the address is then spelt as sysfs values are compared
    (:func:`normalise_address`).  Raises
    :class:`~iscsi_transports.exception.InvalidPortal`.
    """
    parsed = portal_mod.parse_portal(text, default_port)
    return Portal(normalise_address(parsed.host), parsed.port)


def _port(text: str | None) -> int | None:
    if not text or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < 65536 else None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def kernel_lun(lun: int, addressing_mode: str | None = None) -> int:
    """The LUN number the kernel uses in ``H:C:T:L`` for cinder's ``lun``.

    As os-brick's ``LinuxSCSI.lun_for_addressing``: ``SAM`` (the default)
    and ``transparent`` take the number as it is; ``SAM2`` uses flat space
    addressing from LUN 256 on, ``SAM3-flat`` for every LUN, which the
    kernel numbers 16384 + LUN.  A LUN flat addressing cannot hold
    (above 16383) is refused rather than silently wrapped.
    """
    mode = addressing_mode or SAM
    if mode not in ADDRESSING_MODES:
        raise exception.InvalidConnectionProperties(
            reason="addressing_mode %r is not one of %s"
            % (addressing_mode, ", ".join(ADDRESSING_MODES)))
    if isinstance(lun, bool) or not isinstance(lun, int) or \
            not 0 <= lun <= _LUN_MAX:
        raise exception.InvalidConnectionProperties(
            reason="LUN %r is not a valid LUN" % (lun,))
    if mode == SAM3_FLAT or (mode == SAM2 and lun >= 256):
        if lun > _FLAT_MAX:
            raise exception.InvalidConnectionProperties(
                reason="LUN %d does not fit flat space addressing "
                       "(addressing_mode %s)" % (lun, mode))
        return _FLAT_SPACE + lun
    return lun


def udev_lun(lun: int) -> str:
    """The LUN part of udev's by-path name for kernel LUN ``lun``.

    ``lun-N`` below 256; above, udev's ``path_id`` writes the first eight
    bytes of the SCSI LUN back in hex (``lun-0x012c000000000000`` for 300).
    """
    if lun < 256:
        return "lun-%d" % lun
    return "lun-0x%04x%04x00000000" % (lun & 0xFFFF, (lun >> 16) & 0xFFFF)


def by_path_name(session: Session, lun: int) -> str | None:
    """The ``/dev/disk/by-path`` name udev gives kernel LUN ``lun`` of
    ``session`` (``path_id``'s ``handle_scsi_iscsi``), None if udev makes
    none (no persistent portal).  Only a candidate: callers check that
    the link exists and points at the disk."""
    if session.persistent is None:
        return None
    name = "ip-%s-iscsi-%s-%s" % (session.persistent, session.target,
                                  udev_lun(lun))
    if session.pci_address:
        name = "pci-%s-%s" % (session.pci_address, name)
    return name


def scan_triple(session: Session, lun: int,
                addressing_mode: str | None = None) -> ScanTriple:
    """What to write to the session's host ``scan`` file for cinder's
    ``lun``: iSCSI uses channel 0, the session's target id, the kernel
    LUN (see :func:`kernel_lun`)."""
    return ScanTriple(0, session.target_id, kernel_lun(lun, addressing_mode))


def scsi_wwn_from_wwid(wwid: str | None) -> str | None:
    """The kernel's ``wwid`` the way udev's ``scsi_id`` and os-brick spell
    it: the designator type's digit for the ``naa.``/``eui.``/``t10.``
    prefix (``naa.6001405...`` -> ``36001405...``); other designators
    get ``8`` in place of the prefix, as os-brick does."""
    if not wwid:
        return None
    return _WWID_TYPES.get(wwid[:4], "8") + wwid[4:]


def scsi_wwn_from_vpd83(page: bytes, vendor: bytes = b"",
                        model: bytes = b"") -> str | None:
    """The WWN from raw VPD page 0x83, as udev's ``scsi_id --page 0x83``.

    The descriptors of the logical unit are searched in scsi_id's order
    (NAA IEEE registered extended, registered, other NAA, EUI-64, T10
    vendor id, vendor specific; binary before ASCII); the result is the
    type's digit and the identifier, binary ones in lower-case hex.  A
    SCSI-2 style page (byte 6 not zero, old EMC arrays) is one NAA id.
    ``vendor``/``model`` (standard INQUIRY, 8 and 16 bytes) prefix a
    vendor-specific id.  None if the page holds no usable id.
    """
    if len(page) < 8 or page[1] != 0x83:
        return None
    if page[6] != 0:
        return "3" + page[4:4 + page[3]].hex()
    end = min(len(page), 4 + ((page[2] << 8) | page[3]))
    descriptors = []
    offset = 4
    while offset + 4 <= end:
        length = page[offset + 3]
        descriptors.append(page[offset:offset + 4 + length])
        offset += 4 + length
    for wanted in _VPD83_ORDER:
        for descriptor in descriptors:
            wwn = _vpd83_id(descriptor, wanted, vendor + model)
            if wwn:
                return wwn
    return None


def _vpd83_id(descriptor: bytes, wanted: tuple[int, int | None, int],
              vendor_model: bytes) -> str | None:
    kind, naa, code = wanted
    if len(descriptor) < 5 or len(descriptor) < 4 + descriptor[3]:
        return None
    if descriptor[1] & 0x30 or descriptor[1] & 0x0F != kind or \
            descriptor[0] & 0x0F != code:
        return None
    if naa is not None and descriptor[4] >> 4 != naa:
        return None
    value = descriptor[4:4 + descriptor[3]]
    text = value.decode("ascii", "replace") if code == _ASCII \
        else value.hex()
    if kind == 0:
        if len(vendor_model) != _VENDOR_LENGTH + _MODEL_LENGTH:
            return None
        text = vendor_model.decode("ascii", "replace") + text
    return "%x%s" % (kind, text)


# -- the view -------------------------------------------------------------


def _read_bytes(path: str, size: int = 4096) -> bytes | None:
    try:
        with open(path, "rb", buffering=0) as handle:
            return handle.read(size)
    except OSError:
        return None


def _read(path: str) -> str | None:
    raw = _read_bytes(path)
    if raw is None:
        return None
    value = raw.decode("utf-8", "replace").strip().strip("\0").strip()
    return None if value in _UNSET else value


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _session_parts(resolved: str, name: str) -> tuple[str, int] | None:
    """The session device and SCSI host number in a resolved class path
    (``devices/.../host3/session1/iscsi_session/session1``)."""
    parts = resolved.split(os.sep)
    for index in range(len(parts) - 1, 0, -1):
        if parts[index] == name:
            match = _HOST_RE.match(parts[index - 1])
            if match:
                return os.sep.join(parts[:index + 1]), int(match.group(1))
    return None


class Sysfs:
    """Sessions and disks read from ``sysfs_root``; links from ``dev_root``.

    Every call reads the kernel afresh: a snapshot taken under a lock is
    a new call under that lock.
    """

    def __init__(self, sysfs_root: str = "/sys",
                 dev_root: str = "/dev") -> None:
        self.sysfs_root = sysfs_root
        self.dev_root = dev_root

    def _path(self, *parts: str) -> str:
        return os.path.join(self.sysfs_root, *parts)

    # -- sessions ------------------------------------------------------------

    def sessions(self, target: str | None = None) -> tuple[Session, ...]:
        """Every usable session (only those to ``target`` if given), by
        sid; odd ones are logged and skipped.

        A session still logging in has no target name yet (iscsid sets
        it with the other parameters when login completes) and is
        skipped too: callers hold the per-target lock, and iscsiadm says
        when a login finds the session already there.
        """
        found = []
        for name in _listdir(self._path("class", "iscsi_session")):
            session = self.session(name, target)
            if session is not None:
                found.append(session)
        return tuple(sorted(found, key=lambda session: session.sid))

    def session(self, name: str | int,
                target: str | None = None) -> Session | None:
        """``sessionN`` (or sid N); None if absent, unusable or (with
        ``target``) to another target, which is then not read further."""
        if isinstance(name, int):
            name = "session%d" % name
        match = _SESSION_RE.match(name)
        if not match:
            return None
        sid = int(match.group(1))
        base = self._path("class", "iscsi_session", name)
        found_target = _read(os.path.join(base, "targetname"))
        if target is not None and found_target != target:
            return None
        located = _session_parts(os.path.realpath(base), name)
        portal, persistent = self._portal(sid)
        if located is None or found_target is None or portal is None:
            LOG.debug("Skipping iSCSI %s: no %s", name,
                      "target name" if found_target is None else
                      "SCSI host" if located is None else "portal")
            return None
        device, host_no = located
        return Session(
            sid=sid, target=found_target, portal=portal, host=host_no,
            tpgt=_int(_read(os.path.join(base, "tpgt"))),
            iface=_read(os.path.join(base, "ifacename")),
            initiator=(_read(os.path.join(base, "initiatorname")) or
                       self._host_attr(host_no, "iscsi_host",
                                       "initiatorname")),
            transport=self._transport(host_no),
            state=_read(os.path.join(base, "state")),
            recovery_tmo=_int(_read(os.path.join(base, "recovery_tmo"))),
            target_id=self._target_id(base, device),
            pci_address=host_view.pci_address_of(os.path.dirname(device)),
            persistent=persistent)

    def _portal(self, sid: int) -> tuple[Portal | None, str | None]:
        base = self._path("class", "iscsi_connection", "connection%d:0" % sid)
        raw_address = _read(os.path.join(base, "persistent_address"))
        raw_port = _read(os.path.join(base, "persistent_port"))
        address = raw_address or _read(os.path.join(base, "address"))
        port = _port(raw_port) or _port(_read(os.path.join(base, "port")))
        if not address or port is None:
            return None, None
        persistent = None
        if raw_address and _port(raw_port):
            persistent = "%s:%s" % (raw_address, raw_port)
        return Portal(normalise_address(address), port), persistent

    def _host_attr(self, host_no: int, klass: str, attr: str) -> str | None:
        return _read(self._path("class", klass, "host%d" % host_no, attr))

    def host_initiator(self, host: str | int) -> str | None:
        """The initiator name an iSCSI host (``host5`` or 5) logs in with:
        an offload card port's own, None where the host has none."""
        name = host if isinstance(host, str) else "host%d" % host
        if not _HOST_RE.match(name):
            return None
        return _read(self._path("class", "iscsi_host", name,
                                "initiatorname"))

    def _transport(self, host_no: int) -> str | None:
        """open-iscsi's transport name from the host's driver: modules
        ``iscsi_tcp``/``iscsi_iser`` register ``tcp``/``iser``."""
        proc_name = self._host_attr(host_no, "scsi_host", "proc_name")
        if proc_name and proc_name.startswith("iscsi_"):
            return proc_name[len("iscsi_"):]
        return proc_name

    @staticmethod
    def _target_id(base: str, device: str) -> int | None:
        target_id = _int(_read(os.path.join(base, "target_id")))
        if target_id is not None and target_id >= 0:
            return target_id
        for entry in _listdir(device):
            match = _TARGET_RE.match(entry)
            if match:
                return int(match.group(3))
        return None

    def matching_sessions(self, target: str, portal: str | Portal,
                          iface: str) -> list[Session]:
        """Sessions to exactly ``target`` at ``portal`` through ``iface``.

        All three must match: a session of the same target on another
        iface (or another portal of it) belongs to someone else.  The
        target name is compared as given (iSCSI names are normalised to
        lower case by whoever made them); portals are compared
        normalised.  Raises InvalidPortal for a malformed ``portal``.
        """
        return matching(self.sessions(target), portal, iface)

    # -- disks -----------------------------------------------------------

    def disks(self, session: Session | int) -> tuple[Disk, ...]:
        """The SCSI devices of one session, by LUN."""
        sid = session if isinstance(session, int) else session.sid
        name = "session%d" % sid
        located = _session_parts(os.path.realpath(
            self._path("class", "iscsi_session", name)), name)
        if located is None:
            return ()
        return self._disks_under(located[0], sid)

    def host_disks(self, host_no: int) -> tuple[Disk, ...]:
        """The SCSI devices of every session on SCSI host ``host_no``."""
        device = os.path.dirname(os.path.dirname(os.path.realpath(
            self._path("class", "scsi_host", "host%d" % host_no))))
        disks: list[Disk] = []
        for entry in _listdir(device):
            match = _SESSION_RE.match(entry)
            if match:
                disks += self._disks_under(os.path.join(device, entry),
                                           int(match.group(1)))
        return tuple(disks)

    def _disks_under(self, session_dir: str, sid: int) -> tuple[Disk, ...]:
        disks = []
        for target in _listdir(session_dir):
            if not _TARGET_RE.match(target):
                continue
            for entry in _listdir(os.path.join(session_dir, target)):
                hctl = Hctl.parse(entry)
                if hctl is not None:
                    disks.append(self._disk_at(
                        os.path.join(session_dir, target, entry), hctl, sid))
        return tuple(sorted(disks, key=lambda disk: disk.hctl))

    def disk(self, name: str) -> Disk | None:
        """The SCSI device behind block device ``name`` (``sdb``)."""
        if not name or os.sep in name or name.startswith("."):
            return None
        device = os.path.realpath(self._path("block", name, "device"))
        hctl = Hctl.parse(os.path.basename(device))
        if hctl is None or not os.path.isdir(device):
            return None
        session = _SESSION_RE.match(os.path.basename(os.path.dirname(
            os.path.dirname(device))))
        return self._disk_at(device, hctl,
                             int(session.group(1)) if session else None)

    def _disk_at(self, device: str, hctl: Hctl, sid: int | None) -> Disk:
        blocks = _listdir(os.path.join(device, "block"))
        name = blocks[0] if blocks else None
        block = os.path.join(device, "block", name or "")
        wwid = _read(os.path.join(device, "wwid"))
        sectors = _int(_read(os.path.join(block, "size"))) if name else None
        return Disk(
            hctl=hctl, sid=sid, name=name,
            state=_read(os.path.join(device, "state")),
            scsi_type=_int(_read(os.path.join(device, "type"))),
            wwid=wwid,
            scsi_wwn=scsi_wwn_from_wwid(wwid) or self._vpd_wwn(device),
            size=sectors * _SECTOR if sectors is not None else None,
            holders=self._holders(block) if name else ())

    @staticmethod
    def _vpd_wwn(device: str) -> str | None:
        page = _read_bytes(os.path.join(device, "vpd_pg83"), 65536)
        if not page:
            return None
        # The kernel prints vendor and model padded ("%.8s"): keep the
        # padding, scsi_id uses the raw INQUIRY fields.
        vendor = (_read_bytes(os.path.join(device, "vendor")) or b"")
        model = (_read_bytes(os.path.join(device, "model")) or b"")
        return scsi_wwn_from_vpd83(page, vendor.rstrip(b"\n"),
                                   model.rstrip(b"\n"))

    @classmethod
    def _holders(cls, block: str) -> tuple[Holder, ...]:
        holders = os.path.join(block, "holders")
        return tuple(cls._holder(os.path.join(holders, name), name)
                     for name in _listdir(holders))

    @staticmethod
    def _holder(path: str, name: str) -> Holder:
        return Holder(name, _read(os.path.join(path, "dm", "name")),
                      _read(os.path.join(path, "dm", "uuid")),
                      tuple(_listdir(os.path.join(path, "slaves"))))

    def block_size(self, name: str) -> int | None:
        """Bytes of block device ``name`` (a disk or a map), None if it is
        not there."""
        sectors = _int(_read(self._path("block", name, "size")))
        return sectors * _SECTOR if sectors is not None else None

    def multipath_map(self, wwid: str,
                      paths: typing.Sequence[str] = ()) -> Holder | None:
        """The device-mapper map multipathd made for ``wwid`` (the
        disk's ``scsi_wwn``): its ``dm/uuid`` is ``mpath-<wwid>``.

        With ``paths`` (disks the map is expected to hold) only their
        ``holders/`` are read, one directory each: what a wait polls.
        Without, every ``dm-N`` of the host is read.
        """
        if paths:
            for path in paths:
                if not path or os.sep in path or path.startswith("."):
                    continue
                holders = self._path("block", path, "holders")
                for name in _listdir(holders):
                    holder = self._holder(os.path.join(holders, name), name)
                    if holder.multipath_wwid == wwid:
                        return holder
            return None
        for name in _listdir(self._path("block")):
            if name.startswith("dm-"):
                holder = self._holder(self._path("block", name), name)
                if holder.multipath_wwid == wwid:
                    return holder
        return None

    def maps(self) -> tuple[Holder, ...]:
        """Every device-mapper device of the host (``block/dm-N``) with
        its ``slaves``, by name."""
        return tuple(self._holder(self._path("block", name), name)
                     for name in _listdir(self._path("block"))
                     if name.startswith("dm-"))

    def holders(self, name: str) -> tuple[Holder, ...]:
        """What is stacked on block device ``name`` (a disk or a map):
        its ``holders/``."""
        if not name or os.sep in name or name.startswith("."):
            return ()
        return self._holders(self._path("block", name))

    def block_devno(self, name: str) -> tuple[int, int] | None:
        """(major, minor) of block device ``name`` (its ``dev``), which
        mount tables and ``stat`` name it by; None if it is not there."""
        if not name or os.sep in name or name.startswith("."):
            return None
        major, _colon, minor = (_read(self._path("block", name, "dev"))
                                or "").partition(":")
        number, second = _int(major), _int(minor)
        return None if number is None or second is None \
            else (number, second)

    def find_disks(self, target: str, portal: str | Portal, iface: str,
                   lun: int, addressing_mode: str | None = None
                   ) -> list[Disk]:
        """The disks of cinder's ``lun`` on the sessions that
        :meth:`matching_sessions` finds (target, portal and iface)."""
        number = kernel_lun(lun, addressing_mode)
        return [disk for session in self.matching_sessions(target, portal,
                                                           iface)
                for disk in self.disks(session) if disk.hctl.lun == number]

    # The files below are written by root, elsewhere (privileged/): this
    # module only says where they are.

    def scan_path(self, session: Session) -> str:
        """The ``scan`` file of the session's SCSI host, for
        :func:`scan_triple`."""
        return self._path("class", "scsi_host", "host%d" % session.host,
                          "scan")

    def rescan_path(self, disk: Disk) -> str:
        """The disk's ``rescan`` file (``1``: re-read its size)."""
        return self._path("class", "scsi_device", str(disk.hctl), "device",
                          "rescan")

    def delete_path(self, disk: Disk) -> str:
        """The disk's ``delete`` file (``1``: remove it from the host)."""
        return self._path("class", "scsi_device", str(disk.hctl), "device",
                          "delete")

    # -- stable paths --------------------------------------------------------

    def stable_links(self, name: str) -> list[str]:
        """Every udev link to block device ``name`` (``sdb``, ``dm-0``),
        best first.

        The order: ``disk/by-path`` names of iSCSI paths (``...-iscsi-...``,
        one per path, so they always name this very disk), other by-path
        names, then ``disk/by-id``: ``dm-uuid-`` (a multipath map's
        ``dm-uuid-mpath-<wwid>``), ``wwn-``, ``scsi-``, the rest.  A
        by-id name is shared by every path of a LUN and points at the
        last path udev saw (or at the map), so it is listed only while it
        points here.  Each group is in name order.
        """
        disk = os.path.normpath(os.path.join(self.dev_root, name))
        links = []
        for folder in ("by-path", "by-id"):
            directory = os.path.join(self.dev_root, "disk", folder)
            links += [os.path.join(directory, entry)
                      for entry in _listdir(directory)
                      if self._points_at(os.path.join(directory, entry),
                                         disk)]
        return sorted(links, key=_link_rank)

    @staticmethod
    def _points_at(link: str, disk: str) -> bool:
        try:
            text = os.readlink(link)
        except OSError:
            return False
        return os.path.normpath(os.path.join(os.path.dirname(link),
                                             text)) == disk

    def stable_path(self, name: str, session: Session | None = None,
                    lun: int | None = None) -> str:
        """The path to hand out for block device ``name``.

        With the disk's ``session`` and kernel ``lun``, udev's own by-path
        name is tried first (one readlink); otherwise, or if udev named it
        differently, the first of :meth:`stable_links`; failing all, the
        disk itself (``/dev/sdX``).
        """
        if session is not None and lun is not None:
            link = self.udev_by_path(name, session, lun)
            if link is not None:
                return link
        links = self.stable_links(name)
        return links[0] if links else os.path.normpath(
            os.path.join(self.dev_root, name))

    def udev_by_path(self, name: str, session: Session,
                     lun: int) -> str | None:
        """udev's by-path link of kernel LUN ``lun`` on ``session``, if it
        exists and resolves to block device ``name`` (one readlink)."""
        expected = by_path_name(session, lun)
        if not expected:
            return None
        link = os.path.join(self.dev_root, "disk", "by-path", expected)
        disk = os.path.normpath(os.path.join(self.dev_root, name))
        return link if self._points_at(link, disk) else None


def matching(sessions: typing.Iterable[Session], portal: str | Portal,
             iface: str) -> list[Session]:
    """Those of ``sessions`` (all to one target) at ``portal`` through
    ``iface``; see :meth:`Sysfs.matching_sessions`."""
    wanted = portal if isinstance(portal, Portal) else parse_portal(portal)
    return [session for session in sessions
            if session.portal == wanted and session.iface == iface]


def _link_rank(link: str) -> tuple[int, str]:
    folder, entry = os.path.basename(os.path.dirname(link)), \
        os.path.basename(link)
    if folder == "by-path":
        return (0 if "-iscsi-" in entry else 1), entry
    for rank, prefix in ((2, "dm-uuid-"), (3, "wwn-"), (4, "scsi-")):
        if entry.startswith(prefix):
            return rank, entry
    return 5, entry
