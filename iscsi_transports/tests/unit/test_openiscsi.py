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

"""Where the installed iscsiadm keeps records and its lock, read from
binaries built the way open-iscsi's ``meson.build`` builds them: its
compiled-in ``<ISCSI_DB_ROOT>/nodes`` and ``<LOCK_DIR>/lock.write``
strings, and ``iscsiadm --version``."""

from __future__ import annotations

import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from iscsi_transports import exception
from iscsi_transports import openiscsi
from iscsi_transports import privileged
from iscsi_transports.privileged import paths
from iscsi_transports.tests import base

#: The strings of Debian 12's iscsiadm 2.1.8 (``strings`` of the binary,
#: the paths among them): ``nodesx`` and ``iscsid.conf`` are not records.
DEBIAN_12 = ("/etc/iscsi", "/etc/iscsi/fw", "/etc/iscsi/ifaces",
             "/etc/iscsi/iscsid.conf", "/etc/iscsi/isns", "/etc/iscsi/nodes",
             "/etc/iscsi/nodesx", "/etc/iscsi/send_targets",
             "/etc/iscsi/static", "/run/lock/iscsi", "/run/lock/iscsi/lock",
             "/run/lock/iscsi/lock.write")
#: Debian 13's 2.1.11 (``-Ddbroot=/var/lib/iscsi``): the configuration
#: files stay in /etc/iscsi.
DEBIAN_13 = ("/etc/iscsi/iscsid.conf", "/etc/iscsi/initiatorname.iscsi",
             "/var/lib/iscsi", "/var/lib/iscsi/ifaces",
             "/var/lib/iscsi/nodes", "/var/lib/iscsi/send_targets",
             "/run/lock/iscsi/lock", "/run/lock/iscsi/lock.write")


def write_iscsiadm(path: str, strings: tuple[str, ...],
                   version: str = "2.1.8") -> str:
    """A binary that answers ``--version`` and holds ``strings`` as a
    compiled one does: NUL-terminated, among other data."""
    with open(path, "wb") as binary:
        binary.write(b"#!/bin/sh\necho 'iscsiadm version %s'\nexit 0\n"
                     % version.encode())
        binary.write(b"\0\x7fELF\x01" + b"".join(
            string.encode() + b"\0" for string in strings) +
            b"%s/nodes: %d\0")
    os.chmod(path, 0o755)
    return path


class FakeIscsiadm(fixtures.Fixture):
    """The daemon's search path holds only a built iscsiadm (none until
    :meth:`install`)."""

    def _setUp(self) -> None:
        self.bin = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.openiscsi.SECURE_PATH", self.bin))

    def install(self, strings: tuple[str, ...], version: str = "2.1.8",
                name: str = "iscsiadm") -> str:
        return write_iscsiadm(os.path.join(self.bin, name), strings,
                              version)


class BuildCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.useFixture(FakeIscsiadm())
        self.bin = self.fake.bin
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        openiscsi.register_opts(cfg.CONF)

    def iscsiadm(self, strings: tuple[str, ...], version: str = "2.1.8",
                 name: str = "iscsiadm") -> str:
        return self.fake.install(strings, version, name)


