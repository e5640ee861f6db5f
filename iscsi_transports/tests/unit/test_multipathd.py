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

"""multipath-tools' answers: the configuration, the socket, failures.

``data/multipath-t-0.9.4.txt`` is the real output of ``multipath -t``
(multipath-tools 0.9.4-3+deb12u2, Debian 12, no multipath.conf): the
built-in defaults and hardware table, in the format ``multipathd show
config`` prints too.
"""

from __future__ import annotations

import os

import fixtures

from iscsi_transports import exception
from iscsi_transports import multipathd
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor

DATA = os.path.join(os.path.dirname(__file__), "data",
                    "multipath-t-0.9.4.txt")
UNIX_HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n"


def builtin() -> multipathd.ConfigSection:
    with open(DATA, encoding="utf-8") as handle:
        return multipathd.parse_config(handle.read())


def with_user_device(text: str) -> multipathd.ConfigSection:
    """The built-in table with a multipath.conf's device entry at its
    end, as the daemon prints its merged configuration."""
    with open(DATA, encoding="utf-8") as handle:
        builtin_text = handle.read()
    end = builtin_text.index("}\noverrides {")
    return multipathd.parse_config(builtin_text[:end] + text +
                                   builtin_text[end:])


class TestConfig(base.TestCase):

    def test_builtin_defaults(self) -> None:
        conf = builtin()
        defaults = conf.section("defaults")
        self.assertEqual(("strict", "5", "0"), (
            defaults.values["find_multipaths"],
            defaults.values["polling_interval"], defaults.values["features"]))
        self.assertEqual(["defaults", "blacklist", "blacklist_exceptions",
                          "devices", "overrides"],
                         [child.name for child in conf.children])
        self.assertLess(100, len(conf.section("devices").children))

    def test_lio_queues_for_twelve_checks(self) -> None:
        settings = multipathd.settings_for(builtin(), "LIO-ORG", "disk0")
        self.assertEqual(("strict", "12", "devices ((LIO-ORG|SUSE) .*)"),
                         (settings.find_multipaths, settings.no_path_retry,
                          settings.no_path_retry_from))
        self.assertFalse(settings.queues_forever)
        self.assertEqual("queued for 12 path checks (about 60 s), then "
                         "failed", settings.queueing)

    def test_unknown_array_fails_at_once(self) -> None:
        settings = multipathd.settings_for(builtin(), "NOBODY", "x")
        self.assertEqual((None, "built-in", "0"), (
            settings.no_path_retry, settings.no_path_retry_from,
            settings.features))
        self.assertEqual("failed at once", settings.queueing)

    def test_array_that_queues_forever(self) -> None:
        settings = multipathd.settings_for(builtin(), "DataCore",
                                           "SANmelody")
        self.assertTrue(settings.queues_forever)
        self.assertEqual("queued until a path returns (forever)",
                         settings.queueing)

    def test_user_device_entry_comes_after_and_wins(self) -> None:
        conf = with_user_device('\tdevice {\n\t\tvendor "LIO-ORG"\n\t\t'
                                'product ".*"\n\t\tno_path_retry "fail"\n'
                                '\t}\n')
        settings = multipathd.settings_for(conf, "LIO-ORG", "disk0")
        self.assertEqual(("fail", "devices (LIO-ORG .*)"),
                         (settings.no_path_retry,
                          settings.no_path_retry_from))

    def test_overrides_win_over_devices(self) -> None:
        conf = multipathd.parse_config(
            'defaults {\n\tno_path_retry 3\n}\ndevices {\n\tdevice {\n\t\t'
            'vendor "LIO-ORG"\n\t\tno_path_retry 12\n\t}\n}\noverrides {\n'
            '\tno_path_retry "queue"\n}\n')
        self.assertEqual(("queue", "overrides"), multipathd.settings_for(
            conf, "LIO-ORG", "x")[3:5])

    def test_defaults_no_path_retry_without_device_entry(self) -> None:
        conf = multipathd.parse_config("defaults {\n\tno_path_retry 3\n"
                                       "\tfind_multipaths yes\n}\n")
        settings = multipathd.settings_for(conf, "ACME", "x")
        self.assertEqual(("yes", "3", "defaults", None), (
            settings.find_multipaths, settings.no_path_retry,
            settings.no_path_retry_from, settings.polling_interval))
        self.assertEqual("queued for 3 path checks, then failed",
                         settings.queueing)

    def test_features_queue_if_no_path_without_no_path_retry(self) -> None:
        conf = multipathd.parse_config(
            'devices {\n\tdevice {\n\t\tvendor "ACME"\n\t\tfeatures '
            '"1 queue_if_no_path"\n\t}\n}\n')
        self.assertTrue(multipathd.settings_for(conf, "ACME",
                                                "x").queues_forever)

    def test_truncated_output_keeps_what_it_read(self) -> None:
        conf = multipathd.parse_config("defaults {\n\tverbosity 2\n"
                                       "# comment\n}\n}\ndevices {\n")
        self.assertEqual(["defaults", "devices"],
                         [child.name for child in conf.children])
        self.assertEqual({"verbosity": "2"}, dict(conf.children[0].values))

    def test_bad_regex_in_an_entry_compares_literally(self) -> None:
        conf = multipathd.parse_config(
            'devices {\n\tdevice {\n\t\tvendor "AC(ME"\n\t\tno_path_retry '
            '7\n\t}\n}\n')
        self.assertEqual("7", multipathd.settings_for(
            conf, "AC(ME", "x").no_path_retry)
        self.assertIsNone(multipathd.settings_for(
            conf, "ACME", "x").no_path_retry)


