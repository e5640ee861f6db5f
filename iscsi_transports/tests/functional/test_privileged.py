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

"""The root daemon as nova starts it, against the real iscsiadm and tgtd.

The daemon is the real ``privsep-helper`` (oslo.privsep's ROOTWRAP start,
the one nova uses) run through ``nsenter`` into the lab's namespace as the
helper command, so it runs iscsiadm on the lab's private ``/etc/iscsi``
with the capabilities it declares.  Records are made by the real
``iscsiadm -o new``; the CHAP lines the daemon writes are read back by the
real ``iscsiadm -o show`` and, for discovery, used by tgtd's CHAP check.
While all that runs, every ``/proc/*/cmdline`` is read over and over: no
secret may appear in any of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

from oslo_config import cfg
from oslo_config import fixture as config_fixture

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import privileged
from iscsi_transports.iscsiadm import ifaces
from iscsi_transports.iscsiadm import runner as runner_mod
from iscsi_transports.privileged import client
from iscsi_transports.privileged import commands
from iscsi_transports.privileged import validate
from iscsi_transports.tests.functional import base
from iscsi_transports.tests.functional import lab as lab_mod

P = "node.session.auth."
D = "discovery.sendtargets.auth."


def secret(kind: str) -> str:
    """A secret of this test only: the watch reads every process on the
    host, other test workers' (and their targets' tgtadm) included."""
    return "%s-%s = #1" % (kind, uuid.uuid4().hex[:12])


class CmdlineWatch(threading.Thread):
    """Reads every process's argv until stopped; keeps any with a secret."""

    def __init__(self, *secrets: str) -> None:
        super().__init__(daemon=True)
        self.secrets = [s.encode() for s in secrets]
        self.found: list[str] = []
        self.rounds = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as handle:
                        argv = handle.read()
                except OSError:
                    continue
                if any(secret in argv for secret in self.secrets):
                    self.found.append(argv.replace(b"\0", b" ").decode())
            self.rounds += 1

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(10)


class DaemonCase(base.FunctionalTestCase):
    """The daemon started through privsep-helper in the lab namespace."""

    def setUp(self) -> None:
        super().setUp()
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        # nsenter -m starts in the namespace's /, where the daemon would
        # import the installed package rather than the tree under test.
        conf.config(group=privileged.CFG_SECTION, helper_command=(
            "nsenter -t %d -m -n --wd=%s -- %s -m oslo_privsep.daemon"
            % (self.lab.pid, os.getcwd(), sys.executable)))
        self.addCleanup(privileged.context.stop)
        self.executor = client.executor(in_process=False)
        self.secret, self.secret_in = secret("session"), secret("mutual")
        self.disco = secret("disco").replace(" = #1", "")
        self.chap = {P + "authmethod": "CHAP", P + "username": "user",
                     P + "password": self.secret, P + "username_in": "target",
                     P + "password_in": self.secret_in}
        self.watch = CmdlineWatch(self.secret, self.secret_in, self.disco)
        self.addCleanup(self.watch.stop)

    def watch_argv(self) -> None:
        """Start reading every argv (after the target's own set-up, whose
        tgtadm carries the target side's secret)."""
        self.watch.start()

    def privileged_iscsiadm(self, *args: str) -> commands.CommandResult:
        result = self.executor.iscsiadm(list(args), 60)
        self.assertEqual(0, result.exit_code, result.stderr)
        return result

    def node(self, iface: str) -> list[str]:
        return ["-m", "node", "-T", lab_mod.TARGET_IQN, "-p",
                self.lab.portal, "-I", iface]

    def show(self, *args: str) -> str:
        shown = self.lab.run("iscsiadm", *args, "-o", "show")
        self.assertEqual(0, shown.returncode, shown.stderr)
        return shown.stdout

    def assert_no_secret_in_any_argv(self) -> None:
        self.watch.stop()
        self.assertGreater(self.watch.rounds, 0)
        self.assertEqual([], self.watch.found)

    def record_file(self, iface: str) -> str:
        target_dir = os.path.join(self.lab.etc_iscsi, "nodes",
                                  lab_mod.TARGET_IQN)
        (entry,) = os.listdir(target_dir)
        path = os.path.join(target_dir, entry)
        return os.path.join(path, iface) if os.path.isdir(path) else path


