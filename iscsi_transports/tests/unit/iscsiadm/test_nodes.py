"""open-iscsi's node record layouts, read the way idbm.c writes them."""

from __future__ import annotations

import os

import fixtures

from iscsi_transports.iscsiadm import nodes
from iscsi_transports.iscsiadm import parse
from iscsi_transports.privileged import paths
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import test_openiscsi

IQN = "iqn.2003-01.org.example:t1"


class TestReadLayout(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path

    def write(self, entry: str, iface: str | None = "default") -> str:
        path = os.path.join(self.root, "nodes", IQN, entry)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("# BEGIN RECORD 2.1.8\nnode.name = %s\n" % IQN)
            if iface is not None:
                handle.write("iface.iscsi_ifacename = %s\n" % iface)
            handle.write("# END RECORD\n")
        return path

    def test_no_records(self) -> None:
        self.assertEqual(nodes.RecordLayout(None, None, ()),
                         nodes.read_layout(self.root, IQN, "10.0.0.1:3260"))

    def test_single_file_names_its_iface(self) -> None:
        path = self.write("10.0.0.1,3260", "tcp.52:54:00:12:34:01")
        self.assertEqual(
            nodes.RecordLayout(path, "tcp.52:54:00:12:34:01", ()),
            nodes.read_layout(self.root, IQN, "10.0.0.1:3260"))

    def test_single_file_without_iface_is_default(self) -> None:
        self.write("10.0.0.1,3260", None)
        self.assertEqual("default", nodes.read_layout(
            self.root, IQN, "10.0.0.1:3260").single_file_iface)

    def test_per_iface_directories_give_portal_groups(self) -> None:
        self.write("10.0.0.1,3260,2/default")
        self.write("10.0.0.1,3260,1/iser")
        self.write("10.0.0.10,3260,5/default")
        self.assertEqual(nodes.RecordLayout(None, None, (1, 2)),
                         nodes.read_layout(self.root, IQN, "10.0.0.1:3260"))

    def test_ipv6_portal_is_named_without_brackets(self) -> None:
        self.write("::1,3260,1/default")
        self.assertEqual((1,), nodes.read_layout(
            self.root, IQN, "[::1]:3260").tpgts)


class TestLayoutOf(base.TestCase):
    def test_records_without_portal_group_are_the_single_file(self) -> None:
        records = [parse.NodeRecord(-1, "default"),
                   parse.NodeRecord(3, "iser"), parse.NodeRecord(1, "x")]
        self.assertEqual(nodes.RecordLayout("/n/f", "default", (1, 3)),
                         nodes.layout_of(records, "/n/f"))

    def test_per_iface_records_only(self) -> None:
        self.assertEqual(nodes.RecordLayout(None, None, (2,)),
                         nodes.layout_of([parse.NodeRecord(2, "a")], "/n/f"))


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
