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

"""The os-brick connector: os-brick's API and errors, the library's driver.

A fake driver with the surface the connector needs (see
``doc/source/contributor/nova-integration.rst``) records what it was asked;
the lock tests take os-brick's own external lock for real.
"""

from __future__ import annotations

import fcntl
import os
import threading
import types
from typing import Any

from os_brick import exception as brick_exception
from os_brick.initiator.connectors import base as brick_base
from os_brick.initiator.connectors import iscsi as brick_iscsi
from oslo_concurrency import lockutils
from oslo_config import cfg

from iscsi_transports import brick
from iscsi_transports import exception
from iscsi_transports.iscsiadm import runner
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor

IQN = "iqn.2010-10.org.openstack:volume-1"
PROPS = {"target_portal": "10.0.0.1:3260", "target_iqn": IQN,
         "target_lun": 1}
OFFLOAD_IFACE = "cxgb4i.00:07:43:05:97:07"
ROOT_HELPER = "sudo nova-rootwrap /etc/nova/rootwrap.conf"


class FakeDriver:
    """Records calls; answers with ``result`` or raises ``error``."""

    def __init__(self, conf: cfg.ConfigOpts,
                 scripted: fake_executor.ScriptedExecutor) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.result: Any = {"type": "block", "path": "/dev/sdb",
                            "scsi_wwn": "36001405abc", "iface": "default"}
        self.error: Exception | None = None
        self.options = types.SimpleNamespace(device_dir="/dev/disk/by-path")
        self.iscsiadm = runner.Iscsiadm(conf, executor=scripted)

    def _answer(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        if self.error is not None:
            raise self.error
        return self.result

    def connect_volume(self, props: Any, volume_type: str = "iscsi",
                       **kwargs: Any) -> Any:
        return self._answer("connect_volume", props, volume_type=volume_type,
                            **kwargs)

    def disconnect_volume(self, props: Any, device_info: Any = None,
                          force: bool = False, **kwargs: Any) -> Any:
        return self._answer("disconnect_volume", props, device_info,
                            force=force, **kwargs)

    def extend_volume(self, props: Any, **kwargs: Any) -> Any:
        return self._answer("extend_volume", props, **kwargs)

    def get_volume_paths(self, props: Any, **kwargs: Any) -> Any:
        return self._answer("get_volume_paths", props, **kwargs)

    def connector_properties(self, **kwargs: Any) -> Any:
        return self._answer("connector_properties", **kwargs)


class ConnectorTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        brick.register_opts(self.conf)
        self.flags(state_path=self.lock_path)
        self.scripted = fake_executor.ScriptedExecutor()
        self.driver = FakeDriver(self.conf, self.scripted)

    def connector(self, **kwargs: Any) -> brick.ISCSIConnector:
        kwargs.setdefault("iscsi_driver", self.driver)
        return brick.ISCSIConnector(ROOT_HELPER, conf=self.conf, **kwargs)

    def call(self, index: int = -1) -> tuple[str, tuple[Any, ...],
                                             dict[str, Any]]:
        return self.driver.calls[index]


class TestConstruction(ConnectorTestCase):
    def test_is_an_os_brick_iscsi_connector(self) -> None:
        connector = self.connector(use_multipath=True)
        self.assertIsInstance(connector, brick_iscsi.ISCSIConnector)
        self.assertTrue(connector.use_multipath)

    def test_takes_the_factory_arguments_and_runs_nothing(self) -> None:
        # os-brick's own __init__ would run iscsiadm -m iface for this.
        connector = self.connector(driver=None, use_multipath=False,
                                   device_scan_attempts=7,
                                   transport=OFFLOAD_IFACE,
                                   enforce_multipath=True)
        self.assertEqual([], self.scripted.argvs)
        self.assertEqual(7, connector.device_scan_attempts)
        self.assertEqual(OFFLOAD_IFACE, connector.transport)

    def test_root_helper_and_execute_are_accepted_and_unused(self) -> None:
        # nova passes its root helper (and os-brick callers may pass an
        # execute): the library's own executor does every root operation.
        ran: list[tuple[object, ...]] = []

        def execute(*cmd: object, **kwargs: object) -> tuple[str, str]:
            ran.append(cmd)
            return "", ""

        connector = brick.ISCSIConnector(ROOT_HELPER, execute=execute,
                                         conf=self.conf)
        executor = connector.iscsi_driver.iscsiadm.privileged
        self.assertIs(client.Executor, type(executor))
        self.assertEqual(os.geteuid() == 0, executor.in_process)
        self.assertEqual([], ran)
        self.assertEqual("", self.log.output)


class TestConnect(ConnectorTestCase):
    def test_device_info_and_what_the_driver_is_asked(self) -> None:
        info = self.connector(device_scan_attempts=5).connect_volume(
            dict(PROPS))
        self.assertEqual({"type": "block", "path": "/dev/sdb",
                          "scsi_wwn": "36001405abc", "iface": "default"},
                         info)
        name, args, kwargs = self.call()
        self.assertEqual(("connect_volume", (PROPS,)), (name, args))
        self.assertEqual({"volume_type": "iscsi", "transport": None,
                          "multipath": False, "enforce_multipath": False,
                          "scan_attempts": 5}, kwargs)

    def test_multipath_id_only_for_a_map(self) -> None:
        self.driver.result = {"path": "/dev/dm-0", "scsi_wwn": "3600a",
                              "multipath_id": "3600a"}
        info = self.connector(use_multipath=True).connect_volume(dict(PROPS))
        self.assertEqual("3600a", info["multipath_id"])
        self.assertTrue(self.call()[2]["multipath"])
        self.driver.result = {"path": "/dev/sdc", "scsi_wwn": "3600b",
                              "multipath_id": None}
        info = self.connector(use_multipath=True).connect_volume(dict(PROPS))
        self.assertNotIn("multipath_id", info)

    def test_enforce_multipath_from_nova_or_from_cinder(self) -> None:
        self.connector(enforce_multipath=True).connect_volume(dict(PROPS))
        self.assertTrue(self.call()[2]["enforce_multipath"])
        self.connector().connect_volume(dict(PROPS, enforce_multipath=True))
        self.assertTrue(self.call()[2]["enforce_multipath"])

    def test_iser_connector_attaches_iser_volumes(self) -> None:
        self.connector(transport="iser").connect_volume(dict(PROPS))
        kwargs = self.call()[2]
        self.assertEqual(("iser", None), (kwargs["volume_type"],
                                          kwargs["transport"]))

    def test_libvirt_iscsi_iface_used_when_transport_is_not_set(self) -> None:
        self.connector(transport=OFFLOAD_IFACE).connect_volume(dict(PROPS))
        self.assertEqual(OFFLOAD_IFACE, self.call()[2]["transport"])

    def test_configured_transport_wins_over_iscsi_iface(self) -> None:
        self.flags(transport="auto")
        self.connector(transport=OFFLOAD_IFACE).connect_volume(dict(PROPS))
        self.assertIsNone(self.call()[2]["transport"])

    def test_configured_scan_attempts_win(self) -> None:
        self.flags(device_scan_attempts=9)
        self.connector(device_scan_attempts=5).connect_volume(dict(PROPS))
        self.assertIsNone(self.call()[2]["scan_attempts"])

    def test_errors_are_os_brick_exceptions(self) -> None:
        cases = [
            (exception.VolumeDeviceNotFound(target="1 path(s)",
                                            paths="/dev/x"),
             brick_exception.VolumeDeviceNotFound),
            (exception.AuthenticationFailed(["iscsiadm"], 24, "auth"),
             brick_exception.FailedISCSITargetPortalLogin),
            (exception.InvalidConnectionProperties(reason="no portal"),
             brick_exception.InvalidParameterValue),
            (exception.TransportUnusable(name="iser", reason="no HCA"),
             brick_exception.BrickException),
        ]
        connector = self.connector()
        for error, expected in cases:
            self.driver.error = error
            raised = self.assertRaises(expected, connector.connect_volume,
                                       dict(PROPS))
            self.assertIs(error, raised.__cause__)
            self.assertIn(str(error), str(raised))

    def test_unexpected_errors_are_not_hidden(self) -> None:
        self.driver.error = KeyError("bug")
        self.assertRaises(KeyError, self.connector().connect_volume,
                          dict(PROPS))


class TestDisconnect(ConnectorTestCase):
    def test_nova_call_without_device_info(self) -> None:
        self.connector(transport=OFFLOAD_IFACE).disconnect_volume(
            dict(PROPS), None, force=True)
        self.assertEqual(("disconnect_volume", (PROPS, None),
                          {"force": True, "transport": OFFLOAD_IFACE}),
                         self.call())

    def test_device_info_reaches_the_driver(self) -> None:
        info = {"path": "/dev/sdb", "iface": "default"}
        self.connector().disconnect_volume(dict(PROPS), info)
        self.assertEqual(info, self.call()[1][1])
        self.assertFalse(self.call()[2]["force"])

    def test_forced_with_ignore_errors_logs(self) -> None:
        self.driver.error = exception.VolumeDetachIncomplete(
            left="sdb: busy")
        self.connector().disconnect_volume(dict(PROPS), None, force=True,
                                           ignore_errors=True)
        self.assertIn("errors ignored as asked", self.log.output)

    def test_errors_raise_unless_forced_and_ignored(self) -> None:
        self.driver.error = exception.VolumeDetachIncomplete(
            left="sdb: busy")
        connector = self.connector()
        for force, ignore in ((True, False), (False, True), (False, False)):
            self.assertRaises(brick_exception.BrickException,
                              connector.disconnect_volume, dict(PROPS), None,
                              force=force, ignore_errors=ignore)


class TestExtendAndPaths(ConnectorTestCase):
    def test_extend_returns_the_new_size(self) -> None:
        self.driver.result = 2147483648
        self.assertEqual(2147483648,
                         self.connector().extend_volume(dict(PROPS)))
        self.assertEqual(("extend_volume", (PROPS,), {"transport": None}),
                         self.call())

    def test_extend_without_paths(self) -> None:
        self.driver.error = exception.VolumeDeviceNotFound(
            target="1 path(s)", paths="")
        self.assertRaises(brick_exception.VolumePathsNotFound,
                          self.connector().extend_volume, dict(PROPS))

    def test_volume_paths(self) -> None:
        self.driver.result = ["/dev/disk/by-id/wwn-0x6001405abc"]
        connector = self.connector(transport=OFFLOAD_IFACE)
        self.assertEqual(["/dev/disk/by-id/wwn-0x6001405abc"],
                         connector.get_volume_paths(dict(PROPS)))
        self.assertEqual({"transport": OFFLOAD_IFACE}, self.call()[2])

    def test_no_portal_no_paths_no_call(self) -> None:
        self.assertEqual([], self.connector().get_volume_paths({}))
        self.assertEqual([], self.driver.calls)

    def test_search_path_is_the_driver_s(self) -> None:
        self.assertEqual("/dev/disk/by-path",
                         self.connector().get_search_path())


class TestConnectorProperties(ConnectorTestCase):
    def test_initiator_of_the_iface_used(self) -> None:
        self.driver.result = {"initiator": "iqn.2000-04.com.qlogic:isp8214",
                              "iface": OFFLOAD_IFACE}
        props = brick.ISCSIConnector.get_connector_properties(
            ROOT_HELPER, conf=self.conf, iscsi_driver=self.driver,
            transport=OFFLOAD_IFACE, multipath=False,
            enforce_multipath=False)
        self.assertEqual({"initiator": "iqn.2000-04.com.qlogic:isp8214"},
                         props)
        self.assertEqual({"transport": OFFLOAD_IFACE}, self.call()[2])

    def test_no_initiator_no_key(self) -> None:
        self.driver.result = {"initiator": None}
        self.assertEqual({}, brick.ISCSIConnector.get_connector_properties(
            ROOT_HELPER, conf=self.conf, iscsi_driver=self.driver))


class TestCheckValidDevice(ConnectorTestCase):
    def privileged(self) -> fake_executor.RecordingExecutor:
        """The root daemon behind the connector (the default path)."""
        executor = fake_executor.RecordingExecutor()
        self.driver.iscsiadm = runner.Iscsiadm(self.conf, executor=executor)
        return executor

    def test_reads_one_block_through_the_root_daemon(self) -> None:
        executor = self.privileged()
        self.assertTrue(self.connector().check_valid_device(
            "/dev/disk/by-path/ip-10.0.0.1:3260-iscsi-%s-lun-1" % IQN))
        self.assertEqual([("read_block", "/dev/disk/by-path/ip-10.0.0.1:"
                           "3260-iscsi-%s-lun-1" % IQN)], executor.calls)
        self.assertEqual([], self.scripted.argvs)

    def test_unreadable_through_the_root_daemon(self) -> None:
        executor = self.privileged()
        executor.raises["read_block"] = exception.PrivilegedOperationFailed(
            "read a block device", "/dev/sdb: Input/output error")
        self.assertFalse(self.connector().check_valid_device("/dev/sdb"))

    def test_refused_by_the_root_daemon(self) -> None:
        executor = self.privileged()
        executor.raises["read_block"] = exception.PrivilegedRequestRefused(
            "read a block device", "/dev/sdb is not a block device")
        self.assertFalse(self.connector().check_valid_device("/dev/sdb"))

    def test_not_a_device_path(self) -> None:
        connector = self.connector()
        for path in ("/etc/shadow", "/dev/../etc/shadow", "sdb"):
            self.assertFalse(connector.check_valid_device(path))
        self.assertEqual([], self.scripted.argvs)


class TestSharedBrickLock(base.TestCase):
    """os-brick's own external lock against ours, for real."""

    def test_os_brick_holding_it_makes_us_wait(self) -> None:
        brick_in, brick_out, ours_in = (threading.Event(), threading.Event(),
                                        threading.Event())

        # os-brick's own decorator, as on its connect_volume.
        @brick_base.synchronized("connect_volume", external=True,
                                 lock_path=self.lock_path)
        def os_brick_connect() -> None:
            brick_in.set()
            brick_out.wait(10)

        def ours() -> None:
            with brick.shared_brick_lock(self.lock_path, "connect_volume"):
                ours_in.set()

        threads = [threading.Thread(target=os_brick_connect),
                   threading.Thread(target=ours)]
        threads[0].start()
        self.assertTrue(brick_in.wait(5))
        threads[1].start()
        self.assertFalse(ours_in.wait(0.3))
        brick_out.set()
        self.assertTrue(ours_in.wait(5))
        for thread in threads:
            thread.join()

    def test_os_brick_waits_for_us(self) -> None:
        def os_brick_try() -> None:
            with lockutils.lock("connect_volume", "os-brick-", external=True,
                                lock_path=self.lock_path, blocking=False):
                pass

        with brick.shared_brick_lock(self.lock_path, "connect_volume"):
            self.assertRaises(lockutils.AcquireLockFailedException,
                              os_brick_try)
        os_brick_try()

    def test_we_make_os_brick_wait_but_not_each_other(self) -> None:
        with brick.shared_brick_lock(self.lock_path, "connect_volume"), \
                brick.shared_brick_lock(self.lock_path, "connect_volume"):
            path = os.path.join(self.lock_path, "os-brick-connect_volume")
            with open(path, "a") as other:
                # What fasteners does for os-brick's external lock.
                self.assertRaises(OSError, fcntl.lockf, other,
                                  fcntl.LOCK_EX | fcntl.LOCK_NB)
        with open(path, "a") as other:
            fcntl.lockf(other, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def test_connector_takes_it_from_os_brick_lock_path(self) -> None:
        self.conf.register_opt(cfg.StrOpt("lock_path"), group="os_brick")
        self.conf.set_override("lock_path", self.lock_path, group="os_brick")
        scripted = fake_executor.ScriptedExecutor()
        driver = FakeDriver(self.conf, scripted)
        held: list[bool] = []
        path = os.path.join(self.lock_path, "os-brick-connect_volume")

        def connect(props: Any, **kwargs: Any) -> Any:
            with open(path, "a") as other:
                try:
                    fcntl.lockf(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held.append(False)
                except OSError:
                    held.append(True)
            return {"path": "/dev/sdb"}

        driver.connect_volume = connect  # type: ignore[method-assign]
        connector = brick.ISCSIConnector(ROOT_HELPER, conf=self.conf,
                                         iscsi_driver=driver)
        connector.connect_volume(dict(PROPS))
        self.assertEqual([True], held)

    def test_no_lock_path_nothing_to_share(self) -> None:
        with brick.shared_brick_lock(None, "connect_volume"):
            pass
        self.assertEqual([], os.listdir(self.lock_path))

