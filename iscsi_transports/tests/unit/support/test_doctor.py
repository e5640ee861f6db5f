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

"""doctor's checklist on hosts broken in each way an operator meets."""

import os
import threading
import time

import fixtures
from oslo_privsep.test import fixture as privsep_fixture

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import openiscsi
from iscsi_transports import privileged
from iscsi_transports import state
from iscsi_transports.privileged import client
from iscsi_transports.privileged import paths
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import network
from iscsi_transports.support import doctor
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit import test_openiscsi
from iscsi_transports.tests.unit.attach import kernel_tree

NIC_MAC = "52:54:00:12:34:01"
NIC_IFACE = "tcp." + NIC_MAC
#: The real probe; every other test replaces it (it starts a daemon).
PROBE_PRIVSEP = doctor.probe_privsep


class DoctorTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.data = self.useFixture(hostdata.HostData())
        self.flags(**self.data.options())
        self.flags(state_path=os.path.join(self.lock_path, "state"))
        # Starting the real daemon is TestPrivileges' business.
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.support.doctor.probe_privsep",
            lambda timeout: "started (test)"))

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
            [("FAIL", "iscsiuio is not running and no socket listens for "
                      "it: systemctl enable --now iscsiuio.socket")],
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


class TestSoftwareIscsiBasics(DoctorTestCase):
    """What makes software iSCSI work at all, before any transport."""

    def basics(self):
        report = self.report()
        return report, {c["check"]: (c["status"], c["detail"])
                        for c in report["basics"]}

    def test_healthy_host(self):
        report, basics = self.basics()
        self.assertEqual({"iscsid", "iscsi_tcp", "initiatorname",
                          "leftovers"}, set(basics))
        self.assertEqual({"ok"}, {status for status, _ in basics.values()})
        self.assertIn("iscsid.socket listening", basics["iscsid"][1])
        self.assertIn("installed for this kernel", basics["iscsi_tcp"][1])
        self.assertEqual(self.data.INITIATOR_NAME, basics["initiatorname"][1])
        self.assertTrue(report["healthy"])

    def nic_iface(self, initiatorname):
        """``transport = tcp.<mac>`` of a NIC whose iface record carries
        ``initiatorname``."""
        self.sysfs.add_pci("0000:00:03.0", 0x1af4, 0x1000, driver="virtio")
        self.sysfs.add_netdev("eth0", NIC_MAC, pci_address="0000:00:03.0")
        self.flags(transport=NIC_IFACE)
        self.data.add_record(iface_mod.Iface(
            name=NIC_IFACE, transport_name="tcp", hwaddress=NIC_MAC,
            initiatorname=initiatorname))

    def test_iface_with_its_own_initiator_name(self):
        # What os-brick's get_connector_properties reports under run.
        self.nic_iface("iqn.2026-12.lab:port-0")
        report, basics = self.basics()
        self.assertEqual(NIC_IFACE, report["active"]["iface"])
        status, detail = basics["connector initiator"]
        self.assertEqual("warn", status)
        self.assertIn("%s (the iface attaches use) logs in as "
                      "iqn.2026-12.lab:port-0, not %s (initiatorname.iscsi)"
                      % (NIC_IFACE, self.data.INITIATOR_NAME), detail)
        self.assertTrue(report["healthy"])

    def test_iface_with_the_host_s_name_says_nothing_more(self):
        self.nic_iface(self.data.INITIATOR_NAME)
        report, basics = self.basics()
        self.assertEqual(NIC_IFACE, report["active"]["iface"])
        self.assertNotIn("connector initiator", basics)

    def test_iscsid_running(self):
        self.data.set_sockets()
        self.data.add_process(812, "iscsid")
        self.assertEqual(("ok", "iscsid running (pid 812)"),
                         self.basics()[1]["iscsid"])

    def test_iscsid_neither_running_nor_socket_activated(self):
        self.data.set_sockets("@some_other_socket")
        report, basics = self.basics()
        self.assertEqual("FAIL", basics["iscsid"][0])
        self.assertIn("systemctl enable --now iscsid.socket",
                      basics["iscsid"][1])
        # software TCP would still be "chosen", but nothing can log in.
        self.assertEqual("tcp", report["active"]["transport"])
        self.assertFalse(report["healthy"])

    def test_iscsi_tcp_loaded(self):
        self.data.set_modules_dep("")
        self.sysfs.add_module("iscsi_tcp")
        self.assertEqual(("ok", "iscsi_tcp loaded"),
                         self.basics()[1]["iscsi_tcp"])

    def test_iscsi_tcp_built_in(self):
        self.data.set_modules_dep("kernel/drivers/md/dm-mod.ko:\n")
        with open(self.data.modules_dir + "/modules.builtin", "w") as index:
            index.write("kernel/drivers/scsi/iscsi_tcp.ko\n")
        self.assertEqual("ok", self.basics()[1]["iscsi_tcp"][0])

    def test_initiator_name_file_of_root_alone_for_a_service_user(self):
        # Debian installs it 0600: the service user's doctor cannot read
        # it, which the daemon does for the library.
        os.chmod(os.path.dirname(self.data.initiator_name_file), 0o755)
        os.chmod(self.data.initiator_name_file, 0o600)
        status, detail = base.as_service_user(
            lambda: "|".join(self.basics()[1]["initiatorname"])).split("|")
        self.assertEqual("warn", status)
        self.assertIn("not readable by uid 65534: the library reads it "
                      "through its privsep daemon", detail)

    def test_iface_records_unreadable_for_a_service_user(self):
        # /etc/iscsi/ifaces is root's alone (0700) on some distributions.
        os.chmod(os.path.dirname(self.data.iface_dir), 0o755)
        os.chmod(self.data.iface_dir, 0o700)
        status, detail = base.as_service_user(
            lambda: "|".join(self.basics()[1]["iface records"])).split("|")
        self.assertEqual("warn", status)
        self.assertIn("%s is not readable by uid 65534" % self.data.iface_dir,
                      detail)

    def test_iscsi_tcp_missing(self):
        # A cloud kernel without the extra modules: libiscsi_tcp is not it.
        self.data.set_modules_dep(
            "kernel/drivers/scsi/libiscsi_tcp.ko.zst: kernel/x.ko.zst\n")
        report, basics = self.basics()
        self.assertEqual("FAIL", basics["iscsi_tcp"][0])
        self.assertIn("neither loaded nor installed", basics["iscsi_tcp"][1])
        self.assertFalse(report["healthy"])

    def test_initiator_name_problems(self):
        cases = {None: "initiatorname.iscsi cannot be read",
                 "## DO NOT EDIT\nGenerateName=yes\n": "has no name yet",
                 "InitiatorName=my-host\n": "'my-host' is not an iqn.",
                 "# empty\n": "has no InitiatorName= line"}
        for text, expected in cases.items():
            self.data.set_initiator_name(text)
            status, detail = self.basics()[1]["initiatorname"]
            self.assertEqual("FAIL", status, text)
            self.assertIn(expected, detail)
            if text is None:
                self.data.set_initiator_name("")

    def test_iscsiuio_socket_activated(self):
        self.sysfs.add_offload_card("bnx2i", bus=8)
        self.data.set_sockets(doctor.SOCKETS[doctor.ISCSID],
                              doctor.SOCKETS[doctor.ISCSIUIO])
        self.assertEqual(
            [("ok", "iscsiuio.socket listening: systemd starts iscsiuio on "
                    "first use")],
            self.checks(self.report(), "bnx2i", "helper daemon"))


