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

"""Settings and CHAP lines written into open-iscsi records through the
root daemon.

The records here are built in the format iscsiadm 2.1.8 writes; the
functional test does the same on records the real ``iscsiadm -o new``
made and reads them back with the real ``iscsiadm -o show``.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time

import fixtures

from iscsi_transports import exception
from iscsi_transports import portal as portal_mod
from iscsi_transports.privileged import records
from iscsi_transports.tests.unit.privileged import base

P = "node.session.auth."
CHAP = {P + "authmethod": "CHAP", P + "username": "user",
        P + "password": "p@ss = w0rd #1", P + "username_in": "target",
        P + "password_in": "s3cr3t;$x"}


class TestNodeAuth(base.PrivilegedTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.record = self.node_record()
        os.chmod(self.record, 0o600)

    def auth_lines(self, path: str) -> list[str]:
        return [line for line in self.read(path).splitlines()
                if line.startswith(P) and "chap_algs" not in line]

    def test_writes_the_auth_block(self) -> None:
        before = self.read(self.record)
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0", CHAP)
        self.assertEqual(
            [P + "authmethod = CHAP", P + "username = user",
             P + "password = p@ss = w0rd #1", P + "username_in = target",
             P + "password_in = s3cr3t;$x"], self.auth_lines(self.record))
        others = [line for line in before.splitlines()
                  if not line.startswith(P + "authmethod")]
        after = self.read(self.record).splitlines()
        self.assertEqual(others, [line for line in after
                                  if not line.startswith(P) or
                                  "chap_algs" in line])
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.record).st_mode))
        self.assertEqual(["lab0"], os.listdir(os.path.dirname(self.record)))
        self.assertEqual(["192.0.2.10,3260,1"], os.listdir(
            os.path.join(self.paths.nodes(), base.TARGET)))

    def test_a_new_block_replaces_the_old_one(self) -> None:
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0", CHAP)
        self.executor.write_node_settings(
            base.TARGET, base.PORTAL, "lab0",
            {P + "authmethod": "CHAP", P + "username": "u2",
             P + "password": "new-secret"})
        self.assertEqual([P + "authmethod = CHAP", P + "username = u2",
                          P + "password = new-secret"],
                         self.auth_lines(self.record))
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0",
                                          {P + "authmethod": "None"})
        self.assertEqual([P + "authmethod = None"],
                         self.auth_lines(self.record))

    def test_old_style_record_of_the_default_iface(self) -> None:
        old = self.write(
            os.path.join(self.paths.nodes(), base.TARGET, "192.0.2.10,3260"),
            base.NODE_RECORD % {"target": base.TARGET, "iface": "default"})
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "default",
                                          CHAP)
        self.assertEqual(5, len(self.auth_lines(old)))
        self.assertEqual(1, len(self.auth_lines(self.record)))

    def test_only_the_record_of_that_iface(self) -> None:
        other = self.node_record(iface="lab1")
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab1", CHAP)
        self.assertEqual(5, len(self.auth_lines(other)))
        self.assertEqual(1, len(self.auth_lines(self.record)))

    def test_a_link_local_portal_with_its_zone(self) -> None:
        # What the library builds for [fe80::1%eth0]:3260, and where
        # iscsiadm 2.1.8 -o new puts its record (the zone kept verbatim:
        # tests/functional/test_privileged.py makes one for real).
        built = str(portal_mod.parse_portal("[fe80::1%eth0]:3260"))
        record = self.node_record(portal_dir="fe80::1%eth0,3260,1")
        self.assertEqual(([1], None),
                         tuple(self.executor.read_node_layout(base.TARGET,
                                                              built)))
        self.executor.write_node_settings(base.TARGET, built + ",1", "lab0",
                                          CHAP)
        self.assertEqual(5, len(self.auth_lines(record)))

    def test_zones_that_are_no_netdev_names_are_refused(self) -> None:
        for zone in ("a/b", "eth0 x", "x" * 16, "", "eth0]:1,2[x"):
            self.assert_refused_unchanged(
                self.executor.write_node_settings, base.TARGET,
                "[fe80::1%%%s]:3260" % zone, "lab0", CHAP)

    def test_missing_record_is_a_typed_error(self) -> None:
        before = base.snapshot(self.root)
        for target, portal, iface in (
                (base.TARGET, base.PORTAL, "lab9"),
                (base.TARGET, "192.0.2.11:3260", "lab0"),
                (base.TARGET, base.PORTAL + ",2", "lab0"),
                ("iqn.2026-11.org.openstack.test:other", base.PORTAL,
                 "lab0")):
            error = self.assertRaises(
                exception.NodeRecordNotFound, self.executor.write_node_settings,
                target, portal, iface, CHAP)
            self.assertEqual((target, portal, iface), error.args)
        after = base.snapshot(self.root)
        self.assertEqual(before,
                         {k: v for k, v in after.items()
                          if "lock-iscsi" not in k})

    def test_a_record_that_names_another_target_is_not_written(self) -> None:
        # A file at the right place whose content is another record.
        with open(self.record, "w") as handle:
            handle.write(base.NODE_RECORD % {"target": "iqn.2026-11.x:y",
                                             "iface": "lab0"})
        self.assertRaises(exception.NodeRecordNotFound,
                          self.executor.write_node_settings, base.TARGET,
                          base.PORTAL, "lab0", CHAP)

    def test_an_incomplete_record_is_not_written(self) -> None:
        text = self.read(self.record).replace("# END RECORD\n", "")
        self.write(self.record, text)
        self.assertRaises(exception.PrivilegedOperationFailed,
                          self.executor.write_node_settings, base.TARGET,
                          base.PORTAL, "lab0", CHAP)
        self.assertEqual(text, self.read(self.record))

    def test_chap_values_are_counted_in_bytes(self) -> None:
        """open-iscsi keeps 255 bytes: 128 two-byte characters (256
        bytes) passed a character count, and past ~348 bytes its parser
        overran its stack buffer on every later iscsiadm -m node."""
        for value in ("\u00e9" * 128, "\u20ac" * 85 + "x", "\U0001f511" * 64,
                      "x" * 256):
            error = self.assertRaises(
                exception.PrivilegedRequestRefused,
                self.executor.write_node_settings, base.TARGET, base.PORTAL,
                "lab0", {P + "authmethod": "CHAP", P + "username": "u",
                         P + "password": value})
            self.assertIn(P + "password", str(error))
            self.assertNotIn(value[:8], str(error))
        before = self.read(self.record)
        for value in ("\u00e9" * 127 + "x", "\u20ac" * 85, "x" * 255):
            self.executor.write_node_settings(
                base.TARGET, base.PORTAL, "lab0",
                {P + "authmethod": "CHAP", P + "username": value,
                 P + "password": value})
            self.assertIn("%spassword = %s\n" % (P, value),
                          self.read(self.record))
        self.assertNotEqual(before, self.read(self.record))

    def test_refused(self) -> None:
        bad_settings = [
            {}, {P + "username": "user"},
            {P + "authmethod": "KRB5"},
            {P + "authmethod": "CHAP", P + "password": "a\nnode.startup = x"},
            {P + "authmethod": "CHAP", P + "password": " padded"},
            {P + "authmethod": "CHAP", P + "password": ""},
            {P + "authmethod": "CHAP", P + "password": "x" * 256},
            {P + "authmethod": "CHAP", "node.startup": "sometimes"},
            # open-iscsi's own values, but never the driver's: a record
            # that logs in at boot, or scans every LUN.
            {"node.startup": "onboot"}, {"node.startup": "automatic"},
            {"node.session.scan": "auto"},
            {P + "authmethod": "CHAP", P + "username": "u\u2028x = y"},
            {P + "authmethod": "CHAP", P + "password": "p\x85"},
            {"x" * 100000: "manual"},
            {"node.conn[0].address": "192.0.2.99"},
            {"node.session.timeo.replacement_timeout": "1e3"},
            {"node.session.timeo.replacement_timeout": "-1"},
            {"node.session.timeo.replacement_timeout": "1234567890"},
            {"node.startup": "manual\nnode.name = iqn.x:y"},
            {"node.session.scan": 5},
            {5: "manual"},
            {"node.session.auth.chap_algs": "MD5"},
            {P + "authmethod": "CHAP",
             "discovery.sendtargets.auth.password": "x"},
            {P + "authmethod": "CHAP", P + "password": 5},
            ["not", "a", "dict"],
        ]
        for settings in bad_settings:
            self.assert_refused_unchanged(self.executor.write_node_settings,
                                        base.TARGET, base.PORTAL, "lab0",
                                        settings)
        for target, portal, iface in (
                ("../../etc", base.PORTAL, "lab0"),
                (base.TARGET + "/..", base.PORTAL, "lab0"),
                (base.TARGET, "192.0.2.10:3260/../x", "lab0"),
                (base.TARGET, base.PORTAL, "../lab0"),
                (base.TARGET, base.PORTAL, "")):
            self.assert_refused_unchanged(self.executor.write_node_settings,
                                        target, portal, iface, CHAP)

    def test_settings_replace_lines_and_add_missing_ones(self) -> None:
        self.write(self.record, self.read(self.record).replace(
            "node.startup = manual", "node.startup = automatic"))
        before = self.read(self.record)
        self.executor.write_node_settings(
            base.TARGET, base.PORTAL, "lab0",
            {"node.startup": "manual", "node.session.scan": "manual",
             "node.session.timeo.replacement_timeout": "15"})
        after = self.read(self.record)
        self.assertEqual(
            before.replace("node.startup = automatic", "node.startup = manual")
            .replace("replacement_timeout = 120", "replacement_timeout = 15")
            .replace("# END RECORD", "node.session.scan = manual\n"
                     "# END RECORD"), after)
        # Unchanged CHAP: a write without auth keys keeps the auth block.
        self.assertEqual([P + "authmethod = None"],
                         self.auth_lines(self.record))

    def test_every_line_of_a_repeated_key_is_set(self) -> None:
        # iscsiadm's reader keeps a key's last line: all of them change.
        self.write(self.record, self.read(self.record).replace(
            "# END RECORD", "node.startup = automatic\n# END RECORD"))
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0",
                                          {"node.startup": "manual"})
        startups = [line for line in self.read(self.record).splitlines()
                    if line.startswith("node.startup")]
        self.assertEqual(["node.startup = manual"] * 2, startups)

    def test_settings_and_chap_in_one_write(self) -> None:
        self.executor.write_node_settings(
            base.TARGET, base.PORTAL, "lab0",
            {**CHAP, "node.startup": "manual",
             "node.conn[0].timeo.login_timeout": "10"})
        text = self.read(self.record)
        self.assertEqual(5, len(self.auth_lines(self.record)))
        self.assertIn("node.conn[0].timeo.login_timeout = 10\n", text)
        self.assertTrue(text.endswith("# END RECORD\n"))

    def test_only_newlines_end_lines(self) -> None:
        # open-iscsi reads a record line by line at "\n" only: a U+2028 in
        # another tool's value is no line break to it, nor here.
        self.write(self.record, self.read(self.record).replace(
            "# END RECORD", "node.session.auth.username_in = a\u2028"
            "node.session.scan = auto\n# END RECORD"))
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0",
                                          {"node.session.scan": "manual"})
        text = self.read(self.record)
        self.assertIn("username_in = a\u2028node.session.scan = auto\n",
                      text)
        self.assertIn("\nnode.session.scan = manual\n# END RECORD\n", text)

    def test_a_refusal_is_one_short_line(self) -> None:
        error = self.assertRaises(
            exception.PrivilegedRequestRefused,
            self.executor.write_node_settings, base.TARGET, base.PORTAL,
            "lab0", {"node." + "x" * 100000: "manual"})
        self.assertLessEqual(len(str(error)), 500)
        self.assertNotIn("\n", str(error))

    def test_one_record_per_portal_group(self) -> None:
        other = self.node_record(portal_dir="192.0.2.10,3260,2")
        before = base.snapshot(self.root)
        # The bare portal names two records of lab0: which one is meant?
        self.assertRaises(exception.PrivilegedRequestRefused,
                          self.executor.write_node_settings, base.TARGET,
                          base.PORTAL, "lab0", {"node.startup": "manual"})
        self.assertEqual(before, {k: v for k, v in
                                  base.snapshot(self.root).items()
                                  if "lock-iscsi" not in k})
        self.executor.write_node_settings(base.TARGET, base.PORTAL + ",2",
                                          "lab0", {"node.session.scan":
                                                   "manual"})
        self.assertIn("node.session.scan = manual\n", self.read(other))
        self.assertNotIn("node.session.scan", self.read(self.record))

    def test_refusal_never_shows_the_secret(self) -> None:
        error = self.assertRaises(
            exception.PrivilegedRequestRefused,
            self.executor.write_node_settings, base.TARGET, base.PORTAL, "lab0",
            {P + "authmethod": "CHAP", P + "password": "Sup3r-S3cr3t\n"})
        self.assertNotIn("Sup3r-S3cr3t", str(error) + repr(error.args))


class TestNodeLayout(base.PrivilegedTestCase):

    def test_portal_groups_and_the_single_files_iface(self) -> None:
        self.node_record("lab0", portal_dir="192.0.2.10,3260,3")
        self.node_record("lab1", portal_dir="192.0.2.10,3260,1")
        self.node_record("lab0", portal_dir="192.0.2.11,3260,9")
        self.write(os.path.join(self.paths.nodes(), base.TARGET,
                                "192.0.2.10,3260"),
                   base.NODE_RECORD % {"target": base.TARGET,
                                       "iface": "lab7"})
        # A link is no portal group directory of open-iscsi's.
        os.symlink(os.path.join(self.paths.nodes(), base.TARGET,
                                "192.0.2.11,3260,9"),
                   os.path.join(self.paths.nodes(), base.TARGET,
                                "192.0.2.10,3260,5"))
        self.assertEqual(([1, 3], "lab7"), tuple(
            self.executor.read_node_layout(base.TARGET, base.PORTAL)))

    def test_no_records(self) -> None:
        self.assertEqual(([], None), tuple(self.executor.read_node_layout(
            "iqn.2026-11.org.openstack.test:none", base.PORTAL)))

    def test_refused(self) -> None:
        for target, portal in (("../../etc", base.PORTAL),
                               (base.TARGET, "../x"), (5, base.PORTAL)):
            self.assert_refused_unchanged(self.executor.read_node_layout,
                                          target, portal)


class TestNodeLayoutInProcess(TestNodeLayout):
    in_process = True


class TestInitiatorFile(base.PrivilegedTestCase):

    def test_read_gives_only_the_name(self) -> None:
        self.write(self.paths.initiator_name(),
                   "## comment\nInitiatorName=iqn.2026-11.org.x:y\n")
        self.assertEqual("iqn.2026-11.org.x:y",
                         self.executor.read_initiator_file())

    def test_missing(self) -> None:
        self.assertEqual("", self.executor.read_initiator_file())

    def test_a_file_without_a_name(self) -> None:
        self.write(self.paths.initiator_name(), "root:x:0:0::/root:/bin/sh\n")
        self.assertEqual("", self.executor.read_initiator_file())

    def test_a_symbolic_link_is_not_followed(self) -> None:
        secret = self.write(os.path.join(self.root, "shadow"),
                            "InitiatorName=iqn.2026-11.org.x:leak\n")
        os.makedirs(os.path.dirname(self.paths.initiator_name()),
                    exist_ok=True)
        os.symlink(secret, self.paths.initiator_name())
        self.assertRaises(exception.PrivilegedOperationFailed,
                          self.executor.read_initiator_file)

    def test_a_fifo_is_refused_without_blocking(self) -> None:
        os.makedirs(os.path.dirname(self.paths.initiator_name()),
                    exist_ok=True)
        os.mkfifo(self.paths.initiator_name())
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.executor.read_initiator_file)
        self.assertIn("not a regular file", str(error))

    def test_too_large_is_not_read(self) -> None:
        self.write(self.paths.initiator_name(), "x" * 5000)
        self.assertRaises(exception.PrivilegedOperationFailed,
                          self.executor.read_initiator_file)


class TestInitiatorFileInProcess(TestInitiatorFile):
    in_process = True


class TestNodeAuthInProcess(TestNodeAuth):
    in_process = True


class TestIdbmLock(base.PrivilegedTestCase):
    """open-iscsi's lock: taken around the write, waited for, released."""

    in_process = True

    def setUp(self) -> None:
        super().setUp()
        self.record = self.node_record()
        self.lock_dir = self.paths.iscsi_lock_dir

    def test_released_after_the_write(self) -> None:
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0",
                                          {P + "authmethod": "None"})
        self.assertEqual(["lock"], os.listdir(self.lock_dir))

    def test_waits_for_the_holder(self) -> None:
        with records.idbm_lock():
            self.assertTrue(os.path.exists(
                os.path.join(self.lock_dir, "lock.write")))
            writer = threading.Thread(
                target=self.executor.write_node_settings,
                args=(base.TARGET, base.PORTAL, "lab0", {
                    P + "authmethod": "CHAP", P + "password": "secret"}))
            writer.start()
            time.sleep(0.3)
            self.assertNotIn(P + "password", self.read(self.record))
        writer.join(10)
        self.assertIn(P + "password = secret", self.read(self.record))

    def test_a_lock_held_too_long_writes_nothing(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.records.LOCK_TIMEOUT", 0.2))
        os.makedirs(self.lock_dir)
        self.write(os.path.join(self.lock_dir, "lock"))
        os.link(os.path.join(self.lock_dir, "lock"),
                os.path.join(self.lock_dir, "lock.write"))
        before = self.read(self.record)
        error = self.assertRaises(exception.IscsiDbLocked,
                                  self.executor.write_node_settings, base.TARGET,
                                  base.PORTAL, "lab0", CHAP)
        self.assertIn("lock.write", str(error))
        self.assertEqual(before, self.read(self.record))
        # Someone else's lock is never removed by us.
        self.assertTrue(os.path.exists(
            os.path.join(self.lock_dir, "lock.write")))


    def stale_lock(self) -> str:
        """A ``lock.write`` whose holder is gone, and a short wait."""
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.records.LOCK_TIMEOUT", 0.2))
        os.makedirs(self.lock_dir)
        self.write(os.path.join(self.lock_dir, "lock"))
        os.link(os.path.join(self.lock_dir, "lock"),
                os.path.join(self.lock_dir, "lock.write"))
        return os.path.join(self.lock_dir, "lock.write")

    def test_a_stale_lock_stays_refused_from_2_1_10(self) -> None:
        # iscsiadm 2.1.10 and later fail (exit 6) until it is removed.
        self.script("iscsiadm", "echo 'iscsiadm version 2.1.11'")
        stale = self.stale_lock()
        before = self.read(self.record)
        for _ in range(2):
            error = self.assertRaises(
                exception.IscsiDbLocked, self.executor.write_node_settings,
                base.TARGET, base.PORTAL, "lab0", CHAP)
            self.assertIn("remove %s" % stale, str(error))
        self.assertEqual(before, self.read(self.record))
        self.assertTrue(os.path.exists(stale))

    def test_a_stale_lock_is_taken_over_as_2_1_8_does(self) -> None:
        # iscsiadm 2.1.8 goes on after its wait and removes it when done:
        # so does the daemon, and the next write waits for nothing.
        self.script("iscsiadm", "echo 'iscsiadm version 2.1.8'")
        stale = self.stale_lock()
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0",
                                          CHAP)
        self.assertIn(P + "username = user", self.read(self.record))
        self.assertFalse(os.path.exists(stale))
        self.assertIn("going on without it", self.log.output)
        self.assertEqual(["lock"], os.listdir(self.lock_dir))


