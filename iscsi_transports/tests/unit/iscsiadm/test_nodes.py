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

"""Where open-iscsi keeps its records, as the library finds the directory."""

from __future__ import annotations

from iscsi_transports.iscsiadm import nodes
from iscsi_transports.privileged import paths
from iscsi_transports.tests.unit import test_openiscsi

IQN = "iqn.2003-01.org.example:t1"


class TestDbRoot(test_openiscsi.BuildCase):
    def test_configured_wins(self) -> None:
        self.iscsiadm(test_openiscsi.DEBIAN_13)
        self.assertEqual("/srv/iscsi", nodes.db_root("/srv/iscsi"))

    def test_the_root_daemon_finds_the_same_directory(self) -> None:
        # Its records writes must reach the records iscsiadm wrote, its
        # initiator name read stays in /etc/iscsi; neither is the
        # caller's choice.
        self.iscsiadm(test_openiscsi.DEBIAN_13)
        self.assertEqual("/var/lib/iscsi", nodes.db_root(""))
        built = paths.Paths()
        self.assertEqual("/var/lib/iscsi/nodes", built.nodes())
        self.assertEqual("/etc/iscsi/initiatorname.iscsi",
                         built.initiator_name())
