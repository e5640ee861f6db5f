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

"""Connection properties as real cinder drivers send them, and hostile ones.

The shapes below follow what cinder 29's iSCSI drivers return from
``initialize_connection`` (the keys and the spelling of portals, names and
LUNs); the values are made up.  Every shape must parse into the paths an
attach logs in to, in canonical portal text; every hostile variation must
be refused with one line naming the key, before anything runs.
"""

from __future__ import annotations

from typing import Any

from iscsi_transports import exception
from iscsi_transports.attach import connection
from iscsi_transports.tests import base

VolumePath = connection.VolumePath

#: (driver, properties, the paths they mean).
DRIVER_SHAPES: list[tuple[str, dict[str, Any], list[VolumePath]]] = [
    ("LVM/LIO single path",
     {"target_discovered": False, "target_portal": "192.0.2.5:3260",
      "target_iqn": "iqn.2010-10.org.openstack:volume-0f1e",
      "target_lun": 0, "volume_id": "0f1e", "auth_method": "CHAP",
      "auth_username": "AbCdEfGh", "auth_password": "s3cr3tS3cr3t",
      "discard": True, "encrypted": False, "qos_specs": None,
      "access_mode": "rw"},
     [VolumePath("192.0.2.5:3260", "iqn.2010-10.org.openstack:volume-0f1e",
                 0)]),
    ("LVM/LIO multipath (iscsi_secondary_ip_addresses)",
     {"target_portal": "192.0.2.5:3260",
      "target_iqn": "iqn.2010-10.org.openstack:volume-0f1e",
      "target_lun": 0,
      "target_portals": ["192.0.2.5:3260", "198.51.100.5:3260"],
      "target_iqns": ["iqn.2010-10.org.openstack:volume-0f1e"] * 2,
      "target_luns": [0, 0]},
     [VolumePath("192.0.2.5:3260", "iqn.2010-10.org.openstack:volume-0f1e",
                 0),
      VolumePath("198.51.100.5:3260",
                 "iqn.2010-10.org.openstack:volume-0f1e", 0)]),
    ("NetApp ONTAP: one target, LIFs of two families",
     {"target_discovered": False, "target_portal": "192.0.2.20:3260",
      "target_iqn": "iqn.1992-08.com.netapp:sn.4082f0e4:vs.3",
      "target_lun": 7,
      "target_portals": ["192.0.2.20:3260", "[2001:db8::20]:3260"],
      "target_iqns": ["iqn.1992-08.com.netapp:sn.4082f0e4:vs.3"] * 2,
      "target_luns": [7, 7], "discard": True},
     [VolumePath("192.0.2.20:3260",
                 "iqn.1992-08.com.netapp:sn.4082f0e4:vs.3", 7),
      VolumePath("[2001:db8::20]:3260",
                 "iqn.1992-08.com.netapp:sn.4082f0e4:vs.3", 7)]),
    ("Pure FlashArray: SAM2 addressing, one target on every port",
     {"target_discovered": False, "discard": True,
      "addressing_mode": "SAM2",
      "target_portals": ["192.0.2.31:3260", "192.0.2.32:3260"],
      "target_iqns": ["iqn.2010-06.com.purestorage:flasharray.5d1c"] * 2,
      "target_luns": [260, 260]},
     [VolumePath("192.0.2.31:3260",
                 "iqn.2010-06.com.purestorage:flasharray.5d1c", 260),
      VolumePath("192.0.2.32:3260",
                 "iqn.2010-06.com.purestorage:flasharray.5d1c", 260)]),
    ("PowerStore: IPv6 portals without brackets",
     {"target_discovered": False,
      "target_portal": "2001:db8:10::41:3260",
      "target_iqn": "iqn.2015-10.com.dell:dellemc-powerstore-fnm0012-a-1",
      "target_lun": 3,
      "target_portals": ["2001:db8:10::41:3260", "2001:db8:10::42:3260"],
      "target_iqns": [
          "iqn.2015-10.com.dell:dellemc-powerstore-fnm0012-a-1",
          "iqn.2015-10.com.dell:dellemc-powerstore-fnm0012-b-1"],
      "target_luns": [3, 3]},
     [VolumePath("[2001:db8:10::41]:3260",
                 "iqn.2015-10.com.dell:dellemc-powerstore-fnm0012-a-1", 3),
      VolumePath("[2001:db8:10::42]:3260",
                 "iqn.2015-10.com.dell:dellemc-powerstore-fnm0012-b-1",
                 3)]),
    ("Unity: one target per storage-processor port",
     {"target_discovered": True, "target_portal": "192.0.2.51:3260",
      "target_iqn": "iqn.1992-04.com.emc:cx.apm00153529126.a8",
      "target_lun": 1,
      "target_portals": ["192.0.2.51:3260", "192.0.2.52:3260"],
      "target_iqns": ["iqn.1992-04.com.emc:cx.apm00153529126.a8",
                      "iqn.1992-04.com.emc:cx.apm00153529126.b8"],
      "target_luns": [1, 1]},
     [VolumePath("192.0.2.51:3260",
                 "iqn.1992-04.com.emc:cx.apm00153529126.a8", 1),
      VolumePath("192.0.2.52:3260",
                 "iqn.1992-04.com.emc:cx.apm00153529126.b8", 1)]),
    ("HPE 3PAR: CHAP and a target per port",
     {"target_discovered": True, "encrypted": False,
      "target_portal": "192.0.2.61:3260",
      "target_iqn": "iqn.2000-05.com.3pardata:20210002ac01b3d2",
      "target_lun": 12, "auth_method": "CHAP",
      "auth_username": "compute-1", "auth_password": "0123456789abcdef",
      "target_portals": ["192.0.2.61:3260", "192.0.2.62:3260"],
      "target_iqns": ["iqn.2000-05.com.3pardata:20210002ac01b3d2",
                      "iqn.2000-05.com.3pardata:21210002ac01b3d2"],
      "target_luns": [12, 12]},
     [VolumePath("192.0.2.61:3260",
                 "iqn.2000-05.com.3pardata:20210002ac01b3d2", 12),
      VolumePath("192.0.2.62:3260",
                 "iqn.2000-05.com.3pardata:21210002ac01b3d2", 12)]),
    ("Ceph iSCSI gateway: one portal, CHAP",
     {"target_discovered": True, "target_portal": "192.0.2.71:3260",
      "target_iqn": "iqn.2003-01.com.redhat.iscsi-gw:iscsi-igw",
      "target_lun": 5, "auth_method": "CHAP",
      "auth_username": "openstack", "auth_password": "0123456789ab",
      "volume_id": "7c1d", "discard": True},
     [VolumePath("192.0.2.71:3260",
                 "iqn.2003-01.com.redhat.iscsi-gw:iscsi-igw", 5)]),
    ("single portal given with its portal group tag",
     {"target_portal": "192.0.2.81:3260,1",
      "target_iqn": "iqn.2004-04.com.example:target0", "target_lun": 2},
     [VolumePath("192.0.2.81:3260", "iqn.2004-04.com.example:target0", 2)]),
    ("single portal, the port left out, upper-case IQN. prefix",
     {"target_portal": "192.0.2.91",
      "target_iqn": "IQN.1986-03.COM.EXAMPLE:02:Target-1",
      "target_lun": "4"},
     [VolumePath("192.0.2.91:3260", "IQN.1986-03.COM.EXAMPLE:02:Target-1",
                 4)]),
]


