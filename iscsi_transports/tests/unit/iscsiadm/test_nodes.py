"""Where open-iscsi keeps its records, as the library finds the directory."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import host
from iscsi_transports.iscsiadm import nodes
from iscsi_transports.privileged import paths
from iscsi_transports.tests import base


class TestDbRoot(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        top = self.useFixture(fixtures.TempDir()).path
        self.moved = os.path.join(top, "var-lib-iscsi")
        self.etc = os.path.join(top, "etc-iscsi")
        os.makedirs(self.etc)

    def test_configured_wins(self) -> None:
        self.assertEqual("/srv/iscsi", nodes.db_root(
            "/srv/iscsi", (self.moved, self.etc)))

    def test_moved_directory_with_records_is_used(self) -> None:
        os.makedirs(os.path.join(self.moved, "ifaces"))
        os.makedirs(os.path.join(self.etc, "nodes"))
        self.assertEqual(self.moved,
                         nodes.db_root("", (self.moved, self.etc)))

    def test_open_iscsis_default_otherwise(self) -> None:
        os.makedirs(self.moved)
        self.assertEqual(self.etc, nodes.db_root("", (self.moved, self.etc)))

    def test_the_root_daemon_finds_the_same_directory(self) -> None:
        # Its records writes must reach the records iscsiadm wrote
        # (Debian 13: /var/lib/iscsi), its initiator name read stays in
        # /etc/iscsi; neither is the caller's choice.
        os.makedirs(os.path.join(self.moved, "nodes"))
        self.assertEqual(self.moved, host.detect_iscsi_db_root(
            (self.moved, self.etc)))
        self.assertEqual(nodes.DB_ROOTS, host.ISCSI_DB_ROOTS)
        built = paths.Paths(iscsi_db=self.moved)
        self.assertEqual(os.path.join(self.moved, "nodes"), built.nodes())
        self.assertEqual("/etc/iscsi/initiatorname.iscsi",
                         built.initiator_name())
        self.assertEqual(host.detect_iscsi_db_root(),
                         paths.Paths().db_root())
