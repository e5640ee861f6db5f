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

"""Multipath through the driver on the real kernel: attach, failover, detach.

One LIO target serves its LUNs on 127.0.0.1:3260 and 127.0.0.2:3260 (one
portal group, two network portals) and multipathd runs in the VM
(``find_multipaths strict``, as Debian ships it).  The library's
:class:`~iscsi_transports.attach.driver.ISCSIDriver` (and once the os-brick
connector) attaches with ``multipath`` on: it logs in to both portals at
once, and what it returns is the dm-multipath map of the LUN, which an
O_DIRECT writer keeps using while nftables cuts one path and lets it
back.  A detach leaves no map, disk, session or node record; with
multipath off one portal is logged in to; a portal that drops every packet
costs one login window, not one per portal; and a detach keeps the
sessions another volume's map still uses.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import recording
from iscsi_transports.tests.kernel import test_multipath as lab

SECOND_IP = lab.SECOND_IP
DEAD_PORTAL = "127.0.0.3:3260"
_DEAD_TABLE = "klabdead"
_DROP_DEAD = """table inet %s {
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr 127.0.0.3 tcp dport 3260 drop
    }
}
""" % _DEAD_TABLE


class DriverMultipathTestCase(base.KernelTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.machine.start_multipathd()
        self.flags(multipath_replacement_timeout=5, multipath_map_wait=90,
                   multipath_path_wait=30, multipath_flush_attempts=3,
                   multipath_flush_interval=1)
        self.target = self.lio(label="mpdrv", portal_ip="127.0.0.1",
                               more_ips=(SECOND_IP,), luns=2)
        self.addCleanup(self.drop_maps)

    def props(self, lun: int = 0, portals: list[str] | None = None
              ) -> dict[str, Any]:
        portals = portals or self.target.portals
        return {"target_portals": portals,
                "target_iqns": [self.target.iqn] * len(portals),
                "target_luns": [lun] * len(portals)}

    def drop_maps(self) -> None:
        lab.drop_maps_of(self.target.iqn)

    def assert_map(self, info: dict[str, Any]) -> str:
        """``info`` names a live map of both paths, keyed by the WWID
        udev reads from the disks; the map's kernel name."""
        disks = [str(t["disk"]) for t in info["targets"]]
        self.assertEqual(2, len(set(disks)), info)
        self.assertEqual({lab.udev_serial(disk) for disk in disks},
                         {info["multipath_id"]})
        self.assertEqual(info["multipath_id"], info["scsi_wwn"])
        self.assertEqual("/dev/disk/by-id/dm-uuid-mpath-"
                         + info["multipath_id"], info["path"])
        name = os.path.basename(os.path.realpath(info["path"]))
        self.assertEqual((name, "mpath-" + info["multipath_id"]),
                         (info["map"], lab.dm_uuids().get(name)))
        self.assertEqual(sorted(disks),
                         sorted(os.listdir("/sys/block/%s/slaves" % name)))
        return name


