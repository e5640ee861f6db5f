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

"""The console script's iface subcommand: iface_from_tuple and
validate_iface for an operator's (IP, hardware address, transport)."""

from __future__ import annotations

from iscsi_transports.tests.unit.cmd import test_inventory


class TestIface(test_inventory.CommandTestCase):

    def test_a_port_of_this_host_is_a_valid_record(self) -> None:
        (port,) = self.sysfs.add_offload_card("cxgb4i")
        data = self.json_cmd("iface", "--transport", "cxgb4i",
                             "--hwaddress", port.hwaddress.upper())
        self.assertEqual([], data["problems"])
        self.assertEqual(port.iface_name, data["iface"]["name"])
        self.assertEqual(port.hwaddress, data["iface"]["hwaddress"])
        # cxgb4i uses the NIC's address: iface.ipaddress is never written.
        self.assertIsNone(data["iface"]["ipaddress"])

    def test_table_is_the_record_iscsiadm_stores(self) -> None:
        (port,) = self.sysfs.add_offload_card("cxgb4i")
        out, _ = self.run_cmd("iface", "--transport", "cxgb4i",
                              "--hwaddress", port.hwaddress)
        self.assertEqual(
            "# BEGIN RECORD 2.1.8\n"
            "iface.iscsi_ifacename = %s\n"
            "iface.transport_name = cxgb4i\n"
            "iface.hwaddress = %s\n"
            "# END RECORD\n"
            "matches a port of this host\n" % (port.iface_name,
                                               port.hwaddress), out)

    def test_unknown_port_exits_1_with_the_problem(self) -> None:
        self.sysfs.add_offload_card("cxgb4i")
        data = self.json_cmd("iface", "--transport", "cxgb4i",
                             "--hwaddress", "00:07:43:ff:ff:ff", expect=1)
        self.assertEqual(1, len(data["problems"]))
        self.assertIn("no cxgb4i port with hwaddress 00:07:43:ff:ff:ff",
                      data["problems"][0])

    def test_missing_required_ip_is_one_line(self) -> None:
        _, err = self.run_cmd("iface", "--transport", "bnx2i",
                              "--hwaddress", "00:10:18:05:00:80", expect=1)
        self.assertEqual(
            "iscsi-transports: error: Invalid input: bnx2i needs "
            "iface.ipaddress: open-iscsi will not log in through it "
            "without one\n", err)

    def test_bad_mac_is_one_line(self) -> None:
        _, err = self.run_cmd("iface", "--transport", "tcp",
                              "--hwaddress", "zz", expect=1)
        self.assertEqual(1, err.count("\n"))
        self.assertIn("Invalid hardware (MAC) address 'zz'", err)
