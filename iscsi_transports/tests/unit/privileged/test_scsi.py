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

"""SCSI scan, delete, rescan, flush and one-block reads through the root
daemon, on built sysfs, /dev and /proc trees: only on iSCSI hosts and on
iSCSI disks the host does not use."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.tests.unit.privileged import base


class TestScsi(base.TreeTestCase):

    def test_scan_writes_the_triple(self) -> None:
        self.executor.scan_host(11, "0 0 12")
        self.assertEqual("0 0 12", self.read(self.scan))

    def test_scan_refuses_wildcards(self) -> None:
        for hctl in ("- - 4", "0 - 1", "- 0 1"):
            self.assert_refused_unchanged(self.executor.scan_host, 11, hctl)

    def test_scan_of_a_host_that_is_not_iscsi_is_refused(self) -> None:
        for host in (0, 9):
            error = self.assertRaises(exception.PrivilegedRequestRefused,
                                      self.executor.scan_host, host, "0 0 1")
            self.assertIn("host%d is not an iSCSI host" % host, str(error))
        self.assertEqual("", self.read(os.path.join(
            self.paths.sysfs, "class", "scsi_host", "host0", "scan")).strip())

    def test_scan_refused(self) -> None:
        for host, hctl in ((-1, "0 0 1"), ("11", "0 0 1"), (True, "0 0 1"),
                           (11, "0 0"), (11, "0 0 1 2"), (11, "0  0 1"),
                           (11, "0 0 x"), (11, "0 0 -1"), (11, 7),
                           (11, "0 0 18446744073709551616"),
                           (11, "0 0 1\n")):
            self.assert_refused_unchanged(self.executor.scan_host, host, hctl)

    def test_delete(self) -> None:
        self.assertTrue(self.executor.delete_disk("sdb"))
        self.assertEqual("1", self.read(self.delete))

    def test_delete_of_a_gone_disk(self) -> None:
        self.assertFalse(self.executor.delete_disk("sdz"))

    def test_delete_of_a_held_disk_is_refused(self) -> None:
        self.tree.add_dm("dm-0", "mpatha", "mpath-x")
        self.tree.stack("dm-0", "sdb")
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.delete_disk, "sdb")
        self.assertIn("held by dm-0", str(error))
        self.assertEqual("", self.read(self.delete).strip())

    def test_rescan(self) -> None:
        self.executor.rescan_disk("sdb")
        self.assertEqual("1", self.read(self.rescan))

    def test_disk_names_refused(self) -> None:
        for name in ("", "sda1", "dm-0", "../sdb", "sdb/../sdc", "sdB",
                     "nvme0n1", "sdabcde", "sdb\n", 3, None):
            self.assert_refused_unchanged(self.executor.delete_disk, name)
            self.assert_refused_unchanged(self.executor.rescan_disk, name)
            self.assert_refused_unchanged(self.executor.flush_disk, name)

    def test_a_symlink_is_not_followed(self) -> None:
        target = self.write(os.path.join(self.root, "elsewhere"))
        os.unlink(self.rescan)
        os.symlink(target, self.rescan)
        self.assertRaises(exception.PrivilegedOperationFailed,
                          self.executor.rescan_disk, "sdb")
        self.assertEqual("", self.read(target))

    def test_flush_of_a_gone_disk(self) -> None:
        self.assertFalse(self.executor.flush_disk("sdq"))

    def test_flush_of_something_not_a_block_device_is_refused(self) -> None:
        # kernel_tree's /dev/sdb is a plain file.
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.flush_disk, "sdb")
        self.assertIn("not a block device", str(error))

    def test_read_of_paths_that_are_not_devices_is_refused(self) -> None:
        for path in ("/etc/shadow", "/dev/../etc/shadow", "sdb", "/dev/sdb1",
                     "/dev/sdb/", "/dev/disk/by-path/../../../etc/shadow",
                     "/dev/mapper/", "/dev/disk/by-uuid/x", "/dev/sdb\n",
                     "/dev/dm-x", None, 3):
            self.assert_refused_unchanged(self.executor.read_block, path)

    def test_read_of_a_link_leading_out_of_dev_is_refused(self) -> None:
        secret = self.write(os.path.join(self.root, "secret"), "x")
        by_path = os.path.join(self.paths.dev, "disk", "by-path")
        os.makedirs(by_path)
        os.symlink(secret, os.path.join(by_path, "ip-x-lun-1"))
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.read_block,
                                  "/dev/disk/by-path/ip-x-lun-1")
        self.assertIn("out of /dev", str(error))

    def test_read_of_something_not_a_block_device_is_refused(self) -> None:
        os.makedirs(os.path.join(self.paths.dev, "mapper"))
        os.symlink("../sdb", os.path.join(self.paths.dev, "mapper", "m0"))
        for path in ("/dev/sdb", "/dev/mapper/m0"):
            self.assert_refused_unchanged(self.executor.read_block, path)

    def test_read_of_a_device_the_kernel_does_not_know_is_refused(
            self) -> None:
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.read_block, "/dev/sdq")
        self.assertIn("sdq is not a block device the kernel knows",
                      str(error))


class TestScsiInProcess(TestScsi):
    in_process = True


class TestObjectProofs(base.TreeTestCase):
    """Disks that are not the library's are refused, whatever the call:
    the host's own disk, and iSCSI disks the host uses."""

    def test_a_disk_that_is_not_iscsi(self) -> None:
        self.assert_disk_refused("sda", "sda is not a disk of an iSCSI "
                                 "session")
        for path in self.local_files:
            self.assertEqual("", self.read(path).strip())

    def test_a_disk_whose_session_is_not_in_iscsi_session(self) -> None:
        self.tree.remove("class/iscsi_session/session1")
        self.assert_disk_refused("sdb", "not a disk of an iSCSI session")

    def test_a_mounted_disk(self) -> None:
        self.mounts(base.MOUNTINFO +
                    "40 24 8:16 / /srv rw - xfs /dev/sdb rw\n")
        self.assert_disk_refused("sdb", "sdb holds a mounted file system")

    def test_a_mounted_partition(self) -> None:
        self.tree.add_partition("sdb", 1)
        self.mounts(base.MOUNTINFO +
                    "40 24 8:17 / /srv rw - xfs /dev/sdb1 rw\n")
        self.assert_disk_refused("sdb", "holds a mounted file system")

    def test_a_mount_reporting_an_anonymous_device(self) -> None:
        # btrfs (a root file system too) reports 0:N; its source names
        # the partition.
        self.tree.add_partition("sdb", 2)
        self.mounts("24 1 0:31 / / rw - btrfs /dev/sdb2 rw\n")
        self.assert_disk_refused("sdb", "holds a mounted file system")

    def test_a_mounted_map_on_the_disk(self) -> None:
        self.tree.add_dm("dm-3", "vg-lv", "LVM-x")
        self.tree.stack("dm-3", "sdb")
        self.mounts(base.MOUNTINFO +
                    "40 24 253:3 / /srv rw - ext4 /dev/mapper/vg-lv rw\n")
        self.assert_disk_refused("sdb", "holds a mounted file system")

    def test_active_swap(self) -> None:
        name = self.tree.add_partition("sdb", 1)
        self.write(os.path.join(self.paths.proc, "swaps"), base.SWAPS_HEADER +
                   "/dev/%s\tpartition\t1048572\t0\t-2\n" % name)
        self.assert_disk_refused("sdb", "sdb holds active swap")

    def test_unreadable_mount_table(self) -> None:
        os.unlink(os.path.join(self.paths.proc, "self", "mountinfo"))
        self.assert_disk_refused("sdb", "mountinfo is not readable")

    def test_a_map_over_a_disk_that_is_not_iscsi_is_not_read(self) -> None:
        self.tree.add_dm("dm-1", "local", "x", links=("mapper/local",))
        self.tree.stack("dm-1", "sda")
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.read_block,
                                  "/dev/mapper/local")
        self.assertIn("sda is not a disk of an iSCSI session", str(error))


class TestReadBlockOpensOnlyBlockDevices(base.TreeTestCase):
    """What is not a block device is refused before it is opened (as
    root, opening a character device can act on it)."""

    in_process = True

    def test_not_opened(self) -> None:
        opened: list[str] = []
        real_open = os.open

        def recording_open(path: str, *args: object, **kwargs: object) -> int:
            opened.append(str(path))
            return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

        self.tree.add_disk(1, 2, "sdc")
        os.unlink(os.path.join(self.paths.dev, "sdb"))
        os.mkfifo(os.path.join(self.paths.dev, "sdb"))
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.scsi.os.open", recording_open))
        for path in ("/dev/sdb", "/dev/sdc", "/dev/sda"):
            self.assertRaises(exception.PrivilegedRequestRefused,
                              self.executor.read_block, path)
        self.assertEqual([], [path for path in opened
                              if path.startswith(self.paths.dev)])
