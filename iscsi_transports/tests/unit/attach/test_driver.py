"""ISCSIDriver decisions with a fake manager and a scripted iscsiadm."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import driver
from iscsi_transports.attach import fallback
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_execute
from iscsi_transports.tests.unit import fake_manager

IQN = "iqn.2010-10.org.openstack:volume-1"
IQN2 = "iqn.2010-10.org.openstack:volume-2"
PORTAL = "10.0.0.1:3260"
PORTAL2 = "10.0.0.2:3260"
OFFLOAD_IFACE = "cxgb4i." + fake_manager.MAC
SECRET = "Ch4pS3cret!"


class DriverTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.lock_path, device_dir=self.dev,
                   device_scan_attempts=3, device_scan_interval=0.5)
        self.execute = fake_execute.FakeExecute()
        self.sleeps: list[float] = []
        self.manager = fake_manager.FakeManager(self.conf)
        self.driver = driver.ISCSIDriver(self.conf, manager=self.manager,
                                         execute=self.execute,
                                         sleep=self.sleeps.append)
        self.execute.on("session", exit_code=21)
        self.execute.on("iface", "show", exit_code=6)

    def disk(self, portal: str = PORTAL, iqn: str = IQN, lun: int = 1,
             pci: str | None = None) -> str:
        name = "ip-%s-iscsi-%s-lun-%d" % (portal, iqn, lun)
        if pci:
            name = "pci-%s-%s" % (pci, name)
        path = os.path.join(self.dev, name)
        open(path, "w").close()
        return path

    def iface_args(self) -> list[str]:
        return [cmd[cmd.index("-I") + 1] for cmd in self.execute.calls
                if "-I" in cmd and "iface" not in cmd]


class TestBudgetAndPaths(DriverTestCase):
    def test_fresh_tcp_attach_is_three_processes(self) -> None:
        self.manager.offload = False
        path = self.disk()
        info = self.driver.connect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1})
        self.assertEqual(path, info["path"])
        self.assertEqual(3, len(self.execute.calls))
        self.assertEqual(["session"], self.execute.calls[0][-1:])
        self.assertEqual(["-o", "new"], self.execute.calls[1][-2:])
        self.assertEqual("--login", self.execute.calls[2][-1])
        self.assertEqual(["default", "default"], self.iface_args())
        self.assertEqual(("tcp", "default", False),
                         (info["transport"], info["iface"], info["fallback"]))

    def test_existing_session_skips_login(self) -> None:
        self.manager.offload = False
        self.execute.rules.insert(0, fake_execute.Rule(
            ("session",), "tcp: [1] %s,1 %s (non-flash)\n" % (PORTAL, IQN)))
        self.disk()
        self.driver.connect_volume({"target_portal": PORTAL,
                                    "target_iqn": IQN, "target_lun": 1})
        self.assertEqual(1, len(self.execute.calls))

    def test_session_chap_in_one_update_never_logged(self) -> None:
        self.manager.offload = False
        self.disk()
        self.driver.connect_volume({
            "target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1,
            "auth_method": "CHAP", "auth_username": "u",
            "auth_password": SECRET, "auth_username_in": "ui",
            "auth_password_in": SECRET + "in"})
        (update,) = self.execute.commands("-o", "update")
        self.assertIn("node.session.auth.password_in", update)
        self.assertIn(SECRET, update)
        self.assertNotIn(SECRET, self.log.output)

    def test_offload_path_and_iface_record(self) -> None:
        path = self.disk(pci=fake_manager.PCI)
        self.disk()
        info = self.driver.connect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1})
        self.assertEqual(path, info["path"])
        self.assertEqual(1, len(self.execute.commands("iface", "-o", "new")))
        self.assertEqual({OFFLOAD_IFACE}, set(self.iface_args()))
        self.assertFalse(info["fallback"])

    def test_iface_is_ensured_once_per_driver(self) -> None:
        self.disk(pci=fake_manager.PCI)
        props = {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1}
        self.driver.connect_volume(props)
        self.driver.connect_volume(props)
        self.assertEqual(1, len(self.execute.commands("iface", "show")))

    def test_multipath_one_path_failing(self) -> None:
        self.manager.offload = False
        self.execute.on(PORTAL2, "--login", exit_code=8)
        self.disk(lun=1)
        info = self.driver.connect_volume(
            {"target_portals": [PORTAL, PORTAL2],
             "target_iqns": [IQN, IQN2], "target_luns": [1, 2]})
        self.assertEqual(1, len(info["paths"]))
        self.assertEqual(2, len(self.execute.commands("--login")))

    def test_device_never_appears(self) -> None:
        self.manager.offload = False
        error = self.assertRaises(
            exception.VolumeDeviceNotFound, self.driver.connect_volume,
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1})
        self.assertIn(IQN, str(error))
        self.assertEqual([0.5, 0.5], self.sleeps)

    def test_bad_properties(self) -> None:
        for props in ({}, {"target_portal": "x y", "target_iqn": IQN},
                      {"target_portal": PORTAL, "target_iqn": "-o"},
                      {"target_portal": PORTAL, "target_iqn": IQN,
                       "target_lun": -1},
                      {"target_portals": [PORTAL], "target_iqns": [IQN, IQN2],
                       "target_luns": [1]},
                      {"target_portal": PORTAL, "target_iqn": IQN,
                       "auth_method": "KRB5"}):
            self.assertRaises(exception.InvalidConnectionProperties,
                              self.driver.connect_volume, props)
        self.assertEqual([], self.execute.calls)


class TestFallback(DriverTestCase):
    props = {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1}

    def test_transport_not_loaded_falls_back_once(self) -> None:
        self.execute.on(OFFLOAD_IFACE, "--login", exit_code=12)
        self.disk()
        info = self.driver.connect_volume(self.props)
        self.assertTrue(info["fallback"])
        self.assertEqual("default", info["iface"])
        self.assertIn("exit code 12", info["reason"])
        self.assertEqual([OFFLOAD_IFACE, "default"],
                         [c[c.index("-I") + 1] for c in
                          self.execute.commands("--login")])

    def test_iface_that_cannot_be_created_falls_back(self) -> None:
        self.execute.on("iface", "iface.hwaddress", exit_code=7,
                        stderr="Cound not locate transport for iface")
        self.disk()
        info = self.driver.connect_volume(self.props)
        self.assertTrue(info["fallback"])
        self.assertIn("Cound not locate transport", info["reason"])
        self.assertEqual([], self.execute.commands(OFFLOAD_IFACE, "--login"))

    def test_foreign_conflicting_iface_falls_back(self) -> None:
        self.execute.rules.insert(0, fake_execute.Rule(
            ("iface", "show"), "iface.iscsi_ifacename = %s\n"
            "iface.transport_name = cxgb4i\niface.hwaddress = "
            "00:07:43:05:97:08\n" % OFFLOAD_IFACE))
        self.disk()
        info = self.driver.connect_volume(self.props)
        self.assertTrue(info["fallback"])
        self.assertIn("not created by iscsi-transports", info["reason"])
        self.assertEqual([], self.execute.commands("iface", "-o", "update"))

    def test_auth_failure_does_not_fall_back(self) -> None:
        self.execute.on("--login", exit_code=24)
        self.assertRaises(exception.AuthenticationFailed,
                          self.driver.connect_volume, self.props)
        self.assertNotIn("default", self.iface_args())
        self.assertEqual([], self.manager.fallback_reasons)

    def test_fatal_login_does_not_fall_back(self) -> None:
        self.execute.on("--login", exit_code=19)
        self.assertRaises(exception.TargetError, self.driver.connect_volume,
                          self.props)
        self.assertNotIn("default", self.iface_args())

    def test_fallback_disabled(self) -> None:
        self.flags(fallback_to_tcp=False)
        self.execute.on("--login", exit_code=12)
        self.assertRaises(exception.TransportNotLoaded,
                          self.driver.connect_volume, self.props)
        self.assertNotIn("default", self.iface_args())

    def test_no_fallback_from_default_itself(self) -> None:
        self.manager.offload = False
        self.execute.on("--login", exit_code=12)
        self.assertRaises(exception.TransportNotLoaded,
                          self.driver.connect_volume, self.props)
        self.assertEqual(1, len(self.execute.commands("--login")))

    def test_classification(self) -> None:
        argv = ["iscsiadm"]
        dropped = exception.NoObjectsFound(
            argv, 21, "Could not load transport cxgb4i.Dropping interface")
        self.assertTrue(fallback.is_transport_error(dropped))
        self.assertFalse(fallback.is_transport_error(
            exception.NoObjectsFound(argv, 21, "No records found")))
        self.assertTrue(fallback.is_transport_error(
            exception.TransportCapabilityError(argv, 14)))
        self.assertFalse(fallback.is_transport_error(
            exception.IscsiadmTimeout(argv, 5)))


class TestDiscoveryAndIser(DriverTestCase):
    def test_unknown_iqn_discovers_with_chap_through_iface(self) -> None:
        self.manager.offload = False
        self.execute.on("--discover", stdout="%s,1 %s\n" % (PORTAL, IQN))
        self.disk(lun=3)
        info = self.driver.connect_volume({
            "target_portal": PORTAL, "target_lun": 3,
            "discovery_auth_method": "CHAP",
            "discovery_auth_username": "d", "discovery_auth_password": SECRET})
        self.assertEqual(IQN, info["targets"][0]["iqn"])
        self.assertEqual(3, len(self.execute.commands("discoverydb")))
        self.assertEqual({"default"}, set(self.iface_args()))

    def test_iser_volume_uses_iser_iface(self) -> None:
        self.manager.iser_usable = True
        self.disk()
        info = self.driver.connect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1},
            volume_type="iser")
        self.assertEqual(("iser", "iser"), (info["transport"], info["iface"]))
        self.assertEqual({"iser"}, set(self.iface_args()))

    def test_iser_unusable_falls_back_with_reason(self) -> None:
        self.disk()
        info = self.driver.connect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1},
            volume_type="iser")
        self.assertEqual("default", info["iface"])
        self.assertEqual(["no RDMA device"], self.manager.fallback_reasons)


class TestDisconnect(DriverTestCase):
    def test_only_our_iface_is_touched(self) -> None:
        self.driver.disconnect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1},
            {"iface": OFFLOAD_IFACE})
        self.assertEqual(2, len(self.execute.calls))
        self.assertEqual([OFFLOAD_IFACE, OFFLOAD_IFACE], self.iface_args())
        self.assertEqual("--logout", self.execute.calls[0][-1])

    def test_without_device_info_tries_active_and_default(self) -> None:
        self.driver.disconnect_volume(
            {"target_portals": [PORTAL, PORTAL2], "target_iqns": [IQN, IQN2],
             "target_luns": [1, 1]})
        self.assertEqual([OFFLOAD_IFACE, "default"],
                         [c[c.index("-I") + 1] for c in
                          self.execute.commands(PORTAL, "--logout")])
        self.assertEqual(8, len(self.execute.calls))


class TestRemoveDevices(DriverTestCase):
    props = {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1}

    def link(self, kernel_name: str, lun: int = 1,
             pci: str | None = None) -> str:
        """A by-path link to ``kernel_name`` as udev makes it."""
        name = "ip-%s-iscsi-%s-lun-%d" % (PORTAL, IQN, lun)
        if pci:
            name = "pci-%s-%s" % (pci, name)
        path = os.path.join(self.dev, name)
        os.symlink("../../" + kernel_name, path)
        return path

    @staticmethod
    def deleted(delete: str) -> bool:
        with open(delete, encoding="ascii") as handle:
            return handle.read().strip() == "1"

    def test_flushed_and_deleted_before_logout(self) -> None:
        delete = self.sysfs.add_scsi_disk("sdb")
        link = self.link("sdb")
        seen: list[tuple[str, bool]] = []
        self.execute.observers.append(
            lambda cmd: seen.append((cmd[-1], self.deleted(delete))))
        self.driver.disconnect_volume(self.props, {"iface": OFFLOAD_IFACE,
                                                   "path": link})
        self.assertEqual(["blockdev", "--flushbufs", "/dev/sdb"],
                         self.execute.calls[0])
        self.assertEqual([("/dev/sdb", False), ("--logout", True),
                          ("delete", True)], seen)

    def test_offload_link_without_device_info(self) -> None:
        delete = self.sysfs.add_scsi_disk("sdc")
        self.link("sdc", pci=fake_manager.PCI)
        self.driver.disconnect_volume(self.props)
        self.assertTrue(self.deleted(delete))
        self.assertEqual(1, len(self.execute.commands("blockdev")))

    def test_missing_link_or_device_is_already_gone(self) -> None:
        self.driver.disconnect_volume(self.props, {"iface": OFFLOAD_IFACE})
        self.link("sdd")  # a link whose disk sysfs no longer has
        self.driver.disconnect_volume(self.props, {"iface": OFFLOAD_IFACE})
        self.assertEqual([], self.execute.commands("blockdev"))
        self.assertEqual(2, len(self.execute.commands("--logout")))

    def test_held_device_is_kept_and_logged(self) -> None:
        delete = self.sysfs.add_scsi_disk("sdb", holders=("dm-0",))
        self.link("sdb")
        self.driver.disconnect_volume(self.props, {"iface": OFFLOAD_IFACE})
        self.assertFalse(self.deleted(delete))
        self.assertEqual([], self.execute.commands("blockdev"))
        self.assertIn("Not deleting sdb", self.log.output)
        self.assertIn("held by dm-0", self.log.output)
        self.assertEqual(1, len(self.execute.commands("--logout")))

    def test_other_luns_of_the_target_untouched(self) -> None:
        ours = self.sysfs.add_scsi_disk("sdb", hctl="2:0:0:1")
        other = self.sysfs.add_scsi_disk("sdc", hctl="2:0:0:2")
        ours_link = self.link("sdb")
        info = {"iface": OFFLOAD_IFACE, "path": ours_link,
                "paths": [ours_link, self.link("sdc", lun=12)]}
        self.link("sdc", lun=11)
        self.driver.disconnect_volume(self.props, info)
        self.assertTrue(self.deleted(ours))
        self.assertFalse(self.deleted(other))
        self.assertEqual([["blockdev", "--flushbufs", "/dev/sdb"]],
                         self.execute.commands("blockdev"))

    def test_option_off_removes_nothing(self) -> None:
        self.flags(remove_devices_on_disconnect=False)
        delete = self.sysfs.add_scsi_disk("sdb")
        self.link("sdb")
        self.driver.disconnect_volume(self.props, {"iface": OFFLOAD_IFACE})
        self.assertFalse(self.deleted(delete))
        self.assertEqual(["--logout", "delete"],
                         [cmd[-1] for cmd in self.execute.calls])

    def test_failed_flush_keeps_disk_and_session(self) -> None:
        self.execute.on("blockdev", exit_code=1, stderr="I/O error")
        delete = self.sysfs.add_scsi_disk("sdb")
        self.link("sdb")
        error = self.assertRaises(
            exception.CommandFailed, self.driver.disconnect_volume,
            self.props, {"iface": OFFLOAD_IFACE})
        self.assertIn("exit code 1: I/O error", str(error))
        self.assertFalse(self.deleted(delete))
        self.assertEqual([], self.execute.commands("--logout"))

    def test_forced_detach_logs_out_past_a_failed_flush(self) -> None:
        self.execute.on("blockdev", exit_code=1, stderr="I/O error")
        delete = self.sysfs.add_scsi_disk("sdb")
        self.link("sdb")
        self.driver.disconnect_volume(self.props, {"iface": OFFLOAD_IFACE},
                                      force=True)
        self.assertFalse(self.deleted(delete))
        (logout,) = self.execute.commands("--logout")
        self.assertEqual(OFFLOAD_IFACE, logout[logout.index("-I") + 1])
        self.assertIn("Forced detach: leaving sdb", self.log.output)


class FlaggedOffload(fake_manager.FakeOffload):
    """A vendor plugin whose card wants one more iscsiadm flag on every
    command through its iface."""

    def iscsiadm_args(self, iface_name: str) -> list[str]:
        return [*super().iscsiadm_args(iface_name), "--vendor-flag"]


class TestTransportIscsiadmArgs(DriverTestCase):
    """Every command through an iface takes its iface arguments from the
    transport (Transport.iscsiadm_args), never a hard-coded ``-I``."""

    def setUp(self) -> None:
        super().setUp()
        self.manager.transports["cxgb4i"] = FlaggedOffload(self.conf)

    def through_iface(self) -> list[list[str]]:
        return [cmd for cmd in self.execute.calls
                if "-I" in cmd and "iface" not in cmd]

    def test_attach_commands_carry_the_plugin_flag(self) -> None:
        self.execute.on("--discover", stdout="%s,1 %s\n" % (PORTAL, IQN))
        self.disk(pci=fake_manager.PCI)
        info = self.driver.connect_volume(
            {"target_portal": PORTAL, "target_lun": 1,
             "discovery_auth_method": "CHAP",
             "discovery_auth_username": "u",
             "discovery_auth_password": SECRET})
        commands = self.through_iface()
        self.assertEqual(
            ["discoverydb", "discoverydb", "discoverydb", "node", "node"],
            [cmd[cmd.index("-m") + 1] for cmd in commands])
        for cmd in commands:
            self.assertEqual(["-I", OFFLOAD_IFACE, "--vendor-flag"],
                             cmd[cmd.index("-I"):cmd.index("-I") + 3], cmd)
        self.assertEqual("cxgb4i", info["targets"][0]["transport"])

    def test_detach_uses_the_recorded_transports_flag(self) -> None:
        self.driver.disconnect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1},
            {"transport": "cxgb4i", "iface": OFFLOAD_IFACE})
        self.assertEqual(2, len(self.through_iface()))
        for cmd in self.through_iface():
            self.assertIn("--vendor-flag", cmd)

    def test_detach_after_the_plugin_is_gone_still_logs_out(self) -> None:
        del self.manager.transports["cxgb4i"]
        self.driver.disconnect_volume(
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1},
            {"transport": "cxgb4i", "iface": OFFLOAD_IFACE})
        self.assertEqual(
            [["-I", OFFLOAD_IFACE, "--logout"]],
            [cmd[-3:] for cmd in self.execute.commands("--logout")])

    def test_arguments_without_an_iface_are_refused(self) -> None:
        class Unbound(fake_manager.FakeOffload):
            def iscsiadm_args(self, iface_name: str) -> list[str]:
                return ["--vendor-flag"]

        self.manager.transports["cxgb4i"] = Unbound(self.conf)
        self.flags(fallback_to_tcp=False)
        self.disk(pci=fake_manager.PCI)
        error = self.assertRaises(
            exception.InvalidInput, self.driver.connect_volume,
            {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1})
        self.assertIn("exactly one iface", str(error))
        self.assertEqual([], self.execute.commands("--login"))


class TestDiscoveryFindingNothing(DriverTestCase):
    def test_is_a_typed_error_not_an_index_error(self) -> None:
        self.manager.offload = False
        error = self.assertRaises(
            exception.VolumeAttachFailed, self.driver.connect_volume,
            {"target_portal": PORTAL, "target_lun": 1})
        self.assertIn("found no targets", str(error))
        self.assertEqual([], self.execute.commands("--login"))


class TestDiscover(DriverTestCase):
    def test_discover_falls_back_and_reports(self) -> None:
        self.execute.on("iface", "iface.hwaddress", exit_code=7)
        self.execute.on("discovery", stdout="%s,1 %s\n" % (PORTAL, IQN))
        result = self.driver.discover(PORTAL)
        self.assertEqual([{"portal": PORTAL, "tpgt": 1, "target": IQN}],
                         result["targets"])
        self.assertTrue(result["fallback"])
        self.assertEqual("default", result["iface"])
        (discovery,) = self.execute.commands("discovery")
        self.assertEqual("default", discovery[discovery.index("-I") + 1])


class TestPerPortalSelection(DriverTestCase):
    props = {"target_portals": [PORTAL, PORTAL2],
             "target_iqns": [IQN, IQN2], "target_luns": [1, 1]}

    def test_each_portal_gets_its_own_iface(self) -> None:
        self.manager.tcp_portals = {PORTAL2}
        self.disk(pci=fake_manager.PCI)
        self.disk(portal=PORTAL2, iqn=IQN2)
        info = self.driver.connect_volume(self.props)
        self.assertEqual([PORTAL, PORTAL2], self.manager.portals)
        self.assertEqual({(PORTAL, OFFLOAD_IFACE), (PORTAL2, "default")},
                         {(t["portal"], t["iface"]) for t in info["targets"]})
        self.assertEqual(2, len(info["paths"]))
        self.execute.calls.clear()
        self.driver.disconnect_volume(self.props, info)
        self.assertEqual([OFFLOAD_IFACE, "default"],
                         [c[c.index("-I") + 1] for c in
                          self.execute.commands("--logout")])

    def test_one_group_failing_keeps_the_other(self) -> None:
        self.manager.tcp_portals = {PORTAL2}
        self.execute.on(OFFLOAD_IFACE, "--login", exit_code=24)
        self.disk(portal=PORTAL2, iqn=IQN2)
        info = self.driver.connect_volume(self.props)
        self.assertEqual(["default"], [t["iface"] for t in info["targets"]])


class TestLazyManager(base.TestCase):
    def test_concurrent_first_attaches_build_one_manager(self) -> None:
        import threading
        import time

        built = []

        class SlowManager:
            def __init__(self, conf: object) -> None:
                time.sleep(0.05)  # widen the window a race would need
                built.append(self)

        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.selection.manager.TransportManager", SlowManager))
        iscsi = driver.ISCSIDriver(self.conf)
        seen = []
        threads = [threading.Thread(target=lambda: seen.append(iscsi.manager))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(1, len(built))
        self.assertEqual({id(built[0])}, {id(m) for m in seen})
