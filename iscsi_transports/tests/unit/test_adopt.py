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

"""os-brick's own factory and ``get_connector_properties`` once adopted.

Each test adopts a fresh copy of the installed os-brick's
``os_brick.initiator.connector`` (loaded from its file under a private
name), so os-brick's real code runs and the process's own os-brick module
is left as it was for the other tests.  The import hook and ``run`` itself
are tested in subprocesses (``tests/unit/cmd/test_run.py``).
"""

from __future__ import annotations

import importlib.util
import types
from typing import Any

import fixtures
from os_brick.initiator import connector as brick_connector
from os_brick.initiator.connectors import lightos
from os_brick.initiator.connectors import nvmeof
from os_brick.initiator.connectors import remotefs
from os_brick.initiator.connectors import scaleio

from iscsi_transports import adopt
from iscsi_transports import brick
from iscsi_transports import exception
from iscsi_transports.tests.unit import test_brick

HBA_INITIATOR = "iqn.2000-04.com.qlogic:isp8214.000e1e3574e8.4"


def brick_copy() -> types.ModuleType:
    """A private copy of os-brick's connector module."""
    spec = importlib.util.spec_from_file_location(
        "_os_brick_connector_copy", brick_connector.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AdoptTestCase(test_brick.ConnectorTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.module = brick_copy()
        adopt.adopt(self.module)


class TestFactory(AdoptTestCase):
    def factory(self, protocol: str, **kwargs: Any) -> Any:
        return self.module.InitiatorConnector.factory(
            protocol, test_brick.ROOT_HELPER, conf=self.conf,
            iscsi_driver=self.driver, **kwargs)

    def test_iscsi_and_iser_are_the_library_s(self) -> None:
        for protocol, volume_type in (("ISCSI", "iscsi"), ("ISER", "iser"),
                                      ("iscsi", "iscsi")):
            connector = self.factory(protocol)
            self.assertIs(brick.ISCSIConnector, type(connector))
            self.assertEqual(volume_type, connector.volume_type)

    def test_nova_s_arguments_reach_the_connector(self) -> None:
        # As nova's LibvirtISCSIVolumeDriver calls the factory (30-34).
        connector = self.factory(
            "ISCSI", use_multipath=True, device_scan_attempts=9,
            transport=test_brick.OFFLOAD_IFACE, enforce_multipath=True)
        self.assertEqual((True, 9, test_brick.OFFLOAD_IFACE, True), (
            connector.use_multipath, connector.device_scan_attempts,
            connector.transport, connector.enforce_multipath))
        connector.connect_volume(dict(test_brick.PROPS))
        self.assertEqual(test_brick.OFFLOAD_IFACE,
                         self.driver.calls[-1][2]["transport"])

    def test_every_architecture_s_mapping(self) -> None:
        for arch, protocols in (("s390x", ("ISCSI",)),
                                ("ppc64le", ("ISCSI", "ISER")),
                                ("aarch64", ("ISCSI", "ISER"))):
            for protocol in protocols:
                self.assertIs(brick.ISCSIConnector,
                              type(self.factory(protocol, arch=arch)))

    def test_other_protocols_stay_os_brick_s(self) -> None:
        connector = self.module.InitiatorConnector.factory(
            "NFS", "sudo", nfs_mount_point_base="/tmp")
        self.assertIs(remotefs.RemoteFsConnector, type(connector))

    def test_adopting_twice_changes_nothing_more(self) -> None:
        mapping = dict(self.module.get_connector_mapping())
        connectors = list(self.module._get_connector_list())
        adopt.adopt(self.module)
        self.assertEqual(mapping, self.module.get_connector_mapping())
        self.assertEqual(connectors, self.module._get_connector_list())
        self.assertTrue(adopt.adopted(self.module))


class TestConnectorProperties(AdoptTestCase):
    def setUp(self) -> None:
        super().setUp()
        # os-brick's connectors that start os-brick's privsep daemon to
        # answer: not what is tested, and no root helper is set up here.
        for cls in (scaleio.ScaleIOConnector, nvmeof.NVMeOFConnector,
                    lightos.LightOSConnector):
            self.useFixture(fixtures.MockPatchObject(
                cls, "get_connector_properties", return_value={}))
        # os-brick's own iSCSI connector must no longer be asked.
        self.useFixture(fixtures.MockPatchObject(
            brick_connector.ISCSIConnector, "get_connector_properties",
            side_effect=AssertionError("os-brick's connector was asked")))
        self.useFixture(fixtures.MockPatch(
            "iscsi_transports.brick.make_driver", return_value=self.driver))

    def test_reports_the_initiator_of_the_iface_used(self) -> None:
        # As nova's get_volume_connector and cinder call it.
        self.driver.result = {"initiator": HBA_INITIATOR,
                              "iface": test_brick.OFFLOAD_IFACE}
        props = self.module.get_connector_properties(
            test_brick.ROOT_HELPER, "10.0.0.2", False, enforce_multipath=True,
            host="compute-1")
        self.assertEqual((HBA_INITIATOR, "10.0.0.2", "compute-1"),
                         (props["initiator"], props["ip"], props["host"]))
        self.assertEqual([("connector_properties", (), {"transport": None})],
                         self.driver.calls)

    def test_nova_s_iscsi_iface_is_the_iface_asked_for(self) -> None:
        # nova's [libvirt] iscsi_iface is what its volume driver hands the
        # connector as the transport: the properties follow it.
        self.useFixture(fixtures.MockPatchObject(
            brick.cfg, "CONF", self.conf))
        self.conf.register_opt(brick.cfg.StrOpt("iscsi_iface"),
                               group="libvirt")
        self.conf.set_override("iscsi_iface", test_brick.OFFLOAD_IFACE,
                               group="libvirt")
        self.driver.result = {"initiator": HBA_INITIATOR}
        self.module.get_connector_properties(
            test_brick.ROOT_HELPER, "10.0.0.2", False, False)
        self.assertEqual({"transport": test_brick.OFFLOAD_IFACE},
                         self.driver.calls[-1][2])


class TestRefusal(test_brick.ConnectorTestCase):
    def changed(self, **attributes: Any) -> types.ModuleType:
        module = brick_copy()
        for name, value in attributes.items():
            setattr(module, name, value)
        return module

    def assert_refused(self, module: types.ModuleType, problem: str) -> None:
        mapping = dict(module._connector_mapping_linux)
        error = self.assertRaises(exception.BrickNotAdoptable,
                                  adopt.adopt, module)
        self.assertEqual(adopt.brick_version(), error.version)
        self.assertIn("os-brick %s" % error.version, str(error))
        self.assertIn(problem, str(error))
        self.assertNotIn("\n", str(error))
        self.assertEqual(mapping, module._connector_mapping_linux)
        self.assertFalse(adopt.adopted(module))

    def test_mapping_of_classes_instead_of_paths(self) -> None:
        module = brick_copy()
        module._connector_mapping_linux["ISCSI"] = brick_connector.\
            ISCSIConnector
        self.assert_refused(module, "sends ISCSI to")

    def test_no_connector_list(self) -> None:
        module = self.changed(_get_connector_list=None)
        self.assert_refused(module, "no _get_connector_list")

    def test_factory_that_no_longer_uses_the_mapping(self) -> None:
        class InitiatorConnector:
            @staticmethod
            def factory(protocol: str, *args: Any, **kwargs: Any) -> None:
                return None
        module = self.changed(InitiatorConnector=InitiatorConnector)
        self.assert_refused(module, "factory does not look connectors up")

    def test_iscsi_connector_missing_from_the_list(self) -> None:
        module = self.changed(_get_connector_list=lambda: [
            "os_brick.initiator.connectors.iscsi_v2.ISCSIConnector"])
        self.assert_refused(module, "does not hold")


class TestInstall(test_brick.ConnectorTestCase):
    def test_adopts_a_module_already_loaded(self) -> None:
        module = brick_copy()
        self.useFixture(fixtures.MonkeyPatch(
            "sys.modules", {**__import__("sys").modules,
                            adopt.CONNECTOR_MODULE: module}))
        adopt.install()
        self.assertTrue(adopt.adopted(module))
        self.assertEqual(adopt.OURS, module.get_connector_mapping()["ISER"])
