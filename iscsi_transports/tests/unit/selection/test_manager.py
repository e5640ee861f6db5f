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

"""TransportManager: real entry points, load failures, detection, active()."""

from iscsi_transports import exception
from iscsi_transports.plugins import tcp
from iscsi_transports.selection import manager
from iscsi_transports.selection import sources
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.fake_plugins import fixture as fake


class TestInTreeLoading(base.TestCase):

    def test_in_tree_plugins_are_loaded_in_order(self):
        names = list(manager.TransportManager(self.conf).transports)
        self.assertEqual(["tcp", "iser"], names[:2])
        in_tree = [name for name in names if name in sources.IN_TREE]
        self.assertEqual(in_tree, names[:len(in_tree)])

    def test_source_names_the_distribution(self):
        mgr = manager.TransportManager(self.conf)
        self.assertEqual("iscsi-transports (tcp = "
                         "iscsi_transports.plugins.tcp:TcpTransport)",
                         mgr.source("tcp"))

    def test_get_unknown(self):
        mgr = manager.TransportManager(self.conf)
        error = self.assertRaises(exception.TransportNotFound, mgr.get, "x")
        self.assertEqual("x", error.name)

    def test_iser_disabled_by_default(self):
        mgr = manager.TransportManager(self.conf)
        self.assertFalse(mgr.is_enabled("iser"))
        self.assertTrue(mgr.is_enabled("tcp"))
        detection = mgr.detect("iser")
        self.assertFalse(detection.enabled)
        self.assertIn("enabled_transports", detection.reason)
        self.assertIn("target must support iser", detection.reason)


class TestThirdPartyLoading(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fake.FakePluginDistribution())
        self.mgr = manager.TransportManager(self.conf)
        self.failures = {f.name: f for f in self.mgr.load_failures}

    def test_good_plugin_loaded_with_its_distribution(self):
        self.assertIn("fakevendor", self.mgr.transports)
        self.assertTrue(self.mgr.source("fakevendor").startswith(
            fake.DIST_NAME + " "))

    def test_import_error_recorded(self):
        failure = self.failures["importerror"]
        self.assertIn("ImportError", failure.error)
        self.assertIn("libacme.so", failure.error)
        self.assertIn(fake.DIST_NAME, failure.source)

    def test_construction_error_recorded(self):
        self.assertIn("cannot construct", self.failures["explodinginit"].error)

    def test_not_a_transport_recorded(self):
        self.assertIn("not a subclass",
                      self.failures["notatransport"].error)

    def test_shadowing_an_in_tree_name_is_refused(self):
        self.assertIn("refused", self.failures["tcp"].error)
        self.assertIsInstance(self.mgr.get("tcp"),
                              tcp.TcpTransport)
        self.assertNotIn("Shadow", type(self.mgr.get("tcp")).__name__)
        self.assertIn("refused", self.log.output)

    def test_name_mismatch_recorded(self):
        self.assertIn("differs from its entry-point name",
                      self.failures["mismatch"].error)
        self.assertIn("explodingdetect", self.mgr.transports)

    def test_detection_error_is_contained(self):
        detection = self.mgr.detect("explodingdetect")
        self.assertFalse(detection.usable)
        self.assertIn("vendor bug while probing", detection.reason)
        self.assertTrue(self.mgr.detect("tcp").usable)

    def test_unknown_name_reason_mentions_load_failure(self):
        self.flags(transport="importerror")
        selection = self.mgr.active()
        self.assertTrue(selection.fallback)
        self.assertIn("failed to load", selection.reason)

    def test_third_party_must_be_enabled(self):
        self.flags(transport="fakevendor")
        self.assertTrue(self.mgr.active().fallback)
        self.flags(enabled_transports=["fakevendor"])
        self.mgr.refresh()
        selection = self.mgr.active()
        self.assertFalse(selection.fallback)
        self.assertEqual("fakevendor.00:11:22:33:44:55", selection.iface_name)


