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

"""A snapshot of the machine running the tests, replayed.

Real ``/sys``, real ``/etc/iscsi/ifaces`` and ``/proc``, and real
rtnetlink through pyroute2: the snapshot must reproduce what ``list`` and
``doctor`` say about this host.  Nothing is skipped: a host without sysfs
or without pyroute2 fails the test.
"""

from __future__ import annotations

import io
import json
import os
import tarfile

import fixtures

from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.tests import base

PORTAL = "127.0.0.1:3260"


class TestSnapshotOfThisHost(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        # The commands get no config file: production defaults (/sys,
        # /etc/iscsi/ifaces, /proc, netlink), exactly as an operator runs it.
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.archive = os.path.join(self.tmp, "this-host.tar.gz")
        self.assertTrue(os.path.isdir("/sys/class/net"),
                        "sysfs is not mounted at /sys")

    def run_cmd(self, *argv: str, expect: int | None = 0) -> str:
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main(list(argv), out=out, err=err)
        if expect is not None:
            self.assertEqual(expect, code, err.getvalue())
        return "%s\n%s" % (code, out.getvalue()) if expect is None \
            else out.getvalue()

    def test_list_and_doctor_replay_identically(self) -> None:
        summary = json.loads(self.run_cmd(
            "snapshot", self.archive, "--portal", PORTAL, "--format",
            "json"))
        self.assertGreater(summary["sysfs_files"], 0)
        self.assertGreater(summary["addresses"], 0, "no address over "
                           "netlink: is pyroute2 working?")
        live = self.run_cmd("list", "--format", "json")
        replayed = self.run_cmd("list", "--format", "json", "--snapshot",
                                self.archive)
        self.assertEqual(json.loads(live), json.loads(replayed))
        # This host may lack iscsid or iscsi_tcp (doctor then exits 1):
        # the replay must say exactly the same, exit status included.
        doctor_live = self.run_cmd("doctor", "--portal", PORTAL, "--format",
                                   "json", expect=None)
        doctor_replayed = self.run_cmd("doctor", "--portal", PORTAL,
                                       "--format", "json", "--snapshot",
                                       self.archive, expect=None)
        self.assertEqual(doctor_live, doctor_replayed)

    def test_archive_holds_only_the_snapshot_layout(self) -> None:
        self.run_cmd("snapshot", self.archive)
        with tarfile.open(self.archive) as archive:
            members = archive.getmembers()
        tops = {member.name.split("/")[0] for member in members}
        # The initiator name file only where the host has one.
        self.assertEqual({"sysfs", "ifaces", "proc", "network.json",
                          "snapshot.json", "modules"},
                         tops - {"initiatorname.iscsi"})
        self.assertTrue(any(member.issym() and member.name.startswith(
            "sysfs/class/net/") for member in members))
        self.assertFalse([member.name for member in members
                          if member.name.startswith("sysfs/")
                          and member.isfile() and member.size > 4096])