class TestRecordWrite(base.PrivilegedTestCase):
    """The record's new text: all of it written, or nothing changed."""

    in_process = True

    def setUp(self) -> None:
        super().setUp()
        self.record = self.node_record()
        self.before = self.read(self.record)
        self.db_root = self.paths.db_root()
        self.writes: list[int] = []
        real_write = os.write

        def write(fd: int, data: bytes) -> int:
            self.writes.append(len(data))
            return self.fake_write(real_write, fd, data)

        self.fake_write = lambda real, fd, data: real(fd, data)
        self.useFixture(fixtures.MonkeyPatch("os.write", write))

    def write_settings(self) -> None:
        self.executor.write_node_settings(base.TARGET, base.PORTAL, "lab0",
                                          CHAP)

    def assert_nothing_changed_or_left(self) -> None:
        self.assertEqual(self.before, self.read(self.record))
        self.assertEqual(sorted(["nodes"]), sorted(
            name for name in os.listdir(self.db_root)))

    def test_short_writes_are_continued(self) -> None:
        self.fake_write = lambda real, fd, data: real(fd, bytes(data[:7]))
        self.write_settings()
        self.assertGreater(len(self.writes), 10)
        text = self.read(self.record)
        self.assertTrue(text.endswith("# END RECORD\n"), text)
        self.assertIn(P + "password_in = s3cr3t;$x\n", text)

    def test_a_write_that_takes_nothing_is_refused(self) -> None:
        self.fake_write = lambda real, fd, data: 0
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.write_settings)
        self.assertIn("write took none", str(error))
        self.assert_nothing_changed_or_left()

    def test_a_full_disk_changes_nothing(self) -> None:
        def full(real: object, fd: int, data: bytes) -> int:
            if len(self.writes) > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return os.pwrite(fd, bytes(data[:100]), 0)

        self.fake_write = full
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.write_settings)
        self.assertIn("No space left on device", str(error))
        self.assert_nothing_changed_or_left()

    def test_the_temporary_file_is_where_no_walk_reads(self) -> None:
        # libopeniscsiusr's node listing (iscsiadm -m node) reads every
        # file of a target directory as a record, dot-names too; nothing
        # lists the records directory itself.
        renamed: list[tuple[str, str]] = []
        real_replace = os.replace

        def replace(source: str, target: str) -> None:
            renamed.append((source, target))
            real_replace(source, target)

        self.useFixture(fixtures.MonkeyPatch("os.replace", replace))
        self.write_settings()
        ((source, target),) = renamed
        self.assertEqual((self.db_root, self.record),
                         (os.path.dirname(source), target))
        self.assertTrue(os.path.basename(source).startswith("."))


