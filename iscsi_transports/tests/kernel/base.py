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

"""Base class of the kernel tests, and the one place they import the
library from.

Everything the tests use of ``iscsi_transports`` is imported here (and
by :mod:`.recording`, the root recorder) and used as ``base.<name>``, so a
move of the library's modules is fixed in these files alone.  The tests
themselves assert on public behaviour (what ``connect_volume`` returns,
what the console script prints, which typed error is raised), on what the
kernel says (:mod:`.machine`) and on which root operations ran
(:mod:`.recording`).

Every driver, connector and iscsiadm runner built here takes the library's
one path (as nova runs it): root operations through the privileged
executor, in this process (the tests run as root), recorded by
:attr:`KernelTestCase.root`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from typing import Any

import fixtures

from iscsi_transports import brick as _brick
from iscsi_transports import exception
from iscsi_transports import iface as _iface
from iscsi_transports.attach import driver as _driver
from iscsi_transports.attach import multipath as _multipath
from iscsi_transports.attach import sysfs as _sysfs
from iscsi_transports.cmd import main as _cmd
from iscsi_transports.iscsiadm import ifaces as _ifaces
from iscsi_transports.iscsiadm import runner as _iscsiadm
from iscsi_transports.privileged import client as _client
from iscsi_transports.privileged import commands as _commands
from iscsi_transports.privileged import records as _records
from iscsi_transports.privileged import scsi as _scsi
from iscsi_transports.tests import base as tests_base
from iscsi_transports.tests.kernel import child
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import recording
from iscsi_transports.tests.kernel import targets
from iscsi_transports.tests.unit import fake_manager

#: What the tests take from here rather than from the library directly.
__all__ = [
    "NIC_IFACE",
    "NODE_SETTINGS",
    "ISCSIConnector",
    "ISCSIDriver",
    "Iface",
    "IfaceRecords",
    "Iscsiadm",
    "KernelTestCase",
    "Multipath",
    "NovaCompute",
    "Sysfs",
    "cli",
    "daemon_operation",
    "exception",
    "fake_manager",
    "multipath_node_settings",
    "root_executor",
]

ISCSIDriver = _driver.ISCSIDriver
ISCSIConnector = _brick.ISCSIConnector
Iscsiadm = _iscsiadm.Iscsiadm
IfaceRecords = _ifaces.IfaceRecords
Iface = _iface.Iface
Multipath = _multipath.Multipath
Sysfs = _sysfs.Sysfs
multipath_node_settings = _multipath.node_settings


def root_executor() -> _client.Executor:
    """The library's root operations, in this (root) process."""
    return _client.executor(in_process=True)

def daemon_operation(name: str, *args: Any) -> Any:
    """Call the root daemon's entry point ``name`` as it is declared, the
    way a compromised service user could: nothing of the library's own
    checks in between."""
    for module in (_commands, _scsi, _records):
        operation = getattr(module, name, None)
        if callable(operation):
            return operation(*args)
    raise AttributeError("no root operation %r" % name)


