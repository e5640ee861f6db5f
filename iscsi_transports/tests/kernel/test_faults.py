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

"""Faults production brings, on the real kernel (issue 28).

A session whose node record was removed under it is still logged out by
a detach, plain or forced; without ``target_iqn`` two LIO targets at one
portal, each with a LUN 0, make an attach refuse before any login and a
detach with nova's ``device_info=None`` refuse before touching either
(the device path nova keeps settles which one is the volume); and a
multipath volume given a single portal gets every portal discovery lists
for its target, so the map has both paths of a two-portal LIO target.
"""

from __future__ import annotations

import os
import shutil

from iscsi_transports import exception
from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import test_multipath_attach


class TestRecordGone(base.KernelTestCase):
    """A node record removed under a live session."""

    def attach_and_drop_the_record(self, force: bool) -> None:
        target = self.lio(label="norecord")
        driver = self.driver()
        info = driver.connect_volume(target.props())
        disk = self.assert_attached(target.iqn, info["path"])
        # iscsiadm's own -o delete refuses a record in use (exit 15): the
        # record goes as a tool or an operator removes files under
        # open-iscsi's node directory.
        shutil.rmtree(os.path.join(machine.records_dir(), "nodes",
                                   target.iqn))
        self.assertEqual([], machine.node_records(target.iqn))
        self.assertEqual(1, len(machine.sessions(target.iqn)))
        self.root.clear()
        driver.disconnect_volume(target.props(), None, force=force)
        # The disk went first, the record write found nothing, and the
        # logout and (no-op) delete still ran.
        self.assertEqual(["flush_disk", "delete_disk", "read_node_layout",
                          "write_node_settings", "iscsiadm", "iscsiadm"],
                         self.root.names())
        self.assertEqual([["--logout"], ["-o", "delete"]],
                         [args[8:] for args in self.root.iscsiadm_args()])
        self.assert_clean(target.iqn, [disk])

    def test_plain_detach_logs_out(self) -> None:
        self.attach_and_drop_the_record(force=False)

    def test_forced_detach_logs_out(self) -> None:
        self.attach_and_drop_the_record(force=True)


class TestWithoutIqn(base.KernelTestCase):
    """Two targets at one portal, each exporting a LUN 0 of its own."""

    def test_two_targets_at_one_portal(self) -> None:
        first = self.lio(label="noiqn-a")
        second = self.lio(label="noiqn-b")
        self.assertEqual(first.portal, second.portal)
        driver = self.driver()
        bare = {"target_portal": first.portal, "target_lun": 0}
        error = self.assertRaises(exception.AmbiguousTarget,
                                  driver.connect_volume, bare)
        self.assertIn(first.iqn, str(error))
        self.assertIn(second.iqn, str(error))
        self.assertEqual([], self.root.logins)
        for target in (first, second):
            self.assertEqual([], machine.sessions(target.iqn))
            self.assertEqual([], machine.node_records(target.iqn))

        # Both volumes attached with their IQNs (two instances).
        infos = [driver.connect_volume(target.props())
                 for target in (first, second)]
        disks = [self.assert_attached(target.iqn, info["path"])
                 for target, info in zip((first, second), infos)]
        self.root.clear()
        for force in (False, True):
            self.assertRaises(exception.AmbiguousTarget,
                              driver.disconnect_volume, bare, None,
                              force=force)
        self.assertEqual([], self.root.operations)
        for target, disk in zip((first, second), disks):
            self.assertEqual([disk], machine.disks(target.iqn))
        self.assert_pattern_io(infos[0]["path"])

        # nova keeps the path the attach returned as device_path.
        driver.disconnect_volume(dict(bare, device_path=infos[1]["path"]),
                                 None)
        self.assert_clean(second.iqn, [disks[1]])
        self.assertEqual([disks[0]], machine.disks(first.iqn))
        self.assert_pattern_io(infos[0]["path"])
        # One target left with the LUN: the bare detach is its.
        driver.disconnect_volume(bare, None)
        self.assert_clean(first.iqn, [disks[0]])


class TestSinglePortalMultipath(
        test_multipath_attach.DriverMultipathTestCase):
    """A driver that sends only ``target_portal`` (Ceph iSCSI, LVM to a
    single-path connector) with multipath on."""

    def test_discovery_finds_both_portals(self) -> None:
        driver = self.driver()
        props = self.target.props(0)  # target_portal, target_iqn, _lun
        info = driver.connect_volume(props, multipath=True,
                                     enforce_multipath=True)
        name = self.assert_map(info)
        self.assertEqual(self.target.portals,
                         [t["portal"] for t in info["targets"]])
        (discovery,) = [args for args in self.root.iscsiadm_args()
                        if args[:2] == ["-m", "discovery"]]
        self.assertEqual(["-o", "nonpersistent"], discovery[-2:])
        self.assertEqual(2, len(self.root.logins))
        self.assert_pattern_io(info["path"])
        # nova detaches with the same properties and no device info.
        disks = [str(t["disk"]) for t in info["targets"]]
        driver.disconnect_volume(props, None)
        self.assertNotIn(name, test_multipath_attach.lab.dm_uuids())
        self.assert_clean(self.target.iqn, disks)
