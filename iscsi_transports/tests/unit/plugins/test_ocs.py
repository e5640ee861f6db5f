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

"""ocs: Emulex OneConnect through the out-of-tree ocs driver, found by driver."""

from iscsi_transports.plugins import ocs
from iscsi_transports.selection import manager
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.plugins import offload_cases


class TestOcs(offload_cases.OffloadPluginCases, base.TestCase):

    transport_cls = ocs.OcsTransport
    name = "ocs"
    module = "ocs"
    model = 'Emulex OneConnect (Skyhawk)'
    absent_words = "no Emulex OneConnect (ocs driver) adapter found"
    requires_ipaddress = False
    records_ipaddress = True
    needs_iscsiuio = False

    def test_function_bound_to_ocs_counts_whatever_its_id(self):
        self.sysfs.add_pci("0000:09:00.2", 0x10DF, 0x0724, "ocs")
        hardware = self.detect().hardware
        self.assertEqual(["0000:09:00.2"], [hw.pci_address for hw in hardware])
        self.assertIsNone(hardware[0].model)

    def test_skyhawk_without_either_module_names_both(self):
        self.sysfs.add_offload_card("ocs", module=False)
        mgr = manager.TransportManager(self.conf)
        self.assertIn("modprobe ocs", mgr.detect("ocs").reason)
        self.assertIn("modprobe be2iscsi", mgr.detect("be2iscsi").reason)