class TestReadBuild(BuildCase):

    def test_debian_12(self) -> None:
        self.assertEqual(
            openiscsi.Build(self.iscsiadm(DEBIAN_12), "/etc/iscsi",
                            "/run/lock/iscsi", (2, 1, 8)),
            openiscsi.installed())

    def test_debian_13(self) -> None:
        build = openiscsi.read_build(self.iscsiadm(DEBIAN_13, "2.1.11"))
        self.assertEqual(("/var/lib/iscsi", "/run/lock/iscsi", (2, 1, 11)),
                         (build.db_root, build.lock_dir, build.version))

    def test_a_stray_directory_changes_nothing(self) -> None:
        # The guess this replaces took <top>/var-lib-iscsi because it had
        # an ifaces directory, on a build whose records are elsewhere.
        top = self.useFixture(fixtures.TempDir()).path
        built, stray = os.path.join(top, "etc-iscsi"), os.path.join(
            top, "var-lib-iscsi")
        os.makedirs(os.path.join(stray, "ifaces"))
        self.iscsiadm((built + "/nodes", built + "/ifaces",
                       "/run/lock/iscsi/lock.write"))
        self.assertEqual(os.path.join(built, "nodes"),
                         paths.Paths().nodes())

    def test_through_a_symbolic_link(self) -> None:
        real = self.iscsiadm(DEBIAN_12, name="iscsiadm.real")
        os.symlink(real, os.path.join(self.bin, "iscsiadm"))
        self.assertEqual(real, openiscsi.installed().binary)

    def assert_refused(self, *words: str) -> exception.OpenIscsiBuildUnknown:
        error = self.assertRaises(exception.OpenIscsiBuildUnknown,
                                  openiscsi.installed)
        self.assertNotIn("\n", str(error))
        for word in words:
            self.assertIn(word, str(error))
        return error

    def test_several_records_directories_are_refused(self) -> None:
        self.iscsiadm((*DEBIAN_12, "/var/lib/iscsi/nodes",
                       "/var/lib/iscsi/ifaces"))
        self.assert_refused("names several records directories",
                            "/etc/iscsi, /var/lib/iscsi", "iscsi_db_root")

    def test_a_wrapper_script_is_refused(self) -> None:
        self.iscsiadm(())
        error = self.assert_refused("names no records directory")
        self.assertEqual("iscsi_db_root", error.option)

    def test_roots_setting_stands_in_for_a_wrapper(self) -> None:
        self.iscsiadm(())
        self.conf.config(group=privileged.CFG_SECTION,
                         iscsi_db_root="/srv/iscsi",
                         iscsi_lock_dir="/run/lock/iscsi")
        build = openiscsi.installed()
        self.assertEqual(("/srv/iscsi", "/run/lock/iscsi"),
                         (build.db_root, build.lock_dir))

    def test_a_setting_the_binary_contradicts_is_refused(self) -> None:
        self.iscsiadm(DEBIAN_12)
        self.conf.config(group=privileged.CFG_SECTION,
                         iscsi_db_root="/var/lib/iscsi")
        self.assert_refused("names /etc/iscsi, not /var/lib/iscsi")

    def test_a_relative_setting_is_refused(self) -> None:
        self.iscsiadm(())
        self.conf.config(group=privileged.CFG_SECTION,
                         iscsi_db_root="iscsi")
        self.assert_refused("not an absolute path")

    def test_no_iscsiadm(self) -> None:
        self.assert_refused("is not installed")

    def test_an_unreadable_binary(self) -> None:
        path = self.iscsiadm(DEBIAN_12)
        os.chmod(path, 0o111)
        os.chmod(self.bin, 0o755)
        error = base.as_service_user(openiscsi.installed)
        self.assertIn("OpenIscsiBuildUnknown", error)
        self.assertIn("cannot be read (Permission denied)", error)

    def test_an_upgrade_is_read_again(self) -> None:
        self.iscsiadm(DEBIAN_12)
        self.assertEqual("/etc/iscsi", openiscsi.installed().db_root)
        os.unlink(os.path.join(self.bin, "iscsiadm"))
        self.iscsiadm(DEBIAN_13, "2.1.11")
        self.assertEqual(((2, 1, 11), "/var/lib/iscsi"),
                         (openiscsi.installed_version(),
                          openiscsi.installed().db_root))


class TestCompiledDirs(base.TestCase):

    def test_only_whole_strings(self) -> None:
        data = (b"\x01/etc/iscsi/nodes\0see /srv/x/nodes\0a/b/nodes\0"
                b"/var/lib/iscsi/nodes/\0/opt/nodes.d\0%s/nodes\0")
        self.assertEqual({"/etc/iscsi"},
                         openiscsi.compiled_dirs(data, "nodes"))

    def test_the_real_daemon_section(self) -> None:
        self.assertEqual(privileged.CFG_SECTION, openiscsi.DAEMON_SECTION)


class TestVersion(BuildCase):

    def test_stale_lock_taken_over_before_2_1_10(self) -> None:
        for version, takes_over in (("2.1.8", True), ("2.1.9", True),
                                    ("2.1.10", False), ("2.1.11", False),
                                    ("3.0", False)):
            self.iscsiadm(DEBIAN_12, version, name="iscsiadm-" + version)
            self.assertEqual(takes_over, openiscsi.takes_over_stale_lock(
                openiscsi.read_build(os.path.join(
                    self.bin, "iscsiadm-" + version)).version), version)

    def test_unknown_version_is_the_strict_one(self) -> None:
        self.iscsiadm(DEBIAN_12, "unknown")
        self.assertEqual((), openiscsi.installed_version())
        self.assertFalse(openiscsi.takes_over_stale_lock(()))

    def test_no_iscsiadm_has_no_version(self) -> None:
        self.assertEqual((), openiscsi.installed_version())