class TestPrivilegedDaemon(DaemonCase):

    def test_the_watch_sees_a_secret_in_an_argv(self) -> None:
        # Its own token: the watch reads every process of the host,
        # other test workers' included.
        token = "control-%s" % uuid.uuid4().hex
        self.watch = CmdlineWatch(token)
        self.watch_argv()
        subprocess.run(["sh", "-c", "sleep 0.5", "sh", token], check=True)
        self.watch.stop()
        self.assertEqual(["sh -c sleep 0.5 sh %s " % token],
                         sorted(set(self.watch.found)))

    def test_chap_lines_in_a_record_iscsiadm_made(self) -> None:
        self.watch_argv()
        self.privileged_iscsiadm("-m", "iface", "-I", "lab0", "-o", "new")
        self.privileged_iscsiadm(*self.node("lab0"), "-o", "new")
        self.executor.write_node_settings(lab_mod.TARGET_IQN, self.lab.portal,
                                          "lab0", self.chap)
        shown = self.show(*self.node("lab0"))
        for line in (P + "authmethod = CHAP", P + "username = user",
                     P + "password = ********", P + "username_in = target",
                     P + "password_in = ********"):
            self.assertIn(line + "\n", shown)
        self.assertNotIn(self.secret, shown)
        # -S shows hidden values: iscsiadm read back exactly what we wrote.
        hidden = self.show(*self.node("lab0"), "-S")
        self.assertIn(P + "password = " + self.secret + "\n", hidden)
        self.assertIn(P + "password_in = " + self.secret_in + "\n", hidden)
        record = self.record_file("lab0")
        with open(record) as handle:
            text = handle.read()
        self.assertIn(P + "password = " + self.secret + "\n", text)
        self.assertEqual(1, text.count(P + "authmethod"))
        # The installed open-iscsi's version: 2.1.8 on Debian 12, 2.1.11 on 13.
        self.assertRegex(text, r"\A# BEGIN RECORD \d+\.\d+\.\d+\n")
        self.assertTrue(text.endswith("# END RECORD\n"))
        self.assertEqual(0o600, os.stat(record).st_mode & 0o777)
        self.assert_no_secret_in_any_argv()

    def test_the_default_iface_record(self) -> None:
        self.watch_argv()
        self.privileged_iscsiadm(*self.node("default"), "-o", "new")
        self.executor.write_node_settings(
            lab_mod.TARGET_IQN, self.lab.portal, "default",
            {P + "authmethod": "CHAP", P + "username": "user",
             P + "password": self.secret})
        hidden = self.show(*self.node("default"), "-S")
        self.assertIn(P + "authmethod = CHAP\n", hidden)
        self.assertIn(P + "password = " + self.secret + "\n", hidden)
        self.assert_no_secret_in_any_argv()

    def test_discovery_chap_accepted_by_the_target(self) -> None:
        self.discovery_chap("disco", self.disco)
        self.watch_argv()
        self.privileged_iscsiadm("-m", "iface", "-I", "lab0", "-o", "new")
        self.privileged_iscsiadm("-m", "iface", "-I", "lab0", "-o", "update", "-n",
                      "iface.net_ifacename", "-v", "lo")
        db = ["-m", "discoverydb", "-t", "sendtargets", "-p",
              self.lab.portal, "-I", "lab0"]
        self.privileged_iscsiadm(*db, "-o", "new")
        self.executor.write_discovery_auth(
            self.lab.portal, {D + "authmethod": "CHAP", D + "username":
                              "disco", D + "password": self.disco})
        found = self.privileged_iscsiadm(
            *db, "--discover", "-o", "nonpersistent").stdout
        self.assertIn(lab_mod.TARGET_IQN, found)
        self.assert_no_secret_in_any_argv()

    def test_wrong_discovery_secret_is_refused_by_the_target(self) -> None:
        self.discovery_chap("disco", self.disco)
        db = ["-m", "discoverydb", "-t", "sendtargets", "-p",
              self.lab.portal, "-I", "default"]
        self.privileged_iscsiadm(*db, "-o", "new")
        self.executor.write_discovery_auth(
            self.lab.portal, {D + "authmethod": "CHAP", D + "username":
                              "disco", D + "password": "wrong-secret-9"})
        result = self.executor.iscsiadm(
            [*db, "--discover", "-o", "nonpersistent"], 60)
        self.assertEqual(24, result.exit_code)  # ISCSI_ERR_LOGIN_AUTH_FAILED