class TestConfigProblems(DoctorTestCase):

    def test_bad_values_make_doctor_unhealthy(self):
        self.flags(extra_pci_ids=["cxgb4i:1425:zzzz"],
                   enabled_transports=["tcp", "cxgb4"])
        report = self.report()
        self.assertFalse(report["healthy"])
        self.assertEqual(2, len(report["config_problems"]))
        self.assertIn("enabled_transports names cxgb4,",
                      report["config_problems"][0])
        self.assertIn("'cxgb4i:1425:zzzz' is not", report["config_problems"][1])

    def test_file_problems_from_the_caller_are_reported(self):
        manager = manager_mod.TransportManager(self.conf)
        report = doctor.Doctor(manager, config_problems=["a typo"]).report()
        self.assertEqual(["a typo"], report["config_problems"])
        self.assertFalse(report["healthy"])


class TestMultipath(DoctorTestCase):
    """The multipath section: daemon, find_multipaths, each array's
    no_path_retry, from the real multipath-tools 0.9.4 table."""

    def setUp(self):
        super().setUp()
        self.executor = fake_executor.RecordingExecutor()
        data = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                            "data", "multipath-t-0.9.4.txt")
        with open(data, encoding="utf-8") as handle:
            self.executor.answer = client.CommandResult(0, handle.read(), "")
        tree = kernel_tree.IscsiTree(self.sysfs, self.data.proc_root + "-dev")
        tree.add_session(1, "iqn.2003-01.org.linux-iscsi.lab:vol1")
        tree.add_disk(1, 0, "sdb")
        tree.add_session(2, "iqn.2003-01.org.linux-iscsi.lab:vol2")
        tree.add_disk(2, 0, "sdc", attrs={"vendor": "DataCore",
                                          "model": "SANmelody"})

    def multipath(self):
        manager = manager_mod.TransportManager(self.conf)
        return doctor.Doctor(manager, executor=self.executor).report()[
            "multipath"]

    def listening(self):
        self.data.set_sockets(doctor.SOCKETS[doctor.ISCSID],
                              "@/org/kernel/linux/storage/multipathd")

    def test_running_daemon_and_its_settings_per_array(self):
        self.listening()
        self.data.add_process(812, "multipathd")
        report = self.multipath()
        self.assertEqual((True, 812), (report["running"], report["pid"]))
        self.assertEqual([("multipathd", ["show", "config"], 60)],
                         self.executor.calls)
        checks = [(c["status"], c["check"], c["detail"])
                  for c in report["checks"]]
        self.assertEqual(("ok", "multipathd"), checks[0][:2])
        self.assertIn("running (pid 812)", checks[0][2])
        self.assertEqual(("ok", "find_multipaths", "strict: maps only for "
                          "WWIDs in the wwids file: the library adds each "
                          "multipath volume's WWID (multipath -a)"),
                         checks[1])
        self.assertEqual([
            ("warn", "no_path_retry", "DataCore SANmelody: queue (from "
             "devices (DataCore SANmelody)); I/O with no path left is "
             "queued until a path returns (forever)"),
            ("ok", "no_path_retry", "LIO-ORG disk0: 12 (from devices "
             "((LIO-ORG|SUSE) .*)); I/O with no path left is queued for "
             "12 path checks (about 60 s), then failed")], checks[2:])
        self.assertEqual(["DataCore", "LIO-ORG"],
                         [item["vendor"] for item in report["arrays"]])

    def test_no_daemon_runs_no_command(self):
        report = self.multipath()
        self.assertEqual((False, None, []),
                         (report["running"], report["pid"], report["arrays"]))
        self.assertEqual([], self.executor.calls)
        self.assertEqual(["warn", "-"],
                         [c["status"] for c in report["checks"]])
        self.assertIn("systemctl enable --now multipathd",
                      report["checks"][0]["detail"])

    def test_unreadable_configuration_is_a_warning(self):
        self.listening()
        self.executor.answer = client.CommandResult(1, "", "timeout\n")
        report = self.multipath()
        self.assertTrue(report["running"])
        self.assertEqual(("warn", "configuration"), (
            report["checks"][1]["status"], report["checks"][1]["check"]))
        self.assertIn("multipathd show config failed",
                      report["checks"][1]["detail"])
        self.assertEqual(True, self.report()["healthy"])