class TestActive(base.TestCase):

    def test_default_is_tcp_without_fallback(self):
        selection = manager.TransportManager(self.conf).active()
        self.assertEqual(("tcp", "default", False),
                         (selection.transport.name, selection.iface_name,
                          selection.fallback))

    def test_tcp_by_plugin_name(self):
        self.flags(transport="tcp")
        self.assertEqual("default",
                         manager.TransportManager(self.conf).active().iface_name)

    def test_tcp_pinned_to_a_nic(self):
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10fb, driver="ixgbe")
        self.sysfs.add_netdev("eth0", "00:1b:21:00:00:01", "0000:01:00.0")
        self.flags(transport="tcp.00:1b:21:00:00:01")
        selection = manager.TransportManager(self.conf).active()
        self.assertFalse(selection.fallback)
        self.assertEqual("00:1b:21:00:00:01", selection.iface.hwaddress)

    def test_tcp_pinned_to_a_missing_nic_falls_back(self):
        self.flags(transport="tcp.00:1b:21:00:00:09")
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertIn("no tcp port matches iface", selection.reason)

    def test_iser_without_rdma_falls_back_with_reason(self):
        self.flags(transport="iser", enabled_transports=["iser"])
        selection = manager.TransportManager(self.conf).active()
        self.assertEqual(("tcp", "default", True),
                         (selection.transport.name, selection.iface_name,
                          selection.fallback))
        self.assertIn("no RDMA device", selection.reason)
        self.assertIn("no RDMA device", self.log.output)

    def test_iser_disabled_falls_back(self):
        self.flags(transport="iser")
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertIn("disabled", selection.reason)

    def test_iser_usable(self):
        self.sysfs.add_rdma("mlx5_0")
        self.sysfs.add_module("ib_iser")
        self.flags(transport="iser", enabled_transports=["iser"])
        selection = manager.TransportManager(self.conf).active()
        self.assertEqual(("iser", "iser", False),
                         (selection.transport.name, selection.iface_name,
                          selection.fallback))

    def test_no_fallback_raises_with_reason(self):
        self.flags(transport="iser", fallback_to_tcp=False)
        error = self.assertRaises(exception.TransportUnusable,
                                  manager.TransportManager(self.conf).active)
        self.assertIn("disabled", error.reason)

    def test_open_iscsis_kernel_iface_name_selects_its_port(self):
        (port,) = self.sysfs.add_offload_card("qla4xxx")
        name = "%s.ipv4.0" % port.iface_name
        self.flags(transport=name, enabled_transports=["qla4xxx"])
        selection = manager.TransportManager(self.conf).active()
        self.assertFalse(selection.fallback, selection.reason)
        self.assertEqual(("qla4xxx", name),
                         (selection.transport.name, selection.iface_name))
        self.assertEqual(port.hwaddress, selection.iface.hwaddress)

    def test_kernel_iface_name_of_another_card_falls_back(self):
        self.sysfs.add_offload_card("qla4xxx")
        self.flags(transport="qla4xxx.00:0e:1e:ff:ff:ff.ipv4.0",
                   enabled_transports=["qla4xxx"])
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertIn("no qla4xxx port matches", selection.reason)

    def test_unknown_transport(self):
        self.flags(transport="nosuch")
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertIn("no transport plugin named nosuch", selection.reason)

    def test_unsafe_iface_name_falls_back_without_reaching_iscsiadm(self):
        self.flags(transport="cxgb4i.../../etc")
        selection = manager.TransportManager(self.conf).active()
        self.assertTrue(selection.fallback)
        self.assertIn("Invalid iface name", selection.reason)

    def test_refresh_rereads_the_host(self):
        self.flags(transport="iser", enabled_transports=["iser"])
        mgr = manager.TransportManager(self.conf)
        self.assertTrue(mgr.active().fallback)
        self.sysfs.add_rdma("mlx5_0")
        self.sysfs.add_module("ib_iser")
        self.assertTrue(mgr.active().fallback)  # cached
        mgr.refresh()
        self.assertFalse(mgr.active().fallback)
