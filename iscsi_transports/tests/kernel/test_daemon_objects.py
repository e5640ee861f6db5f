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

"""Issue 22: the root daemon acts only on the iSCSI disks it can prove.

The VM has one local SCSI disk (virtio-scsi, ``tools/kernel-lab/vm.sh``)
beside the iSCSI volumes the tests attach.  A service user that calls the
daemon's entry points directly, as a compromised nova-compute could, is
refused every flush, delete, rescan, read, multipathd path removal and
host scan of it, and of an iSCSI disk that holds a mounted file system;
nothing changes on either disk, and a volume still attaches and detaches
beside them.
"""

from __future__ import annotations

import os
import subprocess

import fixtures

from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import test_service_user


def _scsi_host(disk: str) -> int:
    """The SCSI host number of ``disk`` (from its ``H:C:T:L``)."""
    device = os.path.realpath("/sys/class/block/%s/device" % disk)
    return int(os.path.basename(device).split(":")[0])


class TestDaemonRefusesDisksItCannotProve(
        test_service_user.ServiceUserTestCase):

    def assert_refused(self, rule: str, name: str, *args: object) -> None:
        error = self.service_error("daemon", name=name, args=list(args))
        self.assertEqual("PrivilegedRequestRefused", error.error,
                         error.message)
        self.assertIn(rule, error.message)
        self.assertNotIn("\n", error.message)

    def assert_every_disk_operation_refused(self, disk: str,
                                            rule: str) -> None:
        self.assert_refused(rule, "flush_disk", disk)
        self.assert_refused(rule, "delete_disk", disk)
        self.assert_refused(rule, "rescan_disk", disk)
        self.assert_refused(rule, "read_block", "/dev/" + disk)
        self.assert_refused(rule, "multipathd", ["del", "path", disk], 30)

    def test_the_local_disk_is_never_touched(self) -> None:
        local = machine.local_disks()
        self.assertEqual(1, len(local), "the VM's virtio-scsi disk: %s"
                         % local)
        disk = local[0]
        number = machine.device_number(disk)
        self.assert_every_disk_operation_refused(
            disk, "%s is not a disk of an iSCSI session" % disk)
        host = _scsi_host(disk)
        self.assert_refused("host%d is not an iSCSI host" % host,
                            "scan_host", host, "0 0 0")
        # os-brick's check through the daemon: refused, so not valid.
        self.assertFalse(self.service.request("check", path="/dev/" + disk))
        machine.settle()
        self.assertEqual(number, machine.device_number(disk))

        # A volume attaches and detaches beside it.
        target = self.lio()
        info = self.service.request("connect", props=target.props())
        attached = self.assert_attached(target.iqn, info["path"])
        self.assertNotEqual(disk, attached)
        self.assertTrue(self.service.request("check", path=info["path"]))
        self.service.request("disconnect", props=target.props(), info=info)
        self.assert_clean(target.iqn, [attached])
        self.assertEqual([disk], machine.local_disks())
        self.assertEqual(number, machine.device_number(disk))

    def test_an_iscsi_disk_with_a_mounted_file_system(self) -> None:
        target = self.lio()
        info = self.service.request("connect", props=target.props())
        disk = self.assert_attached(target.iqn, info["path"])
        mountpoint = self.useFixture(fixtures.TempDir()).path
        machine.run("mkfs.ext4", "-q", "-F", "/dev/" + disk)
        machine.run("mount", "/dev/" + disk, mountpoint)
        try:
            self.assert_every_disk_operation_refused(
                disk, "%s holds a mounted file system" % disk)
            self.assertTrue(os.path.ismount(mountpoint))
            self.assertIn(disk, machine.disks(target.iqn))
        finally:
            subprocess.run(["umount", mountpoint], check=False, timeout=60)
        self.service.request("disconnect", props=target.props(), info=info)
        self.assert_clean(target.iqn, [disk])
