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

"""be2iscsi: Emulex OneConnect iSCSI functions carrying their own IP address."""

from iscsi_transports.plugins import be2iscsi
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestBe2iscsi(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = be2iscsi.Be2iscsiTransport
    name = "be2iscsi"
    module = "be2iscsi"
    model = 'Emulex OneConnect (BE3)'
    absent_words = "no Emulex OneConnect iSCSI adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False

    def test_be2net_nic_functions_are_not_be2iscsi_hardware(self):
        self.sysfs.add_pci("0000:05:00.0", 0x19A2, 0x0710, "be2net")
        self.sysfs.add_pci("0000:05:00.2", 0x19A2, 0x0702)
        self.sysfs.add_pci("0000:06:00.2", 0x10DF, 0x0722)
        self.assertEqual(["0000:05:00.2", "0000:06:00.2"],
                         [hw.pci_address for hw in self.detect().hardware])
