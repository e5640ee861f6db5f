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

"""The kernel's view of sessions and disks, read from built sysfs trees."""

from __future__ import annotations

import logging
import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import sysfs
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.attach import kernel_tree

TARGET = "iqn.2003-01.org.linux-iscsi.lab:vol1"
OTHER = "iqn.2003-01.org.linux-iscsi.lab:vol2"
WWID = "naa.6001405" + "0" * 24 + "1"


class SysfsTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dev = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                "dev")
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.view = sysfs.Sysfs(self.sysfs.root, self.dev)


class TestSessions(SysfsTestCase):

    def test_software_session_fields(self):
        self.tree.add_session(1, TARGET)
        (session,) = self.view.sessions()
        self.assertEqual(sysfs.Session(
            sid=1, target=TARGET, portal=sysfs.Portal("10.0.0.1", 3260),
            host=11, tpgt=1, iface="default",
            initiator="iqn.1994-05.com.redhat:compute", transport="tcp",
            state="LOGGED_IN", recovery_tmo=120, target_id=0,
            pci_address=None, persistent="10.0.0.1:3260"), session)
        self.assertEqual("session1", session.name)

    def test_transport_from_the_host_driver(self):
        self.tree.add_session(1, TARGET, proc_name="iscsi_iser",
                              iface="iser")
        self.assertEqual("iser", self.view.session(1).transport)

    def test_offload_session_under_its_pci_function(self):
        (port,) = self.sysfs.add_offload_card("bnx2i")
        host = int(port.host[4:])
        self.tree.add_session(3, TARGET, host=host, target_id=2,
                              iface=port.iface_name,
                              session_attrs={"initiatorname": "<NULL>"})
        path = os.path.join(self.sysfs.root, "class/iscsi_host", port.host,
                            "initiatorname")
        with open(path, "w", encoding="ascii") as handle:
            handle.write("iqn.2000-01.com.hba:port0\n")
        session = self.view.session("session3")
        self.assertEqual((host, "bnx2i", port.pci_address, 2),
                         (session.host, session.transport,
                          session.pci_address, session.target_id))
        self.assertEqual(port.iface_name, session.iface)
        self.assertEqual("iqn.2000-01.com.hba:port0", session.initiator)

    def test_ipv6_portal_without_brackets(self):
        self.tree.add_session(1, TARGET, address="::1", connection_attrs={
            "address": "0000:0000:0000:0000:0000:0000:0000:0001"})
        session = self.view.session(1)
        self.assertEqual(sysfs.Portal("::1", 3260), session.portal)
        self.assertEqual("[::1]:3260", str(session.portal))
        self.assertEqual("::1:3260", session.persistent)

    def test_ipv4_mapped_address_is_ipv4(self):
        self.tree.add_session(1, TARGET, address="::ffff:192.0.2.7")
        session = self.view.session(1)
        self.assertEqual(sysfs.Portal("192.0.2.7", 3260), session.portal)
        # udev writes the kernel's spelling into by-path names.
        self.assertEqual("::ffff:192.0.2.7:3260", session.persistent)

    def test_persistent_portal_wins_over_a_redirected_one(self):
        # A target that redirects at login: address/port are where the
        # connection went, the persistent pair what was logged in to.
        self.tree.add_session(1, TARGET, connection_attrs={
            "address": "10.0.0.9", "port": "3262"})
        self.assertEqual(sysfs.Portal("10.0.0.1", 3260),
                         self.view.session(1).portal)

    def test_current_address_stands_in_for_missing_persistent(self):
        self.tree.add_session(1, TARGET, connection_attrs={
            "persistent_address": None, "persistent_port": None,
            "address": "0000:0000:0000:0000:0000:0000:0000:0001",
            "port": "3261"})
        session = self.view.session(1)
        self.assertEqual(sysfs.Portal("::1", 3261), session.portal)
        self.assertIsNone(session.persistent)
        self.assertIsNone(sysfs.by_path_name(session, 1))

    def test_target_id_from_target_directory_when_not_exported(self):
        built = self.tree.add_session(1, TARGET, target_id=5,
                                      session_attrs={"target_id": None})
        self.assertIsNone(self.view.session(1).target_id)
        self.tree.add_disk(built.sid, 0)
        self.assertEqual(5, self.view.session(1).target_id)

    def test_odd_sessions_are_skipped_and_the_rest_read(self):
        self.tree.add_session(1, TARGET, session_attrs={
            "targetname": "(null)"})
        self.tree.add_session(2, TARGET, session_attrs={"targetname": ""})
        self.tree.add_session(3, TARGET, port="-1", connection_attrs={
            "port": None})
        self.tree.add_session(4, TARGET, address="<NULL>")
        self.tree.add_session(5, TARGET)
        self.tree.remove("class/iscsi_connection/connection5:0")
        self.tree.add_session(6, TARGET)
        # Half removed: the class link is left, the device is gone.
        gone = self.tree.sessions[6].device
        os.rename(os.path.join(self.sysfs.root, gone),
                  os.path.join(self.sysfs.root, gone + ".old"))
        self.tree.add_session(7, OTHER)
        os.makedirs(os.path.join(self.sysfs.root,
                                 "class/iscsi_session/bogus"))
        self.assertEqual([7], [s.sid for s in self.view.sessions()])
        self.assertIn("Skipping iSCSI session1: no target name",
                      self.log.output)
        self.assertIn("Skipping iSCSI session5: no portal", self.log.output)

    def test_odd_numbers_are_absent_not_errors(self):
        self.tree.add_session(1, TARGET, session_attrs={
            "tpgt": "x", "recovery_tmo": "", "target_id": "-1",
            "ifacename": None, "state": None})
        session = self.view.session(1)
        self.assertEqual((None, None, None, None, None),
                         (session.tpgt, session.recovery_tmo,
                          session.target_id, session.iface, session.state))

    def test_no_sessions_and_no_root(self):
        self.assertEqual((), self.view.sessions())
        self.assertEqual((), sysfs.Sysfs("/nonexistent/sys").sessions())
        self.assertIsNone(self.view.session("session9"))
        self.assertIsNone(self.view.session("connection1:0"))


