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

"""The iface value type, its naming rules and its record format."""

from iscsi_transports import exception
from iscsi_transports import iface
from iscsi_transports.tests import base


class TestValidateName(base.TestCase):

    def test_accepts_open_iscsi_names(self):
        for name in ("default", "iser", "cxgb4i.00:07:43:05:97:07",
                     "qla4xxx.00:0e:1e:04:8b:2e.ipv6", "ci_0", "a" * 64):
            self.assertEqual(name, iface.validate_name(name))

    def test_rejects_unsafe_names(self):
        for name in ("", "a/b", "..", "a..b", "../etc", "has space", "x;rm",
                     "$(id)", "`id`", "a|b", "-I", ".hidden", "a" * 65,
                     "tab\there", "new\nline", "é", "default\n",
                     "tcp.52:54:00:12:34:01\n"):
            self.assertRaises(exception.InvalidIfaceName,
                              iface.validate_name, name)

    def test_hwaddress_with_a_trailing_newline_is_not_one(self):
        self.assertTrue(iface.is_hwaddress("00:07:43:05:97:07"))
        self.assertFalse(iface.is_hwaddress("00:07:43:05:97:07\n"))

    def test_builtin_names_cannot_be_custom(self):
        error = self.assertRaises(exception.InvalidIfaceName,
                                  iface.validate_name, "iser",
                                  allow_builtin=False)
        self.assertIn("built into iscsiadm", str(error))

    def test_error_is_a_value_error(self):
        self.assertRaises(ValueError, iface.validate_name, "a/b")


class TestAddresses(base.TestCase):

    def test_hwaddress_normalised(self):
        self.assertEqual("00:07:43:05:97:07",
                         iface.normalize_hwaddress("00-07-43-05-97-07"))
        self.assertEqual("aa:bb:cc:dd:ee:ff",
                         iface.normalize_hwaddress(" AA:BB:CC:DD:EE:FF "))

    def test_bad_hwaddress(self):
        for value in ("00:07:43:05:97", "zz:07:43:05:97:07", "0007.4305.9707",
                      "00:00:00:00:00:00", "", None):
            self.assertRaises(exception.InvalidHwAddress,
                              iface.normalize_hwaddress, value)

    def test_ipaddress(self):
        self.assertEqual("fe80::1", iface.validate_ipaddress("FE80:0::1"))
        self.assertRaises(exception.InvalidIPAddress,
                          iface.validate_ipaddress, "10.0.0.300")

    def test_offload_name(self):
        self.assertEqual("cxgb4i.00:07:43:05:97:07",
                         iface.offload_name("cxgb4i", "00:07:43:05:97:07"))
        self.assertEqual("bnx2i.00:10:18:aa:bb:cc.ipv6",
                         iface.offload_name("bnx2i", "00:10:18:AA:BB:CC",
                                            "fd00::5"))


class TestIface(base.TestCase):

    def test_fields_round_trip_through_record_text(self):
        record = iface.Iface(name="cxgb4i.00:07:43:05:97:07",
                             transport_name="cxgb4i",
                             hwaddress="00:07:43:05:97:07",
                             ipaddress="10.0.0.5",
                             extra={"iface.vlan_id": "12"})
        parsed = iface.parse_record(iface.format_record(record))
        self.assertEqual(record, parsed)

    def test_parse_real_iscsiadm_record(self):
        text = ("# BEGIN RECORD 2.1.8\n"
                "iface.iscsi_ifacename = ci0\n"
                "iface.net_ifacename = <empty>\n"
                "iface.ipaddress = <empty>\n"
                "iface.hwaddress = <empty>\n"
                "iface.transport_name = tcp\n"
                "iface.initiatorname = iqn.2026-11.test:ci0\n"
                "iface.state = <empty>\n"
                "iface.vlan_id = 0\n"
                "# END RECORD\n")
        record = iface.parse_record(text)
        self.assertEqual("ci0", record.name)
        self.assertEqual("tcp", record.transport_name)
        self.assertIsNone(record.hwaddress)
        self.assertEqual("iqn.2026-11.test:ci0", record.initiatorname)
        self.assertEqual({"iface.vlan_id": "0"}, dict(record.extra))

    def test_parse_rejects_garbage(self):
        self.assertRaises(exception.IscsiadmParseError, iface.parse_record,
                          "iface.iscsi_ifacename = a\nnot a field\n")

    def test_record_without_name(self):
        self.assertRaises(exception.InvalidInput, iface.parse_record,
                          "iface.transport_name = tcp\n")

    def test_invalid_values_rejected_at_construction(self):
        self.assertRaises(exception.InvalidIfaceName, iface.Iface,
                          name="../x", transport_name="tcp")
        self.assertRaises(exception.InvalidHwAddress, iface.Iface,
                          name="x", transport_name="tcp", hwaddress="nope")
        self.assertRaises(exception.InvalidInput, iface.Iface,
                          name="x", transport_name="tcp; reboot")
        self.assertRaises(exception.InvalidInput, iface.Iface, name="x",
                          transport_name="tcp", extra={"node.x": "1"})

    def test_settable_fields_exclude_the_name(self):
        record = iface.Iface(name="tcp.00:11:22:33:44:55",
                             transport_name="tcp",
                             hwaddress="00:11:22:33:44:55")
        self.assertEqual({"iface.transport_name": "tcp",
                          "iface.hwaddress": "00:11:22:33:44:55"},
                         record.settable_fields())

    def test_differences_compare_only_wanted_fields(self):
        wanted = iface.Iface(name="n", transport_name="cxgb4i",
                             hwaddress="00:07:43:05:97:07")
        existing = iface.Iface(name="n", transport_name="cxgb4i",
                               hwaddress="00:07:43:05:97:08",
                               extra={"iface.mtu": "9000"})
        self.assertEqual(
            {"iface.hwaddress": ("00:07:43:05:97:08", "00:07:43:05:97:07")},
            iface.differences(existing, wanted))
