"""SCSI scan, delete, rescan, flush and one-block reads through the root
daemon."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.tests.unit.privileged import base


class TestScsi(base.PrivilegedTestCase):

    def setUp(self) -> None:
        super().setUp()
        sysfs = self.paths.sysfs
        self.scan = self.write(os.path.join(sysfs, "class", "scsi_host",
                                            "host3", "scan"))
        disk = os.path.join(sysfs, "block", "sdb")
        self.delete = self.write(os.path.join(disk, "device", "delete"))
        self.rescan = self.write(os.path.join(disk, "device", "rescan"))
        os.makedirs(os.path.join(disk, "holders"))

    def test_scan_writes_the_triple(self) -> None:
        self.executor.scan_host(3, "0 0 12")
        self.assertEqual("0 0 12", self.read(self.scan))
        self.executor.scan_host(3, "- - 4")
        self.assertEqual("- - 4", self.read(self.scan))

    def test_scan_of_a_missing_host_is_a_typed_error(self) -> None:
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.executor.scan_host, 9, "0 0 1")
        self.assertIn("host9", str(error))

    def test_scan_refused(self) -> None:
        for host, hctl in ((-1, "0 0 1"), ("3", "0 0 1"), (True, "0 0 1"),
                           (3, "0 0"), (3, "0 0 1 2"), (3, "0  0 1"),
                           (3, "0 0 x"), (3, "0 0 -1"), (3, 7),
                           (3, "0 0 18446744073709551616"),
                           (3, "0 0 1\n")):
            self.assert_refused_unchanged(self.executor.scan_host, host, hctl)

    def test_delete(self) -> None:
        self.assertTrue(self.executor.delete_disk("sdb"))
        self.assertEqual("1", self.read(self.delete))

    def test_delete_of_a_gone_disk(self) -> None:
        self.assertFalse(self.executor.delete_disk("sdz"))

    def test_delete_of_a_held_disk_is_refused(self) -> None:
        os.mkdir(os.path.join(self.paths.sysfs, "block", "sdb", "holders",
                              "dm-0"))
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.delete_disk, "sdb")
        self.assertIn("held by dm-0", str(error))
        self.assertEqual("", self.read(self.delete))

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
        self.write(os.path.join(self.paths.dev, "sdb"), "data")
        self.assert_refused_unchanged(self.executor.flush_disk, "sdb")


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
        self.write(os.path.join(self.paths.dev, "sdb"), "data")
        os.makedirs(os.path.join(self.paths.dev, "mapper"))
        os.symlink("../sdb", os.path.join(self.paths.dev, "mapper", "m0"))
        for path in ("/dev/sdb", "/dev/mapper/m0"):
            self.assert_refused_unchanged(self.executor.read_block, path)

    def test_read_of_a_missing_device_is_a_typed_error(self) -> None:
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.executor.read_block, "/dev/sdq")
        self.assertIn("/dev/sdq", str(error))


class TestScsiInProcess(TestScsi):
    in_process = True


class TestReadBlockOpensOnlyBlockDevices(base.PrivilegedTestCase):
    """What is not a block device is refused before it is opened (as
    root, opening a character device can act on it)."""

    in_process = True

    def test_not_opened(self) -> None:
        opened: list[str] = []
        real_open = os.open

        def recording_open(path: str, *args: object, **kwargs: object) -> int:
            opened.append(str(path))
            return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

        os.makedirs(self.paths.dev, exist_ok=True)
        os.mkfifo(os.path.join(self.paths.dev, "sdb"))
        self.write(os.path.join(self.paths.dev, "sdc"), "data")
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.scsi.os.open", recording_open))
        for path in ("/dev/sdb", "/dev/sdc"):
            error = self.assertRaises(exception.PrivilegedRequestRefused,
                                      self.executor.read_block, path)
            self.assertIn("not a block device", str(error))
        self.assertEqual([], [path for path in opened
                              if path.startswith(self.paths.dev)])
