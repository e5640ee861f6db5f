"""The nova adapter: device_path set, the attach's iface used to detach."""

from __future__ import annotations

from iscsi_transports import nova
from iscsi_transports.attach import driver
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_execute
from iscsi_transports.tests.unit import fake_manager
from iscsi_transports.tests.unit.attach import fake_kernel

IQN = "iqn.2010-10.org.openstack:volume-1"
PORTAL = "10.0.0.1:3260"


class TestNovaAdapter(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path, device_scan_attempts=1)
        self.execute = fake_execute.FakeExecute()
        self.execute.on("iface", "show", exit_code=6)
        kernel = self.useFixture(fake_kernel.Kernel(self.sysfs,
                                                    self.execute))
        self.disk = kernel.map(IQN, 1, "sdb", "disk/by-path/ip-%s-iscsi-%s-"
                               "lun-1" % (PORTAL, IQN))
        self.manager = fake_manager.FakeManager(self.conf)
        self.adapter = nova.ISCSIVolumeDriver(
            self.conf, driver=driver.ISCSIDriver(
                self.conf, manager=self.manager, **kernel.driver_kwargs()))

    def info(self, volume_type: str = "iscsi") -> dict:
        return {"driver_volume_type": volume_type,
                "data": {"target_portal": PORTAL, "target_iqn": IQN,
                         "target_lun": 1}}

    def test_connect_sets_device_path_and_choice(self) -> None:
        self.execute.on("--login", "cxgb4i." + fake_manager.MAC,
                        exit_code=12)
        info = self.info()
        self.adapter.connect_volume(info, instance=None)
        self.assertEqual(self.disk, info["data"]["device_path"])
        self.assertEqual("default", info["data"][nova.INFO_KEY]["iface"])
        self.assertTrue(info["data"][nova.INFO_KEY]["fallback"])

    def test_disconnect_uses_the_recorded_iface(self) -> None:
        info = self.info()
        self.adapter.connect_volume(info, instance=None)
        self.execute.calls.clear()
        self.adapter.disconnect_volume(info, instance=None)
        ifaces = {cmd[cmd.index("-I") + 1] for cmd in self.execute.calls}
        self.assertEqual({"cxgb4i." + fake_manager.MAC}, ifaces)
        self.assertEqual(["update", "--logout", "delete"],
                         [cmd[-1] if cmd[-1].startswith("--") else
                          cmd[cmd.index("-o") + 1]
                          for cmd in self.execute.calls])

    def test_forced_disconnect_reaches_the_driver(self) -> None:
        seen = []
        self.adapter.driver.disconnect_volume = (  # type: ignore[method-assign]
            lambda data, info, force=False: seen.append(force))
        self.adapter.disconnect_volume(self.info(), instance=None, force=True)
        self.assertEqual([True], seen)

    def test_iser_connection_type(self) -> None:
        info = self.info("iser")
        self.adapter.connect_volume(info, instance=None)
        self.assertEqual("iser", info["data"][nova.INFO_KEY]["transport"])
