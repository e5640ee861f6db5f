"""etc/rootwrap.d/iscsi-transports.filters allows what the library runs.

Every iscsiadm (and blockdev, dd) command line the library builds is recorded
through a fake ``execute`` and matched against the filters with
oslo.rootwrap's RegExpFilter rule (same number of arguments, each one
matching its anchored pattern), so a new command shape without a filter fails here, not on a
compute host.  A few hostile command lines must not match.
"""

from __future__ import annotations

import configparser
import os
import re
import types

import fixtures

from iscsi_transports import brick
from iscsi_transports import iface as iface_mod
from iscsi_transports import privileged
from iscsi_transports.attach import driver
from iscsi_transports.attach import writer
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_execute

FILTERS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "etc",
                       "rootwrap.d", "iscsi-transports.filters")
TARGET = "iqn.2026-11.org.openstack.test:volume-1"
CHAP = {"authmethod": "CHAP", "username": "user", "password": "p@ss, w0rd",
        "username_in": "target", "password_in": "s3cr3t;$x"}


def load_filters() -> dict[str, list[str]]:
    parser = configparser.RawConfigParser()
    parser.read(FILTERS)
    filters = {}
    for name, value in parser.items("Filters"):
        kind, exec_path, run_as, *args = (
            part.strip() for part in value.split(","))
        assert kind == "RegExpFilter" and run_as == "root", name
        assert exec_path in ("iscsiadm", "blockdev", "dd",
                             "privsep-helper"), name
        assert args[0] == exec_path, name
        filters[name] = args
    return filters


def matching(filters: dict[str, list[str]], argv: list[str]) -> list[str]:
    return [name for name, patterns in filters.items()
            if len(patterns) == len(argv) and
            all(re.match(pattern + "$", arg)
                for pattern, arg in zip(patterns, argv))]


