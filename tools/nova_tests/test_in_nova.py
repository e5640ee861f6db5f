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

"""This library inside an unmodified nova, under ``iscsi-transports run``:
nova's own volume drivers get the library's connector from os-brick, and
nova's LibvirtDriver volume path and ``get_volume_connector`` reach it.

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
from typing import Any

import fixtures
import libvirt_volumes
from nova import context as nova_context
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt.volume import iscsi
from nova.virt.libvirt.volume import iser
from os_brick import exception as brick_exception
from os_brick.initiator import connector as brick_connector
from oslo_utils import importutils
from oslo_utils.fixture import uuidsentinel as uuids

from iscsi_transports import adopt
from iscsi_transports import brick
from iscsi_transports import exception

#: Files of the releases the library leaves as they are.
UNCHANGED = {"nova": ("nova/virt/libvirt/driver.py",
                      "nova/virt/libvirt/volume/iscsi.py",
                      "nova/virt/libvirt/volume/iser.py"),
             "os-brick": ("os_brick/initiator/connector.py",
                          "os_brick/initiator/connectors/iscsi.py")}
IQN = "iqn.2010-10.org.openstack:volume-00000001"
IFACE = "cxgb4i.00:07:43:05:97:07"
HBA_INITIATOR = "iqn.2000-04.com.chelsio:card-port-1"


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


class TestNovaUnderRun(test.NoDBTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.useFixture(nova_fixtures.LibvirtFixture())
        self.flags(lock_path=self.useFixture(fixtures.TempDir()).path,
                   group="oslo_concurrency")
        self.driver = libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False)
        self.context = nova_context.get_admin_context()
        self.instance = libvirt_volumes.instance()

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

    def test_nova_and_os_brick_are_their_releases(self) -> None:
        for name, paths in UNCHANGED.items():
            dist = importlib.metadata.distribution(name)
            records = {str(f): f for f in dist.files or ()}
            for path in paths:
                record = records[path]
                self.assertIsNotNone(record.hash, path)
                with open(str(record.locate()), "rb") as installed:
                    digest = base64.urlsafe_b64encode(hashlib.sha256(
                        installed.read()).digest()).rstrip(b"=")
                self.assertEqual(record.hash.value, digest.decode(), path)
        self.assertEqual("nova.virt.libvirt.volume.iscsi."
                         "LibvirtISCSIVolumeDriver",
                         libvirt_driver.VOLUME_DRIVERS["iscsi"])
        self.assertTrue(adopt.adopted(brick_connector))

    def test_nova_s_own_drivers_get_our_connector(self) -> None:
        for kind, cls in (("iscsi", iscsi.LibvirtISCSIVolumeDriver),
                          ("iser", iser.LibvirtISERVolumeDriver)):
            volume_driver = self.volume_driver(kind)
            self.assertIs(cls, type(volume_driver))
            self.assertIs(brick.ISCSIConnector, type(volume_driver.connector))
        self.assertEqual("iser", self.volume_driver("iser").connector
                         .volume_type)

    def test_nova_options_reach_the_connector(self) -> None:
        self.flags(volume_use_multipath=True, num_volume_scan_tries=9,
                   iscsi_iface=IFACE, iser_use_multipath=False,
                   num_iser_scan_tries=4, group="libvirt")
        iscsi_driver = iscsi.LibvirtISCSIVolumeDriver(self.driver._host)
        iser_driver = iser.LibvirtISERVolumeDriver(self.driver._host)
        self.assertEqual((True, 9, IFACE), (
            iscsi_driver.connector.use_multipath,
            iscsi_driver.connector.device_scan_attempts,
            iscsi_driver.connector.transport))
        self.assertEqual((False, 4, "iser"), (
            iser_driver.connector.use_multipath,
            iser_driver.connector.device_scan_attempts,
            iser_driver.connector.transport))

    def test_get_volume_connector_reports_the_iface_initiator(self) -> None:
        # What nova sends cinder: the initiator of [libvirt] iscsi_iface's
        # iface, from the library, not /etc/iscsi/initiatorname.iscsi.
        # os-brick's other connectors read the host (nova's fixtures
        # forbid it) or start os-brick's privsep daemon: they answer {}.
        for path in brick_connector._get_connector_list():
            cls = importutils.import_class(path)
            if path != adopt.OURS and "get_connector_properties" in vars(cls):
                self.useFixture(fixtures.MockPatchObject(
                    cls, "get_connector_properties", return_value={}))
        recorder = RecordingDriver({"initiator": HBA_INITIATOR})
        self.useFixture(fixtures.MockPatch(
            "iscsi_transports.brick.make_driver", return_value=recorder))
        self.flags(iscsi_iface=IFACE, group="libvirt")
        self.flags(my_block_storage_ip="10.0.2.15", host="compute-1")
        props = self.driver.get_volume_connector(self.instance)
        self.assertEqual((HBA_INITIATOR, "10.0.2.15", "compute-1"),
                         (props["initiator"], props["ip"], props["host"]))
        self.assertEqual([("connector_properties", (), {"transport": IFACE})],
                         recorder.calls)

    def test_attach_config_and_detach_through_libvirt_driver(self) -> None:
        self.flags(iscsi_iface=IFACE, group="libvirt")
        recorder = RecordingDriver({"type": "block", "path": "/dev/sdz",
                                    "scsi_wwn": "36001405abc"})
        self.volume_driver("iscsi", recorder)
        info = self.connection_info()
        self.driver._connect_volume(self.context, info, self.instance,
                                    encryption={})
        self.assertEqual("/dev/sdz", info["data"]["device_path"])
        config = libvirt_volumes.volume_config(
            self.driver, self.instance, info,
            {"bus": "virtio", "dev": "vdb", "type": "disk"})
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
