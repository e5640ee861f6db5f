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

"""Builds iSCSI sessions, SCSI disks and dm maps as the kernel lays them out.

On top of :class:`iscsi_transports.fixture.SysfsTree`: a session is a
device under its SCSI host (``devices/platform/hostH/sessionN`` for
iscsi_tcp, under the PCI function for offload HBAs) with its
``iscsi_session`` class directory and a ``connectionN:0`` child; disks are
``targetH:0:T/H:0:T:L`` below it with ``block/sdX``; ``class/...`` and
``block/`` hold relative symlinks into ``devices/`` as on a real
``/sys``.  udev's ``/dev`` links are made only as a test spells them, so
a test states the names udev writes instead of computing them with the
code under test.
"""

from __future__ import annotations

import dataclasses
import os

from iscsi_transports import fixture

#: Attribute values of a session, connection or disk; None: not written
#: (the driver or kernel does not export it).
Attrs = dict[str, "str | bytes | None"]


@dataclasses.dataclass(frozen=True)
class BuiltSession:
    sid: int
    host: int
    #: The session device, relative to the sysfs root.
    device: str
    target_id: int


class IscsiTree:
    """Adds iSCSI kernel objects to ``tree`` and udev links under
    ``dev_root``."""

    def __init__(self, tree: fixture.SysfsTree, dev_root: str) -> None:
        self.tree = tree
        self.root = tree.root
        self.dev_root = dev_root
        self.sessions: dict[int, BuiltSession] = {}

    # -- files -------------------------------------------------------------

    def write(self, relpath: str, value: str | bytes) -> None:
        path = os.path.join(self.root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = value if isinstance(value, bytes) else (value + "\n").encode()
        with open(path, "wb") as handle:
            handle.write(data)

    def link(self, relpath: str, target_relpath: str) -> None:
        path = os.path.join(self.root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(os.path.relpath(os.path.join(self.root, target_relpath),
                                   os.path.dirname(path)), path)

    def _attrs(self, directory: str, attrs: Attrs) -> None:
        for name, value in attrs.items():
            if value is not None:
                self.write("%s/%s" % (directory, name), value)

    # -- hosts and sessions --------------------------------------------------

    def _host_device(self, number: int) -> str:
        resolved = os.path.realpath(os.path.join(
            self.root, "class/scsi_host/host%d" % number))
        return os.path.relpath(os.path.dirname(os.path.dirname(resolved)),
                               self.root)

    def add_software_host(self, number: int,
                          proc_name: str = "iscsi_tcp",
                          parent: str = "devices/platform") -> None:
        """``hostN`` as iscsi_tcp (or iscsi_iser with ``proc_name``) makes
        one for each session."""
        dev = "%s/host%d" % (parent, number)
        name = "host%d" % number
        self.write("%s/scsi_host/%s/proc_name" % (dev, name), proc_name)
        self.write("%s/scsi_host/%s/scan" % (dev, name), "")
        self.write("%s/iscsi_host/%s/initiatorname" % (dev, name), "<NULL>")
        self.link("class/scsi_host/" + name, "%s/scsi_host/%s" % (dev, name))
        self.link("class/iscsi_host/" + name,
                  "%s/iscsi_host/%s" % (dev, name))

    def add_session(self, sid: int, target: str,
                    address: str | None = "10.0.0.1",
                    port: str | None = "3260", iface: str | None = "default",
                    host: int | None = None, proc_name: str = "iscsi_tcp",
                    target_id: int = 0, session_attrs: Attrs | None = None,
                    connection_attrs: Attrs | None = None) -> BuiltSession:
        """Session ``sid`` to ``target`` at ``address``:``port``.

        Without ``host`` a software host (number ``sid + 10``) is made for
        it, as iscsi_tcp does; with it, the session goes under that
        existing host (an offload port).  ``*_attrs`` add or override
        attributes (None: not exported).
        """
        if host is None:
            host = sid + 10
            self.add_software_host(host, proc_name)
        device = "%s/session%d" % (self._host_device(host), sid)
        name = "session%d" % sid
        klass = "%s/iscsi_session/%s" % (device, name)
        self._attrs(klass, {
            "targetname": target, "tpgt": "1", "ifacename": iface,
            "initiatorname": "iqn.1994-05.com.redhat:compute",
            "state": "LOGGED_IN", "recovery_tmo": "120",
            "target_id": str(target_id), **(session_attrs or {})})
        self.link("class/iscsi_session/" + name, klass)
        self.link(klass + "/device", device)
        connection = "connection%d:0" % sid
        conn_klass = "%s/%s/iscsi_connection/%s" % (device, connection,
                                                    connection)
        self._attrs(conn_klass, {
            "persistent_address": address, "persistent_port": port,
            "address": address, "port": port, **(connection_attrs or {})})
        self.link("class/iscsi_connection/" + connection, conn_klass)
        built = BuiltSession(sid, host, device, target_id)
        self.sessions[sid] = built
        return built

    # -- disks and maps ------------------------------------------------------

    def add_disk(self, sid: int, lun: int, name: str | None = "sdb",
                 attrs: Attrs | None = None, sectors: int = 2097152,
                 holders: tuple[str, ...] = (),
                 links: tuple[str, ...] = ()) -> str:
        """LUN ``lun`` (kernel numbering) of session ``sid`` as block
        device ``name`` (None: no block device yet).  ``links`` are paths
        under ``dev_root`` (``disk/by-path/ip-...``) udev made for it.
        Returns the SCSI device's directory relative to the root."""
        session = self.sessions[sid]
        hctl = "%d:0:%d:%d" % (session.host, session.target_id, lun)
        target = "%s/target%d:0:%d" % (session.device, session.host,
                                       session.target_id)
        device = "%s/%s" % (target, hctl)
        self._attrs(device, {"state": "running", "type": "0",
                             "wwid": "naa.6001405%025x" % lun,
                             "vendor": "LIO-ORG ",
                             "model": "disk%-12d" % lun, "delete": "",
                             "rescan": "", **(attrs or {})})
        self.link("%s/scsi_device/%s/device" % (device, hctl), device)
        self.link("class/scsi_device/" + hctl,
                  "%s/scsi_device/%s" % (device, hctl))
        if name is not None:
            self._add_block(device, name, sectors, holders, links)
        return device

    def _add_block(self, device: str, name: str, sectors: int,
                   holders: tuple[str, ...], links: tuple[str, ...]) -> None:
        block = "%s/block/%s" % (device, name)
        self.write(block + "/size", str(sectors))
        self.write(block + "/dev", disk_number(name))
        os.makedirs(os.path.join(self.root, block, "holders"), exist_ok=True)
        self.link(block + "/device", device)
        self.link("block/" + name, block)
        self.link("class/block/" + name, block)
        for holder in holders:
            self.link("%s/holders/%s" % (block, holder),
                      "devices/virtual/block/" + holder)
            self.link("devices/virtual/block/%s/slaves/%s" % (holder, name),
                      block)
        self.add_dev(name, links)

    def add_dm(self, name: str, dm_name: str | None, uuid: str | None,
               links: tuple[str, ...] = ()) -> None:
        """A device-mapper device (``dm-0``) with ``dm/name`` and
        ``dm/uuid`` (multipathd: ``mpath-<wwid>``); disks added later
        with it in ``holders`` become its ``slaves``."""
        dev = "devices/virtual/block/" + name
        self._attrs(dev + "/dm", {"name": dm_name, "uuid": uuid})
        self.write(dev + "/size", "2097152")
        self.write(dev + "/dev", "253:%s" % name[len("dm-"):])
        os.makedirs(os.path.join(self.root, dev, "slaves"), exist_ok=True)
        self.link("block/" + name, dev)
        self.link("class/block/" + name, dev)
        self.add_dev(name, links)

    def add_local_disk(self, name: str, host: int = 0) -> None:
        """A disk that is no iSCSI LUN: ``name`` on a virtio-scsi
        controller's host ``host``, as QEMU's ``scsi-hd`` appears."""
        device = ("devices/pci0000:00/0000:00:05.0/virtio1/host%d/"
                  "target%d:0:0/%d:0:0:0" % (host, host, host))
        self.write(device + "/delete", "")
        self.write(device + "/rescan", "")
        scsi_host = "devices/pci0000:00/0000:00:05.0/virtio1/host%d" % host
        self.write("%s/scsi_host/host%d/scan" % (scsi_host, host), "")
        self.link("class/scsi_host/host%d" % host,
                  "%s/scsi_host/host%d" % (scsi_host, host))
        self._add_block(device, name, 2097152, (), ())

    def add_partition(self, disk: str, number: int) -> str:
        """Partition ``number`` of ``disk`` (``sdb1``); its name."""
        name = "%s%d" % (disk, number)
        block = os.path.relpath(os.path.realpath(os.path.join(
            self.root, "block", disk)), self.root)
        part = "%s/%s" % (block, name)
        self.write(part + "/partition", str(number))
        major, minor = disk_number(disk).split(":")
        self.write(part + "/dev", "%s:%d" % (major, int(minor) + number))
        os.makedirs(os.path.join(self.root, part, "holders"), exist_ok=True)
        self.link("class/block/" + name, part)
        self.add_dev(name)
        return name

    def stack(self, holder: str, disk: str) -> None:
        """Put device-mapper device ``holder`` on block device ``disk``
        as the kernel links it: ``holder``'s ``slaves/<disk>`` and
        ``disk``'s ``holders/<holder>``."""
        block = os.path.relpath(os.path.realpath(os.path.join(
            self.root, "block", disk)), self.root)
        self.link("devices/virtual/block/%s/slaves/%s" % (holder, disk),
                  block)
        self.link("%s/holders/%s" % (block, holder),
                  "devices/virtual/block/" + holder)

    def add_dev(self, name: str, links: tuple[str, ...] = ()) -> None:
        """``/dev/<name>`` and udev's relative ``links`` to it."""
        os.makedirs(self.dev_root, exist_ok=True)
        with open(os.path.join(self.dev_root, name), "w", encoding="ascii"):
            pass
        for link in links:
            path = os.path.join(self.dev_root, link)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.symlink(os.path.relpath(os.path.join(self.dev_root, name),
                                       os.path.dirname(path)), path)

    def remove(self, relpath: str) -> None:
        """Take a file or link away, as a half-removed object looks."""
        os.unlink(os.path.join(self.root, relpath))


def disk_number(name: str) -> str:
    """``major:minor`` the sd driver gives disk ``name`` (``sdb`` is
    ``8:16``; past ``sdp`` the kernel uses other majors, which no test
    needs)."""
    index = 0
    for letter in name[len("sd"):]:
        index = index * 26 + ord(letter) - ord("a") + 1
    return "8:%d" % ((index - 1) * 16)
