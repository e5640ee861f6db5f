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

"""The kernel tests' harness, checked on the host.

The kernel tests themselves run only inside the kernel lab VM
(``tools/kernel-lab/run-tests.sh``); here we check that they stay out of
the host's test run without being skipped, that the list of known
failures names tests that exist, and that the recorder of their root
operations records what ran without keeping a secret.
"""

import io
import os
import re
import subprocess
import sys
import unittest

import fixtures
import subunit
import testtools

from iscsi_transports.tests import base
from iscsi_transports.tests import kernel
from iscsi_transports.tests.functional import test_lab
from iscsi_transports.tests.kernel import recording
from iscsi_transports.tests.unit import fake_executor

KERNEL_DIR = os.path.dirname(os.path.abspath(kernel.__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(KERNEL_DIR)))
KNOWN_FAILURES = os.path.join(TOP, "tools", "kernel-lab",
                              "known-failures.txt")
PREFIX_IDS = os.path.join(TOP, "tools", "kernel-lab", "prefix-ids.py")
RUN_TESTS = os.path.join(TOP, "tools", "run-tests.sh")


def test_ids(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from test_ids(item)
        else:
            yield item.id()


class TestKernelLabHarness(base.TestCase):

    def discover(self, lab_dir):
        self.useFixture(fixtures.EnvironmentVariable(kernel.LAB_ENV,
                                                     lab_dir))
        return list(test_ids(unittest.TestLoader().discover(
            KERNEL_DIR, top_level_dir=TOP)))

    def test_no_kernel_tests_outside_the_lab(self):
        self.assertEqual([], self.discover(None))

    def test_kernel_tests_inside_the_lab(self):
        found = self.discover(self.useFixture(fixtures.TempDir()).path)
        self.assertIn("iscsi_transports.tests.kernel.test_tcp."
                      "TestTcpDefaultIface.test_lio_attach_io_detach", found)
        self.assertEqual(len(found), len(set(found)))

    def test_no_skips_in_kernel_tests(self):
        for name in os.listdir(KERNEL_DIR):
            if name.endswith(".py"):
                with open(os.path.join(KERNEL_DIR, name)) as source:
                    self.assertIsNone(test_lab.SKIP_RE.search(source.read()),
                                      name)

    def test_known_failures_name_existing_tests(self):
        found = self.discover(self.useFixture(fixtures.TempDir()).path)
        with open(KNOWN_FAILURES) as listing:
            patterns = [line.split("#")[0].strip() for line in listing]
        for pattern in filter(None, patterns):
            self.assertTrue(any(re.search(pattern, test) for test in found),
                            pattern)

    def test_other_userlands_filter_names_existing_modules(self):
        # tools/run-tests.sh runs a subset on the other userland: a
        # renamed module must not silently drop out of it.
        with open(RUN_TESTS) as script:
            modules = re.search(r"'test_\(([a-z_|]+)\)\\.'",
                                script.read()).group(1).split("|")
        for module in modules:
            self.assertTrue(os.path.isfile(
                os.path.join(KERNEL_DIR, "test_%s.py" % module)), module)


class TestPrefixIds(base.TestCase):
    """tools/kernel-lab/prefix-ids.py names each test's userland."""

    def test_every_id_gets_the_prefix_and_keeps_its_status(self):
        raw = io.BytesIO()
        out = subunit.StreamResultToBytes(raw)
        out.status(test_id="pkg.test_a", test_status="inprogress")
        out.status(test_id="pkg.test_a", test_status="success")
        out.status(test_id="pkg.test_b", test_status="fail",
                   file_name="traceback", file_bytes=b"boom",
                   mime_type="text/plain")
        result = subprocess.run([sys.executable, PREFIX_IDS, "trixie"],
                                input=raw.getvalue(), capture_output=True,
                                check=True)
        tests = {}
        collect = testtools.StreamToDict(
            lambda test: tests.update({test["id"]: test["status"]}))
        collect.startTestRun()
        subunit.ByteStreamToStreamResult(io.BytesIO(result.stdout)).run(
            collect)
        collect.stopTestRun()
        self.assertEqual({"trixie.pkg.test_a": "success",
                          "trixie.pkg.test_b": "fail"}, tests)

    def test_no_prefix_is_refused(self):
        result = subprocess.run([sys.executable, PREFIX_IDS], input=b"",
                                capture_output=True)
        self.assertEqual(2, result.returncode)
        self.assertIn("Usage:", result.stderr.decode())


SECRET = "recorder-secret-1"
NODE = ["-m", "node", "-T", "iqn.2010-10.org.example:t", "-p",
        "10.0.2.15:3260", "-I", "default"]


class Clock:
    """Each reading one second after the last."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1
        return self.now


class TestRootRecorder(base.TestCase):
    """The kernel tests' recorder of root operations (it cannot be run
    against its real executor here: that needs the lab's kernel)."""

    def setUp(self):
        super().setUp()
        self.inner = fake_executor.RecordingExecutor()
        self.root = recording.RootRecorder(self.inner, clock=Clock())

    def test_every_operation_reaches_the_executor(self):
        self.inner.layout = ([1], "default")
        self.inner.initiator_file = "InitiatorName=iqn.x"
        self.root.iscsiadm(NODE + ["--login"], 30)
        self.root.multipath(["-f", "mpatha"], 30)
        self.root.multipathd(["show", "maps"], 30)
        self.root.scan_host(3, "0 0 1")
        self.root.rescan_disk("sdb")
        self.assertTrue(self.root.flush_disk("sdb"))
        self.assertTrue(self.root.delete_disk("sdb"))
        self.root.read_block("/dev/sdb")
        self.assertEqual("InitiatorName=iqn.x",
                         self.root.read_initiator_file())
        self.root.write_node_settings("iqn.t", "p:3260", "default",
                                      {"node.startup": "manual"})
        self.root.write_discovery_auth("p:3260", {})
        self.assertEqual(([1], "default"),
                         self.root.read_node_layout("iqn.t", "p:3260"))
        names = ["iscsiadm", "multipath", "multipathd", "scan_host",
                 "rescan_disk", "flush_disk", "delete_disk", "read_block",
                 "read_initiator_file", "write_node_settings",
                 "write_discovery_auth", "read_node_layout"]
        self.assertEqual(names, [call[0] for call in self.inner.calls])
        self.assertEqual(names, self.root.names())
        self.assertEqual([(3, "0 0 1")],
                         [op.args for op in self.root.named("scan_host")])

    def test_commands_keep_argv_exit_code_and_times(self):
        self.inner.answer = fake_executor.client.CommandResult(24, "", "no")
        result = self.root.iscsiadm(NODE + ["--login"], 30)
        self.assertEqual(24, result.exit_code)
        ((name, args, started, ended, exit_code),) = self.root.operations
        self.assertEqual(("iscsiadm", ([*NODE, "--login"],), 1.0, 2.0, 24),
                         (name, args, started, ended, exit_code))
        self.assertEqual([[*NODE, "--login"]], self.root.iscsiadm_args())
        self.assertEqual([24], self.root.exit_codes)

    def test_a_failed_operation_is_recorded_and_raised(self):
        self.inner.raises["delete_disk"] = OSError("gone")
        self.assertRaises(OSError, self.root.delete_disk, "sdb")
        self.assertEqual([("delete_disk", ("sdb",), None)],
                         [(op.name, op.args, op.exit_code)
                          for op in self.root.operations])

    def test_secrets_are_written_but_never_recorded(self):
        settings = {"node.session.auth.authmethod": "CHAP",
                    "node.session.auth.username": "u",
                    "node.session.auth.password": SECRET,
                    "node.session.auth.password_in": SECRET + "in"}
        self.root.write_node_settings("iqn.t", "p:3260,1", "default",
                                      settings)
        self.root.write_discovery_auth("p:3260", {
            "discovery.sendtargets.auth.password": SECRET})
        # The executor got the real values.
        self.assertEqual(settings, self.inner.calls[0][4])
        self.assertNotIn(SECRET, repr(self.root.operations))
        self.assertEqual([recording.NodeSettings(
            "iqn.t", "p:3260,1", "default", dict(
                settings, **{"node.session.auth.password": recording.MASK,
                             "node.session.auth.password_in":
                                 recording.MASK}))],
            self.root.node_settings())

    def test_argv_is_kept_as_it_ran(self):
        # A secret on a command line is what the kernel tests must see.
        argv = NODE + ["-o", "update", "-n", "node.session.auth.password",
                       "-v", SECRET]
        self.root.iscsiadm(argv, 30)
        self.assertEqual([argv], self.root.iscsiadm_args())

    def test_ifaces_of_node_commands_and_records(self):
        self.root.iscsiadm(["-m", "iface", "-I", "tcp.x", "-o", "new"], 30)
        self.root.iscsiadm(NODE[:-1] + ["lab0", "-o", "new"], 30)
        self.root.write_node_settings("iqn.t", "p:3260", "lab1", {})
        self.assertEqual(["lab0", "lab1"], self.root.ifaces())

    def test_logins_and_overlap_by_bare_portal(self):
        first, second = "10.0.2.15:3260", "10.0.2.16:3260"

        def node(portal):
            return ["-m", "node", "-T", "iqn.t", "-p", portal, "-I", "d"]

        # In series: one portal's commands end before the next's begin.
        for portal in (first, second):
            self.root.iscsiadm(node(portal + ",1") + ["-o", "new"], 30)
            self.root.write_node_settings("iqn.t", portal + ",1", "d", {})
            self.root.iscsiadm(node(portal) + ["--login"], 30)
        self.root.scan_host(1, "0 0 0")
        self.assertEqual([(first, 5.0, 6.0), (second, 11.0, 12.0)],
                         self.root.logins)
        self.assertEqual([(first, False, 3.0, 4.0)],
                         self.root.portal_spans()[1:2])
        self.assertEqual(6, len(self.root.portal_spans()))
        self.assertFalse(self.root.overlapped())
        # At once: both portals' first commands began before either's
        # last one ended.
        self.root.clear()
        self.root.operations += [
            recording.Operation("iscsiadm", (node(first),), 1.0, 5.0, 0),
            recording.Operation("iscsiadm", (node(second),), 2.0, 6.0, 0)]
        self.assertTrue(self.root.overlapped())
        self.root.clear()
        self.assertFalse(self.root.overlapped())

    def test_bare_portals(self):
        self.assertEqual(["-p", "[::1]:3260", "-I", "x,1"],
                         recording.bare_portals(["-p", "[::1]:3260,1", "-I",
                                                 "x,1"]))
