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

"""ISCSIDriver decisions on a built sysfs tree, with a scripted iscsiadm.

:class:`~iscsi_transports.tests.unit.attach.fake_kernel.FakeKernel` plays
iscsid and the kernel: logins add sessions to the tree, scans of mapped
LUNs add disks, deletes remove them.  Every rule of the attach lifecycle
is checked on what the tree holds afterwards, and on the iscsiadm
commands and root writes made.
"""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports.attach import disks
from iscsi_transports.attach import driver
from iscsi_transports.attach import fallback
from iscsi_transports.attach import multipath
from iscsi_transports.attach import sysfs
from iscsi_transports.iscsiadm import errors
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit import fake_manager
from iscsi_transports.tests.unit.attach import fake_kernel
from iscsi_transports.tests.unit.attach import kernel_tree

IQN = "iqn.2010-10.org.openstack:volume-1"
IQN2 = "iqn.2010-10.org.openstack:volume-2"
PORTAL = "10.0.0.1:3260"
PORTAL2 = "10.0.0.2:3260"
OFFLOAD_IFACE = "cxgb4i." + fake_manager.MAC
SECRET = "Ch4pS3cret!"
PROPS = {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1}


def by_path(portal: str, iqn: str, lun: str) -> str:
    """udev's by-path link, spelled the way udev writes it."""
    return "disk/by-path/ip-%s-iscsi-%s-%s" % (portal, iqn, lun)


class DriverTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.lock_path, device_scan_attempts=3,
                   device_scan_interval=0.5)
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.scripted = fake_executor.ScriptedExecutor()
        self.kernel = fake_kernel.FakeKernel(self.tree, self.scripted)
        self.clock = fake_kernel.Clock()
        # multipathd as find_multipaths strict runs it: a map only when
        # told, so single-path volumes stay plain disks.
        self.multipathd = fake_kernel.FakeMultipathd(
            self.kernel, self.useFixture(fixtures.TempDir()).path,
            auto=False)
        self.manager = fake_manager.FakeManager(self.conf, offload=False)
        self.initiator_file = os.path.join(self.dev, "initiatorname.iscsi")
        with open(self.initiator_file, "w") as handle:
            handle.write("## a comment\nInitiatorName=iqn.1993-08.org."
                         "debian:01:host\n")
        self.driver = driver.ISCSIDriver(
            self.conf, manager=self.manager, executor=self.kernel,
            sleep=self.clock.sleep,
            clock=self.clock.time, dev_root=self.dev,
            initiator_file=self.initiator_file,
            maps=multipath.Multipath(
                self.conf, sysfs.Sysfs(self.sysfs.root, self.dev),
                self.multipathd, proc_root=self.multipathd.proc_root,
                clock=self.clock.time, sleep=self.clock.sleep))
        self.scripted.on("iface", "show", exit_code=6)

    def map(self, lun: int = 1, name: str = "sdb", iqn: str = IQN,
            portal: str = PORTAL, link: str | None = None,
            **kwargs: object) -> str:
        """Map a LUN with udev's link; the link's full path."""
        link = link or by_path(portal, iqn, "lun-%d" % lun)
        self.kernel.map(iqn, lun, name, links=(link,), **kwargs)
        return os.path.join(self.dev, link)

    def iscsiadm(self) -> list[list[str]]:
        return [cmd[1:] for cmd in self.scripted.argvs]

    def sessions(self) -> list[tuple[str, str | None]]:
        return [(s.target, s.iface) for s in self.driver.view.sessions()]


