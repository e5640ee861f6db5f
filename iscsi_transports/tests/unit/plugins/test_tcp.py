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

from iscsi_transports import host
from iscsi_transports.plugins import tcp
from iscsi_transports.tests import base


class TestTcp(base.TestCase):

    def setUp(self):
        super().setUp()
        self.transport = tcp.TcpTransport(self.conf)

    def test_always_usable_even_without_nics(self):
        detection = self.transport.detect(host.Host(self.sysfs.root))
        self.assertTrue(detection.usable)
        self.assertEqual((), detection.ports)
        self.assertIn("iscsi_tcp will be loaded", detection.reason)

    def test_each_pci_nic_is_a_pinnable_port(self):
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10fb, driver="ixgbe")
        self.sysfs.add_netdev("eth0", "00:1B:21:00:00:01", "0000:01:00.0")
        self.sysfs.add_netdev("virbr0", "52:54:00:00:00:01")
        self.sysfs.add_module("iscsi_tcp")
        detection = self.transport.detect(host.Host(self.sysfs.root))
        self.assertEqual(["tcp.00:1b:21:00:00:01"],
                         [port.iface_name for port in detection.ports])
        self.assertTrue(detection.module_loaded)

    def test_default_iface(self):
        record = self.transport.generate_iface()
        self.assertEqual(("default", "tcp"),
                         (record.name, record.transport_name))
        self.assertTrue(record.builtin)

    def test_pinned_iface_never_sets_ipaddress(self):
        record = self.transport.iface_from_tuple("10.0.0.2",
                                                 "00:1B:21:00:00:01", "tcp")
        self.assertEqual("tcp.00:1b:21:00:00:01", record.name)
        self.assertEqual("00:1b:21:00:00:01", record.hwaddress)
        self.assertIsNone(record.ipaddress)

    def test_tuple_for_another_transport_is_refused(self):
        self.assertRaises(ValueError, self.transport.iface_from_tuple,
                          None, "00:1b:21:00:00:01", "cxgb4i")

    def test_iscsiadm_args(self):
        self.assertEqual(["-I", "default"],
                         self.transport.iscsiadm_args("default"))
        self.assertRaises(ValueError, self.transport.iscsiadm_args, "a b")

    def test_summary_is_first_docstring_line(self):
        self.assertTrue(self.transport.summary().startswith(
            "Software iSCSI over TCP"))
