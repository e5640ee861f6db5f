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
            ["-m", "discoverydb", *disc, *portal, *lab0, "-o", "delete"],
            ["-m", "discoverydb", *disc, *portal, *lab0, "-o", "show"],
            ["-m", "discoverydb", *disc, *portal, *lab0, "--discover"],
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


class TestIscsiadmGrammar(base.TreeTestCase):
    """Issue 22's findings: iface values each by their own grammar,
    discovery that writes no records, no logout of the boot target."""

    in_process = True

    def setUp(self) -> None:
        super().setUp()
        self.argv_file = self.script("iscsiadm")

    def update(self, key: str, value: str) -> list[str]:
        return ["-m", "iface", "-I", "lab0", "-o", "update", "-n", key,
                "-v", value]

    def test_iface_values_the_plugins_write(self) -> None:
        accepted = [
            self.update("iface.transport_name", "tcp"),
            self.update("iface.transport_name", "cxgb4i"),
            self.update("iface.hwaddress", "00:07:43:05:97:07"),
            self.update("iface.ipaddress", "192.0.2.7"),
            self.update("iface.ipaddress", "2001:db8::7"),
            self.update("iface.net_ifacename", "eth0.100"),
            self.update("iface.initiatorname",
                        "iqn.1994-05.com.redhat:compute-1"),
            self.update("iface.initiatorname", "eui.02004567A425678D"),
        ]
        for args in accepted:
            self.assertEqual(0, self.executor.iscsiadm(args, 30).exit_code)
        self.assertEqual(len(accepted),
                         len(self.read(self.argv_file).splitlines()))

    def test_iface_values_outside_their_grammar(self) -> None:
        refused = {
            # iscsiadm loads the kernel module a transport name names.
            "iface.transport_name": ("dummy", "ib_iser", "tcp ", "TCP",
                                     "../tcp", ""),
            "iface.hwaddress": ("00:07:43:05:97:0", "00-07-43-05-97-07",
                                "00:07:43:05:97:07:00", "00:00:00:00:00:00",
                                "00:07:43:05:97:0G"),
            "iface.ipaddress": ("192.0.2.300", "192.0.2.7 ", "2001:DB8::7",
                                "fe80::1%eth0", "0192.0.2.7", "host"),
            "iface.net_ifacename": ("", ".", "..", "eth/0", "eth:0", "eth 0",
                                    "a" * 16, "é" * 8),
            "iface.initiatorname": ("iqn.x", "iqn.2026-11.org.x y",
                                    "iqn.2026-11." + "a" * 212, "eui.1",
                                    "naa.123"),
            "iface.bootproto": ("dhcp",),
            "iface.iscsi_ifacename": ("other",),
            "iface.vlan_id": ("7",),
            "node.startup": ("automatic",),
        }
        for key, values in refused.items():
            for value in values:
                error = self.assertRaises(
                    exception.PrivilegedRequestRefused,
                    self.executor.iscsiadm, self.update(key, value), 30)
                self.assertIn(key, str(error))
                if len(value) > 2:
                    self.assertNotIn(value, str(error))
        self.assertFalse(os.path.exists(self.argv_file))

    def test_discovery_writes_no_record(self) -> None:
        for args in ([*DB, "--discover"],
                     [*DB, "-o", "update", "-n",
                      "discovery.sendtargets.use_discoveryd", "-v", "Yes"],
                     [*DB, "-o", "update", "-n",
                      "discovery.sendtargets.auth.authmethod", "-v", "None"],
                     [*DB, "-o", "delete"],
                     ["-m", "discovery", "-t", "sendtargets", "-p",
                      base.PORTAL, "-I", "lab0"]):
            self.assert_refused_unchanged(self.executor.iscsiadm, args, 30)
        self.assertFalse(os.path.exists(self.argv_file))

    def boot_from(self, table: str) -> None:
        self.write(os.path.join(self.paths.sysfs, "firmware", table,
                                "target0", "target-name"),
                   base.TARGET.upper() + "\n")

    def test_no_logout_or_delete_of_the_boot_target(self) -> None:
        for table in ("ibft", "iscsi_boot0"):
            self.boot_from(table)
            for action in (["--logout"], ["-o", "delete"]):
                error = self.assertRaises(
                    exception.PrivilegedRequestRefused,
                    self.executor.iscsiadm, [*NODE, *action], 30)
                self.assertIn("the target the firmware booted from",
                              str(error))
        self.assertFalse(os.path.exists(self.argv_file))
        # Another session to the boot target's portal may still log in.
        self.executor.iscsiadm([*NODE, "--login"], 30)
        other = ["-m", "node", "-T", base.TARGET + "-2", "-p", base.PORTAL,
                 "-I", "lab0", "--logout"]
        self.executor.iscsiadm(other, 30)
        self.assertEqual(2, len(self.read(self.argv_file).splitlines()))

    def test_multipathd_paths_only_of_unused_iscsi_disks(self) -> None:
        multipathd = self.script("multipathd")
        for args in (["add", "path", "sda"], ["del", "path", "sda"],
                     ["add", "path", "sdq"]):
            self.assert_refused_unchanged(self.executor.multipathd, args, 30)
        self.mounts(base.MOUNTINFO + "40 24 8:16 / /srv rw - xfs /dev/sdb "
                    "rw\n")
        self.assert_refused_unchanged(self.executor.multipathd,
                                      ["del", "path", "sdb"], 30)
        self.assertFalse(os.path.exists(multipathd))


    def test_multipath_flushes_only_maps_of_unused_iscsi_disks(
            self) -> None:
        multipath = self.script("multipath")
        self.tree.add_dm("dm-0", "mpatha", "mpath-3600140512345678")
        self.tree.stack("dm-0", "sdb")
        self.tree.add_dm("dm-1", "local", "mpath-3600local")
        self.tree.stack("dm-1", "sda")
        for name in ("local", "3600local"):
            error = self.assertRaises(exception.PrivilegedRequestRefused,
                                      self.executor.multipath, ["-f", name],
                                      30)
            self.assertIn("sda is not a disk of an iSCSI session",
                          str(error))
        self.assertFalse(os.path.exists(multipath))
        for name in ("mpatha", "3600140512345678", "mpathz"):
            self.executor.multipath(["-f", name], 30)
        self.mounts(base.MOUNTINFO + "40 24 253:0 / /srv rw - xfs "
                    "/dev/mapper/mpatha rw\n")
        error = self.assertRaises(exception.PrivilegedRequestRefused,
                                  self.executor.multipath, ["-f", "mpatha"],
                                  30)
        self.assertIn("holds a mounted file system", str(error))
        self.assertEqual(["-f mpatha", "-f 3600140512345678", "-f mpathz"],
                         self.read(multipath).splitlines())


class TestIscsiadmGrammarThroughTheDaemon(TestIscsiadmGrammar):
    in_process = False


class TestMultipath(base.TreeTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.multipath = self.script("multipath")
        self.multipathd = self.script("multipathd")

    def test_allowed(self) -> None:
        for args in (["-f", "3600140512345678"], ["-f", "mpatha"],
                     ["-c", "/dev/sdb"], ["-ll"], ["-ll", "/dev/dm-3"],
                     ["-r"], ["-a", "3600140512345678"]):
            self.assertEqual(0, self.executor.multipath(args, 30).exit_code)
        self.tree.add_disk(1, 2, "sdc")
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