class TestAttach(DriverTestCase):
    def test_fresh_attach_is_two_processes_and_one_lun_scan(self) -> None:
        link = self.map()
        info = self.driver.connect_volume(PROPS)
        self.assertEqual(link, info["path"])
        self.assertEqual(["new", "--login"],
                         [_action(cmd) for cmd in self.iscsiadm()])
        self.assertEqual([(11, "0 0 1")], self.kernel.written("scan"))
        self.assertEqual("3" + "6001405%025x" % 1, info["scsi_wwn"])
        self.assertEqual(("tcp", "default", False),
                         (info["transport"], info["iface"], info["fallback"]))
        self.assertEqual("11:0:0:1", info["targets"][0]["hctl"])

    def test_our_node_records_scan_manually_start_manually(self) -> None:
        self.map()
        self.driver.connect_volume(PROPS)
        ((_target, _portal, _iface, pairs),) = self.scripted.written()
        self.assertEqual({"node.session.scan": "manual",
                          "node.startup": "manual",
                          "node.conn[0].timeo.login_timeout": "15",
                          "node.session.initial_login_retry_max": "4"},
                         pairs)

    def test_chap_goes_in_the_same_record_write_and_never_logged(
            self) -> None:
        self.map()
        self.driver.connect_volume(dict(
            PROPS, auth_method="CHAP", auth_username="u",
            auth_password=SECRET, auth_username_in="ui",
            auth_password_in=SECRET + "in"))
        self.assertEqual(2, len(self.scripted.argvs))
        ((_target, _portal, _iface, settings),) = self.scripted.written()
        assert isinstance(settings, dict)
        self.assertEqual(SECRET + "in",
                         settings["node.session.auth.password_in"])
        self.assertIn("node.session.scan", settings)
        self.assertNotIn(SECRET, self.log.output)
        self.assertNotIn(SECRET, str(self.scripted.argvs))

    def test_login_may_outlast_the_login_window_of_our_records(self) -> None:
        self.map()
        self.flags(node_login_retries=8, iscsiadm_timeout=120)
        self.driver.connect_volume(PROPS)
        timeouts = [call[2] for call in self.scripted.calls
                    if call[0] == "iscsiadm"]
        self.assertEqual([120, 15 * 8 + driver.LOGIN_MARGIN], timeouts)

    def test_existing_session_gets_the_new_lun_scanned_without_iscsiadm(
            self) -> None:
        self.kernel.login(IQN, PORTAL, "default")
        self.tree.add_disk(1, 1, "sdb")
        link = self.map(lun=2, name="sdc")
        info = self.driver.connect_volume(dict(PROPS, target_lun=2))
        self.assertEqual([], self.scripted.argvs)
        self.assertEqual([(11, "0 0 2")], self.kernel.written("scan"))
        self.assertEqual(link, info["path"])

    def test_session_of_another_iface_or_portal_is_not_reused(self) -> None:
        self.kernel.login(IQN, PORTAL, "lab0")
        self.kernel.login(IQN, PORTAL2, "default")
        self.map()
        self.driver.connect_volume(PROPS)
        self.assertEqual(1, len(self.scripted.commands("--login")))
        self.assertIn((IQN, "default"), self.sessions())
        self.assertEqual(3, len(self.sessions()))

    def test_odd_sessions_in_sysfs_do_not_fail_an_attach(self) -> None:
        self.tree.add_session(7, "(null)", address=None)
        self.tree.add_session(8, IQN, address="::ffff:10.0.0.9")
        self.tree.add_session(9, IQN, session_attrs={"targetname": None})
        self.map()
        self.assertEqual(os.path.join(self.dev, by_path(PORTAL, IQN, "lun-1")),
                         self.driver.connect_volume(PROPS)["path"])

    def test_disk_without_udev_link_is_returned_as_dev_sdx(self) -> None:
        self.kernel.map(IQN, 1, "sdb")
        info = self.driver.connect_volume(PROPS)
        self.assertEqual(os.path.join(self.dev, "sdb"), info["path"])
        # The link is waited for until the budget (3 x 0.5 s) ends.
        self.assertAlmostEqual(1.5, sum(self.clock.sleeps))
        self.assertIn("udev made no by-path link to sdb", self.log.output)

    def test_a_link_udev_makes_late_is_waited_for(self) -> None:
        self.kernel.map(IQN, 1, "sdb")
        link = by_path(PORTAL, IQN, "lun-1")
        sleep = self.clock.sleep

        def udev_after_three_pauses(seconds: float) -> None:
            sleep(seconds)
            if len(self.clock.sleeps) == 3:
                self.tree.add_dev("sdb", (link,))

        self.clock.sleep = udev_after_three_pauses  # type: ignore[method-assign]
        self.driver._sleep = udev_after_three_pauses
        info = self.driver.connect_volume(PROPS)
        self.assertEqual(os.path.join(self.dev, link), info["path"])

    def test_by_path_is_waited_for_when_by_id_came_first(self) -> None:
        by_id = "disk/by-id/wwn-0x6001405" + "%025x" % 1
        self.kernel.map(IQN, 1, "sdb", links=(by_id,))
        link = by_path(PORTAL, IQN, "lun-1")
        sleep = self.clock.sleep

        def udev_after_two_pauses(seconds: float) -> None:
            sleep(seconds)
            if len(self.clock.sleeps) == 2:
                os.makedirs(os.path.join(self.dev, "disk", "by-path"))
                os.symlink("../../sdb", os.path.join(self.dev, link))

        self.driver._sleep = udev_after_two_pauses
        info = self.driver.connect_volume(PROPS)
        self.assertEqual(os.path.join(self.dev, link), info["path"])

    def test_lun_above_255_sam(self) -> None:
        link = self.map(lun=300, link=by_path(PORTAL, IQN,
                                              "lun-0x012c000000000000"))
        info = self.driver.connect_volume(dict(PROPS, target_lun=300))
        self.assertEqual([(11, "0 0 300")], self.kernel.written("scan"))
        self.assertEqual(link, info["path"])

    def test_addressing_mode_sam2_scans_the_flat_lun(self) -> None:
        self.kernel.map(IQN, 16384 + 300, "sdb")
        self.driver.connect_volume(dict(PROPS, target_lun=300,
                                        addressing_mode="SAM2"))
        self.assertEqual([(11, "0 0 16684")], self.kernel.written("scan"))

    def test_bad_addressing_mode_fails_before_anything_runs(self) -> None:
        self.assertRaises(exception.InvalidConnectionProperties,
                          self.driver.connect_volume,
                          dict(PROPS, addressing_mode="SAM9"))
        self.assertRaises(exception.InvalidConnectionProperties,
                          self.driver.connect_volume,
                          dict(PROPS, target_lun=20000,
                               addressing_mode="SAM3-flat"))
        self.assertEqual([], self.scripted.argvs)

    def test_ipv6_portal_link_has_no_brackets(self) -> None:
        link = self.map(portal="::1:3260", link="disk/by-path/ip-::1:3260-"
                        "iscsi-%s-lun-1" % IQN)
        info = self.driver.connect_volume(dict(PROPS,
                                               target_portal="[::1]:3260"))
        self.assertEqual(link, info["path"])

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
        self.assertEqual([], self.scripted.argvs)


