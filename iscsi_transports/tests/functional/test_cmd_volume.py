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

"""``iscsi-transports attach`` / ``detach`` against the lab's real iscsiadm
and tgtd.  The kernel login cannot succeed here (no iSCSI in the kernel),
so the attach must fail in one line and leave no node record behind."""

from __future__ import annotations

import io
import json
import os

from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.tests.functional import base
from iscsi_transports.tests.functional import lab as lab_mod

SECRET = "lab-chap-S3cret"


class TestVolumeCommands(base.FunctionalTestCase):
    def run_cmd(self, *argv: str) -> tuple[int, str, str]:
        conf_file = os.path.join(self.lock_path, "it.conf")
        with open(conf_file, "w") as conf:
            conf.write("[iscsi_transports]\n"
                       "state_path = %s\nsysfs_root = %s\n"
                       "device_scan_attempts = 1\n"
                       % (self.lock_path, self.sysfs.root))
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main([*argv, "--config-file", conf_file],
                             out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def properties(self, **extra: object) -> str:
        path = os.path.join(self.lock_path, "props.json")
        with open(path, "w") as handle:
            json.dump({"driver_volume_type": "iscsi", "data": {
                "target_portal": self.lab.portal,
                "target_iqn": lab_mod.TARGET_IQN, "target_lun": 1,
                **extra}}, handle)
        return path

    def nodes(self) -> str:
        return self.lab.run("iscsiadm", "-m", "node").stdout

    def test_failed_attach_is_one_line_and_leaves_no_record(self) -> None:
        code, out, err = self.run_cmd(
            "attach", "--properties", self.properties(
                auth_method="CHAP", auth_username="u",
                auth_password=SECRET), "--format", "json")
        self.assertEqual(1, code)
        self.assertEqual("", out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn("exit code 12", err)
        self.assertNotIn(SECRET, err)
        self.assertEqual("", self.nodes())

    def test_detach_of_a_volume_not_attached_succeeds(self) -> None:
        code, out, err = self.run_cmd("detach", "--properties",
                                      self.properties())
        self.assertEqual(0, code, err)
        self.assertEqual("detached\n", out)
        self.assertEqual("", self.nodes())
