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

"""Attach records written by root in the service user's state directory,
for real: handed to the directory's owner, read and removed by the
service user, and never written through a link the service user planted.

The service user is uid/gid 65534 in a forked child, so every permission
check is the kernel's.
"""

from __future__ import annotations

import os
import stat

import fixtures

from iscsi_transports.attach import ledger
from iscsi_transports.attach import sysfs
from iscsi_transports.tests import base

INFO = {"transport": "tcp", "requested": "iser", "fallback": True,
        "reason": "iser (iface iser) failed: exit code 15",
        "targets": [{"portal": "10.0.0.1:3260", "iqn": "iqn.2003-01.org.x:v1",
                     "lun": 1, "transport": "tcp", "iface": "default",
                     "hctl": "3:0:0:1", "disk": "sdb",
                     "scsi_wwn": "36001405aa"}]}


class TestSharedRecords(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        top = self.useFixture(fixtures.TempDir()).path
        os.chmod(top, 0o755)
        self.state = os.path.join(top, "nova", "iscsi-transports")
        os.makedirs(self.state)
        for path in (os.path.dirname(self.state), self.state):
            os.chown(path, base.SERVICE_UID, base.SERVICE_GID)
        self.flags(state_path=self.state)
        self.view = sysfs.Sysfs(self.sysfs.root)

    def test_root_writes_the_service_user_reads_and_removes(self) -> None:
        ledger.record(self.conf, INFO)
        (item,) = ledger.read(self.conf)[0]
        path = os.path.join(ledger.directory(self.conf), item.file_name)
        info = os.stat(path)
        self.assertEqual((base.SERVICE_UID, base.SERVICE_GID, 0o660),
                         (info.st_uid, info.st_gid,
                          stat.S_IMODE(info.st_mode)))
        self.assertEqual([item.file_name],
                         os.listdir(ledger.directory(self.conf)))

        def read_and_forget() -> str:
            found, problems = ledger.read(self.conf)
            ledger.forget(self.conf, self.view,
                          [(None, "10.0.0.1:3260", 1)])
            return "%d %s %s" % (len(found), problems,
                                 os.listdir(ledger.directory(self.conf)))

        self.assertEqual("1 [] []", base.as_service_user(read_and_forget))

    def test_a_planted_link_is_not_followed(self) -> None:
        victim = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              "shadow")
        with open(victim, "w") as handle:
            handle.write("root's\n")
        (item,) = ledger.from_device_info(INFO)
        directory = ledger.directory(self.conf)

        def plant() -> None:
            os.mkdir(directory)
            os.symlink(victim, os.path.join(directory,
                                            ".tmp-" + item.file_name))

        self.assertEqual("ok", base.as_service_user(plant))
        ledger.record(self.conf, INFO)
        with open(victim) as handle:
            self.assertEqual("root's\n", handle.read())
        self.assertEqual(0, os.stat(victim).st_uid)
        self.assertIn("Could not record the attach", self.log.output)
        self.assertEqual([], ledger.read(self.conf)[0])