class TestDefaultPath(DriverTestCase):
    """Through the root operations: two iscsiadm processes per attach, the
    settings written into the record by the daemon."""

    def setUp(self) -> None:
        super().setUp()
        self.root_ops = self.scripted

    def names(self) -> list[str]:
        """Each operation the script answered, an iscsiadm one by its
        action (the kernel writes are the stand-in kernel's)."""
        return [_action(call[1]) if call[0] == "iscsiadm" else str(call[0])
                for call in self.root_ops.calls]

    def settings(self) -> list[tuple[object, ...]]:
        return [call for call in self.root_ops.calls
                if call[0] == "write_node_settings"]

    def test_attach_is_two_processes_with_or_without_chap(self) -> None:
        for lun, chap in ((1, {}), (2, {"auth_method": "CHAP",
                                        "auth_username": "u",
                                        "auth_password": SECRET})):
            self.map(lun=lun, name="sd" + "xb"[lun - 1], iqn=IQN + str(lun))
            self.root_ops.calls.clear()
            self.driver.connect_volume(dict(PROPS, target_iqn=IQN + str(lun),
                                            target_lun=lun, **chap))
            self.assertEqual(["read_node_layout", "new",
                              "write_node_settings", "--login"],
                             self.names())
            ((_name, target, portal, iface, written),) = self.settings()
            self.assertEqual((IQN + str(lun), PORTAL, "default"),
                             (target, portal, iface))
            self.assertEqual(
                {"node.session.scan": "manual", "node.startup": "manual",
                 "node.conn[0].timeo.login_timeout": "15",
                 "node.session.initial_login_retry_max": "4",
                 **({"node.session.auth.authmethod": "CHAP",
                     "node.session.auth.username": "u",
                     "node.session.auth.password": SECRET} if chap else {})},
                written)
        self.assertNotIn(SECRET, self.log.output)

    def test_settings_go_to_the_record_of_the_portal_group(self) -> None:
        self.root_ops.layout = ([7], None)
        self.map()
        self.driver.connect_volume(PROPS)
        ((_name, _target, portal, _iface, _written),) = self.settings()
        self.assertEqual(PORTAL + ",7", portal)

    def test_detach_writes_manual_startup_then_two_processes(self) -> None:
        self.map()
        info = self.driver.connect_volume(PROPS)
        self.root_ops.calls.clear()
        # The session's portal group (1 in the built tree) names the
        # record when the target's records are kept per iface.
        self.root_ops.layout = ([1, 2], None)
        self.driver.disconnect_volume(PROPS, info)
        self.assertEqual(["read_node_layout", "write_node_settings",
                          "--logout", "delete"], self.names())
        self.assertEqual([("write_node_settings", IQN, PORTAL + ",1",
                           "default", {"node.startup": "manual"})],
                         self.settings())
        # A single-file record: the bare portal.
        props = dict(PROPS, target_iqn=IQN2)
        self.map(name="sdc", iqn=IQN2)
        self.root_ops.layout = ([], None)
        info = self.driver.connect_volume(props)
        self.root_ops.calls.clear()
        self.root_ops.layout = ([], "default")
        self.driver.disconnect_volume(props, info)
        self.assertEqual(PORTAL, self.settings()[0][2])

    def test_a_session_whose_record_is_gone_is_logged_out(self) -> None:
        # An operator or a tool removed the record's files under a live
        # session (/etc/iscsi/nodes): plain and forced detaches
        # delete the disk, log out and accept that no record is left.
        for lun, force in ((1, False), (2, True)):
            self.map(lun=lun, name="sd" + "xbc"[lun])
            props = dict(PROPS, target_lun=lun)
            info = self.driver.connect_volume(props)
            self.root_ops.calls.clear()
            self.root_ops.raises["write_node_settings"] = \
                exception.NodeRecordNotFound(IQN, PORTAL, "default")
            self.driver.disconnect_volume(props, info, force=force)
            del self.root_ops.raises["write_node_settings"]
            self.assertEqual(["write_node_settings", "--logout", "delete"],
                             [name for name in self.names()
                              if name != "read_node_layout"])
            self.assertIsNone(self.driver.view.disk(info["targets"][0][
                "disk"] or ""))
            self.assertEqual([], self.sessions())
            self.assertIn("has no node record", self.log.output)


