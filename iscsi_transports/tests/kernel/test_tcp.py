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

"""Scenarios 1 and 2: software iSCSI over TCP, through the driver and
the os-brick connector, against LIO and tgtd, on the default iface and on
an iface bound to the VM's NIC."""

from __future__ import annotations

import subprocess

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine


class TestTcpDefaultIface(base.KernelTestCase):

    def test_lio_attach_io_detach(self) -> None:
        target = self.lio()
        driver = self.driver()
        info = driver.connect_volume(target.props())
        self.assertEqual(("tcp", "default", False),
                         (info["transport"], info["iface"], info["fallback"]))
        disk = self.assert_attached(target.iqn, info["path"])
        self.assert_two_process_attach(target, info)
        (session,) = machine.sessions(target.iqn)
        self.assertEqual("tcp", machine.session_transport(session))
        self.assert_pattern_io(info["path"])
        self.root.clear()
        driver.disconnect_volume(target.props(), info)
        self.assert_two_process_detach(target, disk)
        self.assert_clean(target.iqn, [disk])

    def test_tgtd_attach_io_detach_through_os_brick_connector(self) -> None:
        target = self.tgtd()
        connector = self.connector()
        info = connector.connect_volume(target.props())
        self.assertEqual("block", info["type"])
        path = info["path"]
        self.assertTrue(path.endswith("-lun-1"), path)
        disk = self.assert_attached(target.iqn, path)
        # os-brick's API over the same default path: two processes.
        node = ["-m", "node", "-T", target.iqn, "-p", target.portal, "-I",
                "default"]
        self.assertEqual([node + ["-o", "new"], node + ["--login"]],
                         self.root.iscsiadm_args())
        self.assert_pattern_io(path)
        # nova passes no device info: the kernel says what is attached.
        connector.disconnect_volume(target.props(), None)
        self.assert_clean(target.iqn, [disk])

    def test_discovery_without_target_iqn(self) -> None:
        # cinder may send only the portal: the driver discovers the target.
        target = self.lio()
        driver = self.driver()
        props = {"target_portal": target.portal, "target_lun": 0}
        info = driver.connect_volume(props)
        disk = self.assert_attached(target.iqn, info["path"])
        driver.disconnect_volume(dict(props, target_iqn=target.iqn), info)
        self.assert_clean(target.iqn, [disk])


class TestTcpNamedIface(base.KernelTestCase):
    """``transport = tcp.<mac>``: sessions pinned to eth0 by its MAC.

    Such a socket is bound to eth0 (SO_BINDTODEVICE), so it reaches eth0's
    own address, not 127.0.0.1: the targets listen on 10.0.2.15.
    """

    def setUp(self) -> None:
        super().setUp()
        self.flags(transport=base.NIC_IFACE)
        self.forget_iface(base.NIC_IFACE)

    def test_lio_through_nic_iface(self) -> None:
        target = self.lio()
        driver = self.driver()
        info = driver.connect_volume(target.props())
        self.assertEqual(("tcp", base.NIC_IFACE, False),
                         (info["transport"], info["iface"], info["fallback"]))
        disk = self.assert_attached(target.iqn, info["path"])
        (session,) = machine.sessions(target.iqn)
        self.assertEqual(base.NIC_IFACE, machine.session_iface(session))
        record = self.iface_records().show(base.NIC_IFACE)
        self.assertIsNotNone(record)
        assert record is not None
        self.assertEqual(machine.NIC_MAC, record.hwaddress)
        self.assert_pattern_io(info["path"])
        driver.disconnect_volume(target.props(), info)
        self.assert_clean(target.iqn, [disk])

    def test_tgtd_through_nic_iface_via_os_brick_connector(self) -> None:
        target = self.tgtd(portal_ip=machine.NIC_IP)
        connector = self.connector()
        info = connector.connect_volume(target.props())
        self.assertEqual(base.NIC_IFACE, info["iface"])
        disk = self.assert_attached(target.iqn, info["path"])
        self.assert_pattern_io(info["path"])
        connector.disconnect_volume(target.props(), None)
        self.assert_clean(target.iqn, [disk])

    def operator_record(self, iqn: str, portal: str) -> list[str]:
        """An operator's static record on ``default`` for ``iqn`` at
        ``portal`` (with or without its portal group), one setting
        changed; the argv that shows it."""
        record = ["iscsiadm", "-m", "node", "-T", iqn, "-p", portal,
                  "-I", "default"]
        machine.run(*record, "-o", "new")
        machine.run(*record, "-o", "update", "-n",
                    "node.session.timeo.replacement_timeout", "-v", "7")
        self.addCleanup(subprocess.run, record + ["-o", "delete"],
                        capture_output=True)
        self.assertEqual(1, len(machine.node_records(iqn)))
        return record

    def assert_record_kept(self, record: list[str]) -> None:
        shown = subprocess.run(record + ["-o", "show"], capture_output=True,
                               text=True)
        self.assertEqual(0, shown.returncode, shown.stderr)
        self.assertIn("node.session.timeo.replacement_timeout = 7",
                      shown.stdout)

    def test_attach_keeps_another_ifaces_node_record(self) -> None:
        # A static record for the same target and portal on another iface
        # (an operator's, on ``default``, made with its portal group as
        # discovery makes it) is not ours: attaching and detaching through
        # the NIC-bound iface must leave it as it was.
        target = self.lio()
        record = self.operator_record(target.iqn, target.portal + ",1")
        driver = self.driver()
        info = driver.connect_volume(target.props())
        self.assertEqual(
            ["%s,1/%s" % (target.portal.replace(":", ","), name)
             for name in sorted(["default", base.NIC_IFACE])],
            machine.node_records(target.iqn))
        driver.disconnect_volume(target.props(), info)
        self.assert_record_kept(record)
        self.assertEqual([], machine.sessions(target.iqn))
        self.assertEqual(1, len(machine.node_records(target.iqn)))

    def test_attach_leaves_another_ifaces_single_file_record(self) -> None:
        # Made without a portal group, that record is the one file per
        # target and portal which open-iscsi would replace whatever the
        # iface: the attach refuses, saying why, and changes nothing.
        target = self.lio()
        record = self.operator_record(target.iqn, target.portal)
        error = self.assertRaises(base.exception.NodeRecordConflict,
                                  self.driver().connect_volume,
                                  target.props())
        self.assertIn("iface default", str(error))
        self.assert_record_kept(record)
        self.assertEqual([target.portal.replace(":", ",")],
                         machine.node_records(target.iqn))
        self.assertEqual([], machine.sessions(target.iqn))
