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

"""OffloadTransport: the detection and iface logic every offload plugin shares."""

from iscsi_transports import base as base_mod
from iscsi_transports import host as host_mod
from iscsi_transports import offload
from iscsi_transports.tests import base


class FakeOffload(offload.OffloadTransport):
    """A made-up offload transport for testing the shared logic."""

    name = "fakeoff"
    kernel_modules = ("fakeoff",)
    vendor_family = "Fake"
    ipaddress_policy = offload.IP_OPTIONAL
    pci_drivers = ("fakenic",)
    pci_ids = {(0x1234, 0x0001): "Fake One"}


class TestPolicy(base.TestCase):

    def test_unknown_policy_is_refused_at_class_creation(self):
        def make():
            class Bad(offload.OffloadTransport):
                name = "bad"
                ipaddress_policy = "sometimes"
            return Bad
        error = self.assertRaises(TypeError, make)
        self.assertIn("required, optional, hba, ignored", str(error))

    def test_requires_ipaddress_follows_policy(self):
        class Needs(offload.OffloadTransport):
            name = "needs"
            ipaddress_policy = offload.IP_REQUIRED
        self.assertTrue(Needs.requires_ipaddress)
        self.assertFalse(FakeOffload.requires_ipaddress)
        self.assertTrue(FakeOffload.offload)

    def test_usable_hwaddress(self):
        self.assertEqual("00:07:43:0a:0b:0c",
                         offload.usable_hwaddress("00-07-43-0A-0B-0C"))
        self.assertIsNone(offload.usable_hwaddress("00:00:00:00:00:00"))
        self.assertIsNone(offload.usable_hwaddress("00:07:43"))
        self.assertIsNone(offload.usable_hwaddress(None))


