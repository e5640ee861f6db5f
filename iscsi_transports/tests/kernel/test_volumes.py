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

"""``iscsi-transports volumes`` on the real kernel.

A volume held open by a process and one whose LUN the target (LIO)
unmapped, both attached by the driver through a fallback (cxgb4i asked
for, no card: TCP used, with the reason); and a dm-multipath map whose
every path nftables cuts.  The console script reports each: JSON field by
field, the prometheus output parsed back; the detach removes the attach
records, and doctor points at the leftovers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import test_multipath
from iscsi_transports.tests.unit.cmd import test_volumes as unit

_NFT_TABLE = "klabvolumes"
_CUT_ALL = """table inet %s {
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr { 127.0.0.1, 127.0.0.2 } tcp dport 3260 drop
        ip saddr { 127.0.0.1, 127.0.0.2 } tcp sport 3260 drop
    }
}
""" % _NFT_TABLE


def _read(path: str) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


class VolumesMixin:
    """The console script run against the test's state directory."""

    state: str

    def volumes(self, *argv: str) -> tuple[int, str, str]:
        conf = os.path.join(self.state, "volumes.conf")
        with open(conf, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\nstate_path = %s\n"
                         % self.state)
        return base.cli("volumes", "--config-file", conf, *argv)


class TestVolumes(VolumesMixin, base.KernelTestCase):

    def hold_open(self, path: str) -> subprocess.Popen[str]:
        """A process that keeps ``path`` open (as a guest's QEMU does),
        ended by its pid at clean-up at the latest."""
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sys, time; f = open(sys.argv[1], "
             "'rb'); print('open', flush=True); time.sleep(600)", path],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        stdout = holder.stdout
        assert stdout is not None
        self.assertEqual("open", stdout.readline().strip())
        return holder

    def test_held_unmapped_and_fallback_volumes(self) -> None:
        machine.modprobe("cxgb4i")
        self.flags(transport="cxgb4i")
        held_target = self.lio(label="held")
        gone_target = self.lio(label="gone", luns=2)
        driver = self.driver()
        held = driver.connect_volume(held_target.props())
        gone = driver.connect_volume(gone_target.props(lun=1))
        holder = self.hold_open(held["path"])
        gone_disk = gone["targets"][0]["disk"]
        gone_target.unmap(1)
        # The kernel learns on the disk's next revalidation.
        with open("/sys/block/%s/device/rescan" % gone_disk, "w") as handle:
            handle.write("1")
        machine.wait_for(lambda: _read(
            "/sys/block/%s/size" % gone_disk) == "0",
            "the kernel to drop the capacity of %s" % gone_disk, 60)

        code, out, err = self.volumes("--format", "json")
        self.assertEqual(0, code, err)
        by_iqn = {volume["target_iqn"]: volume
                  for volume in json.loads(out)["volumes"]}
        volume = by_iqn[held_target.iqn]
        self.assertEqual(
            ("ok", [], held_target.portal, "default", "tcp", 0,
             held["targets"][0]["disk"], None, held["scsi_wwn"], True,
             True, True, "cxgb4i", 1, True),
            (volume["state"], volume["problems"], volume["portal"],
             volume["iface"], volume["transport"], volume["lun"],
             volume["disk"], volume["map"], volume["scsi_wwn"],
             volume["in_use"], volume["managed"], volume["fallback"],
             volume["requested"], volume["paths_up"],
             volume["lun_reported"]))
        self.assertEqual(held["reason"], volume["reason"])
        self.assertIn(holder.pid,
                      [p["pid"] for p in volume["users"]["processes"]])
        self.assertEqual(held["path"], volume["stable_path"])
        volume = by_iqn[gone_target.iqn]
        self.assertEqual(
            ("lun-gone", False, 1, gone_disk, True, True, False),
            (volume["state"], volume["lun_reported"], volume["lun"],
             volume["disk"], volume["managed"], volume["fallback"],
             volume["in_use"]))

        code, out, err = self.volumes("--format", "prometheus")
        self.assertEqual(0, code, err)
        metrics = unit.parse_exposition(out)
        self.assertGreaterEqual(unit.samples(metrics, "fallbacks")[
            (("requested", "cxgb4i"), ("transport", "tcp"))], 2)
        self.assertGreaterEqual(unit.samples(metrics, "volumes")[
            (("state", "lun-gone"),)], 1)

        # Each detach removes its record; the other stays until its own.
        records = os.path.join(self.state, "attachments")
        driver.disconnect_volume(gone_target.props(lun=1), gone)
        code, out, err = self.volumes("--format", "json")
        self.assertNotIn(gone_target.iqn, [
            volume["target_iqn"] for volume in json.loads(out)["volumes"]])
        self.assertEqual(1, len(os.listdir(records)))
        holder.kill()
        holder.wait()
        driver.disconnect_volume(held_target.props(), held)
        self.assertEqual([], os.listdir(records))


class TestDeadMap(VolumesMixin, test_multipath.MultipathTestCase):

    def test_every_path_cut_is_a_map_with_no_live_path(self) -> None:
        found = self.multipath.wait_for_map(self.wwid, self.disks)
        subprocess.run(["nft", "-f", "-"], input=_CUT_ALL, text=True,
                       check=True, capture_output=True, timeout=60)
        self.addCleanup(subprocess.run, ["nft", "delete", "table", "inet",
                                         _NFT_TABLE], capture_output=True)
        sessions = machine.sessions(self.target.iqn)
        machine.wait_for(lambda: all(
            _read("/sys/class/iscsi_session/%s/state" % session)
            == "FAILED" for session in sessions),
            "both sessions to fail", 120)

        code, out, err = self.volumes("--format", "json")
        self.assertEqual(0, code, err)
        (volume,) = [volume for volume in json.loads(out)["volumes"]
                     if volume["map"] == found.name]
        self.assertEqual(
            ("failed", "map %s has no live path" % found.name, 0,
             sorted(self.disks), self.wwid, False),
            (volume["state"], volume["problems"][0], volume["paths_up"],
             sorted(volume["disks"]), volume["scsi_wwn"],
             volume["managed"]))
        self.assertEqual({"FAILED"}, {path["session_state"]
                                      for path in volume["paths"]})
        code, out, err = self.volumes("--format", "prometheus")
        paths = unit.samples(unit.parse_exposition(out), "map_paths")
        self.assertEqual((0, 2), (
            paths[(("map", found.name), ("state", "up"),
                   ("wwid", self.wwid))],
            paths[(("map", found.name), ("state", "down"),
                   ("wwid", self.wwid))]))
        code, out, err = base.cli("doctor", "--format", "json")
        (leftovers,) = [check for check in json.loads(out)["basics"]
                        if check["check"] == "leftovers"]
        self.assertEqual("warn", leftovers["status"])
        self.assertIn("%s (failed)" % found.name, leftovers["detail"])
        self.assertIn("see iscsi-transports volumes", leftovers["detail"])
