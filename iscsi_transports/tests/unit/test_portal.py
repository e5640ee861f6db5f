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

"""Portal and target-name values."""

from __future__ import annotations

from iscsi_transports import exception
from iscsi_transports import portal
from iscsi_transports.tests import base


class TestPortalsAndNames(base.TestCase):
    def test_portal_forms(self) -> None:
        self.assertEqual("10.0.0.1:3260", str(portal.parse_portal("10.0.0.1")))
        self.assertEqual("[fe80::1]:3261",
                         str(portal.parse_portal("[fe80::1]:3261")))
        self.assertEqual(3260, portal.parse_portal("fe80::1").port)

    def test_bad_portals(self) -> None:
        for text in ("", " 1.2.3.4", "1.2.3.4:0", "[::1", "a b:1", "1.2.3.4:x",
                     "1.2.3.4:", "[::1]:"):
            self.assertRaises(exception.InvalidPortal, portal.parse_portal,
                              text)

    def test_target_names(self) -> None:
        self.assertTrue(portal.is_target_name("iqn.2010-10.org.openstack:v1"))
        self.assertTrue(portal.is_target_name("naa.6001405abcdef012"))
        self.assertFalse(portal.is_target_name("iqn.x"))
        self.assertFalse(portal.is_target_name("eui.12"))
        # A trailing newline would reach iscsiadm's argv and a record path.
        for name in ("iqn.2010-10.org.openstack:v1\n", "naa.6001405abcdef012\n",
                     "eui.0123456789abcdef\n"):
            self.assertFalse(portal.is_target_name(name), repr(name))
        self.assertRaises(exception.InvalidTargetName,
                          portal.validate_target_name, "-T")
