"""nova's own volume path on the real kernel (issue 15).

nova's ``LibvirtDriver`` -- ``_connect_volume``, ``_get_volume_config``,
``_disconnect_volume`` with ``force`` -- runs in nova's virtualenv
(:class:`~iscsi_transports.tests.kernel.base.NovaCompute`), picks its
iSCSI volume driver from ``VOLUME_DRIVERS`` as patched by the documented
patch, and so attaches through ``iscsi_transports.nova_libvirt``, the
os-brick connector and the library's driver.  The tests look at what the
kernel did: sessions, disks, by-path links, node records, and data written
and read back through the disk nova hands to libvirt.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import fixtures

from iscsi_transports.tests import kernel
from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine

DISK_INFO = {"bus": "virtio", "dev": "vdb", "type": "disk"}


class TestNovaLibvirtDriver(base.KernelTestCase):
    """One nova compute process serves the tests of this class, as it
    serves every volume of a host; loading nova is slow under the lab's
    emulated CPU."""

    nova: base.NovaCompute

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.workdir = fixtures.TempDir()
        cls.workdir.setUp()
        cls.addClassCleanup(cls.workdir.cleanUp)
        work = cls.workdir.path
        lab = os.environ.get(kernel.LAB_ENV) or work
        cls.nova = base.NovaCompute(work, {
            "DEFAULT": {"state_path": os.path.join(work, "nova")},
            "oslo_concurrency": {"lock_path": os.path.join(work, "locks")},
            # nova-compute runs as root here: no root helper for the
            # library (nova's own, sudo nova-rootwrap, is not set up).  Its
            # state directory is nova's default, under [DEFAULT]
            # state_path; the disk wait as in the other kernel tests.
            "iscsi_transports": {
                "root_helper": "", "iscsiadm_timeout": "90",
                "device_scan_attempts": "60", "device_scan_interval": "0.5"},
        }, os.path.join(lab, "nova-compute.log"))
        cls.addClassCleanup(cls.nova.close)

    def connect(self, props: dict[str, Any]) -> dict[str, Any]:
        """Attach through nova; the connection info nova keeps."""
        volume_id = str(uuid.uuid4())
        info = {"driver_volume_type": "iscsi", "serial": volume_id,
                "data": dict(props, volume_id=volume_id)}
        reply = self.nova.request("connect", connection_info=info)
        self.assertEqual(
            ("iscsi_transports.nova_libvirt.LibvirtISCSIVolumeDriver",
             "iscsi_transports.brick.ISCSIConnector"),
            (reply["volume_driver"], reply["connector"]))
        connection_info: dict[str, Any] = reply["connection_info"]
        return connection_info

    def disconnect(self, info: dict[str, Any], force: bool) -> None:
        self.nova.request("disconnect", connection_info=info, force=force)

    def test_attach_config_io_forced_detach(self) -> None:
        target = self.lio(label="nova")
        info = self.connect(target.props())
        path = info["data"]["device_path"]
        disk = self.assert_attached(target.iqn, path)
        config = self.nova.request("config", connection_info=info,
                                   disk_info=DISK_INFO)
        self.assertEqual(("block", path),
                         (config["source_type"], config["source_path"]))
        self.assertIn('<source dev="%s"/>' % path, config["xml"])
        self.assert_pattern_io(path)
        self.disconnect(info, force=True)
        self.assert_clean(target.iqn, [disk])

    def test_shared_target_detach_keeps_the_other_volume(self) -> None:
        # Two volumes behind one target (one session): detaching one,
        # even forced, must leave the other's session and disk working.
        target = self.lio(label="nova-shared", luns=2)
        first = self.connect(target.props(lun=0))
        second = self.connect(target.props(lun=1))
        (session,) = machine.sessions(target.iqn)
        first_disk = self.assert_attached(
            target.iqn, first["data"]["device_path"])
        second_disk = self.assert_attached(
            target.iqn, second["data"]["device_path"])
        self.assertNotEqual(first_disk, second_disk)
        self.disconnect(first, force=True)
        machine.settle()
        self.assertEqual([session], machine.sessions(target.iqn))
        self.assertEqual([second_disk], machine.disks(target.iqn))
        self.assert_pattern_io(second["data"]["device_path"])
        self.disconnect(second, force=False)
        self.assert_clean(target.iqn, [first_disk, second_disk])