class TestRootwrapFilters(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.filters = load_filters()
        self.execute = fake_execute.FakeExecute()
        self.iscsiadm = iscsiadm.Iscsiadm(self.conf, execute=self.execute)

    def _run_every_command(self) -> None:
        adm = self.iscsiadm
        adm.nodes()
        settings = driver.ISCSIDriver(self.conf).node_settings()
        for portal in ("192.0.2.1:3260", "[2001:db8::1]:3260"):
            for iface_name in ("default", "cxgb4i.00:07:43:05:97:07"):
                adm.discover(portal, ["-I", iface_name])
                adm.discover(portal, ["-I", iface_name], auth={
                    "discovery.sendtargets.auth." + key: value
                    for key, value in CHAP.items()})
                adm.node_new(TARGET, portal, ["-I", iface_name])
                for chap in ({}, {"node.session.auth." + key: value
                                  for key, value in CHAP.items()}):
                    adm.node_update(TARGET, portal, ["-I", iface_name],
                                    {**settings, **chap})
                adm.node_update(TARGET, portal, ["-I", iface_name],
                                {"node.startup": "manual"})
                adm.login(TARGET, portal, ["-I", iface_name])
                adm.logout(TARGET, portal, ["-I", iface_name])
                adm.node_delete(TARGET, portal, ["-I", iface_name])
        self._iface_commands()
        self._disk_commands()
        self._brick_commands()

    def _iface_commands(self) -> None:
        records = iscsiadm_ifaces.IfaceRecords(self.iscsiadm)
        self.execute.on("-o", "show", exit_code=6, times=1)
        wanted = iface_mod.Iface(
            name="bnx2i.00:10:18:aa:bb:cc", transport_name="bnx2i",
            hwaddress="00:10:18:aa:bb:cc", ipaddress="192.0.2.10",
            initiatorname="iqn.2026-11.org.openstack.test:initiator")
        records.ensure(wanted)
        records.list()
        records.delete(wanted.name)

    def _disk_commands(self) -> None:
        kernel = writer.SysfsWriter(self.sysfs.root, self.iscsiadm)
        for name in ("sdb", "sdaa"):
            self.sysfs.add_scsi_disk(name)
            kernel.flush_disk(name)

    def _brick_commands(self) -> None:
        connector = brick.ISCSIConnector("", execute=self.execute,
                                         conf=self.conf)
        for path in ("/dev/sdb", "/dev/dm-3", "/dev/mapper/36001405abc",
                     "/dev/disk/by-id/os-brick+dev+sdb",
                     "/dev/disk/by-path/ip-192.0.2.1:3260-iscsi-%s-lun-1"
                     % TARGET):
            self.assertTrue(connector.check_valid_device(path))

    def test_every_command_is_allowed(self) -> None:
        self._run_every_command()
        self.assertGreater(len(self.execute.calls), 30)
        unmatched = [argv for argv in self.execute.calls
                     if not matching(self.filters, argv)]
        self.assertEqual([], unmatched,
                         "commands without a line in %s" % FILTERS)

    def test_every_filter_is_used(self) -> None:
        self._run_every_command()
        used = {name for argv in self.execute.calls
                for name in matching(self.filters, argv)}
        # Update lines exist for 1 to 6 "-n KEY -v VALUE" pairs; the rest
        # must each match a command the library runs.
        # The privsep-helper lines are checked by TestPrivsepHelper.
        unused = sorted(name for name in set(self.filters) - used
                        if not re.search(r"_update_\d$", name) and
                        not name.startswith("privsep"))
        self.assertEqual([], unused)

    def test_hostile_commands_are_refused(self) -> None:
        for argv in (
                ["iscsiadm", "-m", "fw"],
                ["iscsiadm", "-m", "node", "-T", TARGET, "-p",
                 "192.0.2.1:3260", "-I", "../../etc/passwd", "--login"],
                ["iscsiadm", "-m", "node", "-T", "$(reboot)", "-p",
                 "192.0.2.1:3260", "-I", "default", "--login"],
                ["iscsiadm", "-m", "iface", "-I", "x", "-o", "update",
                 "-n", "iface.hwaddress", "-v", "a;rm -rf /"],
                ["iscsiadm", "-m", "node", "-T", TARGET, "-p",
                 "192.0.2.1:3260", "-I", "default", "-o", "update",
                 "-n", "iface.transport_name", "-v", "tcp"],
                ["iscsiadm", "-m", "session", "-r", "1", "-u"],
                ["blockdev", "--setrw", "/dev/sdb"],
                ["blockdev", "--flushbufs", "/dev/../etc/passwd"],
                ["blockdev", "--flushbufs", "/dev/sdb", "/dev/sda"],
                ["blockdev", "--flushbufs", "/dev/dm-0"],
                ["dd", "if=/dev/sdb", "of=/dev/sda", "count=1"],
                ["dd", "if=/dev/disk/by-id/../../../etc/shadow",
                 "of=/dev/null", "count=1"],
                ["dd", "if=/etc/shadow", "of=/dev/null", "count=1"]):
            self.assertEqual([], matching(self.filters, argv), argv)


class _HelperConf:
    """What PrivContext.helper_command reads from cfg.CONF: the service's
    configuration files and the context's section (no helper_command)."""

    def __init__(self, config_files: list[str]) -> None:
        self.config_file = config_files
        self.config_dir = None

    def __getitem__(self, section: str) -> object:
        return types.SimpleNamespace(helper_command=None)


class TestPrivsepHelper(base.TestCase):
    """The daemon's start command, built by oslo.privsep as nova runs it.

    ``privileged`` is imported at the top of this module, before cfg.CONF
    is replaced here: creating the context registers its options there.
    """

    ROOT_HELPER = ["sudo", "nova-rootwrap", "/etc/nova/rootwrap.conf"]

    def helper_argv(self, config_files: list[str]) -> list[str]:
        self.useFixture(fixtures.MonkeyPatch(
            "oslo_config.cfg.CONF", _HelperConf(config_files)))
        self.useFixture(fixtures.MonkeyPatch(
            "oslo_privsep.priv_context._HELPER_COMMAND_PREFIX",
            list(self.ROOT_HELPER)))
        argv = privileged.context.helper_command("/tmp/tmpk2x9/privsep.sock")
        self.assertEqual(self.ROOT_HELPER, argv[:3])
        return argv[3:]

    def test_nova_compute_start_commands_match(self) -> None:
        filters = load_filters()
        used = set()
        for files in (["/etc/nova/nova.conf"],
                      ["/etc/nova/nova.conf", "/etc/nova/nova-compute.conf"]):
            names = matching(filters, self.helper_argv(files))
            self.assertEqual(1, len(names), files)
            used.update(names)
        self.assertEqual({name for name in filters
                          if name.startswith("privsep")}, used)

    def test_hostile_start_commands_are_refused(self) -> None:
        filters = load_filters()
        good = self.helper_argv(["/etc/nova/nova.conf"])
        for index, value in ((2, "/etc/../tmp/evil.conf"),
                             (2, "/etc/nova/../../tmp/evil.conf"),
                             (2, "/tmp/evil.conf"),
                             (4, "os_brick.privileged.default"),
                             (4, "iscsi_transports.privileged.scsi"),
                             (6, "/var/run/x.sock")):
            argv = list(good)
            argv[index] = value
            self.assertEqual([], matching(filters, argv), argv)