class TestDriverShapes(base.TestCase):
    def test_each_driver_shape_parses_into_its_paths(self) -> None:
        for driver, props, expected in DRIVER_SHAPES:
            parsed = connection.ConnectionProperties.parse(props)
            self.assertEqual(expected, list(parsed.paths), driver)
            self.assertEqual(expected, list(
                connection.ConnectionProperties.parse_paths(props).paths),
                driver)

    def test_chap_of_the_shapes_reaches_the_session_settings(self) -> None:
        for driver, props, _expected in DRIVER_SHAPES:
            parsed = connection.ConnectionProperties.parse(props)
            if "auth_password" in props:
                self.assertEqual(props["auth_password"],
                                 parsed.session_auth[
                                     "node.session.auth.password"], driver)
                self.assertNotIn(props["auth_password"], repr(parsed))
            else:
                self.assertEqual({}, dict(parsed.session_auth), driver)

    def test_the_iqn_is_kept_as_sent(self) -> None:
        # open-iscsi and the kernel compare target names with strcmp: the
        # login must carry the name exactly as the array knows it.
        parsed = connection.ConnectionProperties.parse(
            {"target_portal": "192.0.2.1:3260", "target_lun": 0,
             "target_iqn": "IQN.2001-04.com.Example:Storage.Disk1"})
        self.assertEqual("IQN.2001-04.com.Example:Storage.Disk1",
                         parsed.paths[0].iqn)


class TestSentPortals(base.TestCase):
    def test_portal_forms_into_canonical_text(self) -> None:
        for sent, canonical in (
                ("10.0.0.1:3260,1", "10.0.0.1:3260"),
                ("10.0.0.1:3261,65535", "10.0.0.1:3261"),
                ("fd00::1:3260", "[fd00::1]:3260"),
                ("fd00:0:0:0:0:0:0:1:3260,2", "[fd00::1]:3260"),
                ("[FD00::1]:3260,1", "[fd00::1]:3260"),
                ("fe80::1", "[fe80::1]:3260"),
                ("::1", "[::1]:3260"),
                ("storage.example:3260,7", "storage.example:3260")):
            props = {"target_portal": sent, "target_iqn": "iqn.2004-04.a.b",
                     "target_lun": 0}
            parsed = connection.ConnectionProperties.parse(props)
            self.assertEqual(canonical, parsed.paths[0].portal, sent)


