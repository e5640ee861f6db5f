"""This library inside nova: the patched nova loads our classes, nova's
tests see them, and nova's LibvirtDriver volume path reaches our driver.

Run by ``run.py`` next to nova's own volume-driver tests, in the
virtualenv ``tools/nova-tests.sh`` builds.  The library's driver is
replaced by a recorder with its surface (as in the project's unit tests),
because this checks nova's side of the seam; the kernel lab attaches for
real.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import tempfile
from typing import Any
from unittest import mock

import fixtures
from nova import context as nova_context
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.tests.unit.virt.libvirt.volume import test_iscsi
from nova.tests.unit.virt.libvirt.volume import test_iser
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt.volume import iscsi
from nova.virt.libvirt.volume import iser
from os_brick import exception as brick_exception
from oslo_utils.fixture import uuidsentinel as uuids

from iscsi_transports import brick
from iscsi_transports import exception
from iscsi_transports import nova_libvirt

PATCH = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "source",
                     "admin", "nova-volume-drivers.patch")
DRIVER_PY = "nova/virt/libvirt/driver.py"
IQN = "iqn.2010-10.org.openstack:volume-00000001"
IFACE = "cxgb4i.00:07:43:05:97:07"


class RecordingDriver:
    """The library driver's surface, recording each call."""

    def __init__(self, result: Any = None,
                 error: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.result = result
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            if self.error is not None:
                raise self.error
            return self.result
        return record


class TestPatchedNova(test.NoDBTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.useFixture(nova_fixtures.LibvirtFixture())
        self.flags(lock_path=self.useFixture(fixtures.TempDir()).path,
                   group="oslo_concurrency")
        self.driver = libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False)
        self.context = nova_context.get_admin_context()
        self.instance = mock.sentinel.instance

    def connection_info(self, kind: str = "iscsi") -> dict[str, Any]:
        return {"driver_volume_type": kind,
                "data": {"volume_id": uuids.volume,
                         "target_portal": "10.0.2.15:3260",
                         "target_iqn": IQN, "target_lun": 1}}

    def volume_driver(self, kind: str = "iscsi",
                      recorder: RecordingDriver | None = None) -> Any:
        volume_driver = self.driver._get_volume_driver(
            self.connection_info(kind))
        if recorder is not None:
            volume_driver.connector.iscsi_driver = recorder
        return volume_driver

    def test_installed_nova_is_the_release_plus_the_patch(self) -> None:
        dist = importlib.metadata.distribution("nova")
        (record,) = [f for f in dist.files or () if str(f) == DRIVER_PY]
        self.assertIsNotNone(record.hash)
        workdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, workdir)
        target = os.path.join(workdir, DRIVER_PY)
        os.makedirs(os.path.dirname(target))
        shutil.copy(str(record.locate()), target)
        with open(PATCH, "rb") as patch:
            subprocess.run(["patch", "-R", "-p1", "--quiet", "-d", workdir],
                           stdin=patch, check=True)
        with open(target, "rb") as reverted:
            digest = base64.urlsafe_b64encode(
                hashlib.sha256(reverted.read()).digest()).rstrip(b"=")
        self.assertEqual(record.hash.value,
                         digest.decode())
        self.assertEqual(
            "iscsi_transports.nova_libvirt.LibvirtISCSIVolumeDriver",
            libvirt_driver.VOLUME_DRIVERS["iscsi"])

    def test_nova_loads_our_classes(self) -> None:
        for kind, cls in (("iscsi", nova_libvirt.LibvirtISCSIVolumeDriver),
                          ("iser", nova_libvirt.LibvirtISERVolumeDriver)):
            volume_driver = self.volume_driver(kind)
            self.assertIs(cls, type(volume_driver))
            self.assertIsInstance(volume_driver.connector,
                                  brick.ISCSIConnector)
        self.assertEqual("iser", self.volume_driver("iser").connector
                         .volume_type)

    def test_nova_tests_build_our_classes(self) -> None:
        self.assertIs(nova_libvirt.LibvirtISCSIVolumeDriver,
                      test_iscsi.iscsi.LibvirtISCSIVolumeDriver)
        self.assertIs(nova_libvirt.LibvirtISERVolumeDriver,
                      test_iser.iser.LibvirtISERVolumeDriver)

    def test_same_attributes_as_nova_s_own_drivers(self) -> None:
        # Our __init__ replaces nova's: nova adding state there must show.
        for ours, novas in ((nova_libvirt.LibvirtISCSIVolumeDriver,
                             iscsi.LibvirtISCSIVolumeDriver),
                            (nova_libvirt.LibvirtISERVolumeDriver,
                             iser.LibvirtISERVolumeDriver)):
            mine = ours(self.driver._host)
            theirs = novas(self.driver._host)
            self.assertEqual(sorted(vars(theirs)), sorted(vars(mine)))
            self.assertEqual(theirs.is_block_dev, mine.is_block_dev)

    def test_nova_options_reach_the_connector(self) -> None:
        self.flags(volume_use_multipath=True, num_volume_scan_tries=9,
                   iscsi_iface=IFACE, volume_enforce_multipath=True,
                   iser_use_multipath=False, num_iser_scan_tries=4,
                   group="libvirt")
        iscsi = nova_libvirt.LibvirtISCSIVolumeDriver(self.driver._host)
        iser = nova_libvirt.LibvirtISERVolumeDriver(self.driver._host)
        self.assertEqual((True, 9, IFACE, True), (
            iscsi.connector.use_multipath,
            iscsi.connector.device_scan_attempts, iscsi.connector.transport,
            iscsi.connector.enforce_multipath))
        self.assertEqual((False, 4, "iser"), (
            iser.connector.use_multipath, iser.connector.device_scan_attempts,
            iser.connector.transport))

    def test_attach_config_and_detach_through_libvirt_driver(self) -> None:
        self.flags(iscsi_iface=IFACE, group="libvirt")
        recorder = RecordingDriver({"type": "block", "path": "/dev/sdz",
                                    "scsi_wwn": "36001405abc"})
        self.volume_driver("iscsi", recorder)
        info = self.connection_info()
        self.driver._connect_volume(self.context, info, self.instance,
                                    encryption={})
        self.assertEqual("/dev/sdz", info["data"]["device_path"])
        config = self.driver._get_volume_config(
            info, {"bus": "virtio", "dev": "vdb", "type": "disk"})
        self.assertEqual("/dev/sdz", config.source_path)
        self.driver._disconnect_volume(self.context, info, self.instance,
                                       encryption={}, force=True)
        (connect, disconnect) = recorder.calls
        self.assertEqual(("connect_volume", "iscsi", IFACE),
                         (connect[0], connect[2]["volume_type"],
                          connect[2]["transport"]))
        self.assertEqual(("disconnect_volume", None, True, IFACE),
                         (disconnect[0], disconnect[1][1],
                          disconnect[2]["force"], disconnect[2]["transport"]))

    def test_detach_of_a_volume_already_gone(self) -> None:
        # nova ignores os-brick's VolumeDeviceNotFound on detach.
        self.volume_driver("iscsi", RecordingDriver(
            error=exception.VolumeDeviceNotFound(target="t", paths="p")))
        self.driver._disconnect_volume(self.context, self.connection_info(),
                                       self.instance, encryption={})

    def test_failed_attach_is_an_os_brick_error(self) -> None:
        self.volume_driver("iser", RecordingDriver(
            error=exception.AuthenticationFailed(["iscsiadm"], 24, "")))
        self.assertRaises(brick_exception.FailedISCSITargetPortalLogin,
                          self.driver._connect_volume, self.context,
                          self.connection_info("iser"), self.instance,
                          encryption={})

    def test_extend_through_libvirt_driver(self) -> None:
        recorder = RecordingDriver(3 * 1024 ** 3)
        self.volume_driver("iscsi", recorder)
        self.assertEqual(3 * 1024 ** 3, self.driver._extend_volume(
            self.connection_info(), self.instance, 3 * 1024 ** 3))
        self.assertEqual("extend_volume", recorder.calls[0][0])