class TestWait(DriverTestCase):
    def test_budget_is_os_bricks_back_off_with_short_early_polls(
            self) -> None:
        scans: list[float] = []
        scan_host = self.kernel.scan_host

        def timed(host: int, hctl: str) -> None:
            scans.append(self.clock.now - start)
            scan_host(host, hctl)

        self.kernel.scan_host = timed  # type: ignore[method-assign]
        start = self.clock.now
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.connect_volume, PROPS)
        # 3 attempts of 0.5 s: a scan at once, rescans 4, 9 and 16 units
        # later, the end 25 units after the last.
        self.assertEqual([0.0, 2.0, 6.5, 14.5],
                         [round(offset, 6) for offset in scans])
        self.assertAlmostEqual(27.0, sum(self.clock.sleeps))
        self.assertEqual([0.01, 0.02, 0.04, 0.05, 0.05],
                         [round(pause, 6) for pause in self.clock.sleeps[:5]])
        # Until the first rescan, never a longer pause: past the disk's
        # arrival it is latency; later, half a second.
        early = [pause for pause, at in zip(self.clock.sleeps, self._at())
                 if at < 2.0]
        self.assertEqual(disks.MAX_POLL, max(early))
        self.assertEqual(disks.LATE_POLL, max(self.clock.sleeps))

    def _at(self) -> list[float]:
        """When each pause started, from the start of the attach."""
        at, now = [], 0.0
        for pause in self.clock.sleeps:
            at.append(now)
            now += pause
        return at

    def test_nova_defaults_wait_about_two_minutes(self) -> None:
        budget = disks.Budget(5, 1.0)
        self.assertEqual([0.0, 4.0, 13.0, 29.0, 54.0, 90.0],
                         budget.scan_offsets())
        self.assertEqual(139.0, budget.total)
        self.assertEqual(5.0, budget.link_wait)

    def test_a_late_udev_link_is_seen_within_one_short_poll(self) -> None:
        self.kernel.map(IQN, 1, "sdb")
        link = by_path(PORTAL, IQN, "lun-1")
        sleep = self.clock.sleep
        made: list[float] = []

        def udev_after_a_second(seconds: float) -> None:
            sleep(seconds)
            if not made and self.clock.now >= start + 1.0:
                self.tree.add_dev("sdb", (link,))
                made.append(self.clock.now)

        start = self.clock.now
        self.driver._sleep = udev_after_a_second
        listings = self.useFixture(fixtures.MockPatchObject(
            sysfs.Sysfs, "stable_links", autospec=True,
            side_effect=sysfs.Sysfs.stable_links)).mock
        info = self.driver.connect_volume(PROPS)
        self.assertEqual(os.path.join(self.dev, link), info["path"])
        # Seen within one short pause of its arrival (at start + 1 s).
        self.assertLessEqual(self.clock.now - (start + 1.0), disks.MAX_POLL)
        # Each short poll reads the one by-path link; the /dev/disk
        # listing, whose cost grows with the host, doubles its pauses.
        polls = len(self.clock.sleeps)
        self.assertGreater(polls, 20)
        self.assertLess(listings.call_count, 10)

    def test_scan_attempts_argument_replaces_the_option(self) -> None:
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.connect_volume, PROPS, scan_attempts=1)
        # A scan, one rescan 4 units later, the end 9 units after it.
        self.assertAlmostEqual(6.5, sum(self.clock.sleeps))
        self.assertEqual(2, len(self.kernel.written("scan")))

    def test_lun_mapped_late_is_found_by_a_later_scan(self) -> None:
        link = os.path.join(self.dev, by_path(PORTAL, IQN, "lun-1"))
        original = self.kernel.scan_host

        def map_on_second_scan(host: int, hctl: str) -> None:
            if len(self.kernel.written("scan")) == 1:
                self.map()
            original(host, hctl)

        self.kernel.scan_host = map_on_second_scan  # type: ignore[method-assign]
        info = self.driver.connect_volume(PROPS)
        self.assertEqual(link, info["path"])
        self.assertEqual(2, len(self.kernel.written("scan")))


class TestNodeRecordLayout(DriverTestCase):
    """``-o new`` keeps other ifaces' records (open-iscsi's idbm.c), as the
    root daemon's read of the records directory describes them."""

    def single_file(self) -> str:
        """Where IQN's single-file record at PORTAL would be."""
        return os.path.join(self.conf.iscsi_transports.iscsi_db_path,
                            "nodes", IQN, "10.0.0.1,3260")

    def setUp(self) -> None:
        super().setUp()
        self.manager.offload = True

    def new_portal(self) -> str:
        (new,) = [cmd for cmd in self.scripted.commands("-o", "new")
                  if "node" in cmd]
        return new[new.index("-p") + 1]

    def test_no_record_and_no_session_gives_no_portal_group(self) -> None:
        self.map()
        self.manager.offload = False
        self.driver.connect_volume(PROPS)
        self.assertEqual(PORTAL, self.new_portal())

    def test_portal_group_of_another_ifaces_record_is_passed(self) -> None:
        self.scripted.layout = ([7], None)
        self.map()
        self.driver.connect_volume(PROPS)
        self.assertEqual(PORTAL + ",7", self.new_portal())
        # The settings go to that record by it too (this iface may have
        # records of several portal groups at the bare portal); the login
        # matches by iface.
        self.assertEqual([PORTAL + ",7"],
                         [call[1] for call in self.scripted.written()])
        self.assertEqual([PORTAL], [
            cmd[cmd.index("-p") + 1] for cmd in self.iscsiadm()
            if "node" in cmd and _action(cmd) == "--login"])

    def test_portal_group_of_a_session_is_passed(self) -> None:
        self.kernel.login(IQN, PORTAL, "default")
        self.map()
        self.driver.connect_volume(PROPS)
        self.assertEqual(PORTAL + ",1", self.new_portal())

    def test_single_file_record_of_another_iface_is_left_alone(self) -> None:
        self.scripted.layout = ([], "default")
        self.map()
        error = self.assertRaises(exception.NodeRecordConflict,
                                  self.driver.connect_volume, PROPS)
        self.assertIn(self.single_file(), str(error))
        self.assertIn("iface default", str(error))
        self.assertEqual([], [cmd for cmd in self.iscsiadm()
                              if "node" in cmd])
        self.assertEqual([], self.scripted.written())
        self.assertEqual([], self.manager.fallback_reasons)

    def test_single_file_record_of_the_same_iface_is_rewritten(self) -> None:
        self.scripted.layout = ([], "default")
        self.map()
        self.manager.offload = False
        self.driver.connect_volume(PROPS)
        self.assertEqual(PORTAL, self.new_portal())


