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

"""Scenario 6: the console script on the real kernel, with live sessions.

``list`` and ``doctor`` must report what the kernel has registered
(``/sys/class/iscsi_transport``) and found (NICs, RDMA devices, no
Chelsio card).  The ``snapshot`` taken here, with a TCP session through
a NIC-bound iface and an iSER session alive, is written to the work dir;
a copy is kept as test data for the unit tests
(``iscsi_transports/tests/unit/data/``).
"""

from __future__ import annotations

import os
from typing import Any

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine

SNAPSHOT = "kernel-lab-snapshot.tar.gz"
CONFIG = "[iscsi_transports]\nenabled_transports = iser,cxgb4i\n"


class TestConsoleScript(base.KernelTestCase):

    def setUp(self) -> None:
        super().setUp()
        machine.modprobe("cxgb4i")
        self.soft_roce()
        self.flags(enabled_transports=["iser"])
        self.config = os.path.join(self.state, "iscsi-transports.conf")
        with open(self.config, "w") as handle:
            handle.write(CONFIG)
        self.attach_tcp_and_iser()

    def attach_tcp_and_iser(self) -> None:
        """Live sessions: TCP through the NIC-bound iface, and iSER."""
        self.flags(transport=base.NIC_IFACE)
        self.forget_iface(base.NIC_IFACE)
        for volume_type, iser in (("iscsi", False), ("iser", True)):
            target = self.lio(label=volume_type, iser=iser)
            driver = self.driver()
            info = driver.connect_volume(target.props(),
                                         volume_type=volume_type)
            self.addCleanup(driver.disconnect_volume, target.props(), info)
            self.assertEqual(1, len(machine.sessions(target.iqn)))

    def by_name(self, report: dict[str, Any]) -> dict[str, Any]:
        return {item["name"]: item for item in report["transports"]}

    def test_list_reports_the_kernel_transports(self) -> None:
        listing = self.by_name(self.cli_json("list", "--config-file",
                                             self.config))
        kernel = set(os.listdir("/sys/class/iscsi_transport"))
        self.assertLessEqual({"tcp", "iser", "cxgb4i"}, kernel)
        self.assertEqual(kernel & set(listing),
                         {name for name, item in listing.items()
                          if item["module_loaded"]})
        self.assertTrue(listing["tcp"]["usable"])
        self.assertEqual([(base.NIC_IFACE, machine.NIC)],
                         [(port["iface_name"], port["netdev"])
                          for port in listing["tcp"]["ports"]])
        self.assertTrue(listing["iser"]["usable"], listing["iser"]["reason"])
        self.assertEqual([machine.RXE], [port["host"] for port in
                                         listing["iser"]["ports"]])
        self.assertFalse(listing["cxgb4i"]["usable"])
        self.assertEqual([], listing["cxgb4i"]["hardware"])
        # The sessions' own iSCSI hosts are no offload ports.
        for name, item in listing.items():
            if item["offload"]:
                self.assertEqual([], item["ports"], name)

    def test_doctor_reports_the_kernel_transports(self) -> None:
        report = self.cli_json("doctor", "--config-file", self.config)
        self.assertTrue(report["healthy"])
        self.assertEqual(("tcp", "default", False),
                         (report["active"]["transport"],
                          report["active"]["iface"],
                          report["active"]["fallback"]))
        checks = {item["name"]: {check["check"]: check for check in
                                 item["checks"]}
                  for item in report["transports"]}
        self.assertEqual(machine.NIC, checks["tcp"]["hardware"]["detail"])
        self.assertEqual(machine.RXE, checks["iser"]["hardware"]["detail"])
        self.assertEqual("ib_iser loaded", checks["iser"]["module"]["detail"])
        self.assertEqual(("-", "none found"),
                         (checks["cxgb4i"]["hardware"]["status"],
                          checks["cxgb4i"]["hardware"]["detail"]))

    def test_snapshot_with_live_sessions_replays(self) -> None:
        path = os.path.join(self.machine.work, SNAPSHOT)
        code, _out, err = base.cli("snapshot", path, "--portal",
                                   machine.NIC_IP)
        self.assertEqual(0, code, err)
        live = self.cli_json("list", "--config-file", self.config)
        replayed = self.cli_json("list", "--config-file", self.config,
                                 "--snapshot", path)
        self.assertEqual(live, replayed)
