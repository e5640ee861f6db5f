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

"""Scenario 5: an offload transport's module loaded without its card.

``modprobe cxgb4i`` registers the transport with the kernel's iSCSI class
(``/sys/class/iscsi_transport/cxgb4i``) but, with no Chelsio card, no
iSCSI host.  What the kernel and iscsid answer through an iface of that
transport is real; so is the driver's way back to software TCP.
"""

from __future__ import annotations

import os

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine

CXGB4I_MAC = "00:07:43:00:00:01"
CXGB4I_IFACE = "cxgb4i.%s" % CXGB4I_MAC
IFACE_ARGS = ["-I", CXGB4I_IFACE]


class OffloadTestCase(base.KernelTestCase):

    def setUp(self) -> None:
        super().setUp()
        machine.modprobe("cxgb4i")
        self.assertTrue(os.path.isdir("/sys/class/iscsi_transport/cxgb4i"))


class TestKernelAnswer(OffloadTestCase):
    """The library's iscsiadm layer through an iface of the card-less
    transport: the exit codes and the typed errors they become."""

    def setUp(self) -> None:
        super().setUp()
        self.runner = self.iscsiadm()
        self.iface_records().ensure(base.Iface(
            name=CXGB4I_IFACE, transport_name="cxgb4i", hwaddress=CXGB4I_MAC))
        self.forget_iface(CXGB4I_IFACE)

    def test_discovery_times_out(self) -> None:
        target = self.lio()
        error = self.assertRaises(base.exception.PduTimeout,
                                  self.runner.discover, target.portal,
                                  IFACE_ARGS)
        self.assertEqual(11, error.exit_code)

    def test_login_finds_no_host(self) -> None:
        target = self.lio()
        self.runner.node_new(target.iqn, target.portal, IFACE_ARGS)
        error = self.assertRaises(base.exception.HostNotFound,
                                  self.runner.login, target.iqn,
                                  target.portal, IFACE_ARGS)
        self.assertEqual(23, error.exit_code)
        self.assertEqual([], machine.sessions(target.iqn))


class TestDriverFallback(OffloadTestCase):

    def test_configured_cxgb4i_without_card_uses_tcp(self) -> None:
        # Detection sees the module but no card: the driver never tries
        # the offload iface and says why it used TCP.
        self.flags(transport="cxgb4i")
        target = self.lio()
        driver = self.driver()
        info = driver.connect_volume(target.props())
        self.assertEqual(("tcp", "default", True, "cxgb4i"),
                         (info["transport"], info["iface"], info["fallback"],
                          info["requested"]))
        self.assertNotIn("cxgb4i", " ".join(self.root.ifaces()))
        disk = self.assert_attached(target.iqn, info["path"])
        driver.disconnect_volume(target.props(), info)
        self.assert_clean(target.iqn, [disk])

    def claimed_card(self) -> base.ISCSIDriver:
        """A driver whose detection claims a cxgb4i card (the one thing
        faked: QEMU emulates no Chelsio NIC), on the real kernel."""
        self.forget_iface(base.fake_manager.FakeOffload(self.conf)
                          .generate_iface().name)
        return self.driver(manager=base.fake_manager.FakeManager(self.conf))

    def test_login_refused_by_kernel_falls_back_to_tcp(self) -> None:
        target = self.lio()
        driver = self.claimed_card()
        info = driver.connect_volume(target.props())
        self.assertIn(23, self.root.exit_codes)
        self.assertEqual(("tcp", "default", True),
                         (info["transport"], info["iface"], info["fallback"]))
        self.assertIn("host not found", info["reason"])
        disk = self.assert_attached(target.iqn, info["path"])
        self.assert_pattern_io(info["path"])
        driver.disconnect_volume(target.props(), info)
        machine.settle()
        self.assertEqual([], machine.sessions(target.iqn))
        self.assertFalse(machine.disk_exists(disk))

    def test_discovery_refused_by_kernel_falls_back_to_tcp(self) -> None:
        target = self.lio()
        driver = self.claimed_card()
        props = {"target_portal": target.portal, "target_lun": 0}
        info = driver.connect_volume(props)
        self.assertIn(11, self.root.exit_codes)
        self.assertTrue(info["fallback"])
        disk = self.assert_attached(target.iqn, info["path"])
        driver.disconnect_volume(dict(props, target_iqn=target.iqn), info)
        self.assert_clean(target.iqn, [disk])

    def test_fallback_leaves_no_offload_node_record(self) -> None:
        # The node record made for the refused offload login must not
        # outlive the attach that fell back (nor its detach).
        target = self.lio()
        driver = self.claimed_card()
        info = driver.connect_volume(target.props())
        self.assertTrue(info["fallback"])
        driver.disconnect_volume(target.props(), info)
        self.assert_clean(target.iqn, [])
