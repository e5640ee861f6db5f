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
            conf.write("[iscsi_transports]\nroot_helper = %s\n"
                       "state_path = %s\nsysfs_root = %s\n"
                       % (self.lab.root_helper, self.lock_path,
                          self.sysfs.root))
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

    def test_unreachable_portal_is_a_clean_error(self) -> None:
        self.flags(iscsiadm_timeout=60)
        code, out, err = self.run_cmd("127.0.0.1:3999")
        self.assertEqual(1, code)
        self.assertIn("exit code 11", err)
        self.assertEqual("", out)