class TestCleanFailure(DriverTestCase):
    def test_no_disk_undoes_session_and_record(self) -> None:
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.connect_volume, PROPS)
        self.assertEqual([], self.sessions())
        self.assertEqual(["--logout", "delete"],
                         [_action(cmd) for cmd in self.iscsiadm()[2:]])

    def test_auth_failure_deletes_the_record_and_does_not_fall_back(
            self) -> None:
        self.manager.offload = True
        self.scripted.on("--login", exit_code=24)
        self.assertRaises(exception.AuthenticationFailed,
                          self.driver.connect_volume, PROPS)
        self.assertEqual(1, len(self.scripted.commands("-o", "delete")))
        self.assertEqual([], self.manager.fallback_reasons)
        self.assertEqual([], self.sessions())

    def test_refused_mutual_chap_login_names_the_target_secret(
            self) -> None:
        self.scripted.on("--login", exit_code=19)
        props = dict(PROPS, auth_method="CHAP", auth_username="u",
                     auth_password=SECRET, auth_username_in="t",
                     auth_password_in=SECRET + "-in")
        error = self.assertRaises(exception.MutualChapLoginRefused,
                                  self.driver.connect_volume, props)
        self.assertIsInstance(error, exception.TargetError)
        self.assertNotIsInstance(error, exception.AuthenticationFailed)
        self.assertEqual(19, error.exit_code)
        self.assertIn("mutual CHAP", str(error))
        self.assertNotIn(SECRET, str(error))
        self.assertEqual(1, len(self.scripted.commands("-o", "delete")))
        self.assertEqual([], self.sessions())

    def test_refused_login_without_mutual_chap_stays_target_error(
            self) -> None:
        self.scripted.on("--login", exit_code=19)
        error = self.assertRaises(exception.TargetError,
                                  self.driver.connect_volume, PROPS)
        self.assertNotIsInstance(error, exception.MutualChapLoginRefused)

    def test_failure_on_an_existing_session_leaves_it(self) -> None:
        self.kernel.login(IQN, PORTAL, "default")
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.connect_volume, PROPS)
        self.assertEqual([], self.scripted.argvs)
        self.assertEqual([(IQN, "default")], self.sessions())

    def test_a_disk_this_attach_scanned_is_removed(self) -> None:
        self.kernel.map(IQN, 1, "sdb")
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.attach.disks.Waiter.stable_path",
            _raise_device_not_found))
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.connect_volume, PROPS)
        self.assertEqual(["sdb"], self.kernel.written("delete"))
        self.assertEqual([], self.sessions())

    def test_fallback_starts_after_the_leftovers_are_gone(self) -> None:
        self.manager.offload = True
        self.scripted.on(OFFLOAD_IFACE, "--login", exit_code=8)
        self.map()
        info = self.driver.connect_volume(PROPS)
        self.assertTrue(info["fallback"])
        self.assertEqual(
            [OFFLOAD_IFACE + " new", OFFLOAD_IFACE + " --login",
             OFFLOAD_IFACE + " --logout", OFFLOAD_IFACE + " delete",
             "default new", "default --login"],
            [cmd[cmd.index("-I") + 1] + " " + _action(cmd)
             for cmd in self.iscsiadm() if cmd[:2] == ["-m", "node"]])
        self.assertIn("exit code 8", info["reason"])


class TestFallbackTable(base.TestCase):
    def test_every_exit_code_has_a_row_and_the_row_decides(self) -> None:
        self.assertEqual(set(errors.EXIT_CODES),
                         set(fallback.EXIT_CODE_FALLBACK))
        for code, (falls_back, why) in fallback.EXIT_CODE_FALLBACK.items():
            error = errors.error_for(["iscsiadm", "--login"], code, "x")
            self.assertEqual(falls_back, fallback.is_transport_error(error),
                             "%d: %s" % (code, why))

    def test_issue_rows(self) -> None:
        for code in (4, 5, 6, 7, 19, 24, 33):
            self.assertFalse(fallback.EXIT_CODE_FALLBACK[code][0], code)
        for code in (8, 11, 12, 14, 23):
            self.assertTrue(fallback.EXIT_CODE_FALLBACK[code][0], code)

    def test_21_falls_back_only_when_the_transport_could_not_load(
            self) -> None:
        self.assertTrue(fallback.is_transport_error(errors.error_for(
            ["iscsiadm"], 21, "iscsiadm: Could not load transport cxgb4i")))
        self.assertFalse(fallback.is_transport_error(errors.error_for(
            ["iscsiadm"], 21, "iscsiadm: No records found")))

    def test_host_errors_and_iface_errors(self) -> None:
        self.assertFalse(fallback.is_transport_error(
            exception.IscsiadmTimeout(["iscsiadm"], 120)))
        self.assertTrue(fallback.is_transport_error(
            fallback.IfaceUnusable(name="x", reason="bad")))

    def test_admin_guide_table_matches(self) -> None:
        guide = os.path.join(os.path.dirname(__file__), *[os.pardir] * 4,
                             "doc", "source", "admin", "driver.rst")
        with open(guide) as handle:
            text = handle.read()
        rows = {}
        for line in text.splitlines():
            cells = line.split(None, 3)
            if len(cells) >= 3 and cells[0].isdigit() and \
                    cells[1].startswith("ISCSI_"):
                rows[int(cells[0])] = {"yes": True, "no": False}[cells[2]]
        self.assertEqual({code: row[0] for code, row in
                          fallback.EXIT_CODE_FALLBACK.items()}, rows)