class TestPrivileges(DoctorTestCase):
    """The service user's state directory, lock files and privsep daemon."""

    def report(self, portal=None):
        manager = manager_mod.TransportManager(self.conf)
        return doctor.Doctor(manager, portal, privileges=True).report()

    def privileges(self):
        return {check["check"]: (check["status"], check["detail"])
                for check in self.report()["privileges"]}

    def setUp(self):
        super().setUp()
        self.iscsi_lock = os.path.join(self.lock_path, "lock-iscsi")
        self.iscsiadm = self.useFixture(test_openiscsi.FakeIscsiadm())
        self.iscsiadm.install(("/etc/iscsi/nodes", "/etc/iscsi/ifaces",
                               self.iscsi_lock + "/lock.write"))

    def test_not_checked_unless_asked(self):
        self.assertEqual([], super().report()["privileges"])

    def test_healthy_setup(self):
        path = os.path.join(self.lock_path, "state")
        os.makedirs(os.path.join(path, "locks"))
        os.chmod(path, 0o750)
        os.chown(path, 65534, 65534)
        os.chown(os.path.join(path, "locks"), 65534, 65534)
        self.assertEqual({
            "state dir": ("ok", "%s (uid 65534, gid 65534, mode 0750)" % path),
            "lock files": ("ok", "0 in %s/locks, all owned by uid 65534"
                           % path),
            "open-iscsi": ("ok", "iscsiadm 2.1.8 (%s/iscsiadm): records in "
                           "/etc/iscsi, lock in %s" % (self.iscsiadm.bin,
                                                      self.iscsi_lock)),
            "record lock": ("ok", "%s/lock.write is not taken"
                            % self.iscsi_lock),
            "privsep": ("ok", "started (test)")}, self.privileges())
        self.assertTrue(self.report()["healthy"])

    def test_unknown_records_directory_fails(self):
        self.iscsiadm.install(())
        self.assertEqual({"open-iscsi"}, {
            name for name in self.privileges() if "open" in name or
            "record" in name})
        status, detail = self.privileges()["open-iscsi"]
        self.assertEqual("FAIL", status)
        self.assertIn("names no records directory; set iscsi_db_root in "
                      "[iscsi_transports_privileged]", detail)
        self.assertFalse(self.report()["healthy"])

    def lock_check(self, version, age, *holders):
        os.makedirs(self.iscsi_lock, exist_ok=True)
        lock = os.path.join(self.iscsi_lock, "lock")
        with open(lock, "w"):
            pass
        os.link(lock, lock + ".write")
        for pid in holders:
            self.data.add_process(pid, "iscsiadm")
        build = openiscsi.Build("/usr/sbin/iscsiadm", "/etc/iscsi",
                                self.iscsi_lock, version)
        check = doctor.stale_lock_check(build, self.data.proc_root,
                                        lambda: time.time() + age)
        return check.status, check.detail

    def test_stale_lock_that_2_1_10_never_takes_over(self):
        status, detail = self.lock_check((2, 1, 11), 600)
        self.assertEqual("FAIL", status)
        for words in ("stale lock %s/lock.write" % self.iscsi_lock,
                      "taken 600 s ago", "its holder is gone",
                      "iscsiadm 2.1.11 fails with exit 6",
                      "check that no iscsiadm runs (pgrep -x iscsiadm), "
                      "then rm %s/lock.write" % self.iscsi_lock):
            self.assertIn(words, detail)

    def test_stale_lock_that_2_1_8_waits_for(self):
        status, detail = self.lock_check((2, 1, 8), 45)
        self.assertEqual("warn", status)
        self.assertIn("iscsiadm 2.1.8 waits 30 s for it on every record "
                      "access", detail)

    def test_a_lock_taken_now_is_no_problem(self):
        self.assertEqual("ok", self.lock_check((2, 1, 11), 3)[0])

    def test_a_lock_while_iscsiadm_runs_is_its(self):
        status, detail = self.lock_check((2, 1, 11), 600, 4242)
        self.assertEqual("ok", status)
        self.assertIn("iscsiadm runs: pid 4242", detail)

    def test_a_service_user_cannot_look(self):
        os.makedirs(self.iscsi_lock, mode=0o700)
        build = openiscsi.Build("/usr/sbin/iscsiadm", "/etc/iscsi",
                                self.iscsi_lock, (2, 1, 8))
        result = base.as_service_user(lambda: "|".join(
            doctor.stale_lock_check(build, self.data.proc_root)[1:]))
        self.assertIn("warn|", result)
        self.assertIn("run doctor as root to look for a stale lock", result)

    def test_state_dir_that_is_a_link_fails_as_an_attach_would(self):
        real = os.path.join(self.lock_path, "real")
        os.makedirs(os.path.join(real, "locks"))
        os.symlink(real, os.path.join(self.lock_path, "state"))
        status, detail = self.privileges()["state dir"]
        self.assertEqual("FAIL", status)
        self.assertIn("%s/state" % self.lock_path, detail)
        self.assertIn("symbolic link", detail)

    def test_linked_subdirectory_fails(self):
        path = os.path.join(self.lock_path, "state")
        os.makedirs(os.path.join(self.lock_path, "elsewhere"))
        os.makedirs(path)
        os.symlink(os.path.join(self.lock_path, "elsewhere"),
                   os.path.join(path, "ifaces"))
        status, detail = self.privileges()["state dir"]
        self.assertEqual("FAIL", status)
        self.assertIn("%s/ifaces" % path, detail)

    def test_state_dir_missing_but_creatable_by_its_parents_owner(self):
        os.chown(self.lock_path, 65534, 65534)
        status, detail = self.privileges()["state dir"]
        self.assertEqual("ok", status)
        self.assertIn("uid %d creates it in %s" % (os.geteuid(),
                                                   self.lock_path), detail)

    def test_state_dir_missing_and_not_creatable_by_this_user(self):
        # The parent belongs to another user than the one running doctor.
        os.chmod(self.lock_path, 0o755)
        os.chown(self.lock_path, 65533, 65533)
        path = os.path.join(self.lock_path, "state")
        def check() -> str:
            result = doctor.state_dir_check(path)
            return "%s|%s" % (result.status, result.detail)
        status, detail = base.as_service_user(check).split("|")
        self.assertEqual("FAIL", status)
        self.assertIn("uid 65534 cannot create it in %s" % self.lock_path,
                      detail)

    def test_state_dir_only_root_may_create(self):
        status, detail = self.privileges()["state dir"]
        self.assertEqual("warn", status)
        self.assertIn("install -d -o nova -g nova -m 0750 %s/state"
                      % self.lock_path, detail)

    def test_state_dir_without_parent(self):
        self.flags(state_path=os.path.join(self.lock_path, "no", "state"))
        self.assertEqual("FAIL", self.privileges()["state dir"][0])
        self.assertFalse(self.report()["healthy"])

    def test_state_dir_that_is_a_file(self):
        with open(os.path.join(self.lock_path, "state"), "w"):
            pass
        status, detail = self.privileges()["state dir"]
        self.assertEqual(("FAIL", True), (status, "not a directory" in detail))

    def test_state_dir_root_owned(self):
        os.makedirs(os.path.join(self.lock_path, "state"), mode=0o755)
        status, detail = self.privileges()["state dir"]
        self.assertEqual("warn", status)
        self.assertIn("only root can write in it", detail)

    def test_lock_file_left_by_another_user(self):
        locks = state.ensure(self.conf, "locks") + "/locks"
        for name in ("iface-a", "target-b"):
            with open(os.path.join(locks, state.LOCK_PREFIX + name), "w"):
                pass
        os.chown(os.path.join(locks, state.LOCK_PREFIX + "target-b"),
                 65534, 65534)
        status, detail = self.privileges()["lock files"]
        self.assertEqual("FAIL", status)
        self.assertIn("1 in %s not owned by its owner (uid 0), e.g. "
                      "iscsi_transports-target-b: chown --reference=%s"
                      % (locks, locks), detail)

    def test_privsep_that_cannot_start_warns_root(self):
        def probe(timeout):
            raise exception.PrivsepUnavailable(reason="exit 1")

        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.support.doctor.probe_privsep", probe))
        status, detail = self.privileges()["privsep"]
        self.assertEqual("warn" if os.geteuid() == 0 else "FAIL", status)
        self.assertIn("exit 1", detail)

    def test_the_real_daemon_starts_and_answers(self):
        root = self.useFixture(fixtures.TempDir()).path
        built = paths.Paths(iscsi_db=root, iscsi_etc=root)
        with open(built.initiator_name(), "w") as handle:
            handle.write("InitiatorName=iqn.2026-11.org.test:doctor\n")
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.paths.PATHS", built))
        self.useFixture(privsep_fixture.UnprivilegedPrivsepFixture(
            privileged.context, {}))
        self.assertEqual("started; it read the initiator name file "
                         "(iqn.2026-11.org.test:doctor)", PROBE_PRIVSEP(30))

    def test_a_daemon_that_does_not_answer_is_bounded(self):
        release = threading.Event()
        self.addCleanup(release.set)

        class Stuck:
            def read_initiator_file(self):
                release.wait(60)
                return ""

        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.client.executor",
            lambda in_process=None: Stuck()))
        error = self.assertRaises(exception.PrivsepUnavailable,
                                  PROBE_PRIVSEP, 0.2)
        self.assertIn("no answer within 0.2 seconds", str(error))


