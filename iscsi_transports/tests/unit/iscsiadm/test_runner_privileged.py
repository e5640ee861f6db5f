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

"""The iscsiadm runner through the root operations."""

from __future__ import annotations

import os

from iscsi_transports import exception
from iscsi_transports.iscsiadm import runner
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor

TARGET = "iqn.2026-11.org.openstack.test:volume-1"
PORTAL = "192.0.2.10:3260"
LAB0 = ["-I", "lab0"]
P = "node.session.auth."
D = "discovery.sendtargets.auth."
SECRET = "S3ss10n-pw"


class TestRunnerThroughRootOperations(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path, iscsiadm_timeout=40)
        self.executor = fake_executor.RecordingExecutor()
        self.runner = runner.Iscsiadm(self.conf, executor=self.executor)

    def iscsiadm_calls(self) -> list[list[str]]:
        return [list(call[1]) for call in self.executor.calls  # type: ignore
                if call[0] == "iscsiadm"]

    def assert_no_secret_in_any_argv(self) -> None:
        for args in self.iscsiadm_calls():
            self.assertNotIn(SECRET, " ".join(args))

    def test_run_passes_args_and_timeout(self) -> None:
        self.executor.answer = client.CommandResult(21, "none\n", "")
        self.assertEqual("none\n", self.runner.run(["-m", "session"],
                                                   (0, 21)))
        self.assertEqual([("iscsiadm", ["-m", "session"], 40)],
                         self.executor.calls)

    def test_exit_codes_are_the_same_typed_errors(self) -> None:
        self.executor.answer = client.CommandResult(
            24, "", "iscsiadm: authorization failure")
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.runner.login, TARGET, PORTAL, LAB0)
        self.assertEqual(24, error.exit_code)
        self.assertIn("iscsiadm -m node -T %s" % TARGET, str(error))

    def test_timeout_and_missing_binary(self) -> None:
        self.executor.raises["iscsiadm"] = \
            exception.PrivilegedCommandTimeout("iscsiadm -m node", "40")
        self.assertRaises(exception.IscsiadmTimeout, self.runner.nodes)
        self.executor.raises["iscsiadm"] = \
            exception.PrivilegedOperationFailed(
                "run iscsiadm", "iscsiadm is not installed")
        error = self.assertRaises(exception.IscsiadmNotFound,
                                  self.runner.nodes)
        self.assertIn("iscsiadm is not installed", str(error))

    def test_settings_and_chap_are_written_into_the_record(self) -> None:
        # One root call, no -o update process: -o new and --login are the
        # only iscsiadm processes of an attach on this path.
        settings = {P + "authmethod": "CHAP", P + "username": "user",
                    P + "password": SECRET, "node.startup": "manual"}
        self.runner.node_new(TARGET, PORTAL, LAB0)
        self.runner.node_update(TARGET, PORTAL, LAB0, settings)
        self.assertEqual(
            [("iscsiadm", ["-m", "node", "-T", TARGET, "-p", PORTAL, "-I",
                           "lab0", "-o", "new"], 40),
             ("write_node_settings", TARGET, PORTAL, "lab0", settings)],
            self.executor.calls)

    def test_settings_without_chap_run_no_update(self) -> None:
        self.runner.node_update(TARGET, PORTAL, LAB0,
                                {"node.session.scan": "manual"})
        self.assertEqual([], self.iscsiadm_calls())

    def test_discovery_chap_is_written_into_the_record(self) -> None:
        auth = {D + "authmethod": "CHAP", D + "username": "disco",
                D + "password": SECRET}
        self.executor.answer = client.CommandResult(
            0, "%s,1 %s\n" % (PORTAL, TARGET), "")
        (found,) = self.runner.discover(PORTAL, LAB0, auth)
        self.assertEqual(TARGET, found.name)
        db = ["-m", "discoverydb", "-t", "sendtargets", "-p", PORTAL, "-I",
              "lab0"]
        self.assertEqual(
            [("iscsiadm", [*db, "-o", "new"], 40),
             ("write_discovery_auth", PORTAL, auth),
             ("iscsiadm", [*db, "--discover", "-o", "nonpersistent"], 40)],
            self.executor.calls)
        self.assert_no_secret_in_any_argv()

    def test_the_executor_is_picked_for_this_user(self) -> None:
        chosen = runner.Iscsiadm(self.conf).privileged
        assert chosen is not None
        self.assertIs(client.Executor, type(chosen))
        self.assertEqual(os.geteuid() == 0, chosen.in_process)
