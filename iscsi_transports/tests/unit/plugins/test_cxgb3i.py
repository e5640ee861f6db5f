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

"""cxgb3i: Chelsio T3 offload on the cxgb3 NIC; iface.ipaddress is optional."""

from iscsi_transports.plugins import cxgb3i
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestCxgb3i(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = cxgb3i.Cxgb3iTransport
    name = "cxgb3i"
    module = "cxgb3i"
    model = 'Chelsio T3B20'
    absent_words = "no Chelsio T3 adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False

    def test_ipaddress_is_optional_and_written_when_given(self):
        record = self.transport.generate_iface(
            hwaddress="00:07:43:00:00:01", ipaddress="192.0.2.9")
        self.assertEqual("192.0.2.9", record.ipaddress)
        self.assertIsNone(self.transport.generate_iface(
            hwaddress="00:07:43:00:00:01").ipaddress)

    def test_t3_table_is_the_kernels(self):
        devices = sorted(device for _, device in cxgb3i.Cxgb3iTransport.pci_ids)
        self.assertEqual([0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x30,
                          0x31, 0x32, 0x33, 0x35, 0x36, 0x37], devices)
