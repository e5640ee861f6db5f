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

"""etc/rootwrap.d/iscsi-transports.filters starts the daemon, nothing else.

The start commands oslo.privsep builds as nova-compute runs them are
matched against the filters with oslo.rootwrap's RegExpFilter rule (same
number of arguments, each one matching its anchored pattern); hostile start
commands and every root command must not match.
"""

from __future__ import annotations

import configparser
import os
import re
import types

import fixtures

from iscsi_transports import privileged
from iscsi_transports.tests import base

FILTERS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "etc",
                       "rootwrap.d", "iscsi-transports.filters")
TARGET = "iqn.2026-11.org.openstack.test:volume-1"


def load_filters() -> dict[str, list[str]]:
    parser = configparser.RawConfigParser()
    parser.read(FILTERS)
    filters = {}
    for name, value in parser.items("Filters"):
        kind, exec_path, run_as, *args = (
            part.strip() for part in value.split(","))
        assert kind == "RegExpFilter" and run_as == "root", name
        assert exec_path == "privsep-helper", name
        assert args[0] == exec_path, name
        filters[name] = args
    return filters


def matching(filters: dict[str, list[str]], argv: list[str]) -> list[str]:
    return [name for name, patterns in filters.items()
            if len(patterns) == len(argv) and
            all(re.match(pattern + "$", arg)
                for pattern, arg in zip(patterns, argv))]


class TestOnlyTheDaemon(base.TestCase):
    """The library runs nothing under the root helper: its filters start
    the privsep daemon and allow no command of their own."""

    def test_every_filter_starts_the_daemon(self) -> None:
        filters = load_filters()
        self.assertEqual(2, len(filters))
        self.assertEqual({"privsep-helper"},
                         {args[0] for args in filters.values()})

    def test_no_root_command_is_allowed(self) -> None:
        filters = load_filters()
        for argv in (
                ["iscsiadm", "-m", "node"],
                ["iscsiadm", "-m", "node", "-T", TARGET, "-p",
                 "192.0.2.1:3260", "-I", "default", "--login"],
                ["iscsiadm", "-m", "node", "-T", TARGET, "-p",
                 "192.0.2.1:3260", "-I", "default", "-o", "update",
                 "-n", "node.session.auth.password", "-v", "secret"],
                ["iscsiadm", "-m", "iface", "-I", "x", "-o", "new"],
                ["blockdev", "--flushbufs", "/dev/sdb"],
                ["dd", "if=/dev/sdb", "of=/dev/null", "count=1"],
                ["privsep-helper", "--config-file", "/etc/nova/nova.conf",
                 "--privsep_context", "os_brick.privileged.default",
                 "--privsep_sock_path", "/tmp/x.sock"]):
            self.assertEqual([], matching(filters, argv), argv)


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
