"""Finding and removing a path's SCSI disk, on a built sysfs tree and a
fake ``execute`` (no disk is touched, no process is started)."""

from __future__ import annotations

import errno
import os
import subprocess
from typing import Any

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import connection
from iscsi_transports.attach import scsi
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_execute

IQN = "iqn.2026-11.org.openstack.test:volume-1"
PATH = connection.VolumePath("192.0.2.1:3260", IQN, 1)
NAME = "ip-192.0.2.1:3260-iscsi-%s-lun-1" % IQN


class ScsiTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.execute = fake_execute.FakeExecute()
        self.runner = iscsiadm.Iscsiadm(self.conf, execute=self.execute)

    def link(self, name: str, target: str) -> str:
        path = os.path.join(self.dev, name)
        os.symlink(target, path)
        return path

    def remove(self, link: str) -> str | None:
        return scsi.remove_device(self.runner, self.sysfs.root, link)


class TestLinks(ScsiTestCase):
    def test_plain_and_pci_forms_of_this_path_only(self) -> None:
        pci = self.link("pci-0000:05:00.4-" + NAME, "../../sdc")
        for other in ("pci-0000:05:00.4-" + NAME + "1", NAME + "0",
                      "x" + NAME):
            self.link(other, "../../sdz")
        recorded = os.path.join("/elsewhere", NAME)
        found = scsi.links(self.dev, PATH, {
            "path": recorded, "paths": [
                recorded, "/elsewhere/" + NAME + "1",
                "/elsewhere/pci-0000:05:00.4-" + NAME + "1"]})
        self.assertEqual([recorded, os.path.join(self.dev, NAME), pci], found)

    def test_kernel_name_only_for_scsi_disks(self) -> None:
        self.assertIsNone(scsi.kernel_name(os.path.join(self.dev, NAME)))
        self.assertEqual("sdab", scsi.kernel_name(self.link(NAME, "../sdab")))
        self.assertIsNone(scsi.kernel_name(self.link("dm", "../dm-0")))
        self.assertIsNone(scsi.kernel_name(self.link("part", "../sdb1")))


class TestRemove(ScsiTestCase):
    def test_flush_then_delete_through_root_helper(self) -> None:
        self.flags(root_helper="sudo rootwrap /etc/rw.conf")
        delete = self.sysfs.add_scsi_disk("sdb")
        self.assertEqual("sdb", self.remove(self.link(NAME, "../../sdb")))
        self.assertEqual([["sudo", "rootwrap", "/etc/rw.conf", "blockdev",
                           "--flushbufs", "/dev/sdb"]], self.execute.calls)
        with open(delete, encoding="ascii") as handle:
            self.assertEqual("1", handle.read())

    def test_one_disk_behind_two_links_is_removed_once(self) -> None:
        self.sysfs.add_scsi_disk("sdb")
        links = [self.link(NAME, "../../sdb"),
                 self.link("pci-0000:05:00.4-" + NAME, "../../sdb")]
        self.assertEqual(["sdb"], scsi.remove_devices(
            self.runner, self.sysfs.root, links))
        self.assertEqual(1, len(self.execute.calls))

    def _refuse_delete(self, code: int) -> None:
        real_open = open

        def refusing(path: str, *args: Any, **kwargs: Any) -> Any:
            if str(path).endswith("/delete"):
                raise OSError(code, os.strerror(code))
            return real_open(path, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch("builtins.open", refusing))

    def test_delete_refused_is_typed(self) -> None:
        self.sysfs.add_scsi_disk("sdb")
        self._refuse_delete(errno.EBUSY)
        error = self.assertRaises(exception.DeviceRemovalFailed, self.remove,
                                  self.link(NAME, "../../sdb"))
        self.assertEqual("sdb", error.device)

    def test_disk_gone_during_delete_is_fine(self) -> None:
        self.sysfs.add_scsi_disk("sdb")
        self._refuse_delete(errno.ENODEV)
        self.assertIsNone(self.remove(self.link(NAME, "../../sdb")))


class TestRunCommand(ScsiTestCase):
    def test_timeout_and_missing_binary_are_command_failed(self) -> None:
        def hang(*cmd: str, **kwargs: Any) -> tuple[str, str]:
            raise subprocess.TimeoutExpired(list(cmd), 3)

        def missing(*cmd: str, **kwargs: Any) -> tuple[str, str]:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")

        self.flags(iscsiadm_timeout=3)
        for execute, reason in ((hang, "killed after 3 seconds"),
                                (missing, "No such file or directory")):
            runner = iscsiadm.Iscsiadm(self.conf, execute=execute)
            error = self.assertRaises(exception.CommandFailed,
                                      runner.run_command,
                                      ["blockdev", "--flushbufs", "/dev/sdb"])
            self.assertEqual(
                "blockdev --flushbufs /dev/sdb failed: " + reason, str(error))
