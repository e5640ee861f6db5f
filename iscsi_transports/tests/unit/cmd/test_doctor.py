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

"""The console script's doctor subcommand: output and exit codes."""

import io
import json

import fixtures

from iscsi_transports.cmd import main
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata


class DoctorCommandTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.data = self.useFixture(hostdata.HostData())
        self.config = self.useFixture(
            fixtures.TempDir()).join("nova.conf")
        self.write_config()
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.support.doctor.probe_privsep",
            lambda timeout: "started (test)"))

    def write_config(self, **options):
        options = {**self.data.options(), "sysfs_root": self.sysfs.root,
                   "state_path": self.lock_path, **options}
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\n" + "".join(
                "%s = %s\n" % item for item in options.items()))

    def run_cmd(self, *argv, expect=0):
        out, err = io.StringIO(), io.StringIO()
        code = main.main([*argv, "--config-file", self.config], out=out,
                         err=err)
        self.assertEqual(expect, code, out.getvalue() + err.getvalue())
        return out.getvalue()


class TestDoctorCommand(DoctorCommandTestCase):

    def test_healthy_host_exits_0(self):
        out = self.run_cmd("doctor")
        self.assertIn("tcp (software, enabled): usable", out)
        self.assertIn("driver would use: tcp, iface default, because", out)

    def test_unusable_configured_transport_exits_1(self):
        self.sysfs.add_offload_card("cxgb4i", module=False)
        self.write_config(transport="cxgb4i")
        out = self.run_cmd("doctor", expect=1)
        self.assertIn("[FAIL] module        cxgb4i not loaded: modprobe "
                      "cxgb4i", out)
        self.assertIn("driver would use: tcp, iface default (FALLBACK)", out)

    def test_no_fallback_says_nothing_would_be_used(self):
        self.write_config(transport="cxgb4i", fallback_to_tcp="false")
        out = self.run_cmd("doctor", expect=1)
        self.assertIn("driver would use: nothing: Transport cxgb4i cannot "
                      "be used", out)

    def test_json(self):
        self.sysfs.add_offload_card("bnx2i", bus=8)
        data = json.loads(self.run_cmd("doctor", "--format", "json"))
        self.assertEqual({"portal", "route", "config_problems", "basics",
                          "privileges", "transports", "unreadable_records",
                          "load_failures", "multipath", "active", "healthy"},
                         set(data))
        bnx2i = next(t for t in data["transports"] if t["name"] == "bnx2i")
        self.assertIn({"check": "helper daemon", "status": "FAIL",
                       "detail": "iscsiuio is not running and no socket "
                                 "listens for it: systemctl enable --now "
                                 "iscsiuio.socket"}, bnx2i["checks"])

    def test_privileges_section(self):
        self.assertNotIn("privileges", self.run_cmd("doctor"))
        out = self.run_cmd("doctor", "--privileges")
        self.assertIn("privileges (the service user's state and way to "
                      "root):\n", out)
        self.assertIn("  [ok  ] privsep       started (test)\n", out)

    def test_multipath_section_without_multipathd(self):
        out = self.run_cmd("doctor")
        self.assertIn("\nmultipath:\n  [warn] multipathd      not running: "
                      "multipath volumes cannot attach (systemctl\n", out)

    def test_table_fits_80_columns(self):
        self.sysfs.add_offload_card("cxgb4i", ports=2)
        self.sysfs.add_offload_card("qla4xxx", bus=7, module=False)
        out = self.run_cmd("doctor", "--portal", "10.1.0.9:3260")
        self.assertEqual([], [line for line in out.splitlines()
                              if len(line) > 80])
        self.assertIn("portal 10.1.0.9:3260: no route", out)

    def test_bad_portal_is_a_one_line_error(self):
        out, err = io.StringIO(), io.StringIO()
        code = main.main(["doctor", "--portal", "10.0.0.1:0",
                          "--config-file", self.config], out=out, err=err)
        self.assertEqual(1, code)
        self.assertIn("Invalid portal", err.getvalue())
