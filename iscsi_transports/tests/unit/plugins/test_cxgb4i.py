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

"""cxgb4i: Chelsio T4/T5/T6 offload on cxgb4; the NIC's own IP address is used."""

from iscsi_transports.plugins import cxgb4i
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestCxgb4i(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = cxgb4i.Cxgb4iTransport
    name = "cxgb4i"
    module = "cxgb4i"
    model = 'Chelsio T520-CR'
    absent_words = "no Chelsio T4/T5/T6 adapter found"
    requires_ipaddress = False
    records_ipaddress = False
    needs_iscsiuio = False

    def test_models_by_generation_and_product(self):
        ids = cxgb4i.Cxgb4iTransport.pci_ids
        self.assertEqual("Chelsio T420-CR", ids[(0x1425, 0x4401)])
        self.assertEqual("Chelsio T62100-CR", ids[(0x1425, 0x640D)])
        self.assertEqual("Chelsio T6", ids[(0x1425, 0x64FE)])
        self.assertEqual(3 * 256, len(ids))

    def test_only_physical_function_4_is_matched(self):
        # PF0-3 (0x50PP) and VFs (0x58PP) are not driven by cxgb4.
        self.sysfs.add_pci("0000:05:00.0", 0x1425, 0x5001)
        self.sysfs.add_pci("0000:05:01.0", 0x1425, 0x5801, "cxgb4vf")
        self.assertEqual((), self.detect().hardware)

    def test_ipaddress_is_not_written(self):
        record = self.transport.generate_iface(
            hwaddress="00:07:43:05:97:07", ipaddress="192.0.2.9")
        self.assertIsNone(record.ipaddress)
        self.assertEqual("cxgb4i.00:07:43:05:97:07", record.name)
