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

"""Broken vendor plugins stay contained all the way up: driver and console.

``test_manager`` covers the manager's bookkeeping and ``cmd/test_inventory``
the ``list`` output; this adds what an operator and nova see: an attach
configured for a plugin that fails to import, to construct or to detect
falls back to TCP with the reason (or fails typed when fallback is off),
a good third-party plugin beside them still attaches, and ``show``,
``active`` and ``doctor`` keep working.
"""

from __future__ import annotations

import io
import json
import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import fake_kernel
from iscsi_transports.tests.unit.fake_plugins import fixture as fake

PORTAL = "192.0.2.10:3260"
IQN = "iqn.2010-10.org.openstack:volume-1"
PROPS = {"target_portal": PORTAL, "target_iqn": IQN, "target_lun": 1}
BROKEN = {"importerror": "libacme.so", "explodinginit": "cannot construct",
          "explodingdetect": "vendor bug while probing",
          "notatransport": "not a subclass"}


class BrokenPluginCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.useFixture(fake.FakePluginDistribution())
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.lock_path, device_dir=self.dev,
                   device_scan_attempts=1, device_scan_interval=0,
                   enabled_transports=["fakevendor", *BROKEN])
        self.scripted = fake_executor.ScriptedExecutor()
        self.scripted.on("iface", "show", exit_code=6)
        self.kernel = self.useFixture(fake_kernel.Kernel(self.sysfs,
                                                         self.scripted))
        self.kernel.map(IQN, 1, "sdb", "disk/by-path/ip-%s-iscsi-%s-lun-1"
                        % (PORTAL, IQN))

    def attach(self, transport: str, iface: str = "default") -> dict:
        self.flags(transport=transport)
        drv = driver_mod.ISCSIDriver(self.conf, **self.kernel.driver_kwargs())
        return drv.connect_volume(PROPS)

    def console(self, *argv: str) -> tuple[int, str, str]:
        config = os.path.join(self.lock_path, "host.conf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(self.useFixture(hostdata.HostData()).config_text())
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main([*argv, "--sysfs-root", self.sysfs.root,
                              "--config-file", config], out=out, err=err)
        return code, out.getvalue(), err.getvalue()


class TestDriver(BrokenPluginCase):

    def test_attach_configured_for_a_broken_plugin_falls_back(self) -> None:
        for name, why in BROKEN.items():
            info = self.attach(name)
            self.assertEqual(("tcp", "default", True),
                             (info["transport"], info["iface"],
                              info["fallback"]), name)
            self.assertIn(why, info["reason"])
        # The first attach logs in over TCP; the others find its session
        # in sysfs (same target, portal and iface) and reuse it.
        logins = self.scripted.commands("--login")
        self.assertEqual(1, len(logins))
        self.assertTrue(all("default" in cmd for cmd in logins))

    def test_without_fallback_the_attach_fails_typed(self) -> None:
        self.flags(fallback_to_tcp=False)
        for name, why in BROKEN.items():
            error = self.assertRaises(exception.TransportUnusable,
                                      self.attach, name)
            self.assertIn(why, str(error))
        self.assertEqual([], self.scripted.commands("--login"))

    def test_good_vendor_plugin_still_attaches_beside_them(self) -> None:
        info = self.attach("fakevendor")
        self.assertEqual(("fakevendor", "fakevendor.00:11:22:33:44:55",
                          False),
                         (info["transport"], info["iface"], info["fallback"]))
        self.assertTrue(self.scripted.commands(
            "iface", "-o", "new", "fakevendor.00:11:22:33:44:55"))


class TestConsole(BrokenPluginCase):

    def test_show_of_a_plugin_whose_detection_raises(self) -> None:
        code, out, err = self.console("show", "explodingdetect",
                                      "--format", "json")
        self.assertEqual((0, ""), (code, err))
        data = json.loads(out)
        self.assertFalse(data["usable"])
        self.assertIn("detection failed", data["reason"])

    def test_show_of_a_plugin_that_failed_to_load(self) -> None:
        code, out, err = self.console("show", "importerror")
        self.assertEqual((1, ""), (code, out))
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertNotIn("Traceback", err)

    def test_active_and_doctor_survive_every_broken_plugin(self) -> None:
        # The configured transport is software TCP, which no broken plugin
        # can take away: every command succeeds.
        for command in (["active"], ["doctor"], ["list"]):
            code, out, err = self.console(*command, "--format", "json")
            self.assertEqual(0, code, (command, err))
            self.assertNotIn("Traceback", out + err)
            json.loads(out)
