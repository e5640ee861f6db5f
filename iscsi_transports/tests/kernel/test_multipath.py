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

"""dm-multipath on the real kernel: the map of a LUN behind two portals.

One LIO LUN is served on 127.0.0.1:3260 and 127.0.0.2:3260 (one portal
group, two network portals); the test logs in to both with plain iscsiadm
(node records carrying the library's multipath settings), and multipathd
(started by :meth:`machine.Machine.start_multipathd`, ``find_multipaths
strict``) runs in the VM.  Then the library's
:class:`~iscsi_transports.attach.multipath.Multipath`, not the driver:
the wait returns the map with both paths under the WWID udev reads; an
O_DIRECT writer on the map keeps going while nftables cuts one path and
while it comes back; the flush removes the map and leaves the disks, which
the root executor then deletes without the map coming back; an open map
is never flushed; doctor reports the daemon and LIO's settings.
"""

from __future__ import annotations

import glob
import json
import mmap
import os
import struct
import subprocess
import threading

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine

SECOND_IP = "127.0.0.2"
_NFT_TABLE = "klabmp"
_CUT = """table inet %s {
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr %s tcp dport 3260 drop
        ip saddr %s tcp sport 3260 drop
    }
}
""" % (_NFT_TABLE, SECOND_IP, SECOND_IP)


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read().strip()


def udev_serial(disk: str) -> str:
    """The WWID multipath keys maps by: udev's ``ID_SERIAL`` of the disk
    (``uid_attribute``), read from udev, not from the library."""
    output = machine.run("udevadm", "info", "--query=property",
                         "--name=/dev/" + disk)
    for line in output.splitlines():
        if line.startswith("ID_SERIAL="):
            return line.split("=", 1)[1]
    raise AssertionError("udev has no ID_SERIAL for %s" % disk)


def disk_portal_ip(disk: str) -> str:
    """The address of the connection whose session has ``disk``."""
    device = os.path.realpath("/sys/block/%s/device" % disk)
    session = next(part for part in device.split(os.sep)
                   if part.startswith("session"))
    return _read("/sys/class/iscsi_connection/connection%s:0/"
                 "persistent_address" % session[len("session"):])


def dm_uuids() -> dict[str, str]:
    """Every device-mapper device the kernel has: name -> dm uuid."""
    return {os.path.basename(os.path.dirname(os.path.dirname(path))):
            _read(path) for path in glob.glob("/sys/block/dm-*/dm/uuid")}


def path_states(disk: str) -> str:
    """multipathd's view of one path: dm state and checker state."""
    output = machine.run("multipathd", "show", "paths", "format",
                         "%d %t %T")
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == disk:
            return " ".join(fields[1:])
    return "absent"


