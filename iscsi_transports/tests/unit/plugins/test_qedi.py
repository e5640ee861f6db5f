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

"""qedi: QLogic FastLinQ offload; iface.ipaddress required, iscsiuio needed."""

from iscsi_transports.plugins import qedi
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestQedi(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = qedi.QediTransport
    name = "qedi"
    module = "qedi"
    model = 'QLogic FastLinQ iSCSI'
    absent_words = "no QLogic FastLinQ iSCSI adapter found"
    requires_ipaddress = True
    records_ipaddress = True
    needs_iscsiuio = True

    def test_no_port_with_ipaddress_is_not_usable(self):
        self.sysfs.add_offload_card("qedi", ports=2, ipaddresses=[None, None])
        detection = self.detect()
        self.assertFalse(detection.usable)
        self.assertIn("qedi needs iface.ipaddress", detection.reason)

    def test_both_kernel_ids(self):
        self.sysfs.add_pci("0000:08:00.4", 0x1077, 0x165E)
        self.sysfs.add_pci("0000:09:00.4", 0x1077, 0x8084)
        self.assertEqual(["1077:165e", "1077:8084"],
                         [hw.pci_id for hw in self.detect().hardware])
