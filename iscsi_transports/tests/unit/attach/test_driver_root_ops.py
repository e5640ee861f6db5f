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

"""The driver's one root seam: LUN scans, flushes, deletes and the
initiator name file go to the privileged executor, never to files written
here."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports.attach import driver
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit import fake_manager
from iscsi_transports.tests.unit.attach import kernel_tree

IQN = "iqn.2010-10.org.openstack:volume-1"
PROPS = {"target_portal": "10.0.0.1:3260", "target_iqn": IQN,
         "target_lun": 1}


class TestPrivilegedWriter(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path, device_scan_attempts=1,
                   device_scan_interval=0)
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.executor = fake_executor.RecordingExecutor()
        self.driver = driver.ISCSIDriver(
            self.conf, manager=fake_manager.FakeManager(self.conf,
                                                        offload=False),
            dev_root=self.dev, executor=self.executor)

    def test_the_runners_executor_is_the_writer(self) -> None:
        self.assertIs(self.executor, self.driver.writer)

    def test_detach_flushes_then_deletes_through_the_daemon(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.tree.add_disk(1, 2, "sdc")
        self.driver.disconnect_volume(PROPS)
        self.assertEqual([("flush_disk", "sdb"), ("delete_disk", "sdb")],
                         [call for call in self.executor.calls
                          if call[0] != "iscsiadm"])

    def test_a_refused_delete_stops_the_detach(self) -> None:
        self.tree.add_session(1, IQN)
        self.tree.add_disk(1, 1, "sdb")
        self.executor.raises["delete_disk"] = \
            exception.PrivilegedRequestRefused("delete a SCSI disk",
                                               "sdb is held by dm-0")
        self.assertRaises(exception.PrivilegedRequestRefused,
                          self.driver.disconnect_volume, PROPS)
        self.assertEqual([], [call for call in self.executor.calls
                              if call[0] == "iscsiadm"])

    def test_attach_scans_through_the_daemon(self) -> None:
        self.tree.add_session(1, IQN)
        self.assertRaises(exception.VolumeDeviceNotFound,
                          self.driver.connect_volume, PROPS)
        self.assertIn(("scan_host", 11, "0 0 1"), self.executor.calls)


class TestInitiatorNameForTheServiceUser(base.TestCase):
    """open-iscsi's initiator name file is root's alone on Debian: a
    service user reads it through the root daemon."""

    def setUp(self) -> None:
        super().setUp()
        self.executor = fake_executor.RecordingExecutor()
        # What the daemon answers: the name in open-iscsi's file.
        self.executor.initiator_file = "iqn.2026-11.org.x:y"
        top = self.useFixture(fixtures.TempDir()).path
        os.chmod(top, 0o755)
        self.file = top + "/name"

    def driver(self) -> driver.ISCSIDriver:
        made = driver.ISCSIDriver(
            self.conf, manager=fake_manager.FakeManager(self.conf,
                                                        offload=False),
            initiator_file=self.file, executor=self.executor)
        return made

    def as_service_user(self) -> tuple[str, str]:
        """The initiator the driver reports, and the root operations it
        asked for, computed in a child running as uid 65534."""
        def report() -> str:
            initiator = self.driver().connector_properties()["initiator"]
            return "%s|%s" % (initiator, self.executor.calls)
        initiator, calls = base.as_service_user(report).split("|")
        return initiator, calls

    def test_root_only_file_is_read_by_the_daemon(self) -> None:
        # Debian's file, 0600 root.
        with open(self.file, "w") as handle:
            handle.write("InitiatorName=iqn.2026-11.org.x:root-only\n")
        os.chmod(self.file, 0o600)
        self.assertEqual(("iqn.2026-11.org.x:y", "[('read_initiator_file',)]"),
                         self.as_service_user())

    def test_missing_file_is_no_name_and_no_daemon(self) -> None:
        self.assertIsNone(self.driver().connector_properties()["initiator"])
        self.assertEqual([], self.executor.calls)

    def test_readable_file_is_read_here(self) -> None:
        with open(self.file, "w") as handle:
            handle.write("InitiatorName=iqn.2026-11.org.x:here\n")
        self.assertEqual("iqn.2026-11.org.x:here", self.driver()
                         .connector_properties()["initiator"])
        self.assertEqual([], self.executor.calls)
