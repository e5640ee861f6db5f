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

"""The console script's list, show and active subcommands."""

import io
import json
import os
import subprocess
from importlib import metadata

import fixtures

from iscsi_transports.cmd import main
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.fake_plugins import fixture as fake


def installed_script(distribution, name):
    """Where the installed ``distribution`` put its script ``name``.

    Every copy of the metadata is asked, not just the first on sys.path:
    ``pip install .`` leaves an ``.egg-info`` without a RECORD in the
    source tree, which the tests run from.
    """
    for dist in metadata.distributions(name=distribution):
        for path in dist.files or ():
            located = os.path.normpath(str(path.locate()))
            if path.name == name and path.parent.name == "bin" and \
                    os.path.exists(located):
                return located
    return None


class CommandTestCase(base.TestCase):

    def run_cmd(self, *argv, expect=0):
        out, err = io.StringIO(), io.StringIO()
        code = main.main(list(argv) + ["--sysfs-root", self.sysfs.root],
                         out=out, err=err)
        self.assertEqual(expect, code, err.getvalue())
        return out.getvalue(), err.getvalue()

    def json_cmd(self, *argv, expect=0):
        out, _ = self.run_cmd(*argv, "--format", "json", expect=expect)
        return json.loads(out)

    def config_file(self, text):
        path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, "nova.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path


class TestList(CommandTestCase):

    def test_json_shape(self):
        data = self.json_cmd("list")
        self.assertEqual({"transports", "load_failures"}, set(data))
        by_name = {item["name"]: item for item in data["transports"]}
        for key in ("name", "enabled", "offload", "usable", "reason", "ports",
                    "source", "summary"):
            self.assertIn(key, by_name["tcp"])
        self.assertTrue(by_name["tcp"]["usable"])
        self.assertFalse(by_name["iser"]["enabled"])
        self.assertFalse(by_name["iser"]["usable"])
        self.assertEqual([], data["load_failures"])

    def test_ports_carry_iface_names(self):
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10fb, driver="ixgbe")
        self.sysfs.add_netdev("eth0", "00:1b:21:00:00:01", "0000:01:00.0")
        tcp = self.json_cmd("list")["transports"][0]
        self.assertEqual("tcp.00:1b:21:00:00:01", tcp["ports"][0]["iface_name"])
        self.assertEqual("00:1b:21:00:00:01", tcp["ports"][0]["hwaddress"])

    def test_table_fits_80_columns(self):
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10fb, driver="ixgbe")
        self.sysfs.add_netdev("eth0", "00:1b:21:00:00:01", "0000:01:00.0")
        out, _ = self.run_cmd("list")
        self.assertTrue(out.startswith("NAME"))
        self.assertIn("tcp", out)
        self.assertEqual([], [line for line in out.splitlines()
                              if len(line) > 80 or line != line.rstrip()])

    def test_broken_plugins_are_listed_and_command_succeeds(self):
        self.useFixture(fake.FakePluginDistribution())
        data = self.json_cmd("list")
        failures = {item["name"]: item for item in data["load_failures"]}
        self.assertEqual({"importerror", "notatransport", "tcp",
                          "explodinginit", "mismatch"}, set(failures))
        names = [item["name"] for item in data["transports"]]
        self.assertIn("fakevendor", names)
        out, _ = self.run_cmd("list")
        self.assertIn("Plugins that failed to load:", out)


class TestShow(CommandTestCase):

    def test_show_tcp(self):
        data = self.json_cmd("show", "tcp")
        self.assertEqual("tcp", data["name"])
        self.assertIn("iscsi-transports", data["source"])

    def test_show_unknown_is_an_error(self):
        out, err = self.run_cmd("show", "nosuch", expect=1)
        self.assertEqual("", out)
        self.assertIn("No transport plugin named 'nosuch'", err)
        self.assertEqual(1, len(err.splitlines()))


class TestActive(CommandTestCase):

    def test_default(self):
        data = self.json_cmd("active")
        self.assertEqual("tcp", data["transport"])
        self.assertEqual("default", data["iface"])
        self.assertFalse(data["fallback"])
        self.assertTrue(data["reason"])

    def test_iser_config_falls_back_with_reason(self):
        path = self.config_file("[iscsi_transports]\ntransport = iser\n"
                                "enabled_transports = tcp,iser\n")
        data = self.json_cmd("active", "--config-file", path)
        self.assertEqual(("tcp", "default", True),
                         (data["transport"], data["iface"], data["fallback"]))
        self.assertIn("no RDMA device", data["reason"])

    def test_no_fallback_exits_1_with_reason(self):
        path = self.config_file("[iscsi_transports]\ntransport = iser\n"
                                "fallback_to_tcp = false\n")
        out, err = self.run_cmd("active", "--config-file", path, expect=1)
        self.assertEqual("", out)
        self.assertIn("Transport iser cannot be used: disabled", err)
        self.assertEqual(1, len(err.splitlines()))

    def test_missing_config_file(self):
        _, err = self.run_cmd("active", "--config-file", "/nonexistent.conf",
                              expect=1)
        self.assertIn("/nonexistent.conf", err)

    def test_table(self):
        out, _ = self.run_cmd("active")
        self.assertIn("iface:     default", out)


class TestUsage(CommandTestCase):

    def test_usage_error_exits_2(self):
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch("sys.stderr", err))
        code = self.assertRaises(SystemExit, main.main, ["frobnicate"])
        self.assertEqual(2, code.code)
        self.assertIn("invalid choice", err.getvalue())

    def test_installed_console_script(self):
        """The entry point pip installed runs, and errors carry no traceback.

        The script is found where pip put it (a venv's bin, ~/.local/bin,
        /usr/local/bin, a pyenv version's bin), as the installed
        distribution's RECORD lists it: not necessarily beside
        ``sys.executable``.
        """
        script = installed_script(main.DISTRIBUTION, main.PROG)
        self.assertIsNotNone(script, "console script not installed: "
                                     "pip install -e .")
        assert script is not None
        result = subprocess.run(
            [script, "active", "--format", "json", "--sysfs-root",
             self.sysfs.root], capture_output=True, text=True, check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual("default", json.loads(result.stdout)["iface"])
        result = subprocess.run([script, "show", "nosuch"],
                                capture_output=True, text=True, check=False)
        self.assertEqual(1, result.returncode)
        self.assertNotIn("Traceback", result.stderr)