class Writer(threading.Thread):
    """O_DIRECT writes to a device in a loop over 8 MiB, each 64 KiB
    block stamped with the write's sequence number; every error kept."""

    BLOCK = 64 << 10
    BLOCKS = 128

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.count = 0
        self.errors: list[str] = []
        self.last: dict[int, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        buffer = mmap.mmap(-1, self.BLOCK)
        fd = os.open(self.path, os.O_WRONLY | os.O_DIRECT)
        try:
            sequence = 0
            while not self.done.is_set():
                block = sequence % self.BLOCKS
                buffer.seek(0)
                buffer.write(struct.pack("<Q", sequence) * (self.BLOCK // 8))
                try:
                    os.pwrite(fd, buffer, block * self.BLOCK)
                except OSError as error:
                    self.errors.append("write %d: %s" % (sequence, error))
                else:
                    self.last[block] = sequence
                    self.count += 1
                sequence += 1
        finally:
            os.close(fd)

    def wait_for_more(self, writes: int, what: str) -> None:
        target = self.count + writes
        machine.wait_for(lambda: self.count >= target or
                         not self.is_alive(), what, 120)

    def stop(self) -> None:
        self.done.set()
        self.join(120)

    def mismatches(self) -> list[int]:
        """Blocks whose content is not their last successful write."""
        buffer = mmap.mmap(-1, self.BLOCK)
        bad = []
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECT)
        try:
            for block, sequence in sorted(self.last.items()):
                os.preadv(fd, [buffer], block * self.BLOCK)
                if bytes(buffer[:8]) != struct.pack("<Q", sequence):
                    bad.append(block)
        finally:
            os.close(fd)
        return bad


def cut_and_restore(case: base.KernelTestCase, path: str, cut: str) -> None:
    """An O_DIRECT writer on map ``path`` while the second portal's packets
    (path disk ``cut``) are dropped and let through again: no write
    error, the data reads back, and ``cut`` is back in the map.  Shared
    by the map, driver and nova scenarios."""
    writer = Writer(path)
    writer.start()
    case.addCleanup(writer.stop)
    writer.wait_for_more(10, "writes on the map")
    subprocess.run(["nft", "-f", "-"], input=_CUT, text=True,
                   check=True, capture_output=True, timeout=60)
    case.addCleanup(subprocess.run, ["nft", "delete", "table", "inet",
                                     _NFT_TABLE], capture_output=True)
    machine.wait_for(lambda: path_states(cut).startswith("failed"),
                     "multipathd to fail %s" % cut, 120)
    writer.wait_for_more(10, "writes with one path")
    machine.run("nft", "delete", "table", "inet", _NFT_TABLE)
    machine.wait_for(lambda: path_states(cut) == "active ready",
                     "%s back in the map" % cut, 120)
    writer.wait_for_more(10, "writes with both paths back")
    writer.stop()
    case.assertEqual([], writer.errors)
    case.assertFalse(writer.is_alive())
    case.assertEqual([], writer.mismatches())


def drop_maps_of(iqn: str) -> None:
    """Clean-up after a failed test: the maps holding ``iqn``'s disks
    only."""
    ours = set(machine.disks(iqn))
    for name in dm_uuids():
        slaves = set(os.listdir("/sys/block/%s/slaves" % name))
        if slaves & ours:
            subprocess.run(["multipath", "-f", name],
                           capture_output=True, timeout=120)


class MultipathTestCase(base.KernelTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.machine.start_multipathd()
        self.flags(multipath_replacement_timeout=5, multipath_map_wait=90,
                   multipath_path_wait=30, multipath_flush_attempts=2,
                   multipath_flush_interval=0.5)
        self.target = self.lio(label="mpath", portal_ip="127.0.0.1",
                               more_ips=(SECOND_IP,))
        self.executor = base.root_executor()
        self.multipath = base.Multipath(self.conf, base.Sysfs("/sys", "/dev"),
                                        self.executor)
        self.disks = self.login_everywhere()
        self.wwid = udev_serial(self.disks[0])
        self.addCleanup(self.drop_map)

    def login_everywhere(self) -> list[str]:
        """Both portals with plain iscsiadm: a record each with the
        library's multipath node settings, then a login each."""
        iqn = self.target.iqn
        for portal in self.target.portals:
            node = ["iscsiadm", "-m", "node", "-T", iqn, "-p", portal]
            machine.run(*node, "-o", "new")
            for key, value in base.multipath_node_settings(
                    self.conf).items():
                machine.run(*node, "-o", "update", "-n", key, "-v", value)
            machine.run(*node, "--login")
        machine.wait_for(lambda: len(machine.disks(iqn)) == 2,
                         "a disk on each of the two sessions", 60)
        machine.settle()
        return machine.disks(iqn)

    def drop_map(self) -> None:
        """Clean-up before the logout: our map, if a test left it."""
        for name, uuid in dm_uuids().items():
            if uuid == "mpath-" + self.wwid:
                subprocess.run(["multipath", "-f", name],
                               capture_output=True, timeout=120)

    def our_map(self) -> str | None:
        return next((name for name, uuid in dm_uuids().items()
                     if uuid == "mpath-" + self.wwid), None)


class TestMultipathMap(MultipathTestCase):

    def test_map_survives_a_cut_path_and_flush_leaves_the_disks(self) -> None:
        found = self.multipath.wait_for_map(self.wwid, self.disks)
        self.assertEqual((self.wwid, tuple(self.disks)),
                         (found.wwid, found.paths))
        self.assertEqual(self.our_map(), found.name)
        self.assertEqual("/dev/disk/by-id/dm-uuid-mpath-" + self.wwid,
                         found.path)
        self.assertEqual("/dev/" + found.name, os.path.realpath(found.path))
        for session in machine.sessions(self.target.iqn):
            self.assertEqual("5", _read("/sys/class/iscsi_session/%s/"
                                        "recovery_tmo" % session))
            self.assertEqual([found.name], [
                item.name for item in self.multipath.maps_holding(
                    int(session[len("session"):]))])
        holder = self.multipath.holder_of(self.disks[0])
        self.assertEqual(found.name, holder and holder.name)

        self.cut_and_restore(found.path)

        result = self.multipath.flush(self.wwid)
        self.assertEqual((True, tuple(self.disks)),
                         (result.removed, result.paths))
        self.assertIsNone(self.our_map())
        self.assertEqual(self.disks, [disk for disk in self.disks
                                      if machine.disk_exists(disk)])
        for session in machine.sessions(self.target.iqn):
            self.assertEqual([], self.multipath.maps_holding(
                int(session[len("session"):])))
        self.assertEqual(0, self.multipath.flush(self.wwid).attempts)
        # The caller's next step: the disks go, and multipathd does not
        # build the map again from them on the way.
        for disk in self.disks:
            self.assertTrue(self.executor.delete_disk(disk))
        machine.settle()
        self.assertEqual(([], None), ([disk for disk in self.disks
                                       if machine.disk_exists(disk)],
                                      self.our_map()))

    def cut_and_restore(self, path: str) -> None:
        (cut,) = [disk for disk in self.disks
                  if disk_portal_ip(disk) == SECOND_IP]
        cut_and_restore(self, path, cut)


class TestOpenMap(MultipathTestCase):

    def test_an_open_map_is_never_flushed(self) -> None:
        found = self.multipath.wait_for_map(self.wwid, self.disks)
        fd = os.open(found.device, os.O_RDONLY)
        try:
            error = self.assertRaises(base.exception.MultipathFlushFailed,
                                      self.multipath.flush, self.wwid)
            self.assertEqual(2, error.attempts)
            forced = self.multipath.flush(self.wwid, force=True)
            self.assertEqual((False, found.name, tuple(self.disks)),
                             (forced.removed,
                              forced.left and forced.left.name,
                              forced.paths))
            self.assertEqual(found.name, self.our_map())
        finally:
            os.close(fd)
        self.assertTrue(self.multipath.flush(self.wwid).removed)
        self.assertIsNone(self.our_map())


class TestDoctor(MultipathTestCase):

    def test_doctor_reports_multipathd_and_lio_settings(self) -> None:
        _code, out, err = base.cli("doctor", "--format", "json")
        report = json.loads(out)["multipath"]
        self.assertEqual((True, True), (report["running"], report["socket"]),
                         err)
        checks = {check["check"]: check for check in report["checks"]}
        self.assertTrue(checks["find_multipaths"]["detail"].startswith(
            "strict:"), checks)
        (lio,) = [item for item in report["arrays"]
                  if item["vendor"] == "LIO-ORG"]
        self.assertEqual(("12", "devices ((LIO-ORG|SUSE) .*)"),
                         (lio["no_path_retry"], lio["no_path_retry_from"]))
        self.assertIn("then failed", lio["queueing"])
