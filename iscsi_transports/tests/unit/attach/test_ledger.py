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

"""The attach records: written at an attach's success, removed by its
detach, never in the way of either."""

from __future__ import annotations

import os

from iscsi_transports.attach import ledger
from iscsi_transports.attach import sysfs
from iscsi_transports.tests.unit.attach import test_driver

IQN = test_driver.IQN
PORTAL = test_driver.PORTAL
PROPS = test_driver.PROPS


class TestRecords(test_driver.DriverTestCase):

    def records(self) -> list[ledger.Attachment]:
        found, problems = ledger.read(self.conf)
        self.assertEqual([], problems)
        return found

    def test_attach_records_what_it_used_and_detach_removes_it(self) -> None:
        self.map()
        info = self.driver.connect_volume(PROPS)
        (item,) = self.records()
        self.assertEqual(
            (IQN, PORTAL, "default", 1, 1, info["requested"], "tcp", False,
             info["scsi_wwn"], None),
            (item.target_iqn, item.portal, item.iface, item.kernel_lun,
             item.lun, item.requested, item.transport, item.fallback,
             item.scsi_wwn, item.multipath_id))
        self.assertEqual(info["reason"], item.reason)
        self.assertEqual([item.file_name],
                         os.listdir(ledger.directory(self.conf)))
        self.driver.disconnect_volume(PROPS, info)
        self.assertEqual([], self.records())

    def test_a_fallback_is_recorded_with_its_reason(self) -> None:
        self.manager.offload = True
        self.scripted.on(test_driver.OFFLOAD_IFACE, "--login", exit_code=8)
        self.map()
        self.driver.connect_volume(PROPS)
        (item,) = self.records()
        self.assertEqual(("tcp", "default", True), (
            item.transport, item.iface, item.fallback))
        self.assertIn("exit code 8", item.reason or "")

    def test_detach_of_one_lun_keeps_the_other_lun_record(self) -> None:
        first, _second = test_driver.TestDetach.attach_two_luns(self)
        self.driver.disconnect_volume(PROPS, first)
        self.assertEqual([2], [item.kernel_lun for item in self.records()])

    def test_a_path_whose_disk_stays_keeps_its_record(self) -> None:
        self.map()
        self.driver.connect_volume(PROPS)
        ledger.forget(self.conf, sysfs.Sysfs(self.sysfs.root, self.dev),
                      [(None, PORTAL, 1)])
        self.assertEqual(1, len(self.records()))

    def test_an_unusable_state_directory_does_not_fail_the_attach(
            self) -> None:
        self.map()
        self.driver.connect_volume(PROPS)
        directory = ledger.directory(self.conf)
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)
        with open(directory, "w") as handle:  # a file where the dir goes
            handle.write("")
        self.map(lun=2, name="sdc")
        info = self.driver.connect_volume(dict(PROPS, target_lun=2))
        self.assertEqual("sdc", info["targets"][0]["disk"])
        self.assertIn("Could not record the attach", self.log.output)
        self.driver.disconnect_volume(dict(PROPS, target_lun=2), info)
        self.assertIn("attach records in %s cannot be read" % directory,
                      ledger.read(self.conf)[1][0])

    def test_paths_without_a_target_name_or_address_are_not_recorded(
            self) -> None:
        self.assertEqual([], ledger.from_device_info(
            {"targets": [{"portal": PORTAL, "iqn": None, "hctl": "1:0:0:1"},
                         {"portal": PORTAL, "iqn": IQN, "hctl": "bad"}]}))

    def test_a_record_is_no_link_to_follow(self) -> None:
        self.map()
        self.driver.connect_volume(PROPS)
        (item,) = self.records()
        path = os.path.join(ledger.directory(self.conf), item.file_name)
        os.unlink(path)
        os.symlink("/etc/hostname", path)
        found, problems = ledger.read(self.conf)
        self.assertEqual([], found)
        self.assertIn("cannot be opened", problems[0])
