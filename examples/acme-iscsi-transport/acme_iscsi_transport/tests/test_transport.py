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

"""The ACME plugin, tested as a vendor tests a plugin: a built sysfs tree
and a configuration from :mod:`iscsi_transports.fixture`, and the real
manager, which finds the plugin through its installed entry point."""

from __future__ import annotations

import testtools

from acme_iscsi_transport import transport
from iscsi_transports import fixture
from iscsi_transports import host as host_mod
from iscsi_transports.selection import manager

MAC = "00:1d:0f:a1:00:01"
PCI = "0000:05:00.0"


class TestAcmeTransport(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.sysfs = self.useFixture(fixture.SysfsTree())
        self.config = self.useFixture(
            fixture.Config(sysfs_root=self.sysfs.root))
        self.config.flags(enabled_transports=["tcp", "acme"])

    def add_card(self, device: int = 0xA100, module: bool = True) -> None:
        """An A100 with one port, as its driver shows it in sysfs."""
        self.sysfs.add_pci(PCI, transport.ACME, device,
                           driver="acme_iscsi" if module else None)
        if module:
            self.sysfs.add_module("acme_iscsi")
            self.sysfs.add_iscsi_host(7, "acme", PCI, hwaddress=MAC,
                                      ipaddress="192.0.2.7")

    def test_card_with_its_driver_is_usable(self) -> None:
        self.add_card()
        detection = transport.AcmeTransport(self.config.conf).detect(
            host_mod.Host(self.sysfs.root))
        self.assertTrue(detection.usable, detection.reason)
        self.assertEqual(["acme.%s" % MAC],
                         [port.iface_name for port in detection.ports])
        self.assertEqual(["ACME A100"],
                         [item.model for item in detection.hardware])

    def test_without_the_card_it_says_what_to_do(self) -> None:
        detection = transport.AcmeTransport(self.config.conf).detect(
            host_mod.Host(self.sysfs.root))
        self.assertFalse(detection.usable)
        self.assertIn("no ACME A100 adapter found", detection.reason)
        self.assertIn("acme:<vendor>:<device>", detection.reason)

    def test_card_before_modprobe_names_the_module(self) -> None:
        self.add_card(module=False)
        detection = transport.AcmeTransport(self.config.conf).detect(
            host_mod.Host(self.sysfs.root))
        self.assertFalse(detection.usable)
        self.assertIn("acme_iscsi", detection.reason)

    def test_newer_model_needs_extra_pci_ids(self) -> None:
        self.add_card(device=0xA101, module=False)
        plugin = transport.AcmeTransport(self.config.conf)
        before = plugin.detect(host_mod.Host(self.sysfs.root))
        self.config.flags(extra_pci_ids=["acme:1d0f:a101"])
        after = plugin.detect(host_mod.Host(self.sysfs.root))
        self.assertEqual((), before.hardware)
        self.assertEqual([PCI], [item.pci_address for item in after.hardware])

    def test_the_manager_selects_its_port(self) -> None:
        self.add_card()
        self.config.flags(transport="acme")
        selection = manager.TransportManager(self.config.conf).active()
        self.assertFalse(selection.fallback, selection.reason)
        self.assertEqual("acme.%s" % MAC, selection.iface.name)
        self.assertEqual(MAC, selection.iface.hwaddress)
        self.assertEqual("192.0.2.7", selection.iface.ipaddress)
