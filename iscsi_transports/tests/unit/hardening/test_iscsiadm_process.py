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

"""The iscsiadm runner against real processes: a scripted iscsiadm.

The unit tests of :mod:`iscsi_transports.iscsiadm` inject a fake executor;
these run the production path (the root operations in process, the way
the daemon runs them) on small shell scripts found on the operations' own
PATH, so exit codes, a missing binary and a hung iscsiadm are seen exactly
as the library would see them on a host.
"""

from __future__ import annotations

import os
import stat
import time

import fixtures

from iscsi_transports import exception
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.iscsiadm import test_errors


class ScriptCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path, iscsiadm_timeout=30)
        self.bin = os.path.join(self.lock_path, "bin")
        os.mkdir(self.bin)
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.commands.SECURE_PATH", self.bin))
        self.tool = iscsiadm.Iscsiadm(
            self.conf, executor=client.executor(in_process=True))

    def script(self, body: str) -> str:
        path = os.path.join(self.bin, "iscsiadm")
        with open(path, "w") as out:
            out.write("#!/bin/sh\n" + body + "\n")
        os.chmod(path, stat.S_IRWXU)
        return path


class TestExitCodes(ScriptCase):

    def test_every_mapped_exit_code_from_a_real_process(self) -> None:
        for code, (name, cls) in sorted(test_errors.EXPECTED.items()):
            # The root operations give a command no environment of ours.
            self.script('echo "iscsiadm: error for $1 $2" >&2; exit %d'
                        % code)
            error = self.assertRaises(exception.IscsiadmError,
                                      self.tool.run, ["-m", "node"])
            self.assertIs(cls, type(error), name)
            self.assertEqual(code, error.exit_code)
            self.assertEqual("iscsiadm: error for -m node", error.stderr)
            self.assertIn("exit code %d" % code, str(error))
            self.assertIn(error.meaning, str(error))

    def test_unmapped_code_is_the_base_error(self) -> None:
        self.script("exit 99")
        error = self.assertRaises(exception.IscsiadmError, self.tool.run,
                                  ["-m", "node"])
        self.assertIs(exception.IscsiadmError, type(error))
        self.assertEqual(99, error.exit_code)

    def test_ok_codes_return_output(self) -> None:
        self.script('echo "no records"; exit 21')
        self.assertEqual("no records\n",
                         self.tool.run(["-m", "node"], (0, 21)))


class TestMissingBinary(ScriptCase):

    def test_not_installed(self) -> None:
        error = self.assertRaises(exception.IscsiadmNotFound, self.tool.run,
                                  ["-m", "iface"])
        self.assertIn("install open-iscsi", str(error))
        self.assertIn("not found on " + self.bin, str(error))

    def test_not_executable(self) -> None:
        path = self.script("exit 0")
        os.chmod(path, stat.S_IRUSR)  # not even root may run it
        self.assertRaises(exception.IscsiadmNotFound, self.tool.run,
                          ["-m", "iface"])


class TestHang(ScriptCase):

    def test_hung_iscsiadm_is_killed_and_reported(self) -> None:
        pid_file = os.path.join(self.lock_path, "pid")
        self.script('echo $$ > %s; exec /bin/sleep 60' % pid_file)
        self.flags(iscsiadm_timeout=1)
        started = time.monotonic()
        error = self.assertRaises(exception.IscsiadmTimeout, self.tool.run,
                                  ["-m", "node"])
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(1, error.timeout)
        self.assertIn("did not finish within 1 seconds", str(error))
        with open(pid_file) as handle:
            pid = int(handle.read())
        self.assertFalse(_alive(pid), "iscsiadm %d still running" % pid)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False