#: Hostile values of one key (with a word the message must contain).
HOSTILE: list[tuple[str, object, str]] = [
    ("target_portal", "10.0.0.1:3260,65536", "group tag"),
    ("target_portal", "10.0.0.1:3260,", "port"),
    ("target_portal", "10.0.0.1:3260,1,2", "port"),
    ("target_portal", "fd00::1:70000", "port"),
    ("target_portal", "10.0.0.1:3260\n10.0.0.2:3260", "portal"),
    ("target_portal", "../../etc:3260", "portal"),
    ("target_portal", ["10.0.0.1:3260"], "portal"),
    ("target_portals", "10.0.0.1:3260", "must be a list"),
    ("target_iqns", "iqn.2004-04.a.b", "must be a list"),
    ("target_luns", 1, "must be a list"),
    ("target_iqn", "iqn.2004-04.a.b:../../../etc/passwd", "target name"),
    ("target_iqn", "iqn.2004-04.a.b:x/y", "target name"),
    ("target_iqn", "iqn.2004-04.a.b:one\niqn.2004-04.a.b:two", "target name"),
    ("target_iqn", "iqn.2004-04.a.b:" + "x" * 210, "target name"),
    ("target_iqn", 7, "target name"),
    ("target_lun", -1, "negative"),
    ("target_lun", "-1", "whole number"),
    ("target_lun", "one", "whole number"),
    ("target_lun", "1.0", "whole number"),
    ("target_lun", 1.5, "whole number"),
    ("target_lun", 2.0, "whole number"),
    ("target_lun", True, "whole number"),
    ("target_lun", None, "whole number"),
    ("target_lun", 2 ** 64, "LUN"),
    ("auth_password", "x" * 256, "256 bytes"),
    ("auth_password", "\u00e9" * 128, "256 bytes"),
    ("auth_username", "u" * 300, "300 bytes"),
    ("auth_password_in", "a\rb", "line break"),
    ("auth_username", 12345, "non-empty text"),
    ("addressing_mode", 3, "addressing_mode"),
]


class TestHostileProperties(base.TestCase):
    def _props(self, **changes: object) -> dict[str, object]:
        props: dict[str, object] = {
            "target_portal": "10.0.0.1:3260",
            "target_iqn": "iqn.2004-04.com.example:t", "target_lun": 1,
            "auth_method": "CHAP", "auth_username": "u",
            "auth_password": "p", "auth_password_in": "q"}
        props.update(changes)
        return props

    def test_each_is_refused_in_one_line_naming_the_problem(self) -> None:
        for key, value, word in HOSTILE:
            error = self.assertRaises(
                exception.InvalidConnectionProperties,
                connection.ConnectionProperties.parse,
                self._props(**{key: value}))
            message = str(error)
            self.assertIn(word, message, (key, value))
            self.assertNotIn("\n", message, (key, value))
            if key.startswith("auth_"):
                self.assertNotIn(str(value), message)

    def test_chap_at_the_byte_limit_is_kept(self) -> None:
        secret = "\u00e9" * 127 + "x"  # 255 bytes
        parsed = connection.ConnectionProperties.parse(
            self._props(auth_password=secret))
        self.assertEqual(secret,
                         parsed.session_auth["node.session.auth.password"])

    def test_a_name_at_223_bytes_is_kept(self) -> None:
        name = "iqn.2004-04.a.b:" + "x" * (223 - len("iqn.2004-04.a.b:"))
        parsed = connection.ConnectionProperties.parse(
            self._props(target_iqn=name))
        self.assertEqual(name, parsed.paths[0].iqn)

    def test_missing_keys_and_non_mappings(self) -> None:
        for props in ({}, {"target_iqn": "iqn.2004-04.a.b"},
                      {"target_portals": []}, ["10.0.0.1:3260"], None,
                      "target_portal=10.0.0.1"):
            error = self.assertRaises(
                exception.InvalidConnectionProperties,
                connection.ConnectionProperties.parse, props)
            self.assertNotIn("\n", str(error))

    def test_lists_of_different_lengths(self) -> None:
        error = self.assertRaises(
            exception.InvalidConnectionProperties,
            connection.ConnectionProperties.parse,
            {"target_portals": ["10.0.0.1:3260", "10.0.0.2:3260"],
             "target_iqns": ["iqn.2004-04.a.b"], "target_luns": [1, 1]})
        self.assertIn("differ in length", str(error))
