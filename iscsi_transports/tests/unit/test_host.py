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

"""Reading a sysfs root: kernel layout, symlinks, absent and unset values."""

import os

from iscsi_transports import host
from iscsi_transports.tests import base


class TestHost(base.TestCase):

    def test_empty_tree_means_nothing_found(self):
        inventory = host.Host(self.sysfs.root)
        self.assertEqual({}, inventory.pci_functions)
        self.assertEqual((), inventory.iscsi_hosts)
        self.assertFalse(inventory.module_loaded("cxgb4i"))

    def test_missing_root_is_not_an_error(self):
        inventory = host.Host(os.path.join(self.sysfs.root, "nope"))
        self.assertEqual({}, inventory.netdevs)
        self.assertEqual((), inventory.rdma_devices)

    def test_pci_function_with_driver_and_netdev(self):
        self.sysfs.add_pci("0000:05:00.4", 0x1425, 0x5401, driver="cxgb4")
        self.sysfs.add_netdev("eth2", "00:07:43:05:97:07", "0000:05:00.4")
        function = host.Host(self.sysfs.root).pci_functions["0000:05:00.4"]
        self.assertEqual((0x1425, 0x5401), (function.vendor, function.device))
        self.assertEqual("cxgb4", function.driver)
        self.assertEqual("1425:5401", function.pci_id)

    def test_netdev_resolves_to_its_pci_function(self):
        self.sysfs.add_pci("0000:05:00.4", 0x1425, 0x5401, driver="cxgb4")
        self.sysfs.add_netdev("eth2", "00:07:43:05:97:07", "0000:05:00.4")
        self.sysfs.add_netdev("br0", "02:00:00:00:00:01")
        netdevs = host.Host(self.sysfs.root).netdevs
        self.assertEqual("0000:05:00.4", netdevs["eth2"].pci_address)
        self.assertEqual("cxgb4", netdevs["eth2"].driver)
        self.assertIsNone(netdevs["br0"].pci_address)

    def test_iscsi_host_fields_and_unset_values(self):
        self.sysfs.add_pci("0000:05:00.4", 0x1425, 0x5401, driver="cxgb4")
        self.sysfs.add_iscsi_host(10, "cxgb4i", "0000:05:00.4",
                                  hwaddress="00:07:43:05:97:0A",
                                  netdev="eth2")
        self.sysfs.add_iscsi_host(2, "qla4xxx", None)
        hosts = host.Host(self.sysfs.root).iscsi_hosts
        self.assertEqual(["host2", "host10"], [h.name for h in hosts])
        cxgb = hosts[1]
        self.assertEqual("cxgb4i", cxgb.proc_name)
        self.assertEqual("00:07:43:05:97:0a", cxgb.hwaddress)
        self.assertEqual("0000:05:00.4", cxgb.pci_address)
        self.assertIsNone(cxgb.ipaddress)
        self.assertIsNone(hosts[0].pci_address)

    def test_unreadable_attribute_is_absent(self):
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10fb)
        vendor = os.path.join(self.sysfs.root,
                              self.sysfs.pci_path("0000:01:00.0"), "vendor")
        os.remove(vendor)
        os.mkdir(vendor)  # reading a directory raises IsADirectoryError
        function = host.Host(self.sysfs.root).pci_functions["0000:01:00.0"]
        self.assertIsNone(function.vendor)
        self.assertEqual(0x10fb, function.device)

    def test_modules_and_transports(self):
        self.sysfs.add_module("ib_iser")
        self.sysfs.add_iscsi_transport("cxgb4i")
        inventory = host.Host(self.sysfs.root)
        self.assertTrue(inventory.module_loaded("ib-iser"))
        self.assertTrue(inventory.module_loaded("cxgb4i"))
        self.assertFalse(inventory.module_loaded("bnx2i"))

    def test_pci_address_of(self):
        self.assertEqual("0000:05:00.4", host.pci_address_of(
            "/sys/devices/pci0000:00/0000:00:03.0/0000:05:00.4/host5/"
            "iscsi_host/host5"))
        self.assertIsNone(host.pci_address_of("/sys/devices/virtual/net/lo"))
