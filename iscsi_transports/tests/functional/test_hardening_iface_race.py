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

"""Eight processes ensure the same iface at once, against the real iscsiadm.

nova-compute workers and the console script may all attach through a new
offload port at the same moment.  Each process here is a separate Python
interpreter with its own :class:`~iscsi_transports.iscsiadm.Iscsiadm`,
sharing only ``state_path`` (marker files and the external lock), released
together through a barrier; iscsiadm writes the lab's real
``/etc/iscsi/ifaces``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from iscsi_transports import iface as iface_mod
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.tests.functional import base

WORKERS = 8
CHILD = """
import json, sys
from oslo_config import cfg
from iscsi_transports import config, iface, opts
from iscsi_transports.iscsiadm import ifaces, runner
params = json.loads(sys.argv[1])
conf = cfg.ConfigOpts()
opts.register_opts(conf)
conf([])
for key, value in params["flags"].items():
    conf.set_override(key, value, group=config.GROUP)
from iscsi_transports import privileged
cfg.CONF.set_override("helper_command", params["helper"],
                      group=privileged.CFG_SECTION)
from iscsi_transports.privileged import client

# Each child through its own daemon in the lab (root would run in process).
tool = ifaces.IfaceRecords(runner.Iscsiadm(
    conf, executor=client.executor(in_process=False)))
wanted = iface.Iface(**params["iface"])
print("ready", flush=True)
sys.stdin.readline()
try:
    print(json.dumps({"result": tool.ensure(wanted)}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
"""
RACE_IFACE = iface_mod.Iface(name="race0", transport_name="tcp",
                             net_ifacename="lo",
                             initiatorname="iqn.2026-11.org.openstack.test:race")


class TestConcurrentEnsure(base.FunctionalTestCase):

    def race(self, wanted: iface_mod.Iface) -> list[dict]:
        """Start WORKERS processes, release them together, collect results."""
        params = json.dumps({"iface": {
            "name": wanted.name, "transport_name": wanted.transport_name,
            "net_ifacename": wanted.net_ifacename,
            "initiatorname": wanted.initiatorname},
            "flags": {"state_path": self.lock_path, "iscsiadm_timeout": 60},
            "helper": "%s %s -m oslo_privsep.daemon" % (
                self.lab.root_helper, sys.executable)})
        children = [subprocess.Popen(
            [sys.executable, "-c", CHILD, params], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True) for _ in range(WORKERS)]
        for child in children:
            self.assertEqual("ready\n", child.stdout.readline())
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [json.loads(child.communicate(timeout=120)[0])
                   for child in children]
        self.assertEqual([0] * WORKERS, [c.returncode for c in children])
        return results

    def record_file(self, name: str) -> str:
        return os.path.join(self.lab.etc_iscsi, "ifaces", name)

    def test_one_record_no_error(self) -> None:
        results = self.race(RACE_IFACE)
        outcomes = sorted(r.get("result", r.get("error")) for r in results)
        self.assertEqual([iscsiadm_ifaces.CREATED] +
                         [iscsiadm_ifaces.UNCHANGED] * (WORKERS - 1),
                         outcomes, results)
        self.assertEqual(["race0"],
                         os.listdir(os.path.dirname(self.record_file("race0"))))
        shown = iscsiadm_ifaces.IfaceRecords(self.iscsiadm).show("race0")
        self.assertEqual({}, iface_mod.differences(shown, RACE_IFACE))
        self.assertTrue(iscsiadm_ifaces.IfaceRecords(self.iscsiadm)
                        .created_by_us("race0"))

    def test_foreign_record_is_never_modified_by_any_of_them(self) -> None:
        for args in (["-o", "new"], ["-o", "update", "-n",
                                     "iface.net_ifacename", "-v", "lo"]):
            self.assertEqual(0, self.lab.run(
                "iscsiadm", "-m", "iface", "-I", "race0", *args).returncode)
        with open(self.record_file("race0"), "rb") as record:
            before = record.read()
        changed = iface_mod.Iface(name="race0", transport_name="tcp",
                                  net_ifacename="eth9",
                                  initiatorname=RACE_IFACE.initiatorname)
        results = self.race(changed)
        self.assertEqual(["IfaceConflict"] * WORKERS,
                         [r.get("error") for r in results], results)
        with open(self.record_file("race0"), "rb") as record:
            self.assertEqual(before, record.read())
        self.assertFalse(iscsiadm_ifaces.IfaceRecords(self.iscsiadm)
                         .created_by_us("race0"))