class TestMatchingSessions(SysfsTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.tree.add_session(1, TARGET)
        self.tree.add_session(2, TARGET, iface="iface-eth1")
        self.tree.add_session(3, TARGET, address="10.0.0.2")
        self.tree.add_session(4, OTHER)
        self.tree.add_session(5, TARGET, address="::1")

    def sids(self, target: str, portal: str, iface: str) -> list[int]:
        return [s.sid for s in self.view.matching_sessions(target, portal,
                                                           iface)]

    def test_target_portal_and_iface_must_all_match(self):
        self.assertEqual([1], self.sids(TARGET, "10.0.0.1:3260", "default"))
        self.assertEqual([2], self.sids(TARGET, "10.0.0.1:3260",
                                        "iface-eth1"))
        self.assertEqual([3], self.sids(TARGET, "10.0.0.2", "default"))
        self.assertEqual([], self.sids(TARGET, "10.0.0.1:3261", "default"))
        self.assertEqual([], self.sids(OTHER, "10.0.0.1:3260", "iser"))

    def test_sessions_to_one_target(self):
        self.assertEqual([4], [s.sid for s in self.view.sessions(OTHER)])
        self.assertIsNone(self.view.session(4, TARGET))
        self.assertEqual(5, len(self.view.sessions()))

    def test_portal_spellings(self):
        for portal in ("[::1]:3260", "[0:0::1]", "::1"):
            self.assertEqual([5], self.sids(TARGET, portal, "default"))
        self.assertEqual([1], self.sids(TARGET, "[::ffff:10.0.0.1]:3260",
                                        "default"))

    def test_malformed_portal_is_a_typed_error(self):
        for portal in ("", "[::1", "[::1]x", "[::1]:", "10.0.0.1:",
                       "10.0.0.1:port",
                       "10.0.0.1:0", "10.0.0.1:70000", ":3260"):
            self.assertRaises(exception.InvalidPortal,
                              self.view.matching_sessions, TARGET, portal,
                              "default")


class TestDisks(SysfsTestCase):

    def test_disks_of_a_session(self):
        built = self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 2, "sdc", sectors=4096)
        self.tree.add_disk(1, 1, "sdb", attrs={"wwid": WWID})
        disks = self.view.disks(self.view.session(1))
        self.assertEqual(["11:0:0:1", "11:0:0:2"],
                         [str(d.hctl) for d in disks])
        self.assertEqual(sysfs.Disk(
            hctl=sysfs.Hctl(built.host, 0, 0, 1), sid=1, name="sdb",
            state="running", scsi_type=0, wwid=WWID,
            scsi_wwn="36001405" + "0" * 24 + "1", size=2097152 * 512,
            holders=()), disks[0])
        self.assertEqual((4096 * 512, True), (disks[1].size,
                                              disks[1].is_disk))

    def test_device_without_block_device(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 0, None, attrs={"type": "12",
                                              "state": "created"})
        (disk,) = self.view.disks(1)
        self.assertEqual((None, None, "created", False),
                         (disk.name, disk.size, disk.state, disk.is_disk))

    def test_disks_stay_with_their_session_on_a_shared_host(self):
        (port,) = self.sysfs.add_offload_card("qla4xxx")
        host = int(port.host[4:])
        self.tree.add_session(1, TARGET, host=host, target_id=0)
        self.tree.add_session(2, OTHER, host=host, target_id=1)
        self.tree.add_disk(1, 1, "sdb")
        self.tree.add_disk(2, 1, "sdc")
        self.assertEqual(["sdb"], [d.name for d in self.view.disks(1)])
        self.assertEqual([(1, "sdb"), (2, "sdc")],
                         [(d.sid, d.name)
                          for d in self.view.host_disks(host)])

    def test_disk_by_block_name(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 300, "sdd")
        disk = self.view.disk("sdd")
        self.assertEqual((sysfs.Hctl(11, 0, 0, 300), 1),
                         (disk.hctl, disk.sid))
        for name in ("sdz", "", "../sdd", "."):
            self.assertIsNone(self.view.disk(name))

    def test_holders_name_the_multipath_map(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_dm("dm-0", "mpatha", "mpath-36001405aa")
        self.tree.add_dm("dm-1", None, "LVM-abc")
        self.tree.add_disk(1, 1, "sdb", holders=("dm-0", "dm-1"))
        (disk,) = self.view.disks(1)
        self.assertEqual(
            (sysfs.Holder("dm-0", "mpatha", "mpath-36001405aa", ("sdb",)),
             sysfs.Holder("dm-1", None, "LVM-abc", ("sdb",))), disk.holders)
        self.assertEqual(["36001405aa", None],
                         [h.multipath_wwid for h in disk.holders])

    def test_multipath_map_of_a_wwid_and_its_paths(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_session(2, TARGET, address="10.0.0.2")
        self.tree.add_dm("dm-0", "mpathb", "mpath-3600a")
        self.tree.add_dm("dm-1", "mpathc", "mpath-3600")
        self.tree.add_disk(1, 1, "sdb", holders=("dm-0",))
        self.tree.add_disk(2, 1, "sdc", holders=("dm-0",))
        self.assertEqual(
            sysfs.Holder("dm-0", "mpathb", "mpath-3600a", ("sdb", "sdc")),
            self.view.multipath_map("3600a"))
        self.assertEqual("dm-1", self.view.multipath_map("3600").name)
        self.assertIsNone(self.view.multipath_map("3600b"))

    def test_files_root_writes_are_where_the_kernel_has_them(self):
        self.tree.add_session(1, TARGET)
        device = self.tree.add_disk(1, 1, "sdb")
        (disk,) = self.view.disks(1)
        for path, name in ((self.view.rescan_path(disk), "rescan"),
                           (self.view.delete_path(disk), "delete")):
            self.assertEqual(os.path.join(self.sysfs.root, device, name),
                             os.path.realpath(path))
        self.assertTrue(os.path.isfile(self.view.scan_path(
            self.view.session(1))))

    def test_missing_session_has_no_disks(self):
        self.assertEqual((), self.view.disks(4))
        self.assertEqual((), self.view.host_disks(4))


def _descriptor(code: int, assoc_type: int, value: bytes) -> bytes:
    return bytes([code, assoc_type, 0, len(value)]) + value


def _page(*descriptors: bytes) -> bytes:
    body = b"".join(descriptors)
    return bytes([0, 0x83, len(body) >> 8, len(body) & 0xFF]) + body


NAA6 = bytes.fromhex("6001405" + "1" * 25)
NAA5 = bytes.fromhex("5000c50012345678")
EUI = bytes.fromhex("0011223344556677")


class TestWwn(SysfsTestCase):

    def test_wwid_prefix_becomes_the_type_digit(self):
        self.assertEqual("36001405ab", sysfs.scsi_wwn_from_wwid(
            "naa.6001405ab"))
        self.assertEqual("20011223344556677", sysfs.scsi_wwn_from_wwid(
            "eui.0011223344556677"))
        self.assertEqual("1LIO-ORG disk", sysfs.scsi_wwn_from_wwid(
            "t10.LIO-ORG disk"))
        self.assertEqual("8my-name", sysfs.scsi_wwn_from_wwid(
            "iqn.my-name"))
        self.assertIsNone(sysfs.scsi_wwn_from_wwid(None))

    def test_vpd83_prefers_naa_registered_extended(self):
        page = _page(_descriptor(2, 0x01, b"LIO-ORG 1234"),
                     _descriptor(1, 0x03, NAA5),
                     _descriptor(1, 0x03, NAA6))
        self.assertEqual("3" + NAA6.hex(), sysfs.scsi_wwn_from_vpd83(page))

    def test_vpd83_order_of_other_designators(self):
        self.assertEqual("3" + NAA5.hex(), sysfs.scsi_wwn_from_vpd83(_page(
            _descriptor(1, 0x02, EUI), _descriptor(1, 0x03, NAA5))))
        self.assertEqual("2" + EUI.hex(), sysfs.scsi_wwn_from_vpd83(_page(
            _descriptor(2, 0x01, b"LIO-ORG x"), _descriptor(1, 0x02, EUI))))
        self.assertEqual("1LIO-ORG x", sysfs.scsi_wwn_from_vpd83(_page(
            _descriptor(2, 0x01, b"LIO-ORG x"))))
        self.assertEqual("0VENDOR  MODEL           0a0b",
                         sysfs.scsi_wwn_from_vpd83(
                             _page(_descriptor(1, 0x00, b"\x0a\x0b")),
                             b"VENDOR  ", b"MODEL           "))

    def test_vpd83_ignores_port_designators_and_junk(self):
        port_naa = _descriptor(1, 0x13, NAA6)  # associated with the port
        self.assertIsNone(sysfs.scsi_wwn_from_vpd83(_page(port_naa)))
        self.assertIsNone(sysfs.scsi_wwn_from_vpd83(b""))
        self.assertIsNone(sysfs.scsi_wwn_from_vpd83(b"\x00\x80\x00\x04abcd"))
        truncated = _page(_descriptor(1, 0x03, NAA6))[:-4]
        self.assertIsNone(sysfs.scsi_wwn_from_vpd83(truncated))
        # vendor specific without a full vendor and model: no id
        self.assertIsNone(sysfs.scsi_wwn_from_vpd83(
            _page(_descriptor(1, 0x00, b"\x01"))))

    def test_vpd83_scsi2_style_page(self):
        page = bytes([0, 0x83, 0, 16]) + bytes.fromhex(
            "60060480000290101234533030314545")
        self.assertEqual("360060480000290101234533030314545",
                         sysfs.scsi_wwn_from_vpd83(page))

    def test_disk_without_wwid_reads_vpd_page(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 1, "sdb", attrs={
            "wwid": None,
            "vpd_pg83": _page(_descriptor(2, 0x01, b"LIO-ORG x"),
                              _descriptor(1, 0x03, NAA6))})
        (disk,) = self.view.disks(1)
        self.assertEqual((None, "3" + NAA6.hex()), (disk.wwid, disk.scsi_wwn))

    def test_vendor_specific_id_uses_the_padded_inquiry_fields(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 1, "sdb", attrs={
            "wwid": None, "vendor": "ACME    ", "model": "Box             ",
            "vpd_pg83": _page(_descriptor(1, 0x00, b"\xbe\xef"))})
        (disk,) = self.view.disks(1)
        self.assertEqual("0ACME    Box             beef", disk.scsi_wwn)

    def test_no_wwid_and_no_page(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 1, "sdb", attrs={"wwid": None})
        self.assertIsNone(self.view.disks(1)[0].scsi_wwn)


class TestLunAddressing(SysfsTestCase):

    def test_kernel_lun_per_addressing_mode(self):
        cases = [(1, None, 1), (300, None, 300), (300, "SAM", 300),
                 (300, "transparent", 300), (255, "SAM2", 255),
                 (256, "SAM2", 16640), (300, "SAM2", 16684),
                 (1, "SAM3-flat", 16385), (0, "SAM3-flat", 16384),
                 (16383, "SAM3-flat", 32767), (70000, "SAM", 70000)]
        for lun, mode, expected in cases:
            self.assertEqual(expected, sysfs.kernel_lun(lun, mode),
                             (lun, mode))

    def test_bad_mode_or_lun_is_a_typed_error(self):
        for lun, mode in ((1, "sam"), (1, "auto"), (-1, None),
                          (True, None), ("1", None), (16384, "SAM3-flat"),
                          (20000, "SAM2"), (2 ** 64, None)):
            self.assertRaises(exception.InvalidConnectionProperties,
                              sysfs.kernel_lun, lun, mode)

    def test_udev_lun_names(self):
        self.assertEqual(["lun-0", "lun-255", "lun-0x0100000000000000",
                          "lun-0x012c000000000000",
                          "lun-0x412c000000000000",
                          "lun-0x1170000100000000"],
                         [sysfs.udev_lun(n) for n in (0, 255, 256, 300,
                                                       16684, 70000)])

    def test_scan_triple_for_lio_lun_300(self):
        # Kernel lab: LIO numbers LUN 300 the SAM way; "0 0 300" finds it.
        self.tree.add_session(1, TARGET)
        session = self.view.session(1)
        self.assertEqual("0 0 300", str(sysfs.scan_triple(session, 300)))
        self.assertEqual("0 0 16684",
                         str(sysfs.scan_triple(session, 300, "SAM2")))
        self.assertEqual(os.path.join(self.sysfs.root,
                                      "class/scsi_host/host11/scan"),
                         self.view.scan_path(session))

    def test_scan_triple_target_of_a_shared_host(self):
        (port,) = self.sysfs.add_offload_card("cxgb4i")
        self.tree.add_session(2, TARGET, host=int(port.host[4:]),
                              target_id=3)
        self.tree.add_session(4, OTHER, session_attrs={"target_id": None})
        self.assertEqual("0 3 7", str(sysfs.scan_triple(
            self.view.session(2), 7)))
        self.assertEqual("0 - 7", str(sysfs.scan_triple(
            self.view.session(4), 7)))

    def test_find_disks_maps_the_lun(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_session(2, TARGET, iface="other")
        self.tree.add_disk(1, 300, "sdb")
        self.tree.add_disk(1, 1, "sdc")
        self.tree.add_disk(2, 300, "sdd")
        found = self.view.find_disks(TARGET, "10.0.0.1:3260", "default", 300)
        self.assertEqual(["sdb"], [d.name for d in found])
        self.assertEqual([], self.view.find_disks(
            TARGET, "10.0.0.1:3260", "default", 300, "SAM2"))
        self.tree.add_disk(1, 16684, "sde")
        self.assertEqual(["sde"], [d.name for d in self.view.find_disks(
            TARGET, "10.0.0.1", "default", 300, "SAM2")])


class TestStablePath(SysfsTestCase):

    def add(self, lun: int, name: str, links: tuple[str, ...],
            **session: object) -> sysfs.Session:
        built = self.tree.add_session(1, TARGET, **session)
        self.tree.add_disk(built.sid, lun, name, links=links)
        return self.view.session(1)

    def test_udev_by_path_name(self):
        session = self.add(1, "sdb", (
            "disk/by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1" % TARGET,))
        self.assertEqual("ip-10.0.0.1:3260-iscsi-%s-lun-1" % TARGET,
                         sysfs.by_path_name(session, 1))
        self.assertEqual(os.path.join(
            self.dev, "disk/by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1"
            % TARGET), self.view.stable_path("sdb", session, 1))

    def test_ipv6_and_lun_above_255(self):
        link = "disk/by-path/ip-::1:3260-iscsi-%s-lun-0x012c000000000000" \
            % TARGET
        session = self.add(300, "sdb", (link,), address="::1")
        self.assertEqual(os.path.join(self.dev, link),
                         self.view.stable_path("sdb", session, 300))

    def test_hca_link_starts_with_the_pci_function(self):
        (port,) = self.sysfs.add_offload_card("qedi", bus=0x41)
        link = "disk/by-path/pci-0000:41:00.4-ip-10.0.0.1:3260-iscsi-" \
            "%s-lun-2" % TARGET
        session = self.add(2, "sdb", (link,), host=int(port.host[4:]))
        self.assertEqual(link[len("disk/by-path/"):],
                         sysfs.by_path_name(session, 2))
        self.assertEqual(os.path.join(self.dev, link),
                         self.view.stable_path("sdb", session, 2))

    def test_whatever_udev_named_it(self):
        # Not the name path_id would give (a site rule, another udev):
        # the link is still found, by where it points.
        link = "disk/by-path/ip-[0:0:0:0:0:0:0:1]:3260-iscsi-%s-lun-1" \
            % TARGET
        session = self.add(1, "sdb", (link,), address="::1")
        self.assertEqual(os.path.join(self.dev, link),
                         self.view.stable_path("sdb", session, 1))

    def test_preference_order(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 1, "sdb", links=(
            "disk/by-id/scsi-36001405aa", "disk/by-id/wwn-0x6001405aa",
            "disk/by-id/scsi-SLIO-ORG_disk1", "disk/by-path/a-site-rule",
            "disk/by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1" % TARGET))
        self.assertEqual(
            ["by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1" % TARGET,
             "by-path/a-site-rule", "by-id/wwn-0x6001405aa",
             "by-id/scsi-36001405aa", "by-id/scsi-SLIO-ORG_disk1"],
            [os.path.relpath(link, os.path.join(self.dev, "disk"))
             for link in self.view.stable_links("sdb")])

    def test_shared_by_id_link_of_another_path_is_not_ours(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_session(2, TARGET, address="10.0.0.2")
        self.tree.add_disk(1, 1, "sdb", links=("disk/by-id/wwn-0x1",))
        self.tree.add_disk(2, 1, "sdc")
        # udev moved the shared link to the path it saw last.
        os.unlink(os.path.join(self.dev, "disk/by-id/wwn-0x1"))
        os.symlink("../../sdc", os.path.join(self.dev, "disk/by-id/wwn-0x1"))
        self.assertEqual([], self.view.stable_links("sdb"))
        self.assertEqual(os.path.join(self.dev, "disk/by-id/wwn-0x1"),
                         self.view.stable_path("sdc"))

    def test_by_id_when_there_is_no_by_path(self):
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 1, "sdb", links=("disk/by-id/wwn-0x1",
                                               "disk/by-id/scsi-31"))
        self.assertEqual(os.path.join(self.dev, "disk/by-id/wwn-0x1"),
                         self.view.stable_path("sdb"))

    def test_multipath_map_by_its_uuid_link(self):
        self.tree.add_dm("dm-0", "mpatha", "mpath-3600a", links=(
            "disk/by-id/dm-name-mpatha", "disk/by-id/scsi-3600a",
            "disk/by-id/wwn-0x600a", "disk/by-id/dm-uuid-mpath-3600a",
            "mapper/mpatha"))
        self.assertEqual(os.path.join(self.dev, "disk/by-id/"
                                      "dm-uuid-mpath-3600a"),
                         self.view.stable_path("dm-0"))

    def test_the_disk_itself_without_links(self):
        session = self.add(1, "sdb", ())
        self.assertEqual(os.path.join(self.dev, "sdb"),
                         self.view.stable_path("sdb", session, 1))
        self.assertEqual("/nonexistent/dev/sdz",
                         sysfs.Sysfs(self.sysfs.root, "/nonexistent/dev")
                         .stable_path("sdz"))


class TestLogging(SysfsTestCase):

    def test_skipping_is_debug_not_warning(self):
        self.tree.add_session(1, TARGET, session_attrs={"targetname": None})
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.assertEqual((), self.view.sessions())
        self.assertEqual("", self.log.output)
