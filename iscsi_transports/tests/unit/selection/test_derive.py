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

"""source_ip derivation and the per-portal auto choice."""



from iscsi_transports import exception
from iscsi_transports.attach import driver
from iscsi_transports.selection import derive
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import network
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import fake_kernel


class DeriveTestCase(base.TestCase):
    """A host with a two-port Chelsio T5, a QLogic HBA and a plain NIC."""

    def setUp(self):
        super().setUp()
        self.chelsio = self.sysfs.add_offload_card("cxgb4i", ports=2,
                                                   ipaddresses=[None, None])
        self.qlogic = self.sysfs.add_offload_card(
            "qla4xxx", bus=7, ipaddresses=["10.9.0.5"])
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10FB, driver="ixgbe")
        self.sysfs.add_netdev("eth0", "00:1b:21:00:00:01", "0000:01:00.0")
        self.sysfs.add_netdev("br0", "02:00:00:00:00:01")
        first, second = (port.netdev for port in self.chelsio)
        self.net = network.StaticNetwork(
            [network.Address("10.1.0.2", 24, first),
             network.Address("10.2.0.2", 24, second),
             network.Address("192.168.0.2", 24, "eth0"),
             network.Address("172.16.0.2", 24, "br0")],
            [network.Route("10.1.0.0/24", first),
             network.Route("10.2.0.0/24", second),
             network.Route("192.168.0.0/24", "eth0"),
             network.Route("0.0.0.0/0", "eth0", gateway="192.168.0.1")])
        self.manager = manager_mod.TransportManager(self.conf,
                                                    network=self.net)

    def derive(self, ip):
        return derive.from_source_ip(self.manager, ip)


class TestSourceIp(DeriveTestCase):

    def test_on_a_cxgb4i_nic(self):
        choice = self.derive("10.2.0.2")
        self.assertTrue(choice.ok, choice.reason)
        self.assertEqual("cxgb4i", choice.transport)
        self.assertEqual(self.chelsio[1].iface_name, choice.port.iface_name)
        self.assertEqual(["netdev", "hwaddress", "pci", "transport", "iface"],
                         [step.name for step in choice.steps])
        self.assertIn("0000:05:00.4", choice.reason)

    def test_on_a_qla4xxx_hba_address(self):
        choice = self.derive("10.9.0.5")
        self.assertTrue(choice.ok, choice.reason)
        self.assertEqual(("qla4xxx", self.qlogic[0].iface_name),
                         (choice.transport, choice.port.iface_name))
        self.assertEqual("hba address", choice.steps[0].name)

    def test_on_a_plain_nic(self):
        choice = self.derive("192.168.0.2")
        self.assertFalse(choice.ok)
        self.assertIsNone(choice.transport)
        self.assertEqual("transport", choice.steps[-1].name)
        self.assertIn("step 4 (transport) failed: no offload transport "
                      "recognises 0000:01:00.0 (8086:10fb, driver ixgbe)",
                      choice.reason)

    def test_on_an_unknown_address(self):
        choice = self.derive("10.7.7.7")
        self.assertEqual(["netdev"], [step.name for step in choice.steps])
        self.assertIn("no local interface or offload HBA has address "
                      "10.7.7.7", choice.reason)

    def test_on_a_virtual_interface(self):
        self.assertIn("step 3 (pci) failed: br0 is not on a PCI function",
                      self.derive("172.16.0.2").reason)

    def test_not_an_address(self):
        self.assertIn("step 1 (address) failed", self.derive("eth0").reason)

    def test_card_without_iscsi_host_port(self):
        # The card's NIC (cxgb4) is up, but cxgb4i is not loaded.
        card = self.sysfs.add_offload_card("cxgb4i", bus=9, module=False)
        net = network.StaticNetwork(
            [network.Address("10.3.0.2", 24, card[0].netdev)], [])
        manager = manager_mod.TransportManager(self.conf, network=net)
        choice = derive.from_source_ip(manager, "10.3.0.2")
        self.assertFalse(choice.ok)
        self.assertEqual("port", choice.steps[-1].name)
        self.assertIn("is cxgb4i hardware, but it has no iSCSI host port",
                      choice.reason)

    def test_disabled_transport_says_so(self):
        self.flags(enabled_transports=["tcp"])
        choice = self.derive("10.1.0.2")
        self.assertEqual("usable", choice.steps[-1].name)
        self.assertIn("disabled", choice.reason)


class TestActiveWithSourceIp(DeriveTestCase):

    def test_derived_iface_is_active(self):
        self.flags(source_ip="10.1.0.2")
        selection = self.manager.active()
        self.assertEqual(self.chelsio[0].iface_name, selection.iface_name)
        self.assertFalse(selection.fallback)
        self.assertEqual("source_ip=10.1.0.2", selection.requested)

    def test_plain_nic_falls_back_to_tcp_naming_the_step(self):
        self.flags(source_ip="192.168.0.2")
        selection = self.manager.active()
        self.assertEqual(("tcp", "default", True),
                         (selection.transport.name, selection.iface_name,
                          selection.fallback))
        self.assertIn("step 4 (transport)", selection.reason)

    def test_no_fallback_raises(self):
        self.flags(source_ip="10.7.7.7", fallback_to_tcp=False)
        error = self.assertRaises(exception.TransportUnusable,
                                  self.manager.active)
        self.assertIn("step 1 (netdev)", error.reason)


