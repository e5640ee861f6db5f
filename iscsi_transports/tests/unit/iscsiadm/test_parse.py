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

"""Parsers on output captured from the real iscsiadm 2.1.8 in the lab.

Samples marked "lab" were copied from real runs against tgtd; the offload
session lines follow the same printf in iscsiadm (``session_info_print_
flat``) with the transport names the kernel drivers register.
"""

from __future__ import annotations

from iscsi_transports import exception
from iscsi_transports.iscsiadm import parse
from iscsi_transports.tests import base

# lab: iscsiadm -m iface
IFACE_LIST = """\
ci0 tcp,<empty>,<empty>,lo,iqn.2026-11.test:ci0
default tcp,<empty>,<empty>,<empty>,<empty>
iser iser,<empty>,<empty>,<empty>,<empty>
cxgb4i.00:07:43:05:97:07 cxgb4i,00:07:43:05:97:07,10.0.0.5,<empty>,<empty>
"""

# lab: iscsiadm -m iface -I ci0 -o show (head and tail of the record)
IFACE_RECORD = """\
# BEGIN RECORD 2.1.8
iface.iscsi_ifacename = ci0
iface.net_ifacename = lo
iface.ipaddress = <empty>
iface.prefix_len = 0
iface.hwaddress = <empty>
iface.transport_name = tcp
iface.initiatorname = iqn.2026-11.test:ci0
iface.state = <empty>
iface.vlan_id = 0
iface.mtu = 0
iface.discovery_logout = <empty>
# END RECORD
"""

# lab: iscsiadm -m node after discovery plus static records (-o new)
NODES = """\
127.0.0.1:3260,4294967295 iqn.2026-11.org.openstack.test:volume-1
127.0.0.1:3260,1 iqn.2026-11.org.openstack.test:volume-1
127.0.0.1:3261,4294967295 iqn.2026-11.org.openstack.test:volume-1
[::1]:3260,4294967295 iqn.2026-11.org.openstack.test:volume-1
"""

# lab: iscsiadm -m discovery -t sendtargets -p 127.0.0.1:3260 -I ci0
DISCOVERY = "127.0.0.1:3260,1 iqn.2026-11.org.openstack.test:volume-1\n"

class TestTargets(base.TestCase):
    def test_nodes_from_lab(self) -> None:
        nodes = parse.parse_targets(NODES)
        self.assertEqual(4, len(nodes))
        self.assertEqual(-1, nodes[0].tpgt)
        self.assertEqual(1, nodes[1].tpgt)
        self.assertEqual("[::1]:3260", str(nodes[3].portal))
        self.assertEqual("iqn.2026-11.org.openstack.test:volume-1",
                         nodes[3].name)

    def test_discovery_from_lab(self) -> None:
        (target,) = parse.parse_discovery(DISCOVERY)
        self.assertEqual({"portal": "127.0.0.1:3260", "tpgt": 1,
                          "target": "iqn.2026-11.org.openstack.test:volume-1"},
                         target.as_dict())

    def test_empty_output_is_empty_list(self) -> None:
        self.assertEqual([], parse.parse_targets(""))

    def test_bad_lines_raise_parse_error(self) -> None:
        for line in ("garbage", "1.2.3.4:3260 iqn.2010-10.a.b",
                     "1.2.3.4:3260,1 notatarget", "[::1:3260,1 iqn.2010-10.a",
                     "1.2.3.4:70000,1 iqn.2010-10.org.x",
                     "999.1.2.3:3260,1 iqn.2010-10.org.x",
                     "1.2.3.4:3260,1 eui.123"):
            self.assertRaises(exception.IscsiadmParseError,
                              parse.parse_targets, line)


class TestIfaces(base.TestCase):
    def test_flat_list_from_lab(self) -> None:
        ifaces = parse.parse_iface_list(IFACE_LIST)
        self.assertEqual(["ci0", "default", "iser",
                          "cxgb4i.00:07:43:05:97:07"],
                         [i.name for i in ifaces])
        self.assertEqual("lo", ifaces[0].net_ifacename)
        self.assertIsNone(ifaces[1].initiatorname)
        self.assertEqual("00:07:43:05:97:07", ifaces[3].hwaddress)
        self.assertEqual("10.0.0.5", ifaces[3].ipaddress)

    def test_record_from_lab(self) -> None:
        record = parse.parse_iface_record(IFACE_RECORD)
        self.assertEqual("ci0", record.name)
        self.assertEqual("iqn.2026-11.test:ci0", record.initiatorname)
        self.assertEqual("0", record.extra["iface.mtu"])

    def test_bad_iface_output(self) -> None:
        for text in ("ci0 tcp,a,b", "../x tcp,,,,", "ci0 tcp,zz,,,"):
            self.assertRaises(exception.IscsiadmParseError,
                              parse.parse_iface_list, text)
        for text in ("", "iface.iscsi_ifacename = ../x",
                     "iface.iscsi_ifacename = a\nnode.x = y"):
            self.assertRaises(exception.IscsiadmParseError,
                              parse.parse_iface_record, text)
