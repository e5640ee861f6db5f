"""The kernel tests' harness, checked on the host.

The kernel tests themselves run only inside the kernel lab VM
(``tools/kernel-lab/run-tests.sh``); here we check that they stay out of
the host's test run without being skipped, and that the list of known
failures names tests that exist.
"""

import os
import re
import unittest

import fixtures

from iscsi_transports.tests import base
from iscsi_transports.tests import kernel
from iscsi_transports.tests.functional import test_lab

KERNEL_DIR = os.path.dirname(os.path.abspath(kernel.__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(KERNEL_DIR)))
KNOWN_FAILURES = os.path.join(TOP, "tools", "kernel-lab",
                              "known-failures.txt")


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
