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

"""Replaying a snapshot of the kernel lab's VM with live sessions.

``data/kernel-lab-6.1-live-sessions.tar.gz`` was written by
``iscsi-transports snapshot`` inside the kernel lab (Debian's 6.1 kernel,
``iscsi_transports.tests.kernel.test_cmd``) while a TCP session through
the NIC-bound iface ``tcp.52:54:00:12:34:01`` and an iSER session over
Soft-RoCE (rxe0) were logged in, with cxgb4i loaded and no Chelsio card.
It is what a real kernel shows, not a built tree: the two sessions' own
iSCSI hosts (``iscsi_tcp``, ``iser``) sit in ``class/iscsi_host`` beside
offload ports that do not exist.
"""

import io
import json
import os

import fixtures

from iscsi_transports.cmd import main
from iscsi_transports.tests import base

SNAPSHOT = os.path.join(os.path.dirname(__file__), "data",
                        "kernel-lab-6.1-live-sessions.tar.gz")
NIC_IFACE = "tcp.52:54:00:12:34:01"


class TestKernelLabSnapshot(base.TestCase):

    def run_json(self, *argv, transport="default", expect=0):
        config = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              "nova.conf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\nenabled_transports = iser,"
                         "cxgb4i\ntransport = %s\n" % transport)
        out, err = io.StringIO(), io.StringIO()
        code = main.main([*argv, "--snapshot", SNAPSHOT, "--config-file",
                          config, "--format", "json"], out=out, err=err)
        self.assertEqual(expect, code, err.getvalue())
        return json.loads(out.getvalue())

    def transports(self):
        return {item["name"]: item
                for item in self.run_json("list")["transports"]}

    def test_loaded_modules_are_the_kernels_transports(self):
        loaded = {name for name, item in self.transports().items()
                  if item["module_loaded"]}
        self.assertEqual({"tcp", "iser", "cxgb4i"}, loaded)

    def test_nic_and_soft_roce_ports(self):
        found = self.transports()
        self.assertTrue(found["tcp"]["usable"])
        self.assertEqual([(NIC_IFACE, "eth0", "0000:00:06.0")],
                         [(port["iface_name"], port["netdev"],
                           port["pci_address"])
                          for port in found["tcp"]["ports"]])
        self.assertTrue(found["iser"]["usable"], found["iser"]["reason"])
        self.assertEqual(["rxe0"],
                         [port["host"] for port in found["iser"]["ports"]])

    def test_session_hosts_are_not_offload_ports(self):
        found = self.transports()
        self.assertFalse(found["cxgb4i"]["usable"])
        self.assertEqual([], found["cxgb4i"]["hardware"])
        for name, item in found.items():
            if item["offload"]:
                self.assertEqual([], item["ports"], name)

    def test_nic_iface_selected_without_fallback(self):
        active = self.run_json("active", transport=NIC_IFACE)
        self.assertEqual(("tcp", NIC_IFACE, False),
                         (active["transport"], active["iface"],
                          active["fallback"]))

    def test_cxgb4i_without_card_falls_back(self):
        active = self.run_json("active", transport="cxgb4i")
        self.assertEqual(("tcp", "default", True),
                         (active["transport"], active["iface"],
                          active["fallback"]))
        report = self.run_json("doctor", transport="cxgb4i", expect=1)
        self.assertFalse(report["healthy"])