class TestDetach(DriverTestCase):
    def attach_two_luns(self) -> tuple[dict, dict]:
        self.map()
        self.map(lun=2, name="sdc")
        first = self.driver.connect_volume(PROPS)
        second = self.driver.connect_volume(dict(PROPS, target_lun=2))
        self.scripted.argvs.clear()
        return first, second

    def test_shared_target_keeps_the_session_until_the_last_lun(self) -> None:
        first, _second = self.attach_two_luns()
        self.driver.disconnect_volume(PROPS, first)
        self.assertEqual(["sdb"], self.kernel.written("delete"))
        self.assertEqual([], self.scripted.argvs)
        self.assertEqual([(IQN, "default")], self.sessions())
        self.driver.disconnect_volume(dict(PROPS, target_lun=2), None)
        self.assertEqual(["sdb", "sdc"], self.kernel.written("delete"))
        self.assertEqual(["--logout", "delete"],
                         [_action(cmd) for cmd in self.iscsiadm()])
        self.assertEqual({"node.startup": "manual"},
                         self.scripted.written()[-1][3])
        self.assertEqual([], self.sessions())

    def test_flush_comes_before_delete(self) -> None:
        first, _second = self.attach_two_luns()
        self.driver.disconnect_volume(PROPS, first)
        self.assertEqual([("flush", "sdb"), ("delete", "sdb")],
                         self.kernel.writes[-2:])

    def test_without_device_info_sysfs_says_which_iface(self) -> None:
        self.kernel.login(IQN, PORTAL, "lab0")
        self.tree.add_disk(1, 1, "sdb")
        self.driver.disconnect_volume(PROPS)
        self.assertEqual(["lab0"], [cmd[cmd.index("-I") + 1] for cmd in
                                    self.scripted.commands("--logout")])
        self.assertEqual([], self.sessions())

    def test_other_ifaces_sessions_are_untouched(self) -> None:
        self.kernel.login(IQN, PORTAL, "lab0")
        self.tree.add_disk(1, 1, "sdb")
        self.driver.disconnect_volume(PROPS, {"iface": "default",
                                              "transport": "tcp"})
        self.assertEqual([], self.kernel.written("delete"))
        self.assertEqual([(IQN, "lab0")], self.sessions())
        self.assertEqual([], self.scripted.commands("--logout"))

    def test_nothing_attached_is_success(self) -> None:
        self.driver.disconnect_volume(PROPS)
        self.assertEqual([], self.scripted.argvs)

    def test_attach_in_flight_keeps_the_session_and_takes_it_over(
            self) -> None:
        info = self.driver.connect_volume(PROPS) if self.map() else {}
        self.scripted.argvs.clear()
        key = self.driver._inflight
        lock = driver.connection.VolumePath(PORTAL, IQN, 1).lock_name
        with key.attaching(lock):
            self.driver.disconnect_volume(PROPS, info)
            self.assertEqual([], self.scripted.commands("--logout"))
            self.assertTrue(key.take_over(lock))
        self.assertEqual([(IQN, "default")], self.sessions())

    def test_held_disk_is_left_with_its_session_and_reported(self) -> None:
        self.kernel.login(IQN, PORTAL, "default")
        # LVM on the disk itself: no map of ours to flush.
        self.tree.add_dm("dm-0", "vg-lv", "LVM-Xq1")
        self.tree.add_disk(1, 1, "sdb", holders=("dm-0",))
        error = self.assertRaises(exception.VolumeDetachIncomplete,
                                  self.driver.disconnect_volume, PROPS)
        self.assertIn("held by dm-0", str(error))
        self.assertEqual([(IQN, "default")], self.sessions())

    def test_failed_flush_keeps_disk_and_session(self) -> None:
        self.map()
        info = self.driver.connect_volume(PROPS)
        self.kernel.flush_errors["sdb"] = fake_kernel.flush_failure("sdb")
        self.assertRaises(exception.PrivilegedOperationFailed,
                          self.driver.disconnect_volume, PROPS, info)
        self.assertEqual([], self.kernel.written("delete"))
        self.assertEqual([(IQN, "default")], self.sessions())

    def test_forced_detach_goes_past_a_failed_flush(self) -> None:
        self.map()
        info = self.driver.connect_volume(PROPS)
        self.kernel.flush_errors["sdb"] = fake_kernel.flush_failure("sdb")
        self.driver.disconnect_volume(PROPS, info, force=True)
        self.assertEqual(["sdb"], self.kernel.written("delete"))
        self.assertEqual([], self.sessions())

    def test_option_off_removes_no_disk_but_logs_out(self) -> None:
        self.flags(remove_devices_on_disconnect=False)
        self.map()
        info = self.driver.connect_volume(PROPS)
        self.driver.disconnect_volume(PROPS, info)
        self.assertEqual([], self.kernel.written("delete"))
        self.assertEqual([], self.sessions())