class TestIfaceDir(base.TestCase):
    """Where doctor and snapshot read iface records: open-iscsi's own
    directory unless configured (Debian 13 moved it to /var/lib/iscsi)."""

    def test_configured_directory_wins(self) -> None:
        self.flags(iface_dir="/srv/ifaces")
        self.assertEqual("/srv/ifaces", doctor.iface_dir(self.conf))

    def test_unset_follows_the_records_directory(self) -> None:
        root = self.conf.iscsi_transports.iscsi_db_path
        self.assertEqual(os.path.join(root, "ifaces"),
                         doctor.iface_dir(self.conf))


class TestLeftovers(DoctorTestCase):
    """Failed volumes are a warning that names them and where to look."""

    def leftovers(self):
        return next((c["status"], c["detail"]) for c in
                    self.report()["basics"] if c["check"] == "leftovers")

    def test_none(self):
        tree = kernel_tree.IscsiTree(self.sysfs, self.lock_path)
        tree.add_session(1, "iqn.2003-01.org.lab:ok")
        tree.add_disk(1, 1, "sdb")
        self.assertEqual("ok", self.leftovers()[0])

    def test_failed_session_gone_lun_and_dead_map(self):
        tree = kernel_tree.IscsiTree(self.sysfs, self.lock_path)
        tree.add_session(1, "iqn.2003-01.org.lab:a",
                         session_attrs={"state": "FAILED"})
        tree.add_disk(1, 1, "sdb")
        tree.add_session(2, "iqn.2003-01.org.lab:b")
        tree.add_disk(2, 1, "sdc", sectors=0)
        tree.add_dm("dm-0", "mpatha", "mpath-3600")
        report = self.report()
        status, detail = next((c["status"], c["detail"]) for c in
                              report["basics"] if c["check"] == "leftovers")
        self.assertEqual(("warn", "3 volumes left failed: dm-0 (failed), "
                          "sdb (failed), sdc (lun-gone); see "
                          "iscsi-transports volumes"), (status, detail))
        # A warning: the host still attaches.
        self.assertTrue(report["healthy"])
