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

"""The inventory of volumes, read from built sysfs and proc trees: every
state, who holds a volume, and whether this library attached it."""

from __future__ import annotations

import json
import os

import fixtures

from iscsi_transports.attach import inventory
from iscsi_transports.attach import ledger
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.attach import kernel_tree

IQN = "iqn.2003-01.org.linux-iscsi.lab:vol1"
IQN2 = "iqn.2003-01.org.linux-iscsi.lab:vol2"
WWID = "36001405" + "%025x" % 1
MPATH = "mpath-" + WWID


class InventoryTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dev = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                "dev")
        self.proc = self.useFixture(fixtures.TempDir()).path
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.flags(state_path=self.lock_path)
        self.mountinfo("")

    def mountinfo(self, text: str) -> None:
        os.makedirs(os.path.join(self.proc, "self"), exist_ok=True)
        with open(os.path.join(self.proc, "self", "mountinfo"), "w") as fh:
            fh.write(text)

    def devno(self, name: str, number: str) -> None:
        """The block device's ``dev`` (major:minor), as the kernel has it."""
        self.tree.write("block/%s/dev" % name, number)

    def read(self, **kwargs: object) -> inventory.Inventory:
        return inventory.read(self.conf, dev_root=self.dev,
                              proc_root=self.proc, **kwargs)

    def only(self) -> inventory.Volume:
        found = self.read()
        self.assertEqual(1, len(found.volumes), found)
        return found.volumes[0]

    def map_of(self, *disks: str, name: str = "dm-0") -> None:
        self.tree.add_dm(name, "mpatha", MPATH)
        for disk in disks:
            self.tree.stack(name, disk)

    def two_paths(self) -> None:
        self.tree.add_session(1, IQN, address="10.0.0.1")
        self.tree.add_session(2, IQN, address="10.0.0.2")
        self.tree.add_disk(1, 1, "sdb")
        self.tree.add_disk(2, 1, "sdc")
        self.map_of("sdb", "sdc")


