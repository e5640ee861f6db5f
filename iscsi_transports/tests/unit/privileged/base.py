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

"""Root operations under test: built trees, the real daemon in test mode.

:class:`PrivilegedTestCase` points
:data:`iscsi_transports.privileged.paths.PATHS` at a built tree (sysfs,
/dev, /etc/iscsi, /run/lock/iscsi) and then starts the real privsep daemon
in oslo.privsep's test mode (forked, no capabilities), so every call below
crosses the real socket, and every check runs on the daemon's side.
Subclasses run the same tests in process.
"""

from __future__ import annotations

import os

import fixtures
from oslo_privsep.test import fixture as privsep_fixture

from iscsi_transports import fixture
from iscsi_transports import privileged
from iscsi_transports.privileged import client
from iscsi_transports.privileged import paths
from iscsi_transports.tests import base
from iscsi_transports.tests.unit.attach import kernel_tree

TARGET = "iqn.2026-11.org.openstack.test:volume-1"
PORTAL = "192.0.2.10:3260"

#: A node record as iscsiadm 2.1.8 writes it (``-o new`` with a named
#: iface and a known target portal group), shortened.
NODE_RECORD = """# BEGIN RECORD 2.1.8
node.name = %(target)s
node.tpgt = 1
node.startup = manual
iface.iscsi_ifacename = %(iface)s
iface.transport_name = tcp
node.discovery_type = static
node.session.auth.authmethod = None
node.session.auth.chap_algs = MD5
node.session.timeo.replacement_timeout = 120
node.conn[0].address = 192.0.2.10
node.conn[0].port = 3260
# END RECORD
"""


#: The root file system on a disk that is not the test's (the daemon's
#: ``/proc/self/mountinfo``, shortened).
MOUNTINFO = ("24 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
             "25 24 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n")
SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"


def snapshot(root: str) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for directories)."""
    found: dict[str, bytes | None] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.join(directory, name)] = None
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[path] = handle.read()
    return found


class PrivilegedTestCase(base.TestCase):
    """Root operations through the daemon (oslo.privsep test mode)."""

    in_process = False

    def setUp(self) -> None:
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.paths = paths.Paths(
            sysfs=os.path.join(self.root, "sys"),
            dev=os.path.join(self.root, "dev"),
            proc=os.path.join(self.root, "proc"),
            iscsi_db=os.path.join(self.root, "etc-iscsi"),
            iscsi_lock_dir=os.path.join(self.root, "lock-iscsi"),
            iscsi_etc=os.path.join(self.root, "etc-iscsi"))
        self.bin = os.path.join(self.root, "bin")
        for directory in (self.paths.sysfs, self.paths.dev,
                          self.paths.nodes(), self.bin):
            os.makedirs(directory)
        self.mounts(MOUNTINFO)
        self.write(os.path.join(self.paths.proc, "swaps"), SWAPS_HEADER)
        # Before the daemon forks, so that it works on the built tree and
        # runs the scripted commands.
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.paths.PATHS", self.paths))
        for module in ("privileged.commands", "openiscsi"):
            self.useFixture(fixtures.MonkeyPatch(
                "iscsi_transports.%s.SECURE_PATH" % module, self.bin))
        if not self.in_process:
            self.useFixture(privsep_fixture.UnprivilegedPrivsepFixture(
                privileged.context, {}))
        self.executor: client.Executor = client.executor(
            in_process=self.in_process)

    def script(self, name: str, body: str = "exit 0") -> str:
        """A command ``name`` that appends its argv to ``<name>.argv``."""
        path = self.write(os.path.join(self.bin, name),
                          '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s.argv"\n%s\n'
                          % (os.path.join(self.root, name), body))
        os.chmod(path, 0o755)
        return os.path.join(self.root, name + ".argv")

    def mounts(self, text: str) -> None:
        """The daemon's mount table (``/proc/self/mountinfo``)."""
        self.write(os.path.join(self.paths.proc, "self", "mountinfo"), text)

    def write(self, path: str, text: str = "") -> str:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def read(self, path: str) -> str:
        with open(path) as handle:
            return handle.read()

    def node_record(self, iface: str = "lab0", target: str = TARGET,
                    portal_dir: str = "192.0.2.10,3260,1") -> str:
        return self.write(
            os.path.join(self.paths.nodes(), target, portal_dir, iface),
            NODE_RECORD % {"target": target, "iface": iface})

    def assert_refused_unchanged(self, call: object, *args: object) -> None:
        """``call(*args)`` is refused with a typed error; no file changed."""
        from iscsi_transports import exception
        before = snapshot(self.root)
        self.assertRaises(exception.PrivilegedRequestRefused, call, *args)
        self.assertEqual(before, snapshot(self.root))


class TreeTestCase(PrivilegedTestCase):
    """An iSCSI session 1 (host 11) with LUN 1 as ``sdb``, and the
    host's own ``sda`` on a virtio-scsi host 0."""

    def setUp(self) -> None:
        super().setUp()
        sysfs = fixture.SysfsTree()
        sysfs.root = self.paths.sysfs
        self.tree = kernel_tree.IscsiTree(sysfs, self.paths.dev)
        self.tree.add_session(1, TARGET)
        self.tree.add_disk(1, 1, "sdb")
        self.tree.add_local_disk("sda")
        self.scan = os.path.join(self.paths.sysfs, "class", "scsi_host",
                                 "host11", "scan")
        device = os.path.join(self.paths.sysfs, "block", "sdb", "device")
        self.delete = os.path.join(device, "delete")
        self.rescan = os.path.join(device, "rescan")
        local = os.path.join(self.paths.sysfs, "block", "sda", "device")
        self.local_files = [os.path.join(local, "delete"),
                            os.path.join(local, "rescan")]

    def assert_disk_refused(self, name: str, rule: str) -> None:
        """Every operation on disk ``name`` is refused for ``rule``."""
        from iscsi_transports import exception
        for call in (self.executor.delete_disk, self.executor.rescan_disk,
                     self.executor.flush_disk):
            before = snapshot(self.root)
            error = self.assertRaises(exception.PrivilegedRequestRefused,
                                      call, name)
            self.assertIn(rule, str(error))
            self.assertEqual(before, snapshot(self.root))
        before = snapshot(self.root)
        self.assertRaises(exception.PrivilegedRequestRefused,
                          self.executor.read_block, "/dev/" + name)
        self.assertEqual(before, snapshot(self.root))
