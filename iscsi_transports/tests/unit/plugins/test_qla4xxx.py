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

"""qla4xxx: QLogic iSCSI HBAs carrying their own IP address."""

from iscsi_transports.plugins import qla4xxx
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestQla4xxx(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = qla4xxx.Qla4xxxTransport
    name = "qla4xxx"
    module = "qla4xxx"
    model = 'QLogic ISP8324'
    absent_words = "no QLogic ISP4xxx/ISP8xxx iSCSI adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False

    def test_isp4032_functions_and_upper_case_mac(self):
        for function in (1, 3):
            address = "0000:07:00.%d" % function
            self.sysfs.add_pci(address, 0x1077, 0x4032, "qla4xxx")
            self.sysfs.add_iscsi_host(function + 10, "qla4xxx", address,
                                      hwaddress="00:C0:DD:0A:0B:0%d" % function,
                                      ipaddress="198.51.100.%d" % function)
        self.sysfs.add_module("qla4xxx")
        detection = self.detect()
        self.assertTrue(detection.usable, detection.reason)
        self.assertEqual(["QLogic ISP4032", "QLogic ISP4032"],
                         [hw.model for hw in detection.hardware])
        self.assertEqual(["qla4xxx.00:c0:dd:0a:0b:01",
                          "qla4xxx.00:c0:dd:0a:0b:03"],
                         [port.iface_name for port in detection.ports])
        record = self.transport.iface_for_port(detection.ports[1])
        self.assertEqual("198.51.100.3", record.ipaddress)