class TestDriverMultipath(DriverMultipathTestCase):

    def test_attach_survives_a_cut_path_and_detach_leaves_nothing(
            self) -> None:
        driver = self.driver()
        info = driver.connect_volume(self.props(), multipath=True,
                                     enforce_multipath=True)
        name = self.assert_map(info)
        self.assertEqual(
            {(portal, "default") for portal in self.target.portals},
            {(t["portal"], t["iface"]) for t in info["targets"]})
        # Our records' replacement_timeout is the session's recovery_tmo.
        for session in machine.sessions(self.target.iqn):
            self.assertEqual("5", lab._read(
                "/sys/class/iscsi_session/%s/recovery_tmo" % session))
        # The two paths were attached at once (a login to 127.0.0.1 takes
        # a quarter of a second here, too short to compare logins alone).
        self.assertEqual(2, len(self.root.logins))
        self.assertTrue(self.root.overlapped(), self.root.portal_spans())
        # Each path's record got the multipath timeouts with the rest, in
        # one write (no -o update process).
        self.assertEqual(
            {(self.target.iqn, portal, "default") for portal in
             self.target.portals},
            {(written.target, recording.bare_portal(written.portal),
              written.iface) for written in self.root.node_settings()})
        for written in self.root.node_settings():
            self.assertEqual(dict(base.NODE_SETTINGS, **{
                "node.session.timeo.replacement_timeout": "5",
                "node.conn[0].timeo.noop_out_interval": "5",
                "node.conn[0].timeo.noop_out_timeout": "5"}),
                written.settings)
        self.assertEqual(4, len(self.root.iscsiadm_args()))

        self.cut_and_restore(info)
        disks = [str(t["disk"]) for t in info["targets"]]
        driver.disconnect_volume(self.props(), info)
        self.assertNotIn(name, lab.dm_uuids())
        self.assert_clean(self.target.iqn, disks)

    def cut_and_restore(self, info: dict[str, Any]) -> None:
        (cut,) = [str(t["disk"]) for t in info["targets"]
                  if t["portal"].startswith(SECOND_IP)]
        lab.cut_and_restore(self, info["path"], cut)

    def test_extend_grows_the_map(self) -> None:
        self.target.add_lun(2, size_mib=32)  # loop-backed: it can grow
        driver = self.driver()
        info = driver.connect_volume(self.props(2), multipath=True)
        name = self.assert_map(info)
        self.target.grow(2, 48)
        size = driver.extend_volume(self.props(2))
        self.assertEqual(48 << 20, size)
        self.assertEqual(str(size // 512),
                         lab._read("/sys/block/%s/size" % name))
        driver.disconnect_volume(self.props(2), info)
        self.assert_clean(self.target.iqn,
                          [str(t["disk"]) for t in info["targets"]])

    def test_multipath_off_logs_in_once(self) -> None:
        driver = self.driver()
        info = driver.connect_volume(self.props())
        self.assertNotIn("multipath_id", info)
        self.assertEqual(1, len(self.root.logins))
        (disk,) = machine.disks(self.target.iqn)
        self.assertEqual(disk, self.assert_attached(self.target.iqn,
                                                    info["path"]))
        self.assertEqual(1, len(machine.sessions(self.target.iqn)))
        self.assert_pattern_io(info["path"])
        driver.disconnect_volume(self.props(), None)
        self.assert_clean(self.target.iqn, [disk])

    def test_a_dead_portal_costs_one_login_window(self) -> None:
        # Every packet to the third portal is dropped: each of its login
        # attempts waits out node_login_timeout.
        self.flags(node_login_timeout=5, node_login_retries=2)
        subprocess.run(["nft", "-f", "-"], input=_DROP_DEAD, text=True,
                       check=True, capture_output=True, timeout=60)
        self.addCleanup(subprocess.run, ["nft", "delete", "table", "inet",
                                         _DEAD_TABLE], capture_output=True)
        portals = [self.target.portal, DEAD_PORTAL, self.target.portals[1]]
        driver = self.driver()
        info = driver.connect_volume(self.props(portals=portals),
                                     multipath=True)
        self.assertEqual(self.target.portals,
                         [t["portal"] for t in info["targets"]])
        self.assert_map(info)
        logins = {portal: (start, end)
                  for portal, start, end in self.root.logins}
        self.assertEqual(set(portals), set(logins))
        dead_start, dead_end = logins[DEAD_PORTAL]
        # Parallel: both live logins started while the dead one was still
        # waiting (in series the third portal's would start after it), and
        # the dead one ended by itself (iscsid gave up within the login
        # window; iscsiadm was not killed).
        for portal in self.target.portals:
            self.assertLess(logins[portal][0], dead_end, logins)
        self.assertLess(dead_end - dead_start, driver.login_timeout())
        self.assertNotIn(DEAD_PORTAL.split(":")[0],
                         " ".join(machine.node_records(self.target.iqn)))
        disks = [str(t["disk"]) for t in info["targets"]]
        driver.disconnect_volume(self.props(), info)
        self.assert_clean(self.target.iqn, disks)

    def test_a_shared_targets_sessions_stay_for_the_other_map(self) -> None:
        driver = self.driver()
        first = driver.connect_volume(self.props(0), multipath=True)
        # The second volume through the os-brick connector, as nova
        # attaches with volume_use_multipath.
        connector = self.connector(use_multipath=True)
        second = connector.connect_volume(self.props(1))
        self.assertIn("multipath_id", second)
        second_map = self.assert_map(second)
        self.assertNotEqual(self.assert_map(first), second_map)

        driver.disconnect_volume(self.props(0), first)
        self.assertEqual(2, len(machine.sessions(self.target.iqn)))
        self.assertEqual(sorted(str(t["disk"]) for t in second["targets"]),
                         sorted(machine.disks(self.target.iqn)))
        self.assertEqual(2, len(os.listdir("/sys/block/%s/slaves"
                                           % second_map)))
        self.assert_pattern_io(second["path"])

        # nova passes no device info to a detach.
        connector.disconnect_volume(self.props(1), None)
        self.assertNotIn(second_map, lab.dm_uuids())
        self.assert_clean(self.target.iqn, [
            str(t["disk"]) for t in first["targets"] + second["targets"]])

    def test_attach_and_detach_commands(self) -> None:
        config = os.path.join(self.state, "it.conf")
        with open(config, "w") as handle:
            handle.write("[iscsi_transports]\nstate_path = %s\n"
                         "device_scan_attempts = 60\n"
                         "device_scan_interval = 0.5\n"
                         "multipath_map_wait = 90\n" % self.state)
        path = os.path.join(self.state, "props.json")
        with open(path, "w") as handle:
            json.dump({"driver_volume_type": "iscsi", "data": self.props()},
                      handle)
        info = self.cli_json("attach", "--properties", path, "--multipath",
                             "--config-file", config)
        self.assert_map(info)
        disks = [str(t["disk"]) for t in info["targets"]]
        # No device info: sysfs shows the map and its paths.
        code, out, err = base.cli("detach", "--properties", path,
                                  "--config-file", config)
        self.assertEqual((0, "detached\n", ""), (code, out, err))
        self.assert_clean(self.target.iqn, disks)
