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

"""``iscsi-transports discover`` against the lab's tgtd, real manager."""

from __future__ import annotations

import io
import json
import os

from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.tests.functional import base
from iscsi_transports.tests.functional import lab as lab_mod


class TestDiscoverCommand(base.FunctionalTestCase):
    def run_cmd(self, *argv: str) -> tuple[int, str, str]:
        conf_file = os.path.join(self.lock_path, "it.conf")
        with open(conf_file, "w") as conf:
            conf.write("[iscsi_transports]\n"
                       "state_path = %s\nsysfs_root = %s\n"
                       "iscsiadm_timeout = 60\n"
                       % (self.lock_path, self.sysfs.root))
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main(["discover", *argv, "--config-file", conf_file],
                             out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def test_json_lists_the_target(self) -> None:
        code, out, err = self.run_cmd(self.lab.portal, "--format", "json")
        self.assertEqual(0, code, err)
        result = json.loads(out)
        self.assertEqual([lab_mod.TARGET_IQN],
                         [t["target"] for t in result["targets"]])
        self.assertEqual(("tcp", "default"),
                         (result["transport"], result["iface"]))

    def test_table_and_unusable_transport_falls_back(self) -> None:
        code, out, err = self.run_cmd(self.lab.portal, "--transport",
                                      "cxgb4i")
        self.assertEqual(0, code, err)
        self.assertIn(lab_mod.TARGET_IQN, out)
        self.assertIn("fell back to tcp", out)
        self.assertEqual("", err)

    def assert_one_line(self, code: int, out: str, err: str,
                        cause: str) -> None:
        self.assertEqual(1, code)
        self.assertEqual("", out)
        self.assertEqual(1, err.count("\n"), err)
        self.assertIn("discovery of", err)
        self.assertIn(cause, err)
        self.assertNotIn("iscsiadm:", err)  # its output only with --debug

    def test_connection_refused(self) -> None:
        code, out, err = self.run_cmd("127.0.0.1:3999")
        self.assert_one_line(code, out, err, "connection refused")

    def test_debug_shows_iscsiadm_output_once(self) -> None:
        code, out, err = self.run_cmd("127.0.0.1:3999", "--debug")
        self.assertEqual((1, ""), (code, out))
        self.assertEqual(1, err.count(
            "Could not perform SendTargets discovery"), err)
        self.assertIn("connection refused", err.splitlines()[-1])

    def test_name_not_resolved(self) -> None:
        # The lab's network namespace has no DNS: nothing leaves the host.
        code, out, err = self.run_cmd("nosuch.invalid:3260")
        self.assert_one_line(code, out, err,
                             "name nosuch.invalid could not be resolved")

    def test_authentication_failed(self) -> None:
        self.discovery_chap("discover-user", "discover-secret1")
        code, out, err = self.run_cmd(self.lab.portal)
        self.assert_one_line(code, out, err, "authentication failed")
        self.assertNotIn("discover-secret1", err)

    def test_iscsid_not_running(self) -> None:
        # The lab's files, but a network namespace of its own: the abstract
        # socket iscsid (here the lab's stand-in) listens on is not there.
        self.start_daemon("nsenter -t %d -m -- unshare -n --" % self.lab.pid)
        code, out, err = self.run_cmd(self.lab.portal)
        self.assert_one_line(code, out, err, "iscsid is not running")

    def test_target_that_never_answers(self) -> None:
        # iscsiadm waits for a login answer for 30 s whatever iscsid.conf's
        # discovery timeouts say (open-iscsi 2.1.8).
        with self.lab.silent_listener(3998):
            code, out, err = self.run_cmd("127.0.0.1:3998")
        self.assert_one_line(code, out, err, "sent no iSCSI reply")
