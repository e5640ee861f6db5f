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

"""The documented out-of-tree plugin, installed for real, is found.

``examples/acme-iscsi-transport`` is a distribution of its own, the one the
vendor guide includes literally.  tools/run-tests.sh pip-installs it before
the tests, so these tests see it exactly as an operator's host would see a
vendor's package: through its entry point, not through ``sys.path`` tricks.
They fail (never skip) when it is not installed.  The example's own tests,
written on the public :mod:`iscsi_transports.fixture` as the vendor guide
tells vendors to write theirs, run with these (``load_tests``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import json
import unittest

from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.tests import base

DIST = "acme-iscsi-transport"
ENTRY_POINT = "acme = acme_iscsi_transport.transport:AcmeTransport"
MAC = "00:1d:0f:a1:00:01"
EXAMPLE_TESTS = "acme_iscsi_transport.tests.test_transport"


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite,
               pattern: str | None) -> unittest.TestSuite:
    """These tests plus the installed example's own tests."""
    tests.addTests(loader.loadTestsFromModule(
        importlib.import_module(EXAMPLE_TESTS)))
    return tests


class TestVendorExample(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        try:
            importlib.metadata.distribution(DIST)
        except importlib.metadata.PackageNotFoundError:
            self.fail("the example vendor plugin %s is not installed: run "
                      "'pip install ./examples/acme-iscsi-transport' (as "
                      "tools/run-tests.sh does) before the tests" % DIST)

    def _add_card(self) -> None:
        self.sysfs.add_pci("0000:05:00.4", 0x1D0F, 0xA100,
                           driver="acme_iscsi")
        self.sysfs.add_module("acme_iscsi")
        self.sysfs.add_iscsi_host(7, "acme", "0000:05:00.4", hwaddress=MAC)

    def test_manager_loads_it_with_its_own_distribution(self) -> None:
        manager = manager_mod.TransportManager(self.conf)
        self.assertIn("acme", manager.transports)
        self.assertEqual([], [failure for failure in manager.load_failures
                              if failure.name == "acme"])
        self.assertEqual("%s (%s)" % (DIST, ENTRY_POINT),
                         manager.source("acme"))

    def test_console_script_lists_it(self) -> None:
        out = io.StringIO()
        code = cmd_main.main(["list", "--format", "json",
                              "--sysfs-root", self.sysfs.root], out=out)
        self.assertEqual(0, code)
        listed = {item["name"]: item
                  for item in json.loads(out.getvalue())["transports"]}
        self.assertIn("acme", listed, "iscsi-transports list misses acme")
        acme = listed["acme"]
        self.assertTrue(acme["source"].startswith(DIST + " "), acme["source"])
        self.assertEqual("ACME A100 iSCSI offload card (example out-of-tree "
                         "plugin).", acme["summary"])
        self.assertTrue(acme["offload"])
        self.assertFalse(acme["enabled"])
        self.assertIn("enabled_transports", acme["reason"])

    def test_disabled_until_enabled(self) -> None:
        self._add_card()
        self.flags(transport="acme")
        selection = manager_mod.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertEqual("default", selection.iface_name)
        self.assertIn("enabled_transports", selection.reason)

    def test_enabled_and_detected_it_is_active(self) -> None:
        self._add_card()
        self.flags(transport="acme",
                   enabled_transports=["tcp", "acme"])
        selection = manager_mod.TransportManager(self.conf).active()
        self.assertFalse(selection.fallback, selection.reason)
        self.assertEqual("acme.%s" % MAC, selection.iface_name)
        self.assertEqual(MAC, selection.iface.hwaddress)
        self.assertEqual("acme", selection.iface.transport_name)

    def test_without_the_card_it_says_so(self) -> None:
        self.flags(enabled_transports=["tcp", "acme"])
        detection = manager_mod.TransportManager(self.conf).detect("acme")
        self.assertFalse(detection.usable)
        self.assertTrue(detection.reason.startswith(
            "no ACME A100 adapter found"), detection.reason)

    def test_extra_pci_ids_reach_the_plugin(self) -> None:
        # A newer model, its driver not loaded yet: only the operator's
        # extra_pci_ids entry makes it the plugin's hardware.
        self.sysfs.add_pci("0000:06:00.4", 0x1D0F, 0xA101)
        self.flags(enabled_transports=["tcp", "acme"],
                   extra_pci_ids=["acme:1d0f:a101"])
        detection = manager_mod.TransportManager(self.conf).detect("acme")
        self.assertFalse(detection.usable)
        self.assertIn("acme_iscsi", detection.reason)
        self.assertEqual(["0000:06:00.4"],
                         [hw.pci_address for hw in detection.hardware])