class TestStates(InventoryTestCase):

    def test_healthy_disk(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb", links=(
            "disk/by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1" % IQN,))
        volume = self.only()
        self.assertEqual((inventory.OK, (), True), (
            volume.state, volume.problems, volume.lun_reported))
        (path,) = volume.paths
        self.assertEqual(inventory.Path(
            sid=1, target_iqn=IQN, portal="10.0.0.1:3260", iface="default",
            transport="tcp", session_state="LOGGED_IN", hctl="11:0:0:1",
            lun=1, disk="sdb", disk_state="running",
            stable_path=os.path.join(
                self.dev, "disk/by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1"
                % IQN), up=True), path)
        self.assertEqual(("sdb", None, WWID, 2097152 * 512), (
            volume.device, volume.map, volume.scsi_wwn, volume.size))
        self.assertFalse(volume.in_use)
        self.assertFalse(volume.managed)

    def test_failed_session(self) -> None:
        self.tree.add_session(1, IQN, session_attrs={"state": "FAILED"})
        self.tree.add_disk(1, 1, "sdb", attrs={"state": "transport-offline"})
        volume = self.only()
        self.assertEqual(inventory.FAILED, volume.state)
        self.assertEqual(("session1 is FAILED",), volume.problems)
        self.assertIsNone(volume.lun_reported)
        self.assertFalse(volume.paths[0].up)

    def test_offline_disk_on_a_live_session(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb", attrs={"state": "offline"})
        volume = self.only()
        self.assertEqual((inventory.FAILED, ("sdb is offline",)),
                         (volume.state, volume.problems))

    def test_lun_the_target_no_longer_reports(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb", sectors=0)
        volume = self.only()
        self.assertEqual(inventory.LUN_GONE, volume.state)
        self.assertFalse(volume.lun_reported)
        self.assertIn("sdb: capacity 0", volume.problems[0])

    def test_session_without_disk(self) -> None:
        self.tree.add_session(1, IQN)
        volume = self.only()
        self.assertEqual((inventory.EMPTY, "session1", None), (
            volume.state, volume.device, volume.paths[0].disk))
        self.assertEqual(("session1 has no disk",), volume.problems)

    def test_failed_session_without_disk(self) -> None:
        self.tree.add_session(1, IQN, session_attrs={"state": "FREE"})
        self.assertEqual(inventory.FAILED, self.only().state)

    def test_a_controller_lun_is_no_volume(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 0, None, attrs={"type": "12"})
        self.tree.add_disk(1, 1, "sdb")
        self.assertEqual("sdb", self.only().device)

    def test_half_made_session_is_skipped(self) -> None:
        self.tree.add_session(1, IQN, session_attrs={"targetname": "<NULL>"})
        self.assertEqual((), self.read().volumes)


class TestMaps(InventoryTestCase):

    def test_map_with_every_path_up(self) -> None:
        self.two_paths()
        volume = self.only()
        self.assertEqual((inventory.OK, "dm-0", "mpatha", WWID), (
            volume.state, volume.map, volume.map_name, volume.scsi_wwn))
        self.assertEqual(["sdb", "sdc"], [p.disk for p in volume.paths])
        self.assertEqual(["10.0.0.1:3260", "10.0.0.2:3260"],
                         [p.portal for p in volume.paths])
        # The map is the volume's own, not a user of it.
        self.assertFalse(volume.in_use)

    def test_one_path_down_is_degraded(self) -> None:
        self.tree.add_session(1, IQN, address="10.0.0.1")
        self.tree.add_session(2, IQN, address="10.0.0.2",
                              session_attrs={"state": "FAILED"})
        self.tree.add_disk(1, 1, "sdb")
        self.tree.add_disk(2, 1, "sdc", attrs={"state": "blocked"})
        self.map_of("sdb", "sdc")
        volume = self.only()
        self.assertEqual((inventory.DEGRADED, ("session2 is FAILED",)),
                         (volume.state, volume.problems))
        self.assertEqual([True, False], [p.up for p in volume.paths])

    def test_every_path_cut_is_no_live_path(self) -> None:
        for sid, name in ((1, "sdb"), (2, "sdc")):
            self.tree.add_session(sid, IQN, address="10.0.0.%d" % sid,
                                  session_attrs={"state": "FAILED"})
            self.tree.add_disk(sid, 1, name,
                               attrs={"state": "transport-offline"})
        self.map_of("sdb", "sdc")
        volume = self.only()
        self.assertEqual(inventory.FAILED, volume.state)
        self.assertEqual(("map dm-0 has no live path", "session1 is FAILED",
                          "session2 is FAILED"), volume.problems)

    def test_map_without_paths(self) -> None:
        self.tree.add_dm("dm-3", "mpathb", "mpath-3600a0")
        volume = self.only()
        self.assertEqual((inventory.FAILED, ("map dm-3 has no paths",), ()),
                         (volume.state, volume.problems, volume.paths))
        self.assertEqual("dm-3", volume.device)

    def test_maps_of_other_disks_and_other_dm_devices_are_not_listed(
            self) -> None:
        self.tree.add_dm("dm-1", "vg-root", "LVM-abc")
        self.tree.write("devices/pci0000:00/0000:00:1f.2/ata1/host0/"
                        "target0:0:0/0:0:0:0/state", "running")
        self.tree.add_dm("dm-2", "mpathz", "mpath-35000c5")
        os.makedirs(os.path.join(self.sysfs.root, "devices/virtual/block/"
                                 "dm-2/slaves/sda"))
        self.assertEqual((), self.read().volumes)


class TestUsers(InventoryTestCase):

    def test_mounts_by_device_number(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.devno("sdb", "8:16")
        self.mountinfo(
            "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
            "36 22 8:16 / /srv/my\\040data rw,noatime - ext4 /dev/sdb rw\n"
            "bad line\n")
        volume = self.only()
        self.assertEqual(("/srv/my data",), volume.users.mounts)
        self.assertTrue(volume.in_use)

    def test_a_mounted_map_is_in_use(self) -> None:
        self.two_paths()
        self.devno("dm-0", "253:0")
        self.mountinfo("40 22 253:0 / /mnt rw - xfs /dev/mapper/mpatha rw\n")
        self.assertEqual(("/mnt",), self.only().users.mounts)

    def test_holders_other_than_its_map(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_dm("dm-5", "vg-lv", "LVM-xyz")
        self.tree.add_disk(1, 1, "sdb", holders=("dm-5",))
        volume = self.only()
        self.assertEqual(("dm-5 (vg-lv)",), volume.users.holders)
        self.assertTrue(volume.in_use)

    def test_an_lv_on_a_map_holds_the_map(self) -> None:
        self.two_paths()
        self.tree.add_dm("dm-6", "vg-lv", "LVM-xyz")
        self.tree.stack("dm-6", "dm-0")
        self.assertEqual(("dm-6 (vg-lv)",), self.only().users.holders)

    def test_descriptors_that_are_no_block_device_are_no_users(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.devno("sdb", "1:3")  # the number of /dev/null, a char device
        fd_dir = os.path.join(self.proc, "4242", "fd")
        os.makedirs(fd_dir)
        os.symlink("/dev/null", os.path.join(fd_dir, "0"))
        os.symlink("socket:[1234]", os.path.join(fd_dir, "1"))
        os.symlink("/dev/vanished-meanwhile", os.path.join(fd_dir, "2"))
        os.makedirs(os.path.join(self.proc, "4243"))  # exited: no fd/
        self.assertEqual((), self.only().users.processes)

    def test_process_walk_is_bounded(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.attach.inventory.MAX_FDS", 3))
        for pid in (10, 11):
            fd_dir = os.path.join(self.proc, str(pid), "fd")
            os.makedirs(fd_dir)
            for fd in range(2):
                os.symlink("pipe:[1]", os.path.join(fd_dir, str(fd)))
        found = self.read()
        self.assertIn("after 3 open files", found.problems[0])

    def test_processes_off(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        os.makedirs(os.path.join(self.proc, "10"))
        os.chmod(os.path.join(self.proc, "10"), 0)
        self.assertEqual((), self.read(processes=False).problems)


class TestManaged(InventoryTestCase):

    def record(self, **fields: object) -> None:
        item = ledger.Attachment(
            target_iqn=IQN, portal="10.0.0.1:3260", iface="default",
            kernel_lun=1, lun=1, requested="iser", transport="tcp",
            fallback=True, reason="iser (iface iser) failed: exit code 15",
            scsi_wwn=WWID, multipath_id=None, attached_at=1.0)._replace(
                **fields)
        os.makedirs(ledger.directory(self.conf), exist_ok=True)
        with open(os.path.join(ledger.directory(self.conf),
                               item.file_name), "w") as fh:
            json.dump(item._asdict(), fh)

    def test_a_recorded_attach_is_managed_with_its_fallback(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.record()
        volume = self.only()
        self.assertEqual((True, "iser", True,
                          "iser (iface iser) failed: exit code 15"),
                         (volume.managed, volume.requested, volume.fallback,
                          volume.reason))

    def test_a_record_of_another_iface_is_not_this_volume(self) -> None:
        self.tree.add_session(1, IQN, iface="lab0")
        self.tree.add_disk(1, 1, "sdb")
        self.record()
        found = self.read()
        self.assertFalse(found.volumes[0].managed)
        self.assertEqual(1, len(found.problems))
        self.assertIn("names no disk on this host", found.problems[0])

    def test_a_map_is_managed_through_any_recorded_path(self) -> None:
        self.two_paths()
        self.record(portal="10.0.0.2:3260", fallback=False, reason="auto")
        volume = self.only()
        self.assertEqual((True, False), (volume.managed, volume.fallback))

    def test_a_file_that_is_no_record_is_a_problem(self) -> None:
        self.tree.add_session(1, IQN)
        os.makedirs(ledger.directory(self.conf))
        with open(os.path.join(ledger.directory(self.conf), "x.json"),
                  "w") as fh:
            fh.write("{not json")
        found = self.read()
        self.assertIn("x.json: not a record", found.problems[0])

    def test_hostile_files_are_problems_not_hangs_or_crashes(self) -> None:
        self.tree.add_session(1, IQN)
        directory = ledger.directory(self.conf)
        os.makedirs(directory)
        os.mkfifo(os.path.join(directory, "fifo.json"))
        with open(os.path.join(directory, "big.json"), "w") as fh:
            fh.write("[" * 100000)
        self.record(kernel_lun="1")
        self.record(iface="lab0", fallback=1)
        self.record(iface="lab1", attached_at=True)
        problems = self.read().problems
        self.assertEqual(5, len(problems), problems)
        self.assertEqual(
            ["bad attached_at", "bad fallback", "bad kernel_lun",
             "big.json", "fifo.json"],
            sorted(problem.rsplit("(", 1)[1].rstrip(")")
                   if "(bad " in problem else
                   problem.split(": not a record")[0].rsplit("/", 1)[1]
                   for problem in problems))

    def test_leftovers(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.tree.add_session(2, IQN2, session_attrs={"state": "FAILED"})
        self.tree.add_disk(2, 1, "sdc")
        self.tree.add_session(3, IQN2, address="10.0.0.3")
        self.tree.add_disk(3, 2, "sdd", sectors=0)
        found = self.read()
        self.assertEqual(["sdc", "sdd"],
                         [volume.device for volume in found.leftovers])