class TestDiscovery(DriverTestCase):
    def test_without_iqn_only_targets_at_the_portal_are_used(self) -> None:
        self.scripted.on("discovery", stdout="%s,1 %s\n%s,1 %s\n" % (
            PORTAL, IQN, PORTAL2, IQN2))
        self.map()
        info = self.driver.connect_volume({"target_portal": PORTAL,
                                           "target_lun": 1})
        self.assertEqual([IQN], [t["iqn"] for t in info["targets"]])
        (discovery,) = self.scripted.commands("discovery")
        self.assertEqual(["-o", "nonpersistent"], discovery[-2:])
        self.assertEqual(1, len(self.scripted.commands("--login")))
        self.scripted.argvs.clear()
        self.driver.disconnect_volume({"target_portal": PORTAL,
                                       "target_lun": 1})
        self.assertEqual(1, len(self.scripted.commands("--logout")))
        self.assertEqual([], self.sessions())

    def test_without_iqn_two_targets_at_the_portal_refuse(self) -> None:
        self.scripted.on("discovery", stdout="%s,1 %s\n%s,1 %s\n" % (
            PORTAL, IQN, PORTAL, IQN2))
        self.map()
        self.map(name="sdc", iqn=IQN2)
        for use_multipath in (False, True):
            error = self.assertRaises(
                exception.AmbiguousTarget, self.driver.connect_volume,
                {"target_portal": PORTAL, "target_lun": 1},
                multipath=use_multipath)
            self.assertIn(IQN2, str(error))
            self.assertIn("send target_iqn", str(error))
            self.assertEqual(1, len(str(error).splitlines()))
        self.assertEqual([], self.scripted.commands("-o", "new"))
        self.assertEqual([], self.scripted.commands("--login"))
        self.assertEqual([], self.sessions())

    def _two_volumes_with_lun_1(self) -> tuple[str, str]:
        """Two targets at one portal, each with its LUN 1 attached (two
        instances' volumes); their device paths."""
        first = self.driver.connect_volume(PROPS)["path"]
        self.map(name="sdc", iqn=IQN2)
        second = self.driver.connect_volume(dict(PROPS, target_iqn=IQN2))
        self.scripted.argvs.clear()
        self.kernel.writes.clear()
        return first, second["path"]

    def test_detach_without_iqn_never_touches_another_target(self) -> None:
        self.map()
        self._two_volumes_with_lun_1()
        for force in (False, True):
            error = self.assertRaises(
                exception.AmbiguousTarget, self.driver.disconnect_volume,
                {"target_portal": PORTAL, "target_lun": 1}, None,
                force=force)
            self.assertIn(IQN, str(error))
            self.assertIn(IQN2, str(error))
        self.assertEqual([], self.scripted.argvs)
        self.assertEqual([], self.kernel.writes)
        self.assertEqual([(IQN, "default"), (IQN2, "default")],
                         sorted(self.sessions()))

    def test_detach_without_iqn_follows_the_device_path(self) -> None:
        # nova keeps the path connect_volume returned as device_path.
        self.map()
        first, second = self._two_volumes_with_lun_1()
        for kept, device_path in ((IQN, second), (None, "/dev/sdb")):
            self.driver.disconnect_volume(
                {"target_portal": PORTAL, "target_lun": 1,
                 "device_path": device_path}, None)
            self.assertEqual([(kept, "default")] if kept else [],
                             self.sessions())
        self.assertTrue(first.endswith(IQN + "-lun-1"), first)

    def test_discovery_finding_nothing_is_a_typed_error(self) -> None:
        error = self.assertRaises(
            exception.VolumeAttachFailed, self.driver.connect_volume,
            {"target_portal": PORTAL, "target_lun": 1})
        self.assertIn("found no target", str(error))
        self.assertEqual([], self.scripted.commands("--login"))

    def test_discover_falls_back_and_reports(self) -> None:
        self.manager.offload = True
        self.scripted.on("iface", "iface.hwaddress", exit_code=7)
        self.scripted.on("discovery", stdout="%s,1 %s\n" % (PORTAL, IQN))
        result = self.driver.discover(PORTAL)
        self.assertEqual([{"portal": PORTAL, "tpgt": 1, "target": IQN}],
                         result["targets"])
        self.assertTrue(result["fallback"])
        self.assertEqual("default", result["iface"])


class TestIser(DriverTestCase):
    def test_iser_volume_uses_iser_even_when_not_enabled(self) -> None:
        self.map()
        info = self.driver.connect_volume(PROPS, volume_type="iser")
        self.assertEqual(("iser", "iser", False),
                         (info["transport"], info["iface"], info["fallback"]))
        self.assertEqual({"iser"}, {cmd[cmd.index("-I") + 1]
                                    for cmd in self.scripted.argvs})

    def test_iser_that_fails_falls_back_with_the_reason(self) -> None:
        self.scripted.on("iser", "--login", exit_code=12)
        self.map()
        info = self.driver.connect_volume(PROPS, volume_type="iser")
        self.assertTrue(info["fallback"])
        self.assertIn("iser (iface iser) failed", info["reason"])
        self.assertEqual([(IQN, "default")], self.sessions())

    def test_iser_without_fallback_fails(self) -> None:
        self.flags(fallback_to_tcp=False)
        self.scripted.on("iser", "--login", exit_code=12)
        self.assertRaises(exception.TransportNotLoaded,
                          self.driver.connect_volume, PROPS,
                          volume_type="iser")
        self.assertEqual([], self.sessions())