class TestFlushRealBlockDevice(base.FunctionalTestCase):
    """``BLKFLSBUF`` and a one-block read on a real block device node,
    named like a disk and reached through a udev-like link, which a built
    sysfs tree shows as LUN 1 of an iSCSI session with the node's device
    number."""

    def setUp(self) -> None:
        super().setUp()
        import fixtures

        from iscsi_transports import fixture
        from iscsi_transports.privileged import paths
        from iscsi_transports.tests.unit.attach import kernel_tree
        self.dev = self.useFixture(fixtures.TempDir()).path
        sysfs = self.useFixture(fixture.SysfsTree())
        proc = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(proc, "self"))
        with open(os.path.join(proc, "self", "mountinfo"), "w") as mounts:
            mounts.write("24 1 254:1 / / rw - ext4 /dev/vda1 rw\n")
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.paths.PATHS",
            paths.Paths(dev=self.dev, sysfs=sysfs.root, proc=proc)))
        tree = kernel_tree.IscsiTree(sysfs, self.dev)
        tree.add_session(1, "iqn.2026-11.org.openstack.test:volume-1")
        tree.add_disk(1, 1, "sdq")
        tree.add_disk(1, 2, "sdr")
        os.unlink(os.path.join(self.dev, "sdq"))
        os.unlink(os.path.join(self.dev, "sdr"))
        self.loop = os.stat("/dev/loop0").st_rdev
        number = "%d:%d" % (os.major(self.loop), os.minor(self.loop))
        tree.write("class/block/sdq/dev", number)
        os.mknod(os.path.join(self.dev, "sdq"), 0o600 | 0o060000, self.loop)
        # sdr's node is the same loop device, which sysfs says is not it.
        os.mknod(os.path.join(self.dev, "sdr"), 0o600 | 0o060000, self.loop)

    def test_flush_in_process(self) -> None:
        self.assertTrue(client.Executor(in_process=True).flush_disk("sdq"))

    def test_a_node_that_is_not_the_proven_disk_is_refused(self) -> None:
        executor = client.Executor(in_process=True)
        for call, arg in ((executor.flush_disk, "sdr"),
                          (executor.read_block, "/dev/sdr")):
            error = self.assertRaises(exception.PrivilegedRequestRefused,
                                      call, arg)
            self.assertIn("not the one sysfs names", str(error))

    def test_read_block_through_a_link_in_process(self) -> None:
        by_id = os.path.join(self.dev, "disk", "by-id")
        os.makedirs(by_id)
        os.symlink("../../sdq", os.path.join(by_id, "wwn-0x6001405"))
        executor = client.Executor(in_process=True)
        executor.read_block("/dev/disk/by-id/wwn-0x6001405")
        executor.read_block("/dev/sdq")


class TestRunnerThroughTheDaemon(DaemonCase):
    """The iscsiadm layer itself through the daemon."""

    def setUp(self) -> None:
        super().setUp()
        self.runner = runner_mod.Iscsiadm(self.conf, executor=self.executor)
        ifaces.IfaceRecords(self.runner).ensure(iface_mod.Iface(
            name="lab0", transport_name="tcp", net_ifacename="lo"))

    def test_discovery_with_chap(self) -> None:
        self.discovery_chap("disco", self.disco)
        self.watch_argv()
        (target,) = self.runner.discover(self.lab.portal, ["-I", "lab0"], {
            D + "authmethod": "CHAP", D + "username": "disco",
            D + "password": self.disco})
        self.assertEqual(lab_mod.TARGET_IQN, target.name)
        self.assert_no_secret_in_any_argv()

    def test_node_chap_then_login(self) -> None:
        self.watch_argv()
        args = ["-I", "lab0"]
        self.runner.node_new(lab_mod.TARGET_IQN, self.lab.portal, args)
        # Every setting the daemon accepts (the counts other than
        # iscsiadm's defaults): the real iscsiadm reads each back.
        settings = {"node.startup": "manual", "node.session.scan": "manual",
                    "node.conn[0].timeo.login_timeout": "7",
                    "node.session.initial_login_retry_max": "3",
                    "node.session.timeo.replacement_timeout": "11",
                    "node.conn[0].timeo.noop_out_interval": "4",
                    "node.conn[0].timeo.noop_out_timeout": "6"}
        self.assertEqual(set(validate.NODE_SETTINGS), set(settings))
        self.runner.node_update(lab_mod.TARGET_IQN, self.lab.portal, args,
                                {**self.chap, **settings})
        hidden = self.show(*self.node("lab0"), "-S")
        self.assertIn(P + "password = " + self.secret + "\n", hidden)
        for key, value in settings.items():
            self.assertIn("%s = %s\n" % (key, value), hidden)
        # The lab's iscsid stand-in answers a login as iscsid does on a
        # kernel without iSCSI: exit 12, typed the same as without privsep.
        error = self.assertRaises(exception.TransportNotLoaded,
                                  self.runner.login, lab_mod.TARGET_IQN,
                                  self.lab.portal, args)
        self.assertEqual(12, error.exit_code)
        self.assert_no_secret_in_any_argv()