class TestSocket(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.proc = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(self.proc, "net"))

    def unix(self, *lines: str) -> None:
        with open(os.path.join(self.proc, "net", "unix"), "w",
                  encoding="utf-8") as handle:
            handle.write(UNIX_HEADER + "".join(line + "\n"
                                               for line in lines))

    def test_listening(self) -> None:
        self.unix("0000000000000000: 00000002 00000000 00010000 0001 01 "
                  "21 @/org/kernel/linux/storage/multipathd")
        self.assertTrue(multipathd.socket_listening(self.proc))

    def test_only_a_connected_client(self) -> None:
        self.unix("0000000000000000: 00000003 00000000 00000000 0001 03 "
                  "22 @/org/kernel/linux/storage/multipathd",
                  "0000000000000000: 00000002 00000000 00010000 0001 01 "
                  "23 @ISCSIADM_ABSTRACT_NAMESPACE")
        self.assertFalse(multipathd.socket_listening(self.proc))

    def test_no_proc(self) -> None:
        self.assertFalse(multipathd.socket_listening(
            os.path.join(self.proc, "missing")))


class TestCommands(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.executor = fake_executor.RecordingExecutor()
        self.flags(multipath_command_timeout=42)
        self.daemon = multipathd.Multipathd(self.conf, self.executor)

    def test_argv_and_timeout(self) -> None:
        self.executor.answer = client.CommandResult(0, "ok\n", "")
        self.daemon.add_path("sdb")
        self.daemon.add_wwid("36001405abc")
        self.daemon.flush("mpatha")
        self.assertEqual([("multipathd", ["add", "path", "sdb"], 42),
                          ("multipath", ["-a", "36001405abc"], 42),
                          ("multipath", ["-f", "mpatha"], 42)],
                         self.executor.calls)

    def test_fail_answer_with_exit_0(self) -> None:
        self.executor.answer = client.CommandResult(0, "fail\n", "")
        error = self.assertRaises(exception.MultipathCommandFailed,
                                  self.daemon.add_path, "sdb")
        self.assertEqual("multipathd add path sdb failed (exit 0): fail",
                         str(error))

    def test_non_zero_exit(self) -> None:
        self.executor.answer = client.CommandResult(
            1, "", "Dec 01 | mpatha: map in use\n")
        error = self.assertRaises(exception.MultipathCommandFailed,
                                  self.daemon.flush, "mpatha")
        self.assertEqual((1, "Dec 01 | mpatha: map in use"),
                         (error.exit_code, error.reason))

    def test_config_is_the_daemons(self) -> None:
        with open(DATA, encoding="utf-8") as handle:
            self.executor.answer = client.CommandResult(0, handle.read(), "")
        conf = self.daemon.config()
        self.assertEqual([("multipathd", ["show", "config"], 42)],
                         self.executor.calls)
        self.assertEqual("strict",
                         conf.section("defaults").values["find_multipaths"])
