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

"""ISCSIDriver's two modes and the multipath map, on a built sysfs tree.

The kernel, iscsid and multipathd are the fakes of :mod:`.fake_kernel`:
logins add sessions, scans add one disk per path (``sdb``, ``sdc``, ...),
multipathd stacks the disks of one WWID into a ``dm-N`` map (on the
scan's uevent, or only when told with ``multipathd add path``) and
removes it on ``multipath -f`` unless it is open.  Every decision is
checked on what the tree holds afterwards and on the commands run.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from iscsi_transports import exception
from iscsi_transports.tests.unit.attach import test_driver

IQN = test_driver.IQN
IQN2 = test_driver.IQN2
PORTAL = test_driver.PORTAL
PORTAL2 = test_driver.PORTAL2
PORTAL3 = "10.0.0.3:3260"
#: The scsi_wwn of LUN 1 as the tree writes its wwid.
WWID = "3" + "6001405%025x" % 1
PROPS = {"target_portals": [PORTAL, PORTAL2], "target_iqns": [IQN, IQN],
         "target_luns": [1, 1]}


class MultipathTestCase(test_driver.DriverTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.multipathd.auto = True
        self.map()
        # No wwids file: every new WWID is one multipathd is told at once.
        self.flags(multipath_wwids_file=os.path.join(self.dev, "wwids"))

    def attach(self, props: dict[str, Any] | None = None,
               **kwargs: Any) -> Any:
        return self.driver.connect_volume(props or PROPS, multipath=True,
                                          **kwargs)

    def disks(self) -> list[str]:
        return sorted(name for name in os.listdir(
            os.path.join(self.sysfs.root, "block")) if name.startswith("sd"))


class TestMultipathAttach(MultipathTestCase):

    def test_attach_returns_the_map_and_every_path(self) -> None:
        info = self.attach()
        self.assertEqual(os.path.join(self.dev, "disk/by-id/dm-uuid-mpath-"
                                      + WWID), info["path"])
        self.assertEqual((WWID, WWID, "dm-0"), (
            info["scsi_wwn"], info["multipath_id"], info["map"]))
        # Portal order; the disk names are the order the logins ended in.
        self.assertEqual([(PORTAL, "default"), (PORTAL2, "default")],
                         [(t["portal"], t["iface"]) for t in info["targets"]])
        self.assertEqual(["sdb", "sdc"],
                         sorted(str(t["disk"]) for t in info["targets"]))
        # Each path is its disk: udev's by-path links are not waited for.
        self.assertEqual([os.path.join(self.dev, str(t["disk"]))
                          for t in info["targets"]],
                         [t["device"] for t in info["targets"]])
        self.assertEqual(["sdb", "sdc"],
                         list(self.driver.maps.find(WWID).paths))
        # multipathd acted on the uevents: 2 iscsiadm per path (the
        # settings written into the record), nothing else.
        self.assertEqual(4, len(self.scripted.argvs))
        self.assertEqual([], self.multipathd.commands())

    def test_node_records_carry_the_multipath_timeouts(self) -> None:
        self.flags(multipath_replacement_timeout=7)
        self.attach()
        written = self.scripted.written()
        self.assertEqual(2, len(written))
        for _target, _portal, _iface, pairs in written:
            assert isinstance(pairs, dict)
            self.assertEqual(("7", "manual"), (
                pairs["node.session.timeo.replacement_timeout"],
                pairs["node.session.scan"]))
            self.assertIn("node.conn[0].timeo.noop_out_interval", pairs)

    def test_single_path_records_keep_open_iscsis_timeouts(self) -> None:
        self.driver.connect_volume(PROPS)
        ((_target, _portal, _iface, settings),) = self.scripted.written()
        self.assertNotIn("node.session.timeo.replacement_timeout", settings)

    def test_logins_run_at_the_same_time(self) -> None:
        started = {PORTAL: threading.Event(), PORTAL2: threading.Event()}
        overlapped = []

        def login_waits_for_the_other(argv: list[str]) -> None:
            if "--login" in argv:
                portal = argv[argv.index("-p") + 1]
                started[portal].set()
                other = PORTAL2 if portal == PORTAL else PORTAL
                # Serial logins would make the first one wait in vain.
                overlapped.append(started[other].wait(10))

        self.scripted.observers.append(login_waits_for_the_other)
        self.attach()
        self.assertEqual([True, True], overlapped)

    def test_a_dead_portal_leaves_a_map_with_the_live_paths(self) -> None:
        self.scripted.on(PORTAL3, "--login", exit_code=8)
        info = self.attach(dict(PROPS, target_portals=[PORTAL, PORTAL3,
                                                       PORTAL2],
                                target_iqns=[IQN] * 3,
                                target_luns=[1] * 3))
        self.assertEqual([PORTAL, PORTAL2],
                         [t["portal"] for t in info["targets"]])
        self.assertEqual(["sdb", "sdc"],
                         list(self.driver.maps.find(WWID).paths))
        # The dead portal's record is gone, the live ones stay.
        (delete,) = self.scripted.commands("-o", "delete")
        self.assertIn(PORTAL3, delete)

    def test_multipathd_is_told_when_it_does_not_act_alone(self) -> None:
        self.multipathd.auto = False
        info = self.attach()
        self.assertEqual("dm-0", info["map"])
        # One path told; the map adopts the other.
        (wwid, path) = self.multipathd.commands()
        self.assertEqual("multipath -a " + WWID, wwid)
        self.assertIn(path, ("multipathd add path sdb",
                             "multipathd add path sdc"))
        self.assertEqual(2, len(self.driver.maps.find(WWID).paths))

    def test_no_map_enforced_undoes_every_path(self) -> None:
        self.multipathd.auto = False
        self.multipathd.deaf = True
        self.assertRaises(exception.MultipathMapNotFound, self.attach,
                          enforce_multipath=True)
        self.assertEqual(([], []), (self.sessions(), self.disks()))
        self.assertEqual(2, len(self.scripted.commands("-o", "delete")))

    def test_no_map_returns_the_first_disk_with_a_warning(self) -> None:
        # A blacklist or find_multipaths quirk: os-brick's answer, one
        # disk; the other path is undone (no second disk of the LUN).
        self.multipathd.auto = False
        self.multipathd.deaf = True
        info = self.attach()
        self.assertNotIn("multipath_id", info)
        (target,) = info["targets"]
        self.assertEqual(PORTAL, target["portal"])
        self.assertEqual([target["device"]], info["paths"])
        self.assertEqual(info["path"], target["device"])
        self.assertEqual([target["disk"]], self.disks())
        self.assertEqual([(IQN, "default")], self.sessions())
        (delete,) = self.scripted.commands("-o", "delete")
        self.assertIn(PORTAL2, delete)
        self.assertIn("alone, without multipath", self.log.output)
        self.driver.disconnect_volume(PROPS, None)
        self.assertEqual(([], []), (self.sessions(), self.disks()))

    def test_one_portal_given_discovery_adds_the_targets_others(self) -> None:
        # Ceph iSCSI, LVM to a single-path connector: only target_portal.
        self.scripted.on("discovery", stdout="%s,1 %s\n%s,1 %s\n%s,1 %s\n"
                        % (PORTAL, IQN, PORTAL2, IQN, PORTAL3, IQN2))
        info = self.attach(test_driver.PROPS)
        self.assertEqual([PORTAL, PORTAL2],
                         [t["portal"] for t in info["targets"]])
        self.assertEqual(["sdb", "sdc"],
                         list(self.driver.maps.find(WWID).paths))
        (discovery,) = self.scripted.commands("discovery")
        self.assertEqual(["-o", "nonpersistent"], discovery[-2:])
        self.assertIn(PORTAL, discovery)
        # nova detaches with the properties it attached with, no info.
        self.driver.disconnect_volume(test_driver.PROPS, None)
        self.assertEqual(({}, [], []), (self.multipathd.maps,
                                        self.sessions(), self.disks()))
        self.assertEqual(2, len(self.scripted.commands("--logout")))

    def test_one_portal_whose_discovery_fails_is_one_path(self) -> None:
        self.scripted.on("discovery", exit_code=8)
        info = self.attach(test_driver.PROPS)
        self.assertEqual([PORTAL], [t["portal"] for t in info["targets"]])
        self.assertIn("attaching through that portal alone",
                      self.log.output)

    def test_single_path_volumes_are_never_discovered(self) -> None:
        self.driver.connect_volume(test_driver.PROPS)
        self.assertEqual([], self.scripted.commands("discovery"))

    def test_paths_of_different_luns_are_no_map(self) -> None:
        self.map(lun=2, name="sdx")
        error = self.assertRaises(
            exception.VolumeAttachFailed, self.attach,
            dict(PROPS, target_luns=[1, 2]))
        self.assertIn("not one LUN", str(error))
        self.assertEqual(([], [], {}), (self.sessions(), self.disks(),
                                        self.multipathd.maps))

    def test_enforced_without_multipathd_fails_before_any_login(self) -> None:
        self.multipathd.running = False
        self.assertRaises(exception.MultipathdNotRunning, self.attach,
                          enforce_multipath=True)
        self.assertEqual([], self.scripted.argvs)

    def test_without_multipathd_one_path_is_attached(self) -> None:
        self.multipathd.running = False
        info = self.attach()
        self.assertNotIn("multipath_id", info)
        self.assertEqual(1, len(self.scripted.commands("--login")))
        self.assertIn("multipathd is not running", self.log.output)

    def test_multipath_off_logs_in_once(self) -> None:
        info = self.driver.connect_volume(PROPS, enforce_multipath=True)
        self.assertEqual([PORTAL], [t["portal"] for t in info["targets"]])
        self.assertEqual(1, len(self.scripted.commands("--login")))
        self.assertEqual(["sdb"], self.disks())


class TestMultipathExtend(MultipathTestCase):

    def test_extend_rescans_the_paths_then_grows_the_map(self) -> None:
        info = self.attach()
        self.kernel.luns[IQN][1].sectors = 4194304
        size = self.driver.extend_volume(PROPS)
        self.assertEqual(4194304 * 512, size)
        self.assertEqual(["sdb", "sdc"], sorted(
            self.kernel.written("rescan")))
        self.assertEqual(["multipathd resize map mpatha"],
                         self.multipathd.commands())
        self.assertEqual(size, self.driver.view.block_size(info["map"]))

    def test_single_path_extend_runs_no_multipath_command(self) -> None:
        self.multipathd.auto = False  # find_multipaths strict: no map
        self.driver.connect_volume(PROPS)
        self.kernel.luns[IQN][1].sectors = 4194304
        self.assertEqual(4194304 * 512, self.driver.extend_volume(PROPS))
        self.assertEqual([], self.multipathd.commands())


class TestMultipathDetach(MultipathTestCase):

    def test_map_goes_first_then_disks_then_sessions(self) -> None:
        info = self.attach()
        maps_at_delete = []
        delete = self.kernel.delete_disk

        def record(name: str) -> bool:
            maps_at_delete.append(dict(self.multipathd.maps))
            return delete(name)

        self.kernel.delete_disk = record  # type: ignore[method-assign]
        self.scripted.argvs.clear()
        self.driver.disconnect_volume(PROPS, info)
        self.assertEqual([{}, {}], maps_at_delete)
        self.assertEqual(["multipath -f mpatha"], self.multipathd.commands())
        self.assertEqual(([], []), (self.sessions(), self.disks()))
        self.assertEqual(2, len(self.scripted.commands("--logout")))
        self.assertEqual(2, len(self.scripted.commands("-o", "delete")))

    def test_nova_passes_no_device_info_sysfs_finds_the_map(self) -> None:
        self.attach()
        self.driver.disconnect_volume(PROPS, None)
        self.assertEqual(({}, [], []), (self.multipathd.maps,
                                        self.sessions(), self.disks()))

    def test_open_map_touches_nothing(self) -> None:
        info = self.attach()
        self.multipathd.busy.add("dm-0")
        self.scripted.argvs.clear()
        error = self.assertRaises(exception.MultipathFlushFailed,
                                  self.driver.disconnect_volume, PROPS, info)
        self.assertEqual(3, error.attempts)
        self.assertEqual((2, ["sdb", "sdc"], []),
                         (len(self.sessions()), self.disks(),
                          self.scripted.argvs))
        self.assertEqual([], self.kernel.written("delete"))

    def test_forced_detach_reports_the_map_and_keeps_its_paths(self) -> None:
        info = self.attach()
        self.multipathd.busy.add("dm-0")
        error = self.assertRaises(exception.VolumeDetachIncomplete,
                                  self.driver.disconnect_volume, PROPS, info,
                                  force=True)
        self.assertIn("multipath map dm-0 (%s) with paths sdb, sdc" % WWID,
                      str(error))
        self.assertEqual((2, ["sdb", "sdc"]),
                         (len(self.sessions()), self.disks()))
        self.assertEqual([], self.scripted.commands("--logout"))

    def test_a_session_a_live_map_holds_is_never_logged_out(self) -> None:
        self.flags(remove_devices_on_disconnect=False)
        info = self.attach()
        self.multipathd.busy.add("dm-0")
        self.assertRaises(exception.VolumeDetachIncomplete,
                          self.driver.disconnect_volume, PROPS, info,
                          force=True)
        self.assertEqual([], self.scripted.commands("--logout"))
        self.assertIn("multipath map dm-0 holds its disks", self.log.output)

    def test_shared_target_keeps_the_other_volumes_session(self) -> None:
        info = self.attach()
        self.map(lun=2, name="sdx")
        self.driver.connect_volume(dict(test_driver.PROPS, target_lun=2))
        self.driver.disconnect_volume(PROPS, info)
        (logout,) = self.scripted.commands("--logout")
        self.assertIn(PORTAL2, logout)
        self.assertEqual([(IQN, "default")], self.sessions())
        self.assertEqual(["sdx"], self.disks())
