"""doctor's checklist on hosts broken in each way an operator meets."""

import os

from iscsi_transports import iface as iface_mod
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import network
from iscsi_transports.support import doctor
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata


class DoctorTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.data = self.useFixture(hostdata.HostData())
        self.flags(**self.data.options())

    def report(self, portal=None):
        manager = manager_mod.TransportManager(self.conf)
        return doctor.Doctor(manager, portal).report()

    def checks(self, report, transport, check=None):
        item = next(t for t in report["transports"] if t["name"] == transport)
        return [(c["status"], c["detail"]) for c in item["checks"]
                if check is None or c["check"] == check]


class TestBrokenHosts(DoctorTestCase):

    def test_module_missing(self):
        self.sysfs.add_offload_card("qla4xxx", bus=7, module=False)
        self.flags(transport="qla4xxx")
        report = self.report()
        self.assertEqual([("FAIL", "qla4xxx not loaded: modprobe qla4xxx")],
                         self.checks(report, "qla4xxx", "module"))
        hardware = self.checks(report, "qla4xxx", "hardware")[0]
        self.assertEqual("ok", hardware[0])
        self.assertIn("QLogic ISP8324 (1077:8032) at 0000:07:00.4",
                      hardware[1])
        self.assertFalse(report["healthy"])
        self.assertTrue(report["active"]["fallback"])
        self.assertIn("modprobe qla4xxx", report["active"]["reason"])

    def test_stale_iface_record(self):
        port = self.sysfs.add_offload_card("cxgb4i")[0]
        self.data.add_record(iface_mod.Iface(
            name=port.iface_name, transport_name="cxgb4i",
            hwaddress=port.hwaddress))
        self.data.add_record(iface_mod.Iface(
            name="cxgb4i.00:07:43:99:99:99", transport_name="cxgb4i",
            hwaddress="00:07:43:99:99:99"))
        records = self.checks(self.report(), "cxgb4i", "iface record")
        self.assertEqual("ok", records[0][0])
        self.assertIn("present and matches the hardware", records[0][1])
        self.assertEqual("FAIL", records[1][0])
        self.assertIn("cxgb4i.00:07:43:99:99:99 is stale: hwaddress "
                      "00:07:43:99:99:99 no longer exists", records[1][1])

    def test_stale_record_of_a_removed_card_is_still_flagged(self):
        self.data.add_record(iface_mod.Iface(
            name="bnx2i.00:10:18:00:00:01", transport_name="bnx2i",
            hwaddress="00:10:18:00:00:01", ipaddress="10.0.0.5"))
        records = self.checks(self.report(), "bnx2i", "iface record")
        self.assertEqual("FAIL", records[0][0])
        self.assertIn("is stale", records[0][1])

    def test_record_that_does_not_match_the_port(self):
        port = self.sysfs.add_offload_card("bnx2i", bus=8,
                                           ipaddresses=["10.4.0.3"])[0]
        self.data.add_record(iface_mod.Iface(
            name=port.iface_name, transport_name="bnx2i",
            hwaddress=port.hwaddress, ipaddress="10.4.0.99"))
        status, detail = self.checks(self.report(), "bnx2i",
                                     "iface record")[0]
        self.assertEqual("FAIL", status)
        self.assertIn("iface.ipaddress is 10.4.0.99, expected 10.4.0.3",
                      detail)

    def test_missing_record_is_a_warning(self):
        port = self.sysfs.add_offload_card("cxgb4i")[0]
        self.assertEqual(
            [("warn", "%s: not on disk (the driver creates it on first "
                      "attach)" % port.iface_name)],
            self.checks(self.report(), "cxgb4i", "iface record"))

    def test_offload_initiator_name_that_differs_is_a_warning(self):
        self.sysfs.add_iscsi_host(9, "qla4xxx", None, "00:0e:1e:04:8b:2e",
                                  initiatorname="iqn.2000-04.com.qlogic:hba")
        self.sysfs.add_module("qla4xxx")
        with open(os.path.join(os.path.dirname(self.data.iface_dir),
                               "initiatorname.iscsi"), "w") as handle:
            handle.write("InitiatorName=iqn.1993-08.org.debian:01:host\n")
        (check,) = self.checks(self.report(), "qla4xxx", "initiator")
        self.assertEqual("warn", check[0])
        self.assertIn("logs in as iqn.2000-04.com.qlogic:hba, not "
                      "iqn.1993-08.org.debian:01:host", check[1])
        self.assertIn("cinder must export volumes to "
                      "iqn.2000-04.com.qlogic:hba", check[1])

    def test_offload_port_without_its_own_name_uses_the_hosts(self):
        self.sysfs.add_offload_card("cxgb4i")
        (check,) = self.checks(self.report(), "cxgb4i", "initiator")
        self.assertEqual("ok", check[0])

    def test_iscsiuio_not_running(self):
        self.sysfs.add_offload_card("bnx2i", bus=8)
        self.data.add_process(1, "systemd")
        self.flags(transport="bnx2i")
        report = self.report()
        self.assertEqual(
            [("FAIL", "iscsiuio is not running: systemctl enable --now "
                      "iscsiuio")],
            self.checks(report, "bnx2i", "helper daemon"))
        # detection itself cannot see daemons: the verdict stays bnx2i.
        self.assertEqual("bnx2i", report["active"]["transport"])

    def test_iscsiuio_running(self):
        self.sysfs.add_offload_card("qedi", bus=6)
        self.data.add_process(812, "iscsiuio")
        self.assertEqual([("ok", "iscsiuio running (pid 812)")],
                         self.checks(self.report(), "qedi", "helper daemon"))

    def test_unreadable_record(self):
        with open(self.data.iface_dir + "/broken", "w") as handle:
            handle.write("this is not a record\n")
        report = self.report()
        self.assertEqual(["broken"],
                         [r["name"] for r in report["unreadable_records"]])

    def test_absent_hardware_is_one_line_not_a_failure(self):
        self.assertEqual([("ok", "enabled"), ("-", "none found")],
                         self.checks(self.report(), "cxgb3i"))


class TestRoutes(DoctorTestCase):

    def setUp(self):
        super().setUp()
        self.port = self.sysfs.add_offload_card("cxgb4i",
                                                ipaddresses=[None])[0]
        self.sysfs.add_offload_card("qla4xxx", bus=7)
        self.data.set_network(
            [network.Address("10.1.0.2", 24, self.port.netdev)],
            [network.Route("10.1.0.0/24", self.port.netdev)])

    def test_route_through_the_offload_port(self):
        report = self.report("10.1.0.9:3260")
        self.assertEqual(
            [("ok", "10.1.0.9:3260 goes out dev %s src 10.1.0.2, port %s"
              % (self.port.netdev, self.port.host))],
            self.checks(report, "cxgb4i", "route"))
        self.assertEqual("dev %s" % self.port.netdev,
                         "dev " + report["route"]["netdev"])
        self.assertIn("own IP stack",
                      self.checks(report, "qla4xxx", "route")[0][1])

    def test_no_route(self):
        report = self.report("203.0.113.1")
        self.assertIsNone(report["route"])
        self.assertEqual([("FAIL", "no route to 203.0.113.1")],
                         self.checks(report, "tcp", "route"))

    def test_auto_verdict_follows_the_portal(self):
        self.flags(transport="auto")
        report = self.report("10.1.0.9")
        self.assertEqual(self.port.iface_name, report["active"]["iface"])
        self.assertTrue(report["healthy"])