class TestAuto(DeriveTestCase):

    def setUp(self):
        super().setUp()
        self.flags(transport="auto")

    def test_two_portals_through_two_different_cards(self):
        bnx2i = self.sysfs.add_offload_card("bnx2i", bus=8,
                                            ipaddresses=["10.4.0.3"])
        net = network.StaticNetwork(
            [*self.net.addresses(),
             network.Address("10.4.0.2", 24, bnx2i[0].netdev)],
            [*self.net.routes(),
             network.Route("10.4.0.0/24", bnx2i[0].netdev)])
        manager = manager_mod.TransportManager(self.conf, network=net)
        first = manager.active(portal="10.1.0.10:3260")
        second = manager.active(portal="10.4.0.10:3260")
        self.assertEqual(("cxgb4i", self.chelsio[0].iface_name),
                         (first.transport.name, first.iface_name))
        # bnx2i has an iSCSI MAC of its own: matched by the host's netdev.
        self.assertEqual(("bnx2i", bnx2i[0].iface_name),
                         (second.transport.name, second.iface_name))
        self.assertEqual("10.4.0.3", second.iface.ipaddress)

    def test_portals_reached_through_different_cards(self):
        first = self.manager.active(portal="10.1.0.10:3260")
        second = self.manager.active(portal="10.2.0.10:3260")
        self.assertEqual(self.chelsio[0].iface_name, first.iface_name)
        self.assertEqual(self.chelsio[1].iface_name, second.iface_name)
        self.assertFalse(first.fallback)
        self.assertIn("portal 10.2.0.10:3260 goes out dev %s"
                      % self.chelsio[1].netdev, second.reason)

    def test_portal_behind_a_plain_nic_uses_tcp(self):
        selection = self.manager.active(portal="203.0.113.9")
        self.assertEqual(("tcp", "default", False),
                         (selection.transport.name, selection.iface_name,
                          selection.fallback))
        self.assertIn("via 192.168.0.1 dev eth0", selection.reason)
        self.assertIn("eth0 has no usable offload port", selection.reason)

    def test_unusable_offload_on_the_route_is_explained(self):
        self.flags(enabled_transports=["tcp"])
        selection = self.manager.active(portal="10.1.0.10")
        self.assertEqual("default", selection.iface_name)
        self.assertIn("cxgb4i port host2: disabled", selection.reason)

    def test_no_route(self):
        manager = manager_mod.TransportManager(
            self.conf, network=network.StaticNetwork([], []))
        selection = manager.active(portal="10.1.0.10")
        self.assertEqual("default", selection.iface_name)
        self.assertIn("no route to portal 10.1.0.10", selection.reason)

    def test_without_portal_first_usable_offload_in_tree_order(self):
        selection = self.manager.active()
        # cxgb4i comes before qla4xxx in sources.IN_TREE.
        self.assertEqual(self.chelsio[0].iface_name, selection.iface_name)
        self.assertIn("no portal given", selection.reason)

    def test_without_portal_or_offload_uses_tcp(self):
        self.flags(enabled_transports=["tcp"])
        self.assertEqual("default", self.manager.active().iface_name)

    def test_deterministic(self):
        picks = {self.manager.active(portal="10.1.0.10").iface_name
                 for _ in range(3)}
        self.assertEqual(1, len(picks))

    def test_bad_portal_is_an_input_error(self):
        self.assertRaises(exception.InvalidPortal, self.manager.active,
                          portal="10.1.0.10:99999")


class TestDriverWithAuto(DeriveTestCase):
    """The real driver, manager and derivation: one iface per portal."""

    def test_multipath_volume_uses_one_card_port_per_portal(self):
        self.flags(transport="auto", state_path=self.lock_path,
                   device_scan_attempts=1)
        iqn = "iqn.2010-10.org.openstack:volume-1"
        portals = ["10.1.0.10:3260", "10.2.0.10:3260"]
        scripted = fake_executor.ScriptedExecutor()
        scripted.on("iface", "show", exit_code=6)
        kernel = self.useFixture(fake_kernel.Kernel(self.sysfs, scripted))
        kernel.map(iqn, 1, "sdb", "disk/by-path/ip-%s-iscsi-%s-lun-1"
                   % (portals[0], iqn))
        iscsi = driver.ISCSIDriver(self.conf, manager=self.manager,
                                   **kernel.driver_kwargs())
        info = iscsi.connect_volume({"target_portals": portals,
                                     "target_iqns": [iqn, iqn],
                                     "target_luns": [1, 1]}, multipath=True)
        self.assertEqual({(portals[0], self.chelsio[0].iface_name),
                          (portals[1], self.chelsio[1].iface_name)},
                         {(t["portal"], t["iface"])
                          for t in info["targets"]})
        logins = {cmd[cmd.index("-p") + 1]: cmd[cmd.index("-I") + 1]
                  for cmd in scripted.commands("--login")}
        self.assertEqual({portals[0]: self.chelsio[0].iface_name,
                          portals[1]: self.chelsio[1].iface_name}, logins)
