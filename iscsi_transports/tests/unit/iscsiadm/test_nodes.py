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
