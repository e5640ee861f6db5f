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

"""ISCSIDriver against real iscsiadm + tgtd.

Hardware detection is the one thing faked (``FakeManager`` claims a cxgb4i
card, as detection would on a host that has one); every iscsiadm failure
and success below is real.  Kernel logins cannot succeed here (no iSCSI in
the kernel), so these tests check what iscsiadm does with our records: the
settings the root daemon writes into one, discovery that writes nothing,
and the cleanup of a failed attach.
"""

from __future__ import annotations

from iscsi_transports import exception
from iscsi_transports.attach import driver
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.tests.functional import base
from iscsi_transports.tests.functional import lab as lab_mod
from iscsi_transports.tests.functional import test_iscsiadm
from iscsi_transports.tests.unit import fake_manager

CHAP = {"auth_method": "CHAP", "auth_username": "alice",
        "auth_password": "s3cret-Pa55", "auth_username_in": "tgt",
        "auth_password_in": "in-s3cret-Pa55"}


class DriverFunctionalTestCase(base.FunctionalTestCase):
    def make_driver(self, **manager_kwargs: object) -> driver.ISCSIDriver:
        self.manager = fake_manager.FakeManager(self.conf, **manager_kwargs)
        self.flags(device_scan_attempts=1, device_scan_interval=0)
        made = driver.ISCSIDriver(self.conf, manager=self.manager)
        made.iscsiadm = self.iscsiadm  # the recording one
        return made

    def record(self, iface: str = "default") -> dict[str, str]:
        """Our node record as the real iscsiadm shows it (-S: unmasked)."""
        shown = self.lab.run("iscsiadm", "-m", "node", "-T",
                             lab_mod.TARGET_IQN, "-p", self.lab.portal,
                             "-I", iface, "-o", "show", "-S")
        self.assertEqual(0, shown.returncode, shown.stderr)
        return dict(line.split(" = ", 1) for line in
                    shown.stdout.splitlines() if " = " in line)

    def node_listing(self) -> str:
        return self.lab.run("iscsiadm", "-m", "node").stdout


class TestOffloadFallback(DriverFunctionalTestCase):
    def test_offload_iface_fails_for_real_then_tcp_discovers(self) -> None:
        result = self.make_driver(offload=True).discover(self.lab.portal)
        # iscsiadm cannot find the cxgb4i transport on this host and
        # refuses to set the iface's hwaddress: exit 7, for real.
        self.assertIn(7, self.root.exit_codes)
        self.assertIn("locate transport", result["reason"])
        self.assertTrue(result["fallback"])
        self.assertEqual(("tcp", "default"),
                         (result["transport"], result["iface"]))
        self.assertEqual([lab_mod.TARGET_IQN],
                         [t["target"] for t in result["targets"]])
        self.assertEqual(["default"], self.root.ifaces())
        self.assertEqual("", self.node_listing())


class TestChap(DriverFunctionalTestCase):
    props = {"discovery_auth_method": "CHAP",
             "discovery_auth_username": "disco"}

    def test_discovery_chap_through_named_iface(self) -> None:
        self.discovery_chap("disco", "disco-secret-1")
        made = self.make_driver(tcp_iface=test_iscsiadm.LAB_IFACE)
        result = made.discover(self.lab.portal, dict(
            self.props, discovery_auth_password="disco-secret-1"))
        self.assertEqual("lab0", result["iface"])
        self.assertFalse(result["fallback"])
        self.assertEqual(1, len(result["targets"]))
        self.assertEqual("", self.node_listing())

    def test_wrong_chap_is_auth_failure_without_fallback(self) -> None:
        self.discovery_chap("disco", "disco-secret-1")
        made = self.make_driver(tcp_iface=test_iscsiadm.LAB_IFACE)
        error = self.assertRaises(
            exception.AuthenticationFailed, made.discover, self.lab.portal,
            dict(self.props, discovery_auth_password="wrong-secret-9"))
        self.assertEqual(24, error.exit_code)
        self.assertEqual([], self.manager.fallback_reasons)
        self.assertNotIn("default", self.root.ifaces())
        self.assertNotIn("wrong-secret-9", self.log.output)


class TestAttach(DriverFunctionalTestCase):
    props = {"target_portal": "127.0.0.1:3260",
             "target_iqn": lab_mod.TARGET_IQN, "target_lun": 1}

    def test_two_processes_then_a_real_login_error_leaves_nothing(
            self) -> None:
        # iscsid refuses the login with 12 here (no iSCSI in the kernel);
        # the driver reports it typed and deletes the record it wrote.
        made = self.make_driver(offload=False)
        error = self.assertRaises(exception.TransportNotLoaded,
                                  made.connect_volume, self.props)
        self.assertEqual(12, error.exit_code)
        args = self.root.iscsiadm_args()
        self.assertEqual(["-o", "new"], args[0][-2:])
        self.assertEqual(1, len(self.root.node_settings()))
        self.assertEqual("--login", args[1][-1])
        self.assertEqual(["--logout", "delete"],
                         [args[2][-1], args[3][-1]])
        self.assertEqual("", self.node_listing())

    def test_one_write_sets_every_pair_on_the_real_record(self) -> None:
        made = self.make_driver(offload=False)
        made.iscsiadm.node_new(lab_mod.TARGET_IQN, self.lab.portal,
                               ["-I", "default"])
        settings = {**made.node_settings(),
                    **driver.connection.session_auth(CHAP)}
        self.assertEqual(9, len(settings))
        made.iscsiadm.node_update(lab_mod.TARGET_IQN, self.lab.portal,
                                  ["-I", "default"], settings)
        self.assertEqual([], [a for a in self.root.iscsiadm_args()
                              if "update" in a])
        self.assertEqual(1, len(self.root.node_settings()))
        record = self.record()
        for key, value in settings.items():
            self.assertEqual(value, record[key], key)
        self.assertEqual("manual", record["node.conn[0].startup"])

    def test_discovery_attach_rewrites_no_existing_record(self) -> None:
        made = self.make_driver(offload=False)
        self.iscsiadm.node_new(lab_mod.TARGET_IQN, self.lab.portal,
                               ["-I", "default"])
        self.iscsiadm.node_update(lab_mod.TARGET_IQN, self.lab.portal,
                                  ["-I", "default"],
                                  {"node.session.auth.authmethod": "CHAP",
                                   "node.session.auth.username": "keep"})
        found = made.iscsiadm.discover(self.lab.portal, ["-I", "default"])
        self.assertEqual([lab_mod.TARGET_IQN], [t.name for t in found])
        self.assertEqual("keep", self.record()["node.session.auth.username"])

    def test_disconnect_removes_only_our_node(self) -> None:
        made = self.make_driver(offload=False)
        self.iscsiadm.node_new(lab_mod.TARGET_IQN, self.lab.portal,
                               ["-I", "default"])
        iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(
            test_iscsiadm.LAB_IFACE)
        self.iscsiadm.node_new(lab_mod.TARGET_IQN, self.lab.portal,
                               ["-I", "lab0"])
        made.disconnect_volume(self.props, {"iface": "default"})
        listing = self.lab.run("iscsiadm", "-m", "node", "-P", "1").stdout
        self.assertIn("Iface Name: lab0", listing)
        self.assertNotIn("Iface Name: default", listing)
