"""SysfsWriter: the default root writes, on a built sysfs tree."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import writer
from iscsi_transports.iscsiadm import runner
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_execute
from iscsi_transports.tests.unit.attach import kernel_tree


class TestSysfsWriter(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tree = kernel_tree.IscsiTree(
            self.sysfs, self.useFixture(fixtures.TempDir()).path)
        self.tree.add_session(1, "iqn.2010-10.org.openstack:v1")
        self.tree.add_disk(1, 1, "sdb")
        self.execute = fake_execute.FakeExecute()
        self.writer = writer.SysfsWriter(
            self.sysfs.root, runner.Iscsiadm(self.conf, execute=self.execute))

    def read(self, *parts: str) -> str:
        with open(os.path.join(self.sysfs.root, *parts)) as handle:
            return handle.read()

    def test_scan_writes_the_triple_to_the_hosts_scan_file(self) -> None:
        self.writer.scan_host(11, "0 0 300")
        self.assertEqual("0 0 300", self.read("class/scsi_host/host11/scan"))

    def test_rescan_and_delete_write_1(self) -> None:
        self.writer.rescan_disk("sdb")
        self.assertEqual("1", self.read("block/sdb/device/rescan"))
        self.assertTrue(self.writer.delete_disk("sdb"))
        self.assertEqual("1", self.read("block/sdb/device/delete"))

    def test_flush_runs_blockdev_and_a_gone_disk_is_false(self) -> None:
        self.assertTrue(self.writer.flush_disk("sdb"))
        self.assertEqual([["blockdev", "--flushbufs", "/dev/sdb"]],
                         self.execute.calls)
        self.assertFalse(self.writer.flush_disk("sdz"))
        self.assertFalse(self.writer.delete_disk("sdz"))

    def test_a_scan_of_a_gone_host_fails_typed(self) -> None:
        self.assertRaises(exception.SysfsWriteFailed,
                          self.writer.scan_host, 99, "0 0 1")

    def test_anything_but_a_disk_or_a_scan_line_is_refused(self) -> None:
        for name in ("dm-0", "../sdb", "sdb\n", "sda1"):
            self.assertRaises(exception.InvalidInput,
                              self.writer.delete_disk, name)
        for host, line in ((-1, "0 0 1"), (True, "0 0 1"), (1, "0 0 1\n"),
                           (1, "0 0"), (1, "a b c")):
            self.assertRaises(exception.InvalidInput,
                              self.writer.scan_host, host, line)
        self.assertEqual([], self.execute.calls)
