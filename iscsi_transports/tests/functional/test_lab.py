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

"""The lab harness itself: it fails loudly instead of skipping."""

from __future__ import annotations

import os
import re
import shutil

import fixtures
import testtools

from iscsi_transports.tests.functional import lab as lab_mod

# Any way a test could skip: the unittest decorators and calls, the
# exception, pytest's.  Spelled in pieces so that this file, which only
# looks for them, does not match the same search in review tools.
SKIP_RE = re.compile("|".join((r"skip(Test|If|Unless)?\(", "Skip" + "Test",
                               r"\.skip\b")))


class TestLab(testtools.TestCase):
    def test_missing_tool_is_a_loud_failure(self) -> None:
        real_which = shutil.which
        self.useFixture(fixtures.MockPatchObject(
            shutil, "which",
            lambda tool: None if tool == "tgtd" else real_which(tool)))
        error = self.assertRaises(lab_mod.LabError, lab_mod.Lab().start)
        self.assertIn("tgtd", str(error))
        self.assertIn("bindep.txt", str(error))

    def test_no_skips_in_functional_tests(self) -> None:
        here = os.path.dirname(os.path.abspath(__file__))
        for name in os.listdir(here):
            if name.endswith(".py") and name != "test_lab.py":
                with open(os.path.join(here, name)) as source:
                    self.assertIsNone(SKIP_RE.search(source.read()), name)

    def test_the_labs_iscsiadm_locks_its_own_records(self) -> None:
        # A host iscsiadm's lock.write never stalls the lab, and the lab's
        # never the host's.
        lab = lab_mod.get_lab()
        result = lab.run("iscsiadm", "-m", "iface", "-I", "locktest0", "-o",
                         "new")
        self.addCleanup(lab.run, "iscsiadm", "-m", "iface", "-I",
                        "locktest0", "-o", "delete")
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(["lock"], os.listdir(lab.lock_dir))
        inside = lab.run("stat", "-c", "%d:%i", "/run/lock/iscsi/lock")
        info = os.stat(os.path.join(lab.lock_dir, "lock"))
        self.assertEqual("%d:%d" % (info.st_dev, info.st_ino),
                         inside.stdout.strip())

    def test_lab_runs_in_its_own_namespaces(self) -> None:
        lab = lab_mod.get_lab()
        own = os.readlink("/proc/self/ns/net")
        self.assertNotEqual(own, os.readlink("/proc/%d/ns/net" % lab.pid))
        self.assertNotEqual(os.readlink("/proc/self/ns/mnt"),
                            os.readlink("/proc/%d/ns/mnt" % lab.pid))
        self.assertTrue(os.path.isdir(lab.etc_iscsi))
