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

"""Snapshots: capture from a built host, replay, and refuse unsafe archives."""

import io
import os
import tarfile

import fixtures

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports.cmd import main
from iscsi_transports.selection import network
from iscsi_transports.support import snapshot
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata


class SnapshotTestCase(base.TestCase):
    """A host with two cards, a stale record, processes and routes."""

    def setUp(self):
        super().setUp()
        self.data = self.useFixture(hostdata.HostData())
        self.flags(**self.data.options())
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.archive = os.path.join(self.tmp, "host.tar.gz")
        self.chelsio = self.sysfs.add_offload_card("cxgb4i", ports=2,
                                                   ipaddresses=[None, None])
        self.sysfs.add_offload_card("bnx2i", bus=8, ipaddresses=["10.4.0.3"])
        self.sysfs.add_offload_card("qla4xxx", bus=7, module=False)
        self.sysfs.add_pci("0000:01:00.0", 0x8086, 0x10FB, driver="ixgbe")
        self.sysfs.add_netdev("eth0", "00:1b:21:00:00:01", "0000:01:00.0")
        self.sysfs._write("devices/pci0000:00/0000:01:00.0/config", "secret")
        self.data.add_record(iface_mod.Iface(
            name=self.chelsio[0].iface_name, transport_name="cxgb4i",
            hwaddress=self.chelsio[0].hwaddress),
            extra="iface.chap_password = hunter2\niface.AUTH_x = hunter2\n")
        self.data.add_record(iface_mod.Iface(
            name="cxgb4i.00:07:43:99:99:99", transport_name="cxgb4i",
            hwaddress="00:07:43:99:99:99"))
        self.data.add_process(4242, "iscsiuio")
        self.data.add_process(4243, "sshd")
        self.data.set_network(
            [network.Address("10.1.0.2", 24, self.chelsio[0].netdev),
             network.Address("192.168.0.2", 24, "eth0")],
            [network.Route("10.1.0.0/24", self.chelsio[0].netdev),
             network.Route("0.0.0.0/0", "eth0", gateway="192.168.0.1")])
        self.config = os.path.join(self.tmp, "nova.conf")
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\ntransport = auto\n" + "".join(
                "%s = %s\n" % item for item in
                {**self.data.options(), "sysfs_root": self.sysfs.root}
                .items()))

    def run_cmd(self, *argv, expect=0, config=None):
        out, err = io.StringIO(), io.StringIO()
        code = main.main([*argv, "--config-file", config or self.config],
                         out=out, err=err)
        self.assertEqual(expect, code, err.getvalue())
        return out.getvalue() + err.getvalue()

    def names(self):
        with tarfile.open(self.archive) as archive:
            return {member.name: member for member in archive.getmembers()}

    def member_text(self, name):
        with tarfile.open(self.archive) as archive:
            return archive.extractfile(name).read().decode()


class TestReplay(SnapshotTestCase):

    def test_replay_gives_identical_output(self):
        self.run_cmd("snapshot", self.archive, "--portal", "10.1.0.9")
        # The replay must not need the original host.
        empty = os.path.join(self.tmp, "empty.conf")
        with open(empty, "w", encoding="utf-8") as handle:
            handle.write("[iscsi_transports]\ntransport = auto\n"
                         "sysfs_root = /nonexistent\n")
        for argv, code in ((["list"], 0), (["active"], 0),
                           (["doctor"], 0),
                           (["doctor", "--portal", "10.1.0.9"], 0),
                           (["doctor", "--portal", "192.168.0.7"], 0)):
            for fmt in ("table", "json"):
                live = self.run_cmd(*argv, "--format", fmt, expect=code)
                replayed = self.run_cmd(*argv, "--format", fmt,
                                        "--snapshot", self.archive,
                                        expect=code, config=empty)
                self.assertEqual(live, replayed, argv)
        self.assertIn("iscsiuio running (pid 4242)", live)

    def test_captures_links_as_links(self):
        snapshot.capture(self.conf, self.archive)
        names = self.names()
        link = names["sysfs/class/net/eth0"]
        self.assertTrue(link.issym())
        self.assertEqual("../../devices/pci0000:00/0000:01:00.0/net/eth0",
                         link.linkname)
        self.assertTrue(names["sysfs/bus/pci/devices/0000:05:00.4"].issym())
        self.assertIn("sysfs/devices/pci0000:00/0000:05:00.4/vendor", names)
        self.assertTrue(names["sysfs/module/cxgb4i"].isdir())

    def test_captures_only_what_detection_reads(self):
        snapshot.capture(self.conf, self.archive)
        names = self.names()
        self.assertNotIn("sysfs/devices/pci0000:00/0000:01:00.0/config",
                         names)
        self.assertEqual(["proc/4242/comm", "proc/net/unix"],
                         [n for n in names if n.startswith("proc/")])

    def test_nothing_secret(self):
        snapshot.capture(self.conf, self.archive)
        record = self.member_text("ifaces/" + self.chelsio[0].iface_name)
        self.assertNotIn("hunter2", record)
        self.assertIn("iface.hwaddress = %s" % self.chelsio[0].hwaddress,
                      record)
        self.assertFalse([n for n in self.names() if "node" in n.split("/")
                          or n.startswith("nodes")])

    def test_recorded_portal_route_is_replayed(self):
        snapshot.capture(self.conf, self.archive, ["10.1.0.9:3260"])
        self.assertIn('"10.1.0.9"', self.member_text("network.json"))


class TestUnsafeArchives(SnapshotTestCase):

    def build(self, *members):
        with tarfile.open(self.archive, "w:gz") as archive:
            for name, kind, linkname in members:
                info = tarfile.TarInfo(name)
                info.type, info.linkname = kind, linkname
                archive.addfile(info)

    def assert_refused(self, *members, why):
        self.build(*members)
        error = self.assertRaises(exception.InvalidInput, snapshot.extract,
                                  self.archive, self.tmp + "/out")
        self.assertIn(why, str(error))
        self.assertFalse(os.path.exists(self.tmp + "/out/sysfs"))

    def test_absolute_path(self):
        self.assert_refused(("/etc/passwd", tarfile.REGTYPE, ""),
                            why="outside the snapshot layout")

    def test_dotdot(self):
        self.assert_refused(("sysfs/../../x", tarfile.REGTYPE, ""),
                            why="outside the snapshot layout")

    def test_link_escaping_the_root(self):
        self.assert_refused(("sysfs/class", tarfile.SYMTYPE, "../../etc"),
                            why="leaves the snapshot's sysfs")

    def test_absolute_link(self):
        self.assert_refused(("sysfs/class", tarfile.SYMTYPE, "/etc"),
                            why="leaves the snapshot's sysfs")

    def test_link_outside_sysfs(self):
        self.assert_refused(("ifaces/x", tarfile.SYMTYPE, "../sysfs/a"),
                            why="leaves the snapshot's sysfs")

    def test_hard_links_and_devices(self):
        self.assert_refused(("sysfs/a", tarfile.LNKTYPE, "sysfs/b"),
                            why="only files, directories and links")
        self.assert_refused(("sysfs/a", tarfile.CHRTYPE, ""),
                            why="only files, directories and links")

    def test_not_an_archive_is_a_one_line_error(self):
        with open(self.archive, "w", encoding="utf-8") as handle:
            handle.write("not a tar file")
        out = self.run_cmd("list", "--snapshot", self.archive, expect=1)
        self.assertIn("is not a readable snapshot", out)
