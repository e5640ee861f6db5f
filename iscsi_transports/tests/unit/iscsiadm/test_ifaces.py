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

"""Iface records on disk through the runner: created, matched, updated
only when ours, never someone else's; with a fake root executor."""

from __future__ import annotations

import os

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.tests.unit.iscsiadm import test_parse as samples
from iscsi_transports.tests.unit.iscsiadm import test_runner

WANTED = iface_mod.Iface(name="cxgb4i.00:07:43:05:97:07",
                         transport_name="cxgb4i",
                         hwaddress="00:07:43:05:97:07")
ON_DISK = ("# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = "
           "cxgb4i.00:07:43:05:97:07\niface.transport_name = cxgb4i\n"
           "iface.hwaddress = %s\niface.mtu = 0\n# END RECORD\n")


class TestEnsureIface(test_runner.IscsiadmTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.records = iscsiadm_ifaces.IfaceRecords(self.iscsiadm)

    def test_builtin_needs_nothing(self) -> None:
        result = iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(
            iface_mod.Iface(name="default", transport_name="tcp"))
        self.assertEqual(iscsiadm_ifaces.BUILTIN, result)
        self.assertEqual([], self.scripted.argvs)

    def test_missing_is_created_and_marked_ours(self) -> None:
        self.scripted.on("show", exit_code=6)
        self.assertEqual(iscsiadm_ifaces.CREATED,
                         iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(WANTED))
        updates = self.scripted.commands("-o", "update")
        self.assertEqual([["iface.transport_name", "cxgb4i"],
                          ["iface.hwaddress", "00:07:43:05:97:07"]],
                         [cmd[-3::2] for cmd in updates])
        self.assertEqual(1, len(self.scripted.commands("-o", "new")))
        self.assertTrue(self.records.created_by_us(WANTED.name))

    def test_matching_record_is_left_alone(self) -> None:
        self.scripted.on("show", stdout=ON_DISK % "00:07:43:05:97:07")
        self.assertEqual(iscsiadm_ifaces.UNCHANGED,
                         iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(WANTED))
        self.assertEqual(1, len(self.scripted.argvs))

    def test_foreign_differing_record_conflicts_untouched(self) -> None:
        self.scripted.on("show", stdout=ON_DISK % "00:07:43:05:97:08")
        error = self.assertRaises(exception.IfaceConflict,
                                  iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure, WANTED)
        self.assertIn("00:07:43:05:97:08", str(error))
        self.assertIn("00:07:43:05:97:07", str(error))
        self.assertEqual(1, len(self.scripted.argvs))

    def test_our_differing_record_is_updated(self) -> None:
        self.records._mark_ours(WANTED.name)
        self.scripted.on("show", stdout=ON_DISK % "00:07:43:05:97:08")
        self.assertEqual(iscsiadm_ifaces.UPDATED,
                         iscsiadm_ifaces.IfaceRecords(self.iscsiadm).ensure(WANTED))
        (update,) = self.scripted.commands("-o", "update")
        self.assertEqual(["iface.hwaddress", "-v", "00:07:43:05:97:07"],
                         update[-3:])

    def test_delete_only_ours(self) -> None:
        self.assertFalse(self.records.delete(WANTED.name))
        self.assertFalse(self.records.delete("default"))
        self.assertEqual([], self.scripted.argvs)
        self.records._mark_ours(WANTED.name)
        self.assertTrue(self.records.delete(WANTED.name))
        self.assertEqual(1, len(self.scripted.commands("-o", "delete")))
        self.assertFalse(os.path.exists(self.records._marker(WANTED.name)))

    def test_list_and_lock_path(self) -> None:
        self.scripted.on("iface", stdout=samples.IFACE_LIST)
        self.assertEqual(4, len(self.records.list()))
        self.assertEqual(os.path.join(self.lock_path, "locks"),
                         self.iscsiadm.lock_path())