#: The iface bound to the VM's NIC by its MAC, as ``transport`` names it.
NIC_IFACE = "tcp.%s" % machine.NIC_MAC
#: What every node record the driver makes is set to, with the library's
#: default login window (written out: the test does not ask the library).
NODE_SETTINGS = {"node.session.scan": "manual", "node.startup": "manual",
                 "node.conn[0].timeo.login_timeout": "15",
                 "node.session.initial_login_retry_max": "4"}


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
        # open-iscsi's real records (the unit base hides them).
        self.flags(sysfs_root="/sys", state_path=self.state, iscsi_db_path="",
                   iscsiadm_timeout=90, device_scan_attempts=60,
                   device_scan_interval=0.5)
        #: Every root operation of what the test builds, as it ran.
        self.root = recording.RootRecorder(root_executor())

    # -- targets -------------------------------------------------------------

    def lio(self, initiator: str | None = None,
            **kwargs: Any) -> targets.LioTarget:
        """A LIO target whose ACL admits ``initiator`` (the host's name by
        default) and no one else."""
        target = targets.LioTarget(initiator or self.machine.initiator,
                                   **kwargs)
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
        """The driver on :attr:`root`, its root operations recorded.

        The driver takes its iscsiadm runs, root writes (LUN scans, disk
        flushes and deletes) and multipath executor from the one executor
        it is given, which is checked here so that a driver resolving them
        elsewhere fails every test instead of going unrecorded.
        """
        driver = ISCSIDriver(self.conf, executor=self.root, **kwargs)
        self.assertIs(self.root, driver.iscsiadm.privileged)
        self.assertIs(self.root, driver.writer)
        return driver

    def connector(self, **kwargs: Any) -> _brick.ISCSIConnector:
        """The os-brick connector nova, cinder and glance_store attach
        through, as root (no root helper), on :meth:`driver`."""
        return ISCSIConnector("", conf=self.conf, iscsi_driver=self.driver(),
                              **kwargs)

    def iscsiadm(self) -> _iscsiadm.Iscsiadm:
        return Iscsiadm(self.conf, executor=self.root)

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

    def assert_record(self, iqn: str, portal: str, iface: str,
                      settings: dict[str, str]) -> None:
        """The node record holds ``settings`` as iscsiadm itself reads
        them back (a value masked by the recorder is not compared)."""
        shown = machine.run("iscsiadm", "-m", "node", "-T", iqn, "-p",
                            portal, "-I", iface)
        for key, value in settings.items():
            if value != recording.MASK:
                self.assertIn("\n%s = %s\n" % (key, value), shown)

    def assert_two_process_attach(self, target: targets.LioTarget,
                                  info: dict[str, Any],
                                  auth: dict[str, str] | None = None,
                                  secrets: tuple[str, ...] = ()) -> None:
        """A fresh single-path attach on the default iface, as :attr:`root`
        recorded it: the record layout read, ``-o new``, the settings
        (``auth`` among them, secrets masked) written into that record,
        ``--login`` -- two iscsiadm processes -- then scans of exactly the
        volume's LUN; no ``secrets`` on any iscsiadm command line; the
        record as iscsiadm shows it."""
        node = ["-m", "node", "-T", target.iqn, "-p", target.portal, "-I",
                "default"]
        self.assertEqual([node + ["-o", "new"], node + ["--login"]],
                         self.root.iscsiadm_args())
        names = self.root.names()
        self.assertEqual(["read_node_layout", "iscsiadm",
                          "write_node_settings", "iscsiadm"], names[:4])
        host, channel, target_id, lun = info["targets"][0]["hctl"].split(":")
        scans = self.root.named("scan_host")
        self.assertEqual(len(names) - 4, len(scans), names)
        self.assertTrue(scans, "the LUN was never scanned")
        self.assertEqual({(int(host), "%s %s %s" % (channel, target_id,
                                                    lun))},
                         {operation.args for operation in scans})
        settings = dict(NODE_SETTINGS, **(auth or {}))
        self.assertEqual([recording.NodeSettings(
            target.iqn, target.portal, "default", settings)],
            self.root.node_settings())
        command_lines = repr(self.root.iscsiadm_args())
        for secret in secrets:
            self.assertNotIn(secret, command_lines)
        self.assert_record(target.iqn, target.portal, "default", settings)

    def assert_two_process_detach(self, target: targets.LioTarget,
                                  disk: str) -> None:
        """The detach of the one LUN of a session on the default iface, as
        :attr:`root` recorded it (from a :meth:`~.RootRecorder.clear`):
        the disk flushed and deleted through the executor, ``node.startup
        = manual`` written into the session's record, ``--logout`` and
        ``-o delete`` -- two iscsiadm processes."""
        self.assertEqual(["flush_disk", "delete_disk", "read_node_layout",
                          "write_node_settings", "iscsiadm", "iscsiadm"],
                         self.root.names())
        self.assertEqual([(disk,), (disk,)],
                         [operation.args for operation in
                          self.root.operations[:2]])
        ((record, portal, iface, settings),) = self.root.node_settings()
        self.assertEqual((target.iqn, target.portal, "default",
                          {"node.startup": "manual"}),
                         (record, recording.bare_portal(portal), iface,
                          settings))
        node = ["-m", "node", "-T", target.iqn, "-p", target.portal, "-I",
                "default"]
        self.assertEqual([node + ["--logout"], node + ["-o", "delete"]],
                         self.root.iscsiadm_args())

    def assert_clean(self, iqn: str, disks: list[str]) -> None:
        """No session, SCSI disk, by-path link or node record is left."""
        machine.settle()
        self.assertEqual([], machine.sessions(iqn), "sessions left")
        self.assertEqual([], [disk for disk in disks
                              if machine.disk_exists(disk)], "disks left")
        self.assertEqual([], machine.by_path_links(iqn), "by-path left")
        self.assertEqual([], machine.node_records(iqn), "node records left")


# -- nova ---------------------------------------------------------------------

#: The checkout the tests run from (the nova virtualenv imports it too).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
#: Set by tools/kernel-lab/run-tests.sh: the python of the nova virtualenv
#: tools/nova-tests.sh builds (nova is never installed with the library).
NOVA_PYTHON_ENV = "ISCSI_TRANSPORTS_NOVA_PYTHON"
NOVA_HELPER = os.path.join(REPO, "tools", "nova_tests", "libvirt_volumes.py")


class NovaError(AssertionError):
    """A request to nova failed; carries nova's exception and traceback."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__("%s: %s\n%s" % (reply["error"], reply["message"],
                                         reply.get("traceback", "")))
        self.error = str(reply["error"])


class NovaCompute(child.JsonLinesChild):
    """nova's ``LibvirtDriver`` volume path in a process of its own.

    Runs ``tools/nova_tests/libvirt_volumes.py`` with the nova
    virtualenv's python and this checkout first on its path, under
    ``iscsi-transports run`` as a deployment runs nova-compute (nova's own
    volume drivers, the library's connector from os-brick's factory), with
    a ``nova.conf`` holding ``options`` ({group: {name: value}}), and sends
    it one request at a time.  Its log goes to ``log_path``.
    """

    who = "nova"

    def __init__(self, workdir: str, options: dict[str, dict[str, str]],
                 log_path: str, timeout: float = 900) -> None:
        python = os.environ.get(NOVA_PYTHON_ENV)
        if not python or not os.access(python, os.X_OK):
            raise AssertionError(
                "%s=%r is not nova's virtualenv python: run the kernel tests "
                "through tools/kernel-lab/run-tests.sh, which builds it with "
                "tools/nova-tests.sh" % (NOVA_PYTHON_ENV, python))
        config = os.path.join(workdir, "nova.conf")
        with open(config, "w") as conf:
            for group, values in options.items():
                conf.write("[%s]\n" % group)
                conf.writelines("%s = %s\n" % item for item in values.items())
        super().__init__([python, "-m", "iscsi_transports.cmd.main", "run",
                          "--", python, NOVA_HELPER, "--config-file", config],
                         log_path, timeout,
                         env=dict(os.environ, PYTHONPATH=REPO))
        self._checked(self._reply())  # {"ready": true} once nova is loaded

    @staticmethod
    def _checked(reply: dict[str, Any]) -> dict[str, Any]:
        if "error" in reply:
            raise NovaError(reply)
        return reply

    def request(self, op: str, **kwargs: Any) -> dict[str, Any]:
        return self._checked(self._send(op, **kwargs))
