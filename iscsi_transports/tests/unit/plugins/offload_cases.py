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

"""Cases every offload plugin must pass, run once per plugin.

Each ``test_<plugin>.py`` mixes :class:`OffloadPluginCases` into a
``base.TestCase`` and states what it expects *explicitly* (model name,
module, whether ``iface.ipaddress`` is required or written), so a plugin
whose attributes drift fails here instead of agreeing with itself.
"""

from __future__ import annotations

import io
import json
from typing import Any

from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod
from iscsi_transports.cmd import main
from iscsi_transports.selection import manager


class OffloadPluginCases:
    """Mixin: set the class attributes, mix into ``base.TestCase``."""

    transport_cls: Any
    name: str
    module: str
    #: Model name of the card ``fixture.CARDS[name]`` builds.
    model: str
    #: Words of the reason on a host without the card.
    absent_words: str
    requires_ipaddress: bool
    #: Whether a generated record carries the port's ipaddress.
    records_ipaddress: bool
    needs_iscsiuio: bool

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.transport = self.transport_cls(self.conf)

    def detect(self) -> Any:
        return self.transport.detect(host_mod.Host(self.sysfs.root))

    # -- present / absent / module missing --------------------------------------

    def test_present_two_ports(self) -> None:
        card = self.sysfs.add_offload_card(self.name, ports=2)
        detection = self.detect()
        self.assertTrue(detection.usable, detection.reason)
        self.assertTrue(detection.module_loaded)
        self.assertEqual(self.model, detection.hardware[0].model)
        self.assertIn(self.model, detection.reason)
        self.assertEqual([p.iface_name for p in card],
                         [p.iface_name for p in detection.ports])
        for built, port in zip(card, detection.ports):
            self.assertEqual((built.hwaddress, built.ipaddress, built.netdev,
                              built.pci_address, built.host),
                             (port.hwaddress, port.ipaddress, port.netdev,
                              port.pci_address, port.host))
        self.assertEqual(self.needs_iscsiuio, "iscsiuio" in detection.reason)

    def test_absent(self) -> None:
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertEqual((), detection.hardware)
        self.assertEqual((), detection.ports)
        self.assertIn(self.absent_words, detection.reason)
        self.assertIn("extra_pci_ids", detection.reason)

    def test_module_alone_is_not_hardware(self) -> None:
        self.sysfs.add_module(self.module)
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertTrue(detection.module_loaded)
        self.assertIn(self.absent_words, detection.reason)

    def test_card_without_module(self) -> None:
        card = self.sysfs.add_offload_card(self.name, ports=2, module=False)
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertFalse(detection.module_loaded)
        functions = sorted({port.pci_address for port in card})
        self.assertEqual(functions,
                         [hw.pci_address for hw in detection.hardware])
        self.assertTrue(detection.reason.startswith(
            "%s at %s%s found" % (self.model, functions[0],
                                  " (and 1 more function)"
                                  if len(functions) == 2 else "")),
            detection.reason)
        self.assertIn("found, but kernel module %s is not loaded (modprobe %s)"
                      % (self.module, self.module), detection.reason)

    def test_module_loaded_but_no_iscsi_hosts(self) -> None:
        self.sysfs.add_offload_card(self.name, module=False)
        self.sysfs.add_module(self.module)
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertIn("no iSCSI host ports with a hardware address",
                      detection.reason)

    def test_extra_pci_ids_detect_an_unknown_model(self) -> None:
        card = self.sysfs.add_offload_card(self.name, module=False,
                                           device=0xFFF0, driver=None)
        self.assertEqual((), self.detect().hardware)
        vendor = self.sysfs_vendor()
        self.flags(extra_pci_ids=["%s:%04x:fff0" % (self.name, vendor)])
        detection = self.transport_cls(self.conf).detect(
            host_mod.Host(self.sysfs.root))
        self.assertEqual([card[0].pci_address],
                         [hw.pci_address for hw in detection.hardware])
        self.assertIn("device %04x:fff0 at %s found, but kernel module %s"
                      % (vendor, card[0].pci_address, self.module),
                      detection.reason)

    def sysfs_vendor(self) -> int:
        from iscsi_transports import fixture
        return fixture.CARDS[self.name].vendor

    # -- iface generation ---------------------------------------------------------

    def test_generate_iface_for_port(self) -> None:
        self.sysfs.add_offload_card(self.name)
        port = self.detect().ports[0]
        record = self.transport.iface_for_port(port)
        self.assertEqual(port.iface_name, record.name)
        self.assertEqual("%s.%s" % (self.name, port.hwaddress), record.name)
        self.assertEqual(self.name, record.transport_name)
        self.assertEqual(port.hwaddress, record.hwaddress)
        self.assertEqual(port.ipaddress if self.records_ipaddress else None,
                         record.ipaddress)

    def test_generate_iface_needs_hwaddress(self) -> None:
        error = self.assertRaises(exception.InvalidInput,
                                  self.transport.generate_iface,
                                  ipaddress="192.0.2.1")
        self.assertIn("iface.hwaddress", str(error))

    def test_generate_iface_without_ipaddress(self) -> None:
        mac = "00:07:43:AA:BB:CC"
        if self.requires_ipaddress:
            error = self.assertRaises(exception.InvalidInput,
                                      self.transport.generate_iface,
                                      hwaddress=mac)
            self.assertIn("iface.ipaddress", str(error))
        else:
            record = self.transport.generate_iface(hwaddress=mac)
            self.assertIsNone(record.ipaddress)
            self.assertEqual("%s.00:07:43:aa:bb:cc" % self.name, record.name)

    def test_ipv6_port_naming(self) -> None:
        card = self.sysfs.add_offload_card(self.name,
                                           ipaddresses=["2001:db8::5"])
        detection = self.detect()
        port = detection.ports[0]
        record = self.transport.iface_for_port(port)
        suffix = ".ipv6" if self.records_ipaddress else ""
        self.assertEqual("%s.%s%s" % (self.name, card[0].hwaddress, suffix),
                         record.name)
        self.assertEqual([], self.transport.validate_iface(record, detection))

    # -- iface validation ---------------------------------------------------------

    def validate(self, **fields: Any) -> list[str]:
        self.sysfs.add_offload_card(self.name, ports=2)
        detection = self.detect()
        port = detection.ports[1]
        values = {"name": port.iface_name, "transport_name": self.name,
                  "hwaddress": port.hwaddress, "ipaddress": port.ipaddress}
        values.update(fields)
        return self.transport.validate_iface(iface_mod.Iface(**values),
                                             detection)

    def test_validate_good_record(self) -> None:
        self.assertEqual([], self.validate())

    def test_validate_wrong_transport(self) -> None:
        problems = self.validate(transport_name="tcp")
        self.assertEqual(["iface.transport_name is tcp, expected %s"
                          % self.name], problems)

    def test_validate_unknown_hwaddress(self) -> None:
        problems = self.validate(hwaddress="02:00:00:00:00:01")
        self.assertEqual(1, len(problems))
        self.assertIn("no %s port with hwaddress 02:00:00:00:00:01"
                      % self.name, problems[0])

    def test_validate_missing_hwaddress(self) -> None:
        self.assertEqual(["iface.hwaddress is not set"],
                         self.validate(hwaddress=None))

    def test_validate_missing_ipaddress(self) -> None:
        problems = self.validate(ipaddress=None)
        expected = (["iface.ipaddress must be set for %s" % self.name]
                    if self.requires_ipaddress else [])
        self.assertEqual(expected, problems)

    def test_validate_ipv6_without_ipv6_in_name(self) -> None:
        problems = self.validate(ipaddress="2001:db8::7")
        self.assertEqual(["an IPv6 iface must have 'ipv6' in its name"],
                         problems)

    # -- through the manager and the console script -------------------------------

    def test_registered_entry_point(self) -> None:
        mgr = manager.TransportManager(self.conf)
        self.assertIsInstance(mgr.get(self.name), self.transport_cls)
        self.assertTrue(mgr.is_enabled(self.name))
        self.assertTrue(self.transport_cls.offload)
        self.assertEqual((self.module,), self.transport_cls.kernel_modules)
        self.assertEqual(self.requires_ipaddress,
                         self.transport_cls.requires_ipaddress)
        self.assertEqual(self.needs_iscsiuio, self.transport_cls.needs_iscsiuio)

    def test_active_uses_first_port(self) -> None:
        card = self.sysfs.add_offload_card(self.name, ports=2)
        self.flags(transport=self.name)
        selection = manager.TransportManager(self.conf).active()
        self.assertFalse(selection.fallback, selection.reason)
        self.assertEqual(self.name, selection.transport.name)
        self.assertEqual(card[0].iface_name, selection.iface_name)
        self.assertEqual(card[0].hwaddress, selection.iface.hwaddress)

    def test_active_without_module_falls_back_naming_module(self) -> None:
        self.sysfs.add_offload_card(self.name, module=False)
        self.flags(transport=self.name)
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertEqual("default", selection.iface_name)
        self.assertIn("modprobe %s" % self.module, selection.reason)

    def test_console_list_json(self) -> None:
        card = self.sysfs.add_offload_card(self.name, ports=2)
        out = io.StringIO()
        code = main.main(["list", "--sysfs-root", self.sysfs.root,
                          "--format", "json"], out=out)
        self.assertEqual(0, code)
        items = {item["name"]: item
                 for item in json.loads(out.getvalue())["transports"]}
        item = items[self.name]
        self.assertTrue(item["usable"], item["reason"])
        self.assertEqual([p.iface_name for p in card],
                         [port["iface_name"] for port in item["ports"]])
        self.assertEqual(self.requires_ipaddress, item["requires_ipaddress"])
