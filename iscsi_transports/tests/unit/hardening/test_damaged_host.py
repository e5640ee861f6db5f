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

"""Damaged sysfs trees and iface records: reported, never a crash, never written.

A host is read while drivers load and unload, and snapshots can be partial
or corrupt: half-written attributes, directories where files belong,
dangling links, bytes that are not UTF-8, files that cannot be read.  Each
must read as "absent" (the transport says what is missing) and leave the
tree exactly as it was.
"""

from __future__ import annotations

import errno
import io
import json
import os

import fixtures

from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.tests import base
from iscsi_transports.tests import hostdata
from iscsi_transports.tests.unit import fake_executor

MAC = "00:07:43:05:00:00"


def tree_state(root: str) -> dict[str, tuple]:
    """Every entry under ``root`` with what it is and holds."""
    state: dict[str, tuple] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            link = os.readlink(path) if os.path.islink(path) else None
            data = None
            if os.path.isfile(path) and not link:
                with open(path, "rb") as handle:
                    data = handle.read()
            state[path] = (info.st_mode, info.st_mtime_ns, link, data)
    return state


class DamagedSysfs(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.ports = self.sysfs.add_offload_card("cxgb4i", ports=2, bus=5)
        self.iscsi_host = os.path.join(self.sysfs.root, "class", "iscsi_host",
                                       self.ports[0].host)

    def attribute(self, name: str) -> str:
        return os.path.join(os.path.realpath(self.iscsi_host), name)

    def detect(self) -> manager_mod.TransportManager:
        """Detect everything twice (library and console); tree unchanged."""
        before = tree_state(self.sysfs.root)
        mgr = manager_mod.TransportManager(self.conf)
        mgr.detect_all()
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main(["list", "--format", "json", "--sysfs-root",
                              self.sysfs.root], out=out, err=err)
        self.assertEqual((0, ""), (code, err.getvalue()))
        json.loads(out.getvalue())
        self.assertEqual(before, tree_state(self.sysfs.root))
        return mgr

    def cxgb4i_macs(self, mgr: manager_mod.TransportManager) -> list:
        return [port.hwaddress for port in mgr.detect("cxgb4i").ports]

    def test_intact_tree_finds_both_ports(self) -> None:
        mgr = self.detect()
        self.assertTrue(mgr.detect("cxgb4i").usable)
        self.assertEqual([p.hwaddress for p in self.ports],
                         self.cxgb4i_macs(mgr))

    def test_half_written_hwaddress(self) -> None:
        with open(self.attribute("hwaddress"), "w") as handle:
            handle.write("00:07:4")
        mgr = self.detect()
        self.assertEqual([None, self.ports[1].hwaddress],
                         self.cxgb4i_macs(mgr))
        self.assertIsNone(mgr.detect("cxgb4i").ports[0].iface_name)

    def test_directory_instead_of_attribute(self) -> None:
        os.unlink(self.attribute("hwaddress"))
        os.mkdir(self.attribute("hwaddress"))
        self.assertEqual(self.ports[1].hwaddress,
                         self.cxgb4i_macs(self.detect())[-1])

    def test_dangling_class_links(self) -> None:
        os.rename(os.path.realpath(self.iscsi_host),
                  os.path.realpath(self.iscsi_host) + ".gone")
        os.unlink(os.path.join(self.sysfs.root, "bus", "pci", "devices",
                               self.ports[0].pci_address, "driver"))
        self.detect()

    def test_bytes_that_are_not_utf8(self) -> None:
        for name in ("hwaddress", "ipaddress", "netdev", "initiatorname"):
            with open(self.attribute(name), "wb") as handle:
                handle.write(b"\xff\xfe\x00garbage\x80")
        (damaged, intact) = self.detect().detect("cxgb4i").ports
        self.assertEqual((None, None, None),
                         (damaged.hwaddress, damaged.ipaddress,
                          damaged.iface_name))
        self.assertEqual(self.ports[1].hwaddress, intact.hwaddress)

    def test_vendor_and_device_ids_that_are_not_hex(self) -> None:
        device = os.path.join(self.sysfs.root, "bus", "pci", "devices",
                              self.ports[0].pci_address)
        for name, value in (("vendor", "0xZZZZ"), ("device", ""),
                            ("class", "\n\n")):
            with open(os.path.join(device, name), "w") as handle:
                handle.write(value)
        self.detect()

    def test_huge_attribute_is_read_only_in_part(self) -> None:
        with open(self.attribute("initiatorname"), "w") as handle:
            handle.write("iqn." + "x" * (1 << 20))
        host = host_mod.Host(self.sysfs.root)
        self.assertLessEqual(len(host.iscsi_hosts[0].initiatorname or ""),
                             4096)
        self.detect()

    def test_unreadable_and_failing_files(self) -> None:
        for error in (errno.EACCES, errno.EIO, errno.ENODEV, errno.EAGAIN):
            self.useFixture(fixtures.MonkeyPatch(
                "iscsi_transports.host.open", _failing_open(error)))
            mgr = self.detect()
            self.assertFalse(mgr.detect("cxgb4i").ports, error)
            self.assertTrue(mgr.detect("tcp").usable)


def _failing_open(code: int):
    def fake_open(path, *args, **kwargs):
        raise OSError(code, os.strerror(code), path)
    return fake_open


class CorruptIfaceRecords(base.TestCase):
    """Corrupt records from iscsiadm: a parse error, and no write at all."""

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.scripted = fake_executor.ScriptedExecutor()
        self.records = iscsiadm_ifaces.IfaceRecords(
            iscsiadm.Iscsiadm(self.conf, executor=self.scripted))

    def test_garbage_record_is_a_parse_error_and_changes_nothing(self) -> None:
        wanted = _iface("cxgb4i." + MAC)
        for text in ("\x00\x01binary", "iface.iscsi_ifacename = x\nnonsense",
                     "# BEGIN RECORD\niface.iscsi_ifacename = ../x\n",
                     "iface.iscsi_ifacename = %s\niface.hwaddress = zz\n"
                     % wanted.name,
                     "iface.iscsi_ifacename = %s\niface.transport_name = "
                     "tcp; rm\n" % wanted.name):
            self.scripted.rules = []
            self.scripted.on("iface", "show", stdout=text)
            self.scripted.argvs.clear()
            self.assertRaises(exception.IscsiadmParseError,
                              self.records.ensure, wanted)
            self.assertEqual([["iscsiadm", "-m", "iface", "-I", wanted.name,
                               "-o", "show"]], self.scripted.argvs)
        self.assertFalse(os.path.exists(self.records.state_dir))


class CorruptIfaceDirectory(base.TestCase):
    """``doctor`` reads iface files itself: every kind of junk is reported."""

    def test_doctor_reports_junk_and_changes_nothing(self) -> None:
        iface_dir = self.useFixture(fixtures.TempDir()).path
        junk = {"binary0": b"\x00\xff\x13garbage", "empty0": b"",
                "latin0": b"iface.iscsi_ifacename = caf\xe9\n",
                "bad name": b"iface.iscsi_ifacename = bad name\n",
                "noname0": b"iface.transport_name = tcp\n"}
        for name, data in junk.items():
            with open(os.path.join(iface_dir, name), "wb") as handle:
                handle.write(data)
        os.mkdir(os.path.join(iface_dir, "dir0"))
        os.symlink("/nonexistent", os.path.join(iface_dir, "dangling0"))
        os.mkfifo(os.path.join(iface_dir, "fifo0"))  # would block an open
        config = os.path.join(self.lock_path, "doctor.conf")
        with open(config, "w") as conf:
            conf.write(self.useFixture(hostdata.HostData()).config_text() +
                       "iface_dir = %s\n" % iface_dir)
        before = tree_state(iface_dir)
        self.useFixture(fixtures.Timeout(30, gentle=True))
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main(["doctor", "--format", "json", "--config-file",
                              config, "--sysfs-root", self.sysfs.root],
                             out=out, err=err)
        # The configured transport (default: software TCP) is unaffected by
        # junk records, so the host is healthy.
        self.assertEqual((0, ""), (code, err.getvalue()))
        unreadable = {item["name"]: item["error"] for item in
                      json.loads(out.getvalue())["unreadable_records"]}
        self.assertEqual({"binary0", "latin0", "bad name", "dir0",
                          "dangling0", "fifo0"}, set(unreadable))
        self.assertIn("not a regular file", unreadable["fifo0"])
        self.assertEqual(before, tree_state(iface_dir))


def _iface(name: str):
    from iscsi_transports import iface as iface_mod
    return iface_mod.Iface(name=name, transport_name="cxgb4i", hwaddress=MAC)
