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

"""The iscsiadm runner, its error mapping and iface records, with a fake
root executor (no process is started)."""

from __future__ import annotations

from iscsi_transports import exception
from iscsi_transports.iscsiadm import errors
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.iscsiadm import test_errors
from iscsi_transports.tests.unit.iscsiadm import test_parse as samples

SECRET = "s3cr3t-Ch4p"
IQN = "iqn.2026-11.org.openstack.test:volume-1"


class IscsiadmTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.scripted = fake_executor.ScriptedExecutor()
        self.iscsiadm = iscsiadm.Iscsiadm(self.conf, executor=self.scripted)


class TestRun(IscsiadmTestCase):
    def test_iscsiadm_runs_through_the_root_operations(self) -> None:
        self.flags(iscsiadm_timeout=7)
        self.iscsiadm.run(["-m", "iface"])
        self.assertEqual([("iscsiadm", ["-m", "iface"], 7)],
                         self.scripted.calls)
        self.assertEqual([["iscsiadm", "-m", "iface"]], self.scripted.argvs)

    def test_every_exit_code_is_mapped(self) -> None:
        for code, (_name, cls) in test_errors.EXPECTED.items():
            self.scripted.rules = []
            self.scripted.on("-m", exit_code=code, stderr="boom")
            error = self.assertRaises(cls, self.iscsiadm.run, ["-m", "node"])
            self.assertEqual(code, error.exit_code)
            self.assertEqual("boom", error.stderr)

    def test_auth_failure_is_a_target_error(self) -> None:
        self.scripted.on("-m", exit_code=24)
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.iscsiadm.run, ["-m", "discovery"])
        self.assertIsInstance(error, exception.TargetError)

    def test_missing_binary(self) -> None:
        self.scripted.raises["iscsiadm"] = \
            exception.PrivilegedOperationFailed(
                "run iscsiadm", "iscsiadm is not installed")
        error = self.assertRaises(exception.IscsiadmNotFound,
                                  self.iscsiadm.run, ["-m", "node"])
        self.assertIn("iscsiadm is not installed", str(error))

    def test_timeout_is_the_runners_typed_error(self) -> None:
        self.flags(iscsiadm_timeout=3)
        self.scripted.raises["iscsiadm"] = \
            exception.PrivilegedCommandTimeout("iscsiadm -m node", "3")
        error = self.assertRaises(exception.IscsiadmTimeout,
                                  self.iscsiadm.run, ["-m", "node"])
        self.assertEqual(3, error.timeout)

    def test_login_to_an_existing_session_says_so(self) -> None:
        self.scripted.on("--login", exit_code=15)
        self.assertFalse(self.iscsiadm.login(IQN, "10.0.0.1:3260",
                                             ["-I", "cx"]))
        self.scripted.rules.clear()
        self.assertTrue(self.iscsiadm.login(IQN, "10.0.0.1:3260",
                                            ["-I", "cx"]))

    def test_a_longer_timeout_wins_over_the_option(self) -> None:
        self.flags(iscsiadm_timeout=120)
        self.iscsiadm.run(["-m", "node"], timeout=150)
        self.iscsiadm.run(["-m", "node"], timeout=30)
        self.assertEqual([150, 120], [call[2]
                                      for call in self.scripted.calls])


class TestSecrets(IscsiadmTestCase):
    def test_mask_argv(self) -> None:
        argv = ["iscsiadm", "-o", "update",
                "-n", "node.session.auth.password", "-v", SECRET,
                "-n", "node.session.auth.username", "-v", "user",
                "-n", "discovery.sendtargets.auth.password_in", "-v", "in"]
        masked = errors.mask_argv(argv)
        self.assertNotIn(SECRET, masked)
        self.assertNotIn("in", masked)
        self.assertIn("user", masked)
        self.assertEqual(argv[:6], masked[:6])

    def test_secrets_never_in_errors_or_logs(self) -> None:
        self.scripted.on("--discover", exit_code=24,
                        stderr="rejected %s" % SECRET)
        auth = {"discovery.sendtargets.auth.authmethod": "CHAP",
                "discovery.sendtargets.auth.username": "u",
                "discovery.sendtargets.auth.password": SECRET,
                "discovery.sendtargets.auth.password_in": SECRET + "in"}
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.iscsiadm.discover, "10.0.0.1:3260",
                                  ["-I", "default"], auth)
        self.assertNotIn(SECRET, str(error))
        self.assertNotIn(SECRET, " ".join(error.argv))
        self.assertNotIn(SECRET, self.log.output)
        self.assertIn("***", str(error))
        # the real secret went into the record, on no command line
        self.assertEqual([("10.0.0.1:3260", auth)],
                         self.scripted.written("write_discovery_auth"))
        self.assertEqual([], [argv for argv in self.scripted.argvs
                              if SECRET in " ".join(argv)])


class TestCommands(IscsiadmTestCase):
    def test_discovery_without_chap_is_one_process_writing_nothing(
            self) -> None:
        self.scripted.on("discovery", stdout=samples.DISCOVERY)
        targets = self.iscsiadm.discover("127.0.0.1:3260", ["-I", "ci0"])
        self.assertEqual(IQN, targets[0].name)
        self.assertEqual([["iscsiadm", "-m", "discovery", "-t", "sendtargets",
                           "-p", "127.0.0.1:3260", "-I", "ci0", "-o",
                           "nonpersistent"]],
                         self.scripted.argvs)

    def test_every_node_command_names_the_iface(self) -> None:
        portal = "10.0.0.1:3260"
        self.iscsiadm.node_new(IQN, portal, ["-I", "cx"])
        self.iscsiadm.node_update(IQN, portal, ["-I", "cx"], {"a": "b"})
        self.iscsiadm.login(IQN, portal, ["-I", "cx"])
        self.iscsiadm.logout(IQN, portal, ["-I", "cx"])
        self.iscsiadm.node_delete(IQN, portal, ["-I", "cx"])
        self.assertEqual(4, len(self.scripted.argvs))
        for cmd in self.scripted.argvs:
            self.assertEqual("cx", cmd[cmd.index("-I") + 1])
        self.assertEqual([(IQN, portal, "cx", {"a": "b"})],
                         self.scripted.written())

    def test_login_existing_session_and_logout_none_are_fine(self) -> None:
        self.scripted.on("--login", exit_code=15)
        self.scripted.on("--logout", exit_code=21)
        self.iscsiadm.login(IQN, "10.0.0.1:3260", ["-I", "default"])
        self.iscsiadm.logout(IQN, "10.0.0.1:3260", ["-I", "default"])
        self.assertEqual(2, len(self.scripted.argvs))
