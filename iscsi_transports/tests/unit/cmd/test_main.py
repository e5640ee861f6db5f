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

"""What every command shares: --version, --debug, one-line errors and the
configuration warnings."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from importlib import metadata

import fixtures
from oslo_config import cfg

from iscsi_transports import state
from iscsi_transports.cmd import main
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata


class TestVersion(base.TestCase):

    def test_version_is_the_installed_distribution_s(self) -> None:
        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch("sys.stdout", out))
        code = self.assertRaises(SystemExit, main.main, ["--version"])
        self.assertEqual(0, code.code)
        self.assertEqual("iscsi-transports %s\n" % metadata.version(
            "iscsi-transports"), out.getvalue())


class TestConfigProblems(base.TestCase):
    """Typos and bad values: a warning each in every command, no
    traceback; errors (exit 1) in doctor."""

    BAD = ("[iscsi_transports]\n"
           "transprot = cxgb4i\n"
           "enabled_transports = tcp,cxgb4,bnx2i\n"
           "extra_pci_ids = bnx2i:14e4:zzzz, bnx2i:14e4:16ae, nosuch:1:2\n"
           "[iscsi_transport]\n"
           "transport = bnx2i\n")

    def setUp(self) -> None:
        super().setUp()
        self.data = self.useFixture(hostdata.HostData())
        self.config = os.path.join(self.lock_path, "nova.conf")

    def run_cmd(self, text: str, *argv: str) -> tuple[int, str, str]:
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write(self.data.config_text() + text)
        out, err = io.StringIO(), io.StringIO()
        code = main.main([*argv, "--sysfs-root", self.sysfs.root,
                          "--config-file", self.config], out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def test_every_problem_is_one_warning_line(self) -> None:
        # The hardware behind the one good extra_pci_ids entry.
        self.sysfs.add_pci("0000:08:00.0", 0x14E4, 0x16AE, "bnx2x")
        for command in ("list", "active", "show bnx2i"):
            code, out, err = self.run_cmd(self.BAD, *command.split())
            self.assertEqual(0, code, err)
            lines = err.splitlines()
            self.assertEqual(5, len(lines), err)
            self.assertTrue(all(line.startswith(
                "iscsi-transports: warning: ") for line in lines), err)
            self.assertNotIn("Traceback", err)
            for words in ("[iscsi_transport] is not a group of "
                          "iscsi-transports (did you mean [iscsi_transports]?)",
                          "transprot is not an option (did you mean "
                          "transport?)",
                          "enabled_transports names cxgb4,",
                          "entry 'bnx2i:14e4:zzzz' is not",
                          "extra_pci_ids names nosuch,"):
                self.assertIn(words, err)
        # The good entry is still used.
        self.assertIn("0000:08:00.0", out)

    def test_doctor_makes_them_errors(self) -> None:
        code, out, err = self.run_cmd(self.BAD, "doctor")
        self.assertEqual(1, code)
        self.assertEqual("", err)
        self.assertEqual(5, out.count("[FAIL] config "), out)

    def test_a_clean_file_gives_no_warning(self) -> None:
        code, _, err = self.run_cmd("[DEFAULT]\ndebug = true\n[libvirt]\n"
                                    "virt_type = kvm\n", "list")
        self.assertEqual((0, ""), (code, err))


class TestDebug(base.TestCase):

    def test_log_only_with_debug(self) -> None:
        for argv, shown in ((["list"], False), (["list", "--debug"], True)):
            out, err = io.StringIO(), io.StringIO()
            main.main([*argv, "--sysfs-root", self.sysfs.root,
                       "--config-file", self.write_broken_config()],
                      out=out, err=err)
            # The configuration warning is there either way: as one line
            # without --debug, as a log record with it.
            self.assertEqual(shown, "WARNING iscsi_transports." in
                             err.getvalue(), err.getvalue())

    def write_broken_config(self) -> str:
        path = os.path.join(self.lock_path, "debug.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\nenabled_transports = tcp,x\n")
        return path


class TestEventletWarning(base.TestCase):
    """oslo.privsep imports eventlet, which warns on import: eight lines on
    stderr that the console script keeps out of its output."""

    def stderr_of(self, code: str) -> str:
        return subprocess.run([sys.executable, "-c", code], text=True,
                              capture_output=True, timeout=120,
                              check=True).stderr

    def test_the_console_script_hides_it(self) -> None:
        self.assertEqual("", self.stderr_of(
            "from iscsi_transports.cmd import main\n"
            "main.run = lambda args, out, err: bool("
            "__import__('iscsi_transports.privileged'))\n"
            "main.main(['list'])\n"))

    def test_it_is_there_without_it(self) -> None:
        self.assertIn("Eventlet is deprecated", self.stderr_of(
            "import iscsi_transports.privileged\n"))


class TestServiceConfig(base.TestCase):
    """Given nova.conf, the console script follows it where nova-compute
    does: the daemon it starts, the state directory, the locks."""

    def load(self, text: str) -> cfg.ConfigOpts:
        self.config = os.path.join(self.lock_path, "nova.conf")
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write(text)
        argv = ["list", "--config-file", self.config]
        return main.load_config(main.build_parser(argv).parse_args(argv))

    def test_daemon_start_command_carries_the_config_file(self) -> None:
        from iscsi_transports import privileged
        self.load("[DEFAULT]\nstate_path = /var/lib/nova\n")
        command = privileged.context.helper_command("/tmp/x/privsep.sock")
        self.assertEqual(
            ["privsep-helper", "--config-file", self.config,
             "--privsep_context", "iscsi_transports.privileged.context",
             "--privsep_sock_path", "/tmp/x/privsep.sock"],
            command[command.index("privsep-helper"):])

    def test_daemon_helper_command_from_the_file(self) -> None:
        from iscsi_transports import privileged
        self.load("[iscsi_transports_privileged]\n"
                  "helper_command = sudo nova-rootwrap /etc/nova/rootwrap."
                  "conf privsep-helper --config-file /etc/nova/nova.conf\n")
        self.assertEqual(
            ["sudo", "nova-rootwrap", "/etc/nova/rootwrap.conf",
             "privsep-helper", "--config-file", "/etc/nova/nova.conf",
             "--privsep_context", "iscsi_transports.privileged.context",
             "--privsep_sock_path", "/tmp/s"],
            privileged.context.helper_command("/tmp/s"))

    def test_novas_state_path_and_lock_path(self) -> None:
        conf = self.load("[DEFAULT]\nstate_path = /srv/nova\n"
                         "[oslo_concurrency]\nlock_path = /srv/nova/lk\n")
        self.assertEqual("/srv/nova/iscsi-transports", state.directory(conf))
        self.assertEqual("/srv/nova/lk", state.lock_path(conf))

    def test_novas_state_path_without_lock_path(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable("OSLO_LOCK_PATH"))
        conf = self.load("[DEFAULT]\nstate_path = /srv/nova\n")
        self.assertEqual("/srv/nova/iscsi-transports/locks",
                         state.lock_path(conf))
