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

"""bnx2i: NetXtreme II offload; iface.ipaddress required, iscsiuio needed."""

from iscsi_transports import host as host_mod
from iscsi_transports.plugins import bnx2i
from iscsi_transports.selection import manager
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestBnx2i(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = bnx2i.Bnx2iTransport
    name = "bnx2i"
    module = "bnx2i"
    model = 'Broadcom BCM57810'
    absent_words = "no Broadcom/QLogic NetXtreme II (bnx2/bnx2x) adapter found"
    requires_ipaddress = True
    records_ipaddress = True
    needs_iscsiuio = True

    def test_port_without_ipaddress_is_skipped(self):
        card = self.sysfs.add_offload_card("bnx2i", ports=2,
                                           ipaddresses=[None, "192.0.2.9"])
        self.flags(transport="bnx2i")
        selection = manager.TransportManager(self.conf).active()
        self.assertFalse(selection.fallback, selection.reason)
        self.assertEqual(card[1].iface_name, selection.iface_name)
        self.assertEqual("192.0.2.9", selection.iface.ipaddress)

    def test_pinned_port_without_ipaddress_falls_back(self):
        card = self.sysfs.add_offload_card("bnx2i", ports=2,
                                           ipaddresses=[None, "192.0.2.9"])
        self.flags(transport=card[0].iface_name)
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertIn("no bnx2i port matches iface %s" % card[0].iface_name,
                      selection.reason)

    def test_no_port_with_ipaddress_is_not_usable(self):
        self.sysfs.add_offload_card("bnx2i", ipaddresses=[None])
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertIn("no bnx2i port has an IP address: bnx2i needs "
                      "iface.ipaddress", detection.reason)

    def test_iscsi_mac_is_not_the_nic_mac(self):
        card = self.sysfs.add_offload_card("bnx2i")
        port = self.detect().ports[0]
        nic_mac = host_mod.Host(self.sysfs.root).netdevs[card[0].netdev]
        self.assertNotEqual(nic_mac.hwaddress, port.hwaddress)
        self.assertEqual(card[0].netdev, port.netdev)

    def test_bnx2_and_qlogic_57840_are_recognised(self):
        self.sysfs.add_pci("0000:03:00.0", 0x14E4, 0x1639, "bnx2")
        self.sysfs.add_pci("0000:04:00.0", 0x1077, 0x16A1)
        models = [hw.model for hw in self.detect().hardware]
        self.assertEqual(["Broadcom BCM5709", "QLogic 57840 4x10G"], models)
