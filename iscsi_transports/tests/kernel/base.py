"""Base class of the kernel tests, and the one place they import the
library from.

Everything the tests use of ``iscsi_transports`` is imported here and
used as ``base.<name>``, so a move of the library's modules is fixed in
this file alone.  The tests themselves assert on public behaviour (what
``connect_volume`` returns, what the console script prints, which typed
error is raised) and on what the kernel says (:mod:`.machine`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from typing import Any

import fixtures

from iscsi_transports import exception
from iscsi_transports import iface as _iface
from iscsi_transports import nova as _nova
from iscsi_transports.attach import driver as _driver
from iscsi_transports.cmd import main as _cmd
from iscsi_transports.iscsiadm import ifaces as _ifaces
from iscsi_transports.iscsiadm import runner as _iscsiadm
from iscsi_transports.tests import base as tests_base
from iscsi_transports.tests.functional import base as functional_base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import targets
from iscsi_transports.tests.unit import fake_manager

#: What the tests take from here rather than from the library directly.
__all__ = [
    "NIC_IFACE",
    "ISCSIDriver",
    "ISCSIVolumeDriver",
    "Iface",
    "IfaceRecords",
    "Iscsiadm",
    "KernelTestCase",
    "cli",
    "exception",
    "fake_manager",
]

ISCSIDriver = _driver.ISCSIDriver
ISCSIVolumeDriver = _nova.ISCSIVolumeDriver
Iscsiadm = _iscsiadm.Iscsiadm
IfaceRecords = _ifaces.IfaceRecords
Iface = _iface.Iface
RecordingExecute = functional_base.RecordingExecute
#: The iface bound to the VM's NIC by its MAC, as ``transport`` names it.
NIC_IFACE = "tcp.%s" % machine.NIC_MAC


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the ``iscsi-transports`` console script in-process."""
    out, err = io.StringIO(), io.StringIO()
    code = _cmd.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


class KernelTestCase(tests_base.TestCase):
    """A test on the VM's real kernel: real sysfs, iscsid, udev, targets.

    Configuration is the library's own (``self.flags``); only the state
    directory is private to the test.  Every target, session, node and
    iface record a test makes is removed by its clean-ups.
    """

    def setUp(self) -> None:
        super().setUp()
        self.machine = machine.get()
        self.state = self.useFixture(fixtures.TempDir()).path
        # Disks appear when udev has run, which takes seconds under TCG.
        self.flags(sysfs_root="/sys", state_path=self.state,
                   iscsiadm_timeout=90, device_scan_attempts=60,
                   device_scan_interval=0.5)
        self.execute = RecordingExecute()

    # -- targets -------------------------------------------------------------

    def lio(self, **kwargs: Any) -> targets.LioTarget:
        target = targets.LioTarget(self.machine.initiator, **kwargs)
        self.addCleanup(target.destroy)
        target.create()
        self.addCleanup(self.forget_sessions, target.iqn)
        return target

    def tgtd(self, **kwargs: Any) -> targets.TgtdTarget:
        target = targets.TgtdTarget(**kwargs)
        self.addCleanup(target.destroy)
        target.create()
        self.addCleanup(self.forget_sessions, target.iqn)
        return target

    def forget_sessions(self, iqn: str) -> None:
        """Clean-up after a failed test: our target's sessions and nodes
        only (every IQN here is the test's own)."""
        for argv in (["--logout"], ["-o", "delete"]):
            subprocess.run(["iscsiadm", "-m", "node", "-T", iqn,
                            *argv], capture_output=True, timeout=120)

    def soft_roce(self) -> None:
        """An RDMA device (rxe0, Soft-RoCE) on eth0 and the iSER modules
        of both ends, removed again after the test."""
        machine.modprobe("rdma_rxe", "ib_uverbs", "rdma_ucm", "ib_iser",
                         "ib_isert")
        machine.run("rdma", "link", "add", machine.RXE, "type", "rxe",
                    "netdev", machine.NIC)
        self.addCleanup(subprocess.run, ["rdma", "link", "delete",
                                         machine.RXE], capture_output=True)

    def forget_iface(self, name: str) -> None:
        self.addCleanup(self.iface_records().delete, name)

    # -- the library -----------------------------------------------------------

    def driver(self, **kwargs: Any) -> _driver.ISCSIDriver:
        return ISCSIDriver(self.conf, execute=self.execute, **kwargs)

    def nova_driver(self, **kwargs: Any) -> _nova.ISCSIVolumeDriver:
        return ISCSIVolumeDriver(self.conf, execute=self.execute, **kwargs)

    def iscsiadm(self) -> _iscsiadm.Iscsiadm:
        return Iscsiadm(self.conf, execute=self.execute)

    def iface_records(self) -> _ifaces.IfaceRecords:
        return IfaceRecords(self.iscsiadm())

    def cli_json(self, *argv: str, expect: int = 0) -> Any:
        code, out, err = cli(*argv, "--format", "json")
        self.assertEqual(expect, code, err)
        return json.loads(out)

    # -- assertions on the kernel's state ---------------------------------------

    def assert_attached(self, iqn: str, path: str) -> str:
        """``path`` leads to a SCSI disk of one of ``iqn``'s sessions;
        the disk's kernel name."""
        self.assertTrue(path.startswith(machine.BY_PATH + "/"), path)
        name = os.path.basename(os.path.realpath(path))
        self.assertIn(name, machine.disks(iqn),
                      "%s -> %s is not a disk of %s" % (path, name, iqn))
        return name

    def assert_pattern_io(self, path: str) -> None:
        written, read = machine.pattern_io(path, 4)
        self.assertEqual(len(written), len(read))
        self.assertTrue(written == read, "read back differs from written")

    def assert_clean(self, iqn: str, disks: list[str]) -> None:
        """No session, SCSI disk, by-path link or node record is left."""
        machine.settle()
        self.assertEqual([], machine.sessions(iqn), "sessions left")
        self.assertEqual([], [disk for disk in disks
                              if machine.disk_exists(disk)], "disks left")
        self.assertEqual([], machine.by_path_links(iqn), "by-path left")
        self.assertEqual([], machine.node_records(iqn), "node records left")
