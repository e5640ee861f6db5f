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

"""``iscsi-transports attach`` / ``detach`` on a built sysfs tree: the
JSON contract, secrets kept out of argv and output, one-line failures."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import fixtures

from iscsi_transports.attach import driver
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import fake_kernel
from iscsi_transports.tests.unit.cmd import test_inventory

IQN = "iqn.2010-10.org.openstack:volume-1"
PORTAL = "10.0.0.1:3260"
SECRET = "Ch4pS3cret!"
CONTRACT = {"path", "scsi_wwn", "transport", "iface", "fallback", "reason",
            "paths"}


class VolumeCommandCase(test_inventory.CommandTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.files = self.useFixture(fixtures.TempDir()).path
        self.scripted = fake_executor.ScriptedExecutor()
        self.kernel = self.useFixture(fake_kernel.Kernel(self.sysfs,
                                                         self.scripted))
        self.flags(state_path=self.lock_path, device_scan_attempts=2)
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.cmd.volume.driver_mod.ISCSIDriver",
            functools.partial(driver.ISCSIDriver,
                              **self.kernel.driver_kwargs())))
        # The console script reads its own configuration: the state path
        # goes in through a config file, as an operator would set it.
        self.conf_file = self.config_file(
            "[iscsi_transports]\nstate_path = %s\ndevice_scan_attempts = 2\n"
            % self.lock_path)

    def write(self, name: str, data: Any) -> str:
        path = os.path.join(self.files, name)
        with open(path, "w") as handle:
            handle.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def cmd(self, *argv: str, expect: int = 0) -> tuple[str, str]:
        return self.run_cmd(*argv, "--config-file", self.conf_file,
                            expect=expect)

    def sessions(self) -> list[str]:
        return [s.target for s in driver.sysfs.Sysfs(
            self.sysfs.root).sessions()]


class TestAttachDetach(VolumeCommandCase):
    props = {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1,
             "auth_method": "CHAP", "auth_username": "u",
             "auth_password": SECRET}

    def test_attach_prints_the_contract_and_detach_undoes_it(self) -> None:
        link = self.kernel.map(IQN, 1, "sdb", "disk/by-path/ip-%s-iscsi-%s-"
                               "lun-1" % (PORTAL, IQN))
        props = self.write("props.json", {"driver_volume_type": "iscsi",
                                          "data": self.props})
        out, err = self.cmd("attach", "--properties", props, "--format",
                            "json")
        info = json.loads(out)
        self.assertLessEqual(CONTRACT, set(info))
        self.assertEqual(link, info["path"])
        self.assertEqual([link], info["paths"])
        self.assertFalse(info["fallback"])
        self.assertNotIn(SECRET, out + err)
        self.assertEqual([IQN], self.sessions())
        self.cmd("detach", "--properties", props, "--device-info",
                 self.write("info.json", out))
        self.assertEqual([], self.sessions())
        self.assertEqual(["sdb"], self.kernel.kernel.written("delete"))

    def test_detach_without_device_info(self) -> None:
        self.kernel.map(IQN, 1, "sdb", "disk/by-path/x")
        props = self.write("props.json", self.props)
        self.cmd("attach", "--properties", props)
        out, _ = self.cmd("detach", "--properties", props)
        self.assertEqual("detached\n", out)
        self.assertEqual([], self.sessions())

    def test_multipath_attach_prints_the_map_and_detach_removes_it(
            self) -> None:
        portal2 = "10.0.0.2:3260"
        self.kernel.map(IQN, 1, "sdb", "disk/by-path/x")
        props = self.write("props.json", dict(
            self.props, target_portals=[PORTAL, portal2],
            target_iqns=[IQN, IQN], target_luns=[1, 1]))
        out, _err = self.cmd("attach", "--properties", props, "--multipath",
                             "--format", "json")
        info = json.loads(out)
        wwid = "3" + "6001405%025x" % 1
        self.assertLessEqual(CONTRACT | {"multipath_id", "map"}, set(info))
        self.assertEqual((wwid, "dm-0"), (info["multipath_id"], info["map"]))
        self.assertEqual(os.path.join(self.kernel.dev, "disk", "by-id",
                                      "dm-uuid-mpath-" + wwid), info["path"])
        self.assertEqual({PORTAL, portal2},
                         {t["portal"] for t in info["targets"]})
        self.assertEqual(2, len(self.sessions()))
        self.cmd("detach", "--properties", props)
        self.assertEqual(({}, []), (self.kernel.multipathd.maps,
                                    self.sessions()))
        self.assertEqual(["multipath -f mpatha"],
                         self.kernel.multipathd.commands()[-1:])

    def test_multipath_attach_text_names_map_and_paths(self) -> None:
        self.kernel.map(IQN, 1, "sdb", "disk/by-path/x")
        props = self.write("props.json", dict(
            self.props, target_portals=[PORTAL], target_iqns=[IQN],
            target_luns=[1]))
        out, _err = self.cmd("attach", "--properties", props, "--multipath")
        self.assertIn("multipath: map dm-0, WWID 3", out)
        self.assertIn("  path sdb ", out)
        self.assertIn("iface default", out)

    def test_enforced_multipath_without_multipathd_is_one_line(self) -> None:
        self.kernel.multipathd.running = False
        props = self.write("props.json", self.props)
        _out, err = self.cmd("attach", "--properties", props, "--multipath",
                             "--enforce-multipath", expect=1)
        self.assertEqual(1, len(err.splitlines()))
        self.assertIn("multipathd is not running", err)
        self.assertEqual([], self.scripted.argvs)

    def test_failed_attach_is_one_line_and_leaves_nothing(self) -> None:
        props = self.write("props.json", self.props)
        _out, err = self.cmd("attach", "--properties", props, expect=1)
        self.assertEqual(1, len(err.splitlines()))
        self.assertIn("No block device appeared", err)
        self.assertEqual([], self.sessions())
        self.assertEqual(1, len(self.scripted.commands("-o", "delete")))

    def test_bad_files_are_one_line(self) -> None:
        for content in ("{not json", "[1, 2]", json.dumps({"target_lun": 1})):
            _out, err = self.cmd("attach", "--properties",
                                 self.write("bad.json", content), expect=1)
            self.assertEqual(1, len(err.splitlines()), err)
        _out, err = self.cmd("detach", "--properties",
                             os.path.join(self.files, "missing.json"),
                             expect=1)
        self.assertEqual(1, len(err.splitlines()))
        self.assertEqual([], self.scripted.argvs)
