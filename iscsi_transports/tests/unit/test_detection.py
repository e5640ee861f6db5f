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

"""Whole-host detection: several cards at once, none, choice and the CLI."""

import io
import json
import os
import time

import fixtures

from iscsi_transports import exception
from iscsi_transports.cmd import main
from iscsi_transports.selection import manager
from iscsi_transports.tests import base

#: One card per offload transport, each on its own PCI bus.
BUSES = {"cxgb3i": 3, "bnx2i": 4, "cxgb4i": 5, "qla4xxx": 6,
         "be2iscsi": 7, "ocs": 8, "qedi": 9}


class DetectionTestCase(base.TestCase):

    def manager(self):
        return manager.TransportManager(self.conf)

    def usable(self):
        return [name for name, detection in self.manager().detect_all().items()
                if detection.usable]

    def run_cmd(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        code = main.main([*argv, "--sysfs-root", self.sysfs.root,
                          "--format", "json"], out=out, err=err)
        self.assertEqual(0, code, err.getvalue())
        return json.loads(out.getvalue())


class TestHosts(DetectionTestCase):

    def test_host_without_offload_cards_has_only_tcp(self):
        self.sysfs.add_pci("0000:02:00.0", 0x8086, 0x1572, "i40e")
        self.sysfs.add_netdev("eno1", "3c:fd:fe:00:00:01", "0000:02:00.0")
        started = time.monotonic()
        data = self.run_cmd("list")
        elapsed = time.monotonic() - started
        self.assertEqual(["tcp"], [item["name"] for item in data["transports"]
                                   if item["usable"]])
        self.assertLess(elapsed, 1.0)
        self.assertEqual(["tcp"], self.usable())

    def test_every_offload_card_at_once(self):
        cards = {name: self.sysfs.add_offload_card(name, ports=2, bus=bus)
                 for name, bus in BUSES.items()}
        detections = self.manager().detect_all()
        for name, card in cards.items():
            detection = detections[name]
            self.assertTrue(detection.usable, detection.reason)
            self.assertEqual([port.iface_name for port in card],
                             [port.iface_name for port in detection.ports])
            buses = {hw.pci_address[5:7] for hw in detection.hardware}
            self.assertEqual({"%02x" % BUSES[name]}, buses, name)
        self.assertEqual(sorted(["tcp", *BUSES]), sorted(self.usable()))

    def test_card_without_module_next_to_a_working_one(self):
        self.sysfs.add_offload_card("cxgb4i", ports=2)
        self.sysfs.add_offload_card("qla4xxx", bus=6, module=False)
        detections = self.manager().detect_all()
        self.assertTrue(detections["cxgb4i"].usable)
        self.assertFalse(detections["qla4xxx"].usable)
        self.assertIn("modprobe qla4xxx", detections["qla4xxx"].reason)

    def test_disabled_offload_transport_is_not_usable(self):
        self.sysfs.add_offload_card("cxgb4i")
        self.flags(enabled_transports=["qla4xxx"])
        detection = self.manager().detect("cxgb4i")
        self.assertFalse(detection.usable)
        self.assertIn("otherwise ready", detection.reason)


class TestActive(DetectionTestCase):

    def setUp(self):
        super().setUp()
        # Created first, so its ports get the lower host numbers even
        # though its PCI bus sorts after the second card's.
        self.late_bus = self.sysfs.add_offload_card("cxgb4i", ports=2, bus=7)
        self.early_bus = self.sysfs.add_offload_card("cxgb4i", ports=2,
                                                     bus=3)

    def test_transport_name_picks_first_port_by_host_number(self):
        self.flags(transport="cxgb4i")
        for _ in range(2):
            selection = self.manager().active()
            self.assertFalse(selection.fallback, selection.reason)
            self.assertEqual(self.late_bus[0].iface_name,
                             selection.iface_name)
            self.assertEqual(self.late_bus[0].host, selection.port.host)

    def test_iface_name_pins_that_port(self):
        wanted = self.early_bus[1]
        self.flags(transport=wanted.iface_name)
        selection = self.manager().active()
        self.assertFalse(selection.fallback, selection.reason)
        self.assertEqual(wanted.iface_name, selection.iface_name)
        self.assertEqual(wanted.hwaddress, selection.iface.hwaddress)
        self.assertEqual(wanted.host, selection.port.host)

    def test_iface_name_of_a_missing_port_falls_back(self):
        self.flags(transport="cxgb4i.00:07:43:ff:ff:ff")
        selection = self.manager().active()
        self.assertTrue(selection.fallback)
        self.assertEqual("default", selection.iface_name)
        self.assertIn("no cxgb4i port matches iface cxgb4i.00:07:43:ff:ff:ff",
                      selection.reason)
        self.assertIn(self.late_bus[0].iface_name, selection.reason)

    def test_missing_port_without_fallback_raises(self):
        self.flags(transport="cxgb4i.00:07:43:ff:ff:ff", fallback_to_tcp=False)
        self.assertRaises(exception.TransportUnusable, self.manager().active)


class TestExtraPciIds(DetectionTestCase):

    def test_unknown_model_detected_once_configured(self):
        card = self.sysfs.add_offload_card("cxgb4i", module=False,
                                           device=0x7401, driver=None)
        self.assertIn("no Chelsio T4/T5/T6 adapter found",
                      self.manager().detect("cxgb4i").reason)
        self.flags(extra_pci_ids=["cxgb4i:1425:7401"])
        detection = self.manager().detect("cxgb4i")
        self.assertEqual([card[0].pci_address],
                         [hw.pci_address for hw in detection.hardware])
        self.assertEqual("1425:7401", detection.hardware[0].pci_id)
        self.assertIn("kernel module cxgb4i is not loaded", detection.reason)

    def test_unknown_model_with_its_ports_needs_no_configuration(self):
        card = self.sysfs.add_offload_card("cxgb4i", device=0x7401,
                                           driver="cxgb4-next")
        detection = self.manager().detect("cxgb4i")
        self.assertTrue(detection.usable, detection.reason)
        self.assertEqual([card[0].iface_name],
                         [port.iface_name for port in detection.ports])


class TestConsoleScript(DetectionTestCase):

    def config(self, transport):
        path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, "nova.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\ntransport = %s\n" % transport)
        return path

    def test_list_and_active_for_each_plugin(self):
        cards = {name: self.sysfs.add_offload_card(name, ports=2, bus=bus)
                 for name, bus in BUSES.items()}
        items = {item["name"]: item for item in self.run_cmd("list")
                 ["transports"]}
        for name, card in cards.items():
            self.assertTrue(items[name]["usable"], items[name]["reason"])
            self.assertEqual(
                [(p.iface_name, p.hwaddress, p.pci_address) for p in card],
                [(p["iface_name"], p["hwaddress"], p["pci_address"])
                 for p in items[name]["ports"]])
            active = self.run_cmd("active", "--config-file",
                                  self.config(name))
            self.assertEqual((name, card[0].iface_name, False),
                             (active["transport"], active["iface"],
                              active["fallback"]))

    def test_show_reports_model_and_module(self):
        self.sysfs.add_offload_card("qla4xxx", bus=6, module=False)
        data = self.run_cmd("show", "qla4xxx")
        self.assertFalse(data["usable"])
        self.assertFalse(data["module_loaded"])
        self.assertEqual("QLogic ISP8324", data["hardware"][0]["model"])
        self.assertIn("modprobe qla4xxx", data["reason"])
