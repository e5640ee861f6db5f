"""iscsiadm, multipath and multipathd through the root daemon.

Every iscsiadm command line the library builds (recorded from the real
:class:`~iscsi_transports.iscsiadm.Iscsiadm` methods) is accepted and run
with exactly that argv; anything else is refused on the daemon's side
before the command starts, with a typed error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports.attach import driver
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import runner as iscsiadm_mod
from iscsi_transports.privileged import client
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.privileged import base

NODE = ["-m", "node", "-T", base.TARGET, "-p", base.PORTAL, "-I", "lab0"]
DB = ["-m", "discoverydb", "-t", "sendtargets", "-p", base.PORTAL, "-I",
      "lab0"]


class _NoIfaceRecords(fake_executor.RecordingExecutor):
    """Answers ``-m iface -o show`` as for a missing record (exit 6)."""

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> client.CommandResult:
        super().iscsiadm(args, timeout)
        if args[:2] == ["-m", "iface"] and "show" in args:
            return client.CommandResult(6, "", "")
        return self.answer


def library_command_lines(conf: object) -> list[list[str]]:
    """What the iscsiadm layer runs through the daemon today: every
    method, the node settings and CHAP among them (written into the
    record, so no ``-m node -o update`` line)."""
    executor = _NoIfaceRecords()
    runner = iscsiadm_mod.Iscsiadm(conf, executor=executor)  # type: ignore
    lab0 = ["-I", "lab0"]
    runner.nodes()
    runner.discover(base.PORTAL, lab0)
    runner.discover(base.PORTAL, lab0,
                    {"discovery.sendtargets.auth.authmethod": "CHAP"})
    runner.node_new(base.TARGET, base.PORTAL, lab0)
    runner.node_new(base.TARGET, base.PORTAL + ",1", lab0)
    runner.node_update(base.TARGET, base.PORTAL, lab0,
                       {"node.session.auth.authmethod": "CHAP",
                        "node.session.auth.username": "user"})
    runner.node_update(base.TARGET, base.PORTAL, lab0,
                       driver.ISCSIDriver(conf).node_settings())  # type: ignore
    runner.login(base.TARGET, base.PORTAL, lab0, timeout=90)
    runner.logout(base.TARGET, base.PORTAL, lab0)
    runner.node_delete(base.TARGET, base.PORTAL, lab0)
    wanted = iface_mod.Iface(name="lab0", transport_name="tcp",
                             net_ifacename="lo")
    records = iscsiadm_ifaces.IfaceRecords(runner)
    records.ensure(wanted)
    records.delete("lab0")
    return [list(call[1]) for call in executor.calls  # type: ignore
            if call[0] == "iscsiadm"]


class TestIscsiadm(base.PrivilegedTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.argv_file = self.script("iscsiadm",
                                     'echo "out"; echo "err" >&2; exit 21')

    def test_every_library_command_runs_with_its_argv(self) -> None:
        lines = library_command_lines(self.conf)
        self.assertGreater(len(lines), 10)
        self.assertFalse([line for line in lines if line[:2] ==
                          ["-m", "node"] and "update" in line])
        for args in lines:
            self.assertEqual((21, "out\n", "err\n"),
                             tuple(self.executor.iscsiadm(args, 30)))
        self.assertEqual([" ".join(args) for args in lines],
                         self.read(self.argv_file).splitlines())

    def test_lifecycle_queries(self) -> None:
        """What the lifecycle work adds: a node's records at one portal
        (``-o show``, no iface) and a portal with its group tag."""
        accepted = [
            ["-m", "node", "-T", base.TARGET, "-p", base.PORTAL, "-o",
             "show"],
            ["-m", "node", "-T", base.TARGET, "-p", base.PORTAL + ",1",
             "-I", "lab0", "--login"],
            # Some arrays name themselves IQN.: the name goes as sent.
            ["-m", "node", "-T", "IQN.1986-03.COM.EXAMPLE:02:T1", "-p",
             base.PORTAL, "-I", "lab0", "--login"],
        ]
        for args in accepted:
            self.executor.iscsiadm(args, 30)
        self.assertEqual([" ".join(args) for args in accepted],
                         self.read(self.argv_file).splitlines())

    def test_actions_bound_to_one_record(self) -> None:
        """Looser than the rootwrap filter it replaces, the daemon would
        run as root what reaches every record or session."""
        target, portal, lab0 = (["-T", base.TARGET], ["-p", base.PORTAL],
                                ["-I", "lab0"])
        disc = ["-t", "sendtargets"]
        refused = [
            ["-m", "node", "--logout"],
            ["-m", "node", "--login"],
            ["-m", "node", "-o", "delete"],
            ["-m", "node", "-o", "update", "-n", "node.startup", "-v",
             "automatic"],
            ["-m", "node", *target, "--logout"],
            ["-m", "node", *portal, *lab0, "--logout"],
            ["-m", "node", *target, *portal, "--logout"],
            ["-m", "node", *target, *lab0, "-o", "delete"],
            ["-m", "node", *target, *portal, "-o", "new"],
            ["-m", "node", *target, "-o", "show"],
            ["-m", "node", "-o", "show"],
            ["-m", "node", *target],
            ["-m", "iface", "-o", "delete"],
            ["-m", "iface", "-o", "update", "-n", "iface.ipaddress", "-v",
             "x"],
            ["-m", "iface", *lab0],
            ["-m", "discovery", *disc, *portal],
            ["-m", "discovery", *disc, *portal, *lab0],
            ["-m", "discovery", *disc, *lab0, "-o", "nonpersistent"],
            ["-m", "discovery", *portal, *lab0, "-o", "nonpersistent"],
            ["-m", "discoverydb", *disc, *portal, *lab0],
            ["-m", "discoverydb", *disc, *portal, "-o", "new"],
            ["-m", "discoverydb", *disc, *lab0, "-o", "delete"],
            ["-m", "discoverydb", *portal, *lab0, "--discover", "-o",
             "nonpersistent"],
            ["-m", "session"],
            ["-m", "session", "-r", "3", "--rescan"],
        ]
        for args in refused:
            self.assert_refused_unchanged(self.executor.iscsiadm, args, 30)
        self.assertFalse(os.path.exists(self.argv_file))
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.iscsiadm,
                                  ["-m", "node", *target, "--logout"], 30)
        self.assertIn("-m node --logout needs -p, -I", str(error))

    def test_refused(self) -> None:
        refused = [
            [],
            ["-m"],
            ["-m", "fw"],
            ["--version"],
            ["-m", "node", "-o", "delete", "-o", "delete"],
            ["-m", "node", "-T", "not-an-iqn"],
            ["-m", "node", "-T", base.TARGET + "/../x"],
            ["-m", "node", "-p", "127.0.0.1:3260;reboot"],
            ["-m", "node", "-p", "-x"],
            ["-m", "node", "-I", "../etc"],
            ["-m", "node", "-I", "lab0\n"],
            ["-m", "node", "-T", base.TARGET + "\n"],
            ["-m", "node", "-p", base.PORTAL + "\n"],
            [*NODE, "-o", "purge"],
            [*NODE, "--login", "--logout"],
            [*NODE, "-o", "update"],
            # Well formed, and still refused: node settings are written
            # by write_node_settings, which takes only the driver's.
            [*NODE, "-o", "update", "-n", "node.startup", "-v", "manual"],
            [*NODE, "-o", "update", "-n", "node.session.auth.authmethod",
             "-v", "None"],
            [*NODE, "-o", "new", "-n", "node.startup", "-v", "automatic"],
            [*NODE, "-o", "update", "-n", "node.startup"],
            [*NODE, "-o", "update", "-v", "x", "-n", "node.startup"],
            [*NODE, "-o", "update", "-n", "iface.ipaddress", "-v", "x"],
            [*NODE, "-o", "update", "-n", "node.startup", "-v", "a\nb"],
            [*NODE, "-o", "update", "-n", "node.session.auth.password",
             "-v", "s3cr3t"],
            [*NODE, "-o", "update", "-n", "node.session.auth.password_in",
             "-v", "s3cr3t"],
            [*DB, "-o", "update", "-n",
             "discovery.sendtargets.auth.password", "-v", "s3cr3t"],
            ["-m", "discovery", "-t", "isns", "-p", base.PORTAL],
            # -o nonpersistent only lists targets; nothing else rides on it.
            ["-m", "discovery", "-t", "sendtargets", "-p", base.PORTAL,
             "-I", "lab0", "-o", "new"],
            ["-m", "discovery", "-t", "sendtargets", "-p", base.PORTAL,
             "-I", "lab0", "-o", "nonpersistent", "-o", "nonpersistent"],
            [*DB, "-o", "nonpersistent"],
            [*DB, "-o", "new", "-o", "nonpersistent"],
            [*NODE, "-o", "nonpersistent"],
            ["-m", "iface", "-I", "lab0", "-o", "update", "-n",
             "node.startup", "-v", "x"],
            ["-m", "node", 3],
        ]
        for args in refused:
            self.assert_refused_unchanged(self.executor.iscsiadm, args, 30)
        self.assertFalse(os.path.exists(self.argv_file))

    def test_secret_never_in_the_message(self) -> None:
        error = self.assertRaises(
            exception.PrivilegedRequestRefused, self.executor.iscsiadm,
            [*NODE, "-o", "update", "-n", "node.session.auth.password",
             "-v", "Sup3r-S3cr3t"], 30)
        self.assertNotIn("Sup3r-S3cr3t", str(error))
        self.assertNotIn("Sup3r-S3cr3t", repr(error.args))
        self.assertEqual("run iscsiadm", error.operation)

    def test_bad_timeout_refused(self) -> None:
        for timeout in (0, -1, 99999, "30", True):
            self.assert_refused_unchanged(self.executor.iscsiadm,
                                        ["-m", "node"], timeout)

    def test_hung_command_is_killed(self) -> None:
        self.script("iscsiadm", "exec /bin/sleep 60")
        started = time.monotonic()
        error = self.assertRaises(exception.PrivilegedCommandTimeout,
                                  self.executor.iscsiadm,
                                  ["-m", "node"], 1)
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual("iscsiadm -m node", error.cmd)

    def test_missing_binary(self) -> None:
        os.unlink(os.path.join(self.bin, "iscsiadm"))
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.executor.iscsiadm,
                                  ["-m", "node"], 30)
        self.assertIn("iscsiadm is not installed", str(error))


class TestIscsiadmInProcess(TestIscsiadm):
    in_process = True


class TestMultipath(base.PrivilegedTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.multipath = self.script("multipath")
        self.multipathd = self.script("multipathd")

    def test_allowed(self) -> None:
        for args in (["-f", "3600140512345678"], ["-f", "mpatha"],
                     ["-c", "/dev/sdb"], ["-ll"], ["-ll", "/dev/dm-3"],
                     ["-r"], ["-a", "3600140512345678"]):
            self.assertEqual(0, self.executor.multipath(args, 30).exit_code)
        for args in (["add", "path", "sdb"], ["del", "path", "sdc"],
                     ["resize", "map", "mpatha"], ["show", "maps"],
                     ["show", "paths"], ["reconfigure"], ["show", "config"]):
            self.assertEqual(0, self.executor.multipathd(args, 30).exit_code)
        self.assertEqual(["-f 3600140512345678", "-f mpatha", "-c /dev/sdb",
                          "-ll", "-ll /dev/dm-3", "-r",
                          "-a 3600140512345678"],
                         self.read(self.multipath).splitlines())
        self.assertEqual("add path sdb\n",
                         self.read(self.multipathd).splitlines(True)[0])

    def test_refused(self) -> None:
        for args in ([], ["-F"], ["-f"], ["-f", "-x"], ["-f", "a b"],
                     ["-f", "../x"], ["-c", "/etc/passwd"], ["-w", "x"],
                     ["-f", "mpatha", "-f", "mpathb"], ["-a"],
                     ["-a", "../x"], ["-a", "/dev/sdb"], ["-t"], ["-T"]):
            self.assert_refused_unchanged(self.executor.multipath, args, 30)
        for args in ([], ["add", "path", "/dev/sdb"], ["del", "map", "x"],
                     ["add", "path", "sdb", "extra"], ["shutdown"],
                     ["resize", "map", "-x"], ["show", "config", "local"],
                     ["show", "status"], ["del", "map", "mpatha"]):
            self.assert_refused_unchanged(self.executor.multipathd, args, 30)
