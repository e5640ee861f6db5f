"""Disk removal on detach through the root operations (``use_privsep``)."""

from __future__ import annotations

import os

from iscsi_transports import exception
from iscsi_transports.attach import scsi
from iscsi_transports.iscsiadm import runner
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor


class TestDiskRemovalThroughRootOperations(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.executor = fake_executor.RecordingExecutor()
        self.runner = runner.Iscsiadm(self.conf, executor=self.executor)
        self.sysfs.add_scsi_disk("sdb")
        self.link = os.path.join(self.lock_path, "ip-link")
        os.symlink("../../sdb", self.link)

    def remove(self) -> str | None:
        return scsi.remove_device(self.runner, self.sysfs.root, self.link)

    def test_flush_then_delete(self) -> None:
        delete = os.path.join(self.sysfs.root, "block", "sdb", "device",
                              "delete")
        with open(delete) as handle:
            before = handle.read()
        self.assertEqual("sdb", self.remove())
        self.assertEqual([("flush_disk", "sdb"), ("delete_disk", "sdb")],
                         self.executor.calls)
        # The kernel's file is written by the root daemon, not here.
        with open(delete) as handle:
            self.assertEqual(before, handle.read())

    def test_failed_flush_keeps_the_disk(self) -> None:
        self.executor.raises["flush_disk"] = \
            exception.PrivilegedOperationFailed("flush a SCSI disk",
                                                "/dev/sdb: Input/output error")
        error = self.assertRaises(exception.CommandFailed, self.remove)
        self.assertIn("Input/output error", str(error))
        self.assertEqual([("flush_disk", "sdb")], self.executor.calls)

    def test_refused_delete_is_removal_failed(self) -> None:
        self.executor.raises["delete_disk"] = \
            exception.PrivilegedRequestRefused("delete a SCSI disk",
                                               "sdb is held by dm-0")
        error = self.assertRaises(exception.DeviceRemovalFailed, self.remove)
        self.assertIn("held by dm-0", str(error))

    def test_already_gone(self) -> None:
        self.executor.deleted = False
        self.assertIsNone(self.remove())