class TestDetect(base.TestCase):

    def setUp(self):
        super().setUp()
        self.transport = FakeOffload(self.conf)

    def detect(self):
        return self.transport.detect(host_mod.Host(self.sysfs.root))

    def add_port(self, number, address="0000:05:00.0", mac=None,
                 proc_name="fakeoff", **kwargs):
        return self.sysfs.add_iscsi_host(
            number, proc_name, address,
            hwaddress=mac or "02:00:00:00:00:%02x" % number, **kwargs)

    def test_ports_in_host_number_order_not_name_order(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.sysfs.add_module("fakeoff")
        for number in (10, 9, 2):
            self.add_port(number)
        self.assertEqual(["host2", "host9", "host10"],
                         [port.host for port in self.detect().ports])

    def test_only_hosts_of_this_transport(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.add_port(3)
        self.add_port(4, proc_name="other")
        self.assertEqual(["host3"], [p.host for p in self.detect().ports])

    def test_unset_or_zero_hwaddress_gives_no_iface(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.sysfs.add_module("fakeoff")
        self.add_port(3, mac="00:00:00:00:00:00")
        self.sysfs.add_iscsi_host(4, "fakeoff", "0000:05:00.0")
        detection = self.detect()
        self.assertEqual([None, None],
                         [port.iface_name for port in detection.ports])
        self.assertFalse(detection.usable)
        self.assertIn("no iSCSI host ports with a hardware address",
                      detection.reason)
        self.assertIsNone(self.transport.choose_port(detection))

    def test_no_ports_hint_names_the_nic_driver(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.sysfs.add_module("fakeoff")
        self.assertIn("is the fakenic network driver bound",
                      self.detect().reason)

        class Hba(FakeOffload):
            name = "fakehba"
            kernel_modules = ("fakehba",)
            pci_drivers = ("fakehba",)
        self.sysfs.add_pci("0000:06:00.0", 0x1234, 0x0001, "fakehba")
        self.sysfs.add_module("fakehba")
        reason = Hba().detect(host_mod.Host(self.sysfs.root)).reason
        self.assertIn("check the adapter's firmware", reason)

    def test_netdev_found_by_mac_when_host_does_not_say(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.sysfs.add_netdev("eth7", "02:00:00:00:00:03", "0000:05:00.0")
        self.add_port(3)
        self.assertEqual("eth7", self.detect().ports[0].netdev)

    def test_bad_ipaddress_is_unset(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.add_port(3, ipaddress="0.0.0.0.0")
        self.assertIsNone(self.detect().ports[0].ipaddress)

    def test_hardware_by_id_driver_and_hosting_a_port(self):
        self.sysfs.add_pci("0000:03:00.0", 0x1234, 0x0001)
        self.sysfs.add_pci("0000:04:00.0", 0x9999, 0x0002, "fakenic")
        self.sysfs.add_pci("0000:05:00.0", 0x9999, 0x0003, "mystery")
        self.sysfs.add_pci("0000:06:00.0", 0x9999, 0x0004, "e1000e")
        self.add_port(3, address="0000:05:00.0")
        hardware = self.detect().hardware
        self.assertEqual(["0000:03:00.0", "0000:04:00.0", "0000:05:00.0"],
                         [hw.pci_address for hw in hardware])
        self.assertEqual(["Fake One", None, None],
                         [hw.model for hw in hardware])

    def test_known_id_bound_to_another_driver_is_not_ours(self):
        self.sysfs.add_pci("0000:03:00.0", 0x1234, 0x0001, "vfio-pci")
        self.assertEqual((), self.detect().hardware)

    def test_usable_reason_lists_ports(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.sysfs.add_module("fakeoff")
        self.add_port(3)
        self.add_port(4)
        detection = self.detect()
        self.assertTrue(detection.usable)
        self.assertEqual("Fake One at 0000:05:00.0 ready: 2 ports "
                         "(fakeoff.02:00:00:00:00:03, "
                         "fakeoff.02:00:00:00:00:04)", detection.reason)

    def test_iscsi_transport_class_counts_as_loaded(self):
        self.sysfs.add_pci("0000:05:00.0", 0x1234, 0x0001, "fakenic")
        self.sysfs.add_iscsi_transport("fakeoff")
        self.add_port(3)
        self.assertTrue(self.detect().usable)

    def test_extra_pci_ids_of_another_transport_are_ignored(self):
        self.sysfs.add_pci("0000:05:00.0", 0x4321, 0x0009)
        self.flags(extra_pci_ids=["cxgb4i:4321:0009"])
        self.assertEqual((), FakeOffload(self.conf).detect(
            host_mod.Host(self.sysfs.root)).hardware)

    def test_bad_extra_pci_ids_entry_is_skipped_and_the_rest_used(self):
        self.sysfs.add_pci("0000:05:00.0", 0x4321, 0x0009)
        self.flags(extra_pci_ids=["fakeoff:zz:1", "bogus",
                                  "fakeoff:4321:0009"])
        self.assertEqual(["0000:05:00.0"], [
            hw.pci_address for hw in FakeOffload(self.conf).detect(
                host_mod.Host(self.sysfs.root)).hardware])


class TestChoosePort(base.TestCase):

    def detection(self, *ports):
        return base_mod.Detection(transport="fakeoff", usable=True,
                                  reason="", ports=ports)

    def port(self, mac, ip=None):
        return base_mod.Port(transport="fakeoff", hwaddress=mac, ipaddress=ip,
                             iface_name="fakeoff.%s" % mac if mac else None)

    def test_first_port_with_an_iface(self):
        first, second = self.port(None), self.port("02:00:00:00:00:02")
        chosen = FakeOffload().choose_port(self.detection(first, second))
        self.assertIs(second, chosen)

    def test_named_port(self):
        ports = [self.port("02:00:00:00:00:0%d" % i) for i in (1, 2)]
        chosen = FakeOffload().choose_port(self.detection(*ports),
                                           "fakeoff.02:00:00:00:00:02")
        self.assertIs(ports[1], chosen)
        self.assertIsNone(FakeOffload().choose_port(
            self.detection(*ports), "fakeoff.02:00:00:00:00:09"))
