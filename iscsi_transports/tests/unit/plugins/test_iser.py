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
from iscsi_transports import iface
from iscsi_transports.plugins import iser
from iscsi_transports.tests import base


class TestIser(base.TestCase):

    def setUp(self):
        super().setUp()
        self.transport = iser.IserTransport(self.conf)

    def detect(self):
        return self.transport.detect(host.Host(self.sysfs.root))

    def test_no_rdma_device(self):
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertIn("no RDMA device", detection.reason)

    def test_rdma_without_module(self):
        self.sysfs.add_pci("0000:3b:00.0", 0x15b3, 0x1017, driver="mlx5_core")
        self.sysfs.add_rdma("mlx5_0", "0000:3b:00.0")
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertIn("ib_iser is not loaded", detection.reason)

    def test_rdma_with_module(self):
        self.sysfs.add_pci("0000:3b:00.0", 0x15b3, 0x1017, driver="mlx5_core")
        self.sysfs.add_netdev("ens1f0", "b8:59:9f:00:00:01", "0000:3b:00.0")
        self.sysfs.add_rdma("mlx5_0", "0000:3b:00.0")
        self.sysfs.add_module("ib_iser")
        detection = self.detect()
        self.assertTrue(detection.usable)
        port = detection.ports[0]
        self.assertEqual(("mlx5_0", "ens1f0", "iser"),
                         (port.host, port.netdev, port.iface_name))

    def test_builtin_iface(self):
        record = self.transport.generate_iface()
        self.assertEqual(("iser", "iser"), (record.name, record.transport_name))
        self.assertTrue(self.transport.needs_target_support)

    def test_validate_builtin_records(self):
        detection = self.detect()
        ok = iface.Iface(name="iser", transport_name="iser")
        self.assertEqual([], self.transport.validate_iface(ok, detection))
        wrong = iface.Iface(name="default", transport_name="tcp")
        self.assertEqual(1, len(self.transport.validate_iface(wrong,
                                                              detection)))
