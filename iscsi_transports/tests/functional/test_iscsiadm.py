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

"""The iscsiadm layer against real iscsiadm 2.1.8 and a real tgtd."""

from __future__ import annotations

import os

from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod
from iscsi_transports.attach import fallback
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import nodes
from iscsi_transports.plugins import tcp
from iscsi_transports.tests.functional import base
from iscsi_transports.tests.functional import lab as lab_mod

LAB_IFACE = iface_mod.Iface(name="lab0", transport_name="tcp",
                            net_ifacename="lo",
                            initiatorname="iqn.2026-11.org.openstack.test:lab0")
OFFLOAD = "cxgb4i.00:07:43:05:97:07"


class TestIfaces(base.FunctionalTestCase):
    def test_create_show_validate(self) -> None:
        records = iscsiadm_ifaces.IfaceRecords(self.iscsiadm)
        self.assertIsNone(records.show("lab0"))  # real exit 6
        self.assertEqual(iscsiadm_ifaces.CREATED,
                         iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(LAB_IFACE))
        shown = records.show("lab0")
        self.assertEqual({}, iface_mod.differences(shown, LAB_IFACE))
        plugin = tcp.TcpTransport(self.conf)
        self.assertEqual([], plugin.validate_iface(
            shown, plugin.detect(host_mod.Host(self.sysfs.root))))
        self.assertEqual(iscsiadm_ifaces.UNCHANGED,
                         iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(LAB_IFACE))
        self.assertIn("lab0", [i.name for i in records.list()])

    def test_our_record_is_updated_then_deleted(self) -> None:
        records = iscsiadm_ifaces.IfaceRecords(self.iscsiadm)
        iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(LAB_IFACE)
        changed = iface_mod.Iface(name="lab0", transport_name="tcp",
                                  net_ifacename="lo",
                                  initiatorname="iqn.2026-11.test:changed")
        self.assertEqual(iscsiadm_ifaces.UPDATED,
                         iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(changed))
        self.assertEqual("iqn.2026-11.test:changed",
                         records.show("lab0").initiatorname)
        self.assertTrue(records.delete("lab0"))
        self.assertIsNone(records.show("lab0"))

    def test_foreign_record_is_never_modified(self) -> None:
        for args in (["-o", "new"], ["-o", "update", "-n",
                                     "iface.net_ifacename", "-v", "lo"]):
            self.assertEqual(0, self.lab.run("iscsiadm", "-m", "iface", "-I",
                                             "foreign0", *args).returncode)
        path = os.path.join(self.lab.etc_iscsi, "ifaces", "foreign0")
        with open(path) as record:
            before = record.read()
        wanted = iface_mod.Iface(name="foreign0", transport_name="tcp",
                                 net_ifacename="eth9")
        error = self.assertRaises(exception.IfaceConflict,
                                  iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure, wanted)
        self.assertIn("iface.net_ifacename=lo", str(error))
        self.assertIn("iface.net_ifacename=eth9", str(error))
        records = iscsiadm_ifaces.IfaceRecords(self.iscsiadm)
        self.assertFalse(records.delete("foreign0"))
        with open(path) as record:
            self.assertEqual(before, record.read())