class TestDiscoveryAuth(base.PrivilegedTestCase):

    def test_writes_the_discovery_block(self) -> None:
        d = "discovery.sendtargets.auth."
        record = self.write(
            os.path.join(self.paths.send_targets(), "192.0.2.10,3260",
                         "st_config"),
            "# BEGIN RECORD 2.1.8\ndiscovery.startup = manual\n"
            "discovery.type = sendtargets\n"
            "discovery.sendtargets.address = 192.0.2.10\n"
            "discovery.sendtargets.port = 3260\n"
            "%sauthmethod = None\n# END RECORD\n" % d)
        self.executor.write_discovery_auth(
            base.PORTAL, {d + "authmethod": "CHAP", d + "username": "u",
                          d + "password": "disco-secret"})
        self.assertIn("%spassword = disco-secret\n# END" % d,
                      self.read(record).replace(
                          "%sauthmethod = CHAP\n%susername = u\n" % (d, d),
                          ""))
        self.assertEqual(["st_config"], os.listdir(os.path.dirname(record)))

    def test_missing_discovery_record(self) -> None:
        self.assertRaises(exception.NodeRecordNotFound,
                          self.executor.write_discovery_auth, base.PORTAL,
                          {"discovery.sendtargets.auth.authmethod": "None"})

    def test_node_keys_refused(self) -> None:
        self.assert_refused_unchanged(self.executor.write_discovery_auth,
                                    base.PORTAL, CHAP)