class TestCallersSurface(DriverTestCase):
    def test_extend_rescans_and_returns_the_new_size(self) -> None:
        self.map(sectors=2048)
        self.driver.connect_volume(PROPS)
        self.kernel.map(IQN, 1, "sdb", sectors=4096)
        self.assertEqual(4096 * 512, self.driver.extend_volume(PROPS))
        self.assertEqual(["sdb"], self.kernel.written("rescan"))

    def test_extend_with_nothing_attached(self) -> None:
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.extend_volume, PROPS)

    def test_volume_paths(self) -> None:
        self.assertEqual([], self.driver.get_volume_paths(PROPS))
        link = self.map()
        self.driver.connect_volume(PROPS)
        self.scripted.argvs.clear()
        self.assertEqual([link], self.driver.get_volume_paths(PROPS))
        self.assertEqual([], self.scripted.argvs)

    def test_connector_initiator_of_a_software_iface(self) -> None:
        props = self.driver.connector_properties()
        self.assertEqual("iqn.1993-08.org.debian:01:host", props["initiator"])

    def test_connector_initiator_of_an_offload_port(self) -> None:
        self.manager.offload = True
        port = self.manager.detect("cxgb4i").ports[0]._replace(host="host7")
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.tests.unit.fake_manager.FakeOffload.detect",
            lambda plugin, host: fake_manager.base.Detection(
                transport="cxgb4i", usable=True, reason="card",
                ports=(port,))))
        self.tree.write("class/iscsi_host/host7/initiatorname",
                        "iqn.2000-04.com.qlogic:card")
        props = self.driver.connector_properties()
        self.assertEqual("iqn.2000-04.com.qlogic:card", props["initiator"])
        self.assertEqual(OFFLOAD_IFACE, props["iface"])

    def test_connector_initiator_of_the_iface_record(self) -> None:
        # An operator's iface.initiatorname in the record wins over the
        # host's file (and over a card's own name).
        self.scripted.rules.insert(0, fake_executor.Rule(
            ("-m", "iface", "-I", "tcp.lab-hba", "-o", "show"), stdout="# BEGIN RECORD 2.1.11\n"
                               "iface.iscsi_ifacename = tcp.lab-hba\n"
                               "iface.transport_name = tcp\n"
                               "iface.initiatorname = iqn.2026-12.lab:own\n"
                               "# END RECORD\n"))
        self.manager.tcp_iface = iface_mod.Iface(name="tcp.lab-hba",
                                                 transport_name="tcp")
        props = self.driver.connector_properties()
        self.assertEqual(("iqn.2026-12.lab:own", "iface record",
                          "tcp.lab-hba"),
                         (props["initiator"], props["initiator_source"],
                          props["iface"]))


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
        self.manager.offload = True
        self.manager.transports["cxgb4i"] = FlaggedOffload(self.conf)

    def through_iface(self) -> list[list[str]]:
        return [cmd for cmd in self.scripted.argvs
                if "-I" in cmd and "iface" not in cmd]

    def test_attach_and_detach_commands_carry_the_plugin_flag(self) -> None:
        self.scripted.on("--discover", stdout="%s,1 %s\n" % (PORTAL, IQN))
        self.map()
        info = self.driver.connect_volume(
            {"target_portal": PORTAL, "target_lun": 1,
             "discovery_auth_method": "CHAP",
             "discovery_auth_username": "u",
             "discovery_auth_password": SECRET})
        self.driver.disconnect_volume(PROPS, info)
        commands = self.through_iface()
        self.assertEqual(["discoverydb"] * 2 + ["node"] * 4,
                         [cmd[cmd.index("-m") + 1] for cmd in commands])
        for cmd in commands:
            self.assertEqual(["-I", OFFLOAD_IFACE, "--vendor-flag"],
                             cmd[cmd.index("-I"):cmd.index("-I") + 3], cmd)
        self.assertEqual("cxgb4i", info["targets"][0]["transport"])

    def test_detach_after_the_plugin_is_gone_still_logs_out(self) -> None:
        self.map()
        info = self.driver.connect_volume(PROPS)
        del self.manager.transports["cxgb4i"]
        self.scripted.argvs.clear()
        self.driver.disconnect_volume(PROPS, info)
        self.assertEqual(
            [["-I", OFFLOAD_IFACE, "--logout"]],
            [cmd[-3:] for cmd in self.scripted.commands("--logout")])

    def test_arguments_without_an_iface_are_refused(self) -> None:
        class Unbound(fake_manager.FakeOffload):
            def iscsiadm_args(self, iface_name: str) -> list[str]:
                return ["--vendor-flag"]

        self.manager.transports["cxgb4i"] = Unbound(self.conf)
        self.flags(fallback_to_tcp=False)
        error = self.assertRaises(exception.InvalidInput,
                                  self.driver.connect_volume, PROPS)
        self.assertIn("exactly one iface", str(error))
        self.assertEqual([], self.scripted.commands("--login"))


class TestPerPortalSelection(DriverTestCase):
    props = {"target_portals": [PORTAL, PORTAL2],
             "target_iqns": [IQN, IQN2], "target_luns": [1, 1]}

    def test_each_portal_gets_its_own_iface(self) -> None:
        self.manager.offload = True
        self.manager.tcp_portals = {PORTAL2}
        self.map()
        self.map(iqn=IQN2, portal=PORTAL2, name="sdc")
        info = self.driver.connect_volume(self.props, multipath=True)
        self.assertEqual({(PORTAL, OFFLOAD_IFACE), (PORTAL2, "default")},
                         {(t["portal"], t["iface"]) for t in info["targets"]})
        self.assertEqual(2, len(info["paths"]))
        self.assertEqual(["sdb", "sdc"], sorted(
            self.driver.maps.find(info["multipath_id"]).paths))
        self.scripted.argvs.clear()
        self.driver.disconnect_volume(self.props, info)
        self.assertEqual({OFFLOAD_IFACE, "default"},
                         {c[c.index("-I") + 1] for c in
                          self.scripted.commands("--logout")})
        self.assertEqual([], self.sessions())
        self.assertEqual({}, self.multipathd.maps)

    def test_single_path_takes_the_first_portal_that_works(self) -> None:
        self.scripted.on(PORTAL, "--login", exit_code=8)
        self.map()
        self.map(iqn=IQN2, portal=PORTAL2, name="sdc")
        info = self.driver.connect_volume(self.props)
        self.assertEqual([PORTAL2], [t["portal"] for t in info["targets"]])
        self.assertEqual([(IQN2, "default")], self.sessions())
        # The failed portal's record went with it.
        (delete,) = self.scripted.commands("-o", "delete")
        self.assertIn(PORTAL, delete)


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


def _action(cmd: list[str]) -> str:
    """``new``/``update``/``delete`` (after ``-o``) or ``--login``..."""
    if "-o" in cmd:
        return cmd[cmd.index("-o") + 1]
    return [arg for arg in cmd if arg.startswith("--")][-1]


def _raise_device_not_found(*args: object) -> str:
    raise exception.VolumeDeviceNotFound(target="t", paths="p")


class TestTrailingNewline(DriverTestCase):
    def test_target_name_with_a_trailing_newline_is_refused(self) -> None:
        self.assertRaises(exception.InvalidConnectionProperties,
                          self.driver.connect_volume,
                          dict(PROPS, target_iqn=IQN + "\n"))
        self.assertEqual([], self.scripted.argvs)