class TestDiscovery(base.FunctionalTestCase):
    def test_through_named_tcp_iface(self) -> None:
        iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(LAB_IFACE)
        (target,) = self.iscsiadm.discover(self.lab.portal, ["-I", "lab0"])
        self.assertEqual(lab_mod.TARGET_IQN, target.name)
        self.assertEqual(self.lab.portal, str(target.portal))
        self.assertIn(["-m", "discovery", "-t", "sendtargets", "-p",
                       self.lab.portal, "-I", "lab0", "-o", "nonpersistent"],
                      self.root.iscsiadm_args())
        # Nothing written: iscsiadm lists no node record afterwards.
        self.assertEqual([], self.iscsiadm.nodes())

    def test_with_discovery_chap(self) -> None:
        self.discovery_chap("disco", "disco-secret-1")
        iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(LAB_IFACE)
        auth = {"discovery.sendtargets.auth.authmethod": "CHAP",
                "discovery.sendtargets.auth.username": "disco",
                "discovery.sendtargets.auth.password": "disco-secret-1"}
        (target,) = self.iscsiadm.discover(self.lab.portal, ["-I", "lab0"], auth)
        self.assertEqual(lab_mod.TARGET_IQN, target.name)

    def test_wrong_chap_is_exit_24_and_masked(self) -> None:
        self.discovery_chap("disco", "disco-secret-1")
        auth = {"discovery.sendtargets.auth.authmethod": "CHAP",
                "discovery.sendtargets.auth.username": "disco",
                "discovery.sendtargets.auth.password": "wrong-secret-9"}
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.iscsiadm.discover, self.lab.portal,
                                  ["-I", "default"], auth)
        self.assertEqual(24, error.exit_code)
        self.assertIn("authorization failure", error.stderr)
        self.assertNotIn("wrong-secret-9", str(error))
        self.assertNotIn("wrong-secret-9", self.log.output)

    def test_default_iface_uses_iscsid_initiator_name(self) -> None:
        (target,) = self.iscsiadm.discover(self.lab.portal, ["-I", "default"])
        self.assertEqual(lab_mod.TARGET_IQN, target.name)
        # the stand-in saw requests of the installed sizeof(iscsiadm_req_t)
        self.assertEqual({16104}, self.lab.request_sizes())

    def test_offload_record_without_transport_is_dropped(self) -> None:
        for args in (["-o", "new"], ["-o", "update", "-n",
                                     "iface.transport_name", "-v", "cxgb4i"]):
            self.lab.run("iscsiadm", "-m", "iface", "-I", OFFLOAD, *args)
        error = self.assertRaises(exception.NoObjectsFound,
                                  self.iscsiadm.discover, self.lab.portal,
                                  ["-I", OFFLOAD])
        self.assertIn("Could not load transport cxgb4i", error.stderr)
        self.assertTrue(fallback.is_transport_error(error))


class TestSessionsAndLogin(base.FunctionalTestCase):
    def test_login_cannot_succeed_here_and_is_typed(self) -> None:
        # The sandbox kernel has no iSCSI support: iscsid (our stand-in,
        # answering as iscsid does without a kernel transport) refuses the
        # login with error 12, and iscsiadm exits 12.  Not faked success.
        self.iscsiadm.node_new(lab_mod.TARGET_IQN, self.lab.portal, ["-I", "default"])
        error = self.assertRaises(exception.TransportNotLoaded,
                                  self.iscsiadm.login, lab_mod.TARGET_IQN,
                                  self.lab.portal, ["-I", "default"])
        self.assertEqual(12, error.exit_code)
        self.assertIn("iSCSI driver not found", error.stderr)
        self.iscsiadm.logout(lab_mod.TARGET_IQN, self.lab.portal, ["-I", "default"])
        self.iscsiadm.node_delete(lab_mod.TARGET_IQN, self.lab.portal,
                                  ["-I", "default"])
        self.assertEqual([], self.iscsiadm.nodes())


class TestNodeRecordLayouts(base.FunctionalTestCase):
    """open-iscsi's two record layouts, as the real iscsiadm writes them,
    read by the root daemon."""

    IQN = "iqn.2026-11.org.openstack.test:layout"

    def new(self, portal: str, iface: str = "default") -> None:
        done = self.lab.run("iscsiadm", "-m", "node", "-T", self.IQN, "-p",
                            portal, "-I", iface, "-o", "new")
        self.assertEqual(0, done.returncode, done.stderr)

    def both(self, portal: str) -> nodes.RecordLayout:
        return self.iscsiadm.node_layout(self.IQN, portal)

    def test_without_portal_group_one_file_whatever_the_iface(self) -> None:
        self.new("192.0.2.1:3260")
        self.assertEqual(nodes.RecordLayout(
            os.path.join(self.lab.etc_iscsi, "nodes", self.IQN,
                         "192.0.2.1,3260"), "default", ()),
            self.both("192.0.2.1:3260"))

    def test_with_portal_group_one_file_per_iface(self) -> None:
        self.new("192.0.2.2:3260,3")
        self.new("192.0.2.2:3260,3", "iser")
        self.assertEqual(nodes.RecordLayout(None, None, (3,)),
                         self.both("192.0.2.2:3260"))
        self.assertEqual(["default", "iser"], sorted(os.listdir(os.path.join(
            self.lab.etc_iscsi, "nodes", self.IQN, "192.0.2.2,3260,3"))))

    def test_no_records(self) -> None:
        self.assertEqual(nodes.RecordLayout(None, None, ()),
                         self.both("192.0.2.3:3260"))
