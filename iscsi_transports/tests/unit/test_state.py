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

"""Where the state directory is, and the one-line error when it is unusable.

What depends on two users (root and the service user) sharing it is in
``tests/functional/test_state.py``, which runs as root.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable

import fixtures
from oslo_concurrency import lockutils
from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import state
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor


class TestDirectory(base.TestCase):

    def test_explicit_option_wins(self) -> None:
        self.conf.register_opt(cfg.StrOpt("state_path"))
        self.conf.set_override("state_path", "/var/lib/nova")
        self.flags(state_path="/srv/it")
        self.assertEqual("/srv/it", state.directory(self.conf))

    def test_under_novas_state_path(self) -> None:
        self.conf.register_opt(cfg.StrOpt("state_path",
                                          default="/var/lib/nova"))
        self.assertEqual("/var/lib/nova/iscsi-transports",
                         state.directory(self.conf))

    def test_without_a_service_state_path(self) -> None:
        self.assertEqual("/var/lib/iscsi-transports",
                         state.directory(self.conf))

    def test_lock_path(self) -> None:
        self.flags(state_path="/srv/it")
        self.assertEqual("/srv/it/locks", state.lock_path(self.conf))
        self.conf.register_opt(cfg.StrOpt("lock_path"),
                               group="oslo_concurrency")
        self.conf.set_override("lock_path", "/run/nova-locks",
                               group="oslo_concurrency")
        self.assertEqual("/run/nova-locks", state.lock_path(self.conf))


class TestEnsure(base.TestCase):

    def test_creates_the_directory_and_its_parts(self) -> None:
        path = os.path.join(self.lock_path, "a", "state")
        self.flags(state_path=path)
        self.assertEqual(path, state.ensure(self.conf))
        self.assertEqual([], os.listdir(path))
        self.assertEqual(path, state.ensure(self.conf, "ifaces", "locks"))
        self.assertEqual(["ifaces", "locks"], sorted(os.listdir(path)))
        self.assertEqual(path, state.ensure(self.conf, "ifaces"))

    def test_cannot_be_created_is_one_line_naming_dir_and_fix(self) -> None:
        blocker = os.path.join(self.lock_path, "file")
        with open(blocker, "w"):
            pass
        path = os.path.join(blocker, "state")
        self.flags(state_path=path)
        error = self.assertRaises(exception.StateDirUnusable, state.ensure,
                                  self.conf)
        message = str(error)
        self.assertEqual(1, len(message.splitlines()))
        self.assertIn(path + " cannot be created (Not a directory)", message)
        self.assertIn("install -d -o nova -g nova -m 0750 " + path, message)
        self.assertIn("[iscsi_transports] state_path", message)

    def test_a_file_in_the_way(self) -> None:
        path = os.path.join(self.lock_path, "state")
        os.makedirs(path)
        with open(os.path.join(path, "locks"), "w"):
            pass
        self.flags(state_path=path)
        error = self.assertRaises(exception.StateDirUnusable, state.ensure,
                                  self.conf, "locks")
        self.assertIn(os.path.join(path, "locks") + " is not a directory",
                      str(error))


class TestExternalLock(base.TestCase):

    def test_unusable_state_dir_is_named_before_any_lock(self) -> None:
        blocker = os.path.join(self.lock_path, "file")
        with open(blocker, "w"):
            pass
        path = os.path.join(blocker, "state")
        self.flags(state_path=path)
        error = self.assertRaises(exception.StateDirUnusable,
                                  state.external_lock(self.conf, "x")
                                  .__enter__)
        self.assertIn("State directory %s cannot be created" % path,
                      str(error))

    def test_lock_file_made_before_the_lock_is_taken(self) -> None:
        self.flags(state_path=self.lock_path)
        with state.external_lock(self.conf, "iface-lab0"):
            lock = os.path.join(self.lock_path, "locks",
                                "iscsi_transports-iface-lab0")
            self.assertTrue(os.path.isfile(lock))
            self.assertEqual(0o660, os.stat(lock).st_mode & 0o660)


class TestIfaceCreation(base.TestCase):
    """``-o new`` of an iface runs only once its marker is written."""

    def setUp(self) -> None:
        super().setUp()
        self.scripted = fake_executor.ScriptedExecutor().on(
            "-m", "iface", "-o", "show", exit_code=6)
        self.runner = iscsiadm.Iscsiadm(self.conf, executor=self.scripted)
        self.wanted = iface_mod.Iface(name="cxgb4i.00:07:43:05:97:07",
                                      transport_name="cxgb4i",
                                      hwaddress="00:07:43:05:97:07")

    def test_unusable_state_dir_stops_before_o_new(self) -> None:
        blocker = os.path.join(self.lock_path, "file")
        with open(blocker, "w"):
            pass
        self.flags(state_path=os.path.join(blocker, "state"))
        records = iscsiadm_ifaces.IfaceRecords(self.runner)
        self.assertRaises(exception.StateDirUnusable, records._create,
                          self.wanted)
        self.assertEqual([], [argv for argv in self.scripted.argvs
                              if "new" in argv])

    def test_failed_o_new_takes_the_marker_back(self) -> None:
        self.flags(state_path=self.lock_path)
        self.scripted.on("-o", "new", exit_code=6)
        records = iscsiadm_ifaces.IfaceRecords(self.runner)
        self.assertRaises(exception.IscsiadmError, records._create,
                          self.wanted)
        self.assertFalse(records.created_by_us(self.wanted.name))

    def test_created_record_is_ours(self) -> None:
        self.flags(state_path=self.lock_path)
        self.assertEqual(iscsiadm_ifaces.CREATED,
                         iscsiadm_ifaces.IfaceRecords(self.runner)
                         .ensure(self.wanted))
        self.assertTrue(iscsiadm_ifaces.IfaceRecords(self.runner)
                        .created_by_us(self.wanted.name))


    def fail_writes(self, write: Callable[[int, bytes], int]) -> list[int]:
        """Every ``os.write`` goes through ``write``; the sizes asked."""
        asked: list[int] = []

        def recorded(fd: int, data: bytes) -> int:
            asked.append(len(data))
            return write(fd, data)

        self.useFixture(fixtures.MonkeyPatch("os.write", recorded))
        return asked

    def test_a_full_disk_leaves_no_marker(self) -> None:
        # Before: an empty marker stayed, so a later iface of that name
        # made by the operator was taken for the library's.
        self.flags(state_path=self.lock_path)

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        self.fail_writes(full)
        records = iscsiadm_ifaces.IfaceRecords(self.runner)
        error = self.assertRaises(exception.StateWriteFailed,
                                  records._create, self.wanted)
        self.assertEqual(
            "Could not write %s/ifaces/%s (No space left on device); "
            "nothing half-written was left: free space on its file system, "
            "then retry" % (self.lock_path, self.wanted.name), str(error))
        self.assertEqual([], os.listdir(os.path.join(self.lock_path,
                                                     "ifaces")))
        self.assertEqual([], [argv for argv in self.scripted.argvs
                              if "new" in argv])
        self.assertFalse(records.created_by_us(self.wanted.name))

    def test_short_writes_make_a_whole_marker(self) -> None:
        self.flags(state_path=self.lock_path)
        real = os.write
        asked = self.fail_writes(lambda fd, data: real(fd, bytes(data[:5])))
        iscsiadm_ifaces.IfaceRecords(self.runner)._mark_ours(
            self.wanted.name)
        self.assertGreater(len(asked), 3)
        with open(os.path.join(self.lock_path, "ifaces",
                               self.wanted.name), "rb") as marker:
            self.assertEqual(iscsiadm_ifaces.MARKER, marker.read())

    def test_a_marker_left_never_hides_the_o_new_error(self) -> None:
        self.flags(state_path=self.lock_path)
        self.scripted.on("-o", "new", exit_code=6)

        def stuck(conf: cfg.ConfigOpts, subdir: str, name: str) -> None:
            raise exception.StateWriteFailed(action="remove", path=name,
                                             reason="I/O error", fix="x")

        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.state.remove_file", stuck))
        records = iscsiadm_ifaces.IfaceRecords(self.runner)
        self.assertRaises(exception.IscsiadmError, records._create,
                          self.wanted)
        self.assertIn("was not created, but its marker stays",
                      self.log.output)

    def test_a_marker_that_cannot_be_removed_is_one_line(self) -> None:
        self.flags(state_path=self.lock_path)
        records = iscsiadm_ifaces.IfaceRecords(self.runner)
        records._mark_ours(self.wanted.name)
        ifaces = os.path.join(self.lock_path, "ifaces")
        os.chmod(ifaces, 0o500)
        self.addCleanup(os.chmod, ifaces, 0o700)

        def remove() -> None:
            state.remove_file(self.conf, "ifaces", self.wanted.name)

        os.chown(self.lock_path, base.SERVICE_UID, base.SERVICE_GID)
        os.chown(ifaces, base.SERVICE_UID, base.SERVICE_GID)
        self.assertEqual(
            "StateWriteFailed: Could not remove %s/%s (Permission denied); "
            "nothing half-written was left: fix the cause, then retry"
            % (ifaces, self.wanted.name), base.as_service_user(remove))


class TestPlantedSymlinks(base.TestCase):
    """Root (the console script) follows no link the service user planted
    in its state: the file a link points to keeps its content and mode."""

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.victim = os.path.join(self.lock_path, "root-only")
        with open(self.victim, "w") as victim:
            victim.write("keep me\n")
        os.chmod(self.victim, 0o600)

    def assert_victim_untouched(self) -> None:
        with open(self.victim) as victim:
            self.assertEqual("keep me\n", victim.read())
        self.assertEqual(0o600, os.stat(self.victim).st_mode & 0o7777)

    def test_iface_marker_link_is_not_followed(self) -> None:
        state.ensure(self.conf, "ifaces")
        name = "cxgb4i.00:07:43:05:97:07"
        os.symlink(self.victim, os.path.join(self.lock_path, "ifaces", name))
        scripted = fake_executor.ScriptedExecutor().on("-m", "iface", "-o", "show",
                                                exit_code=6)
        records = iscsiadm_ifaces.IfaceRecords(
            iscsiadm.Iscsiadm(self.conf, executor=scripted))
        wanted = iface_mod.Iface(name=name, transport_name="cxgb4i",
                                 hwaddress="00:07:43:05:97:07")
        error = self.assertRaises(exception.StateDirUnusable,
                                  records._create, wanted)
        self.assertEqual(1, len(str(error).splitlines()))
        self.assertIn("%s, which is a symbolic link" % name, str(error))
        self.assert_victim_untouched()
        self.assertEqual([], [argv for argv in scripted.argvs
                              if "new" in argv])

    def test_lock_file_link_is_not_followed(self) -> None:
        state.ensure(self.conf, "locks")
        os.symlink(self.victim, os.path.join(
            self.lock_path, "locks", state.LOCK_PREFIX + "iface-lab0"))
        error = self.assertRaises(exception.LockFileUnusable,
                                  state.external_lock(self.conf, "iface-lab0")
                                  .__enter__)
        self.assertIn("symbolic links", str(error))
        self.assert_victim_untouched()

    def test_linked_subdirectory_is_not_followed(self) -> None:
        elsewhere = os.path.join(self.lock_path, "elsewhere")
        os.mkdir(elsewhere, 0o700)
        os.symlink(elsewhere, os.path.join(self.lock_path, "locks"))
        error = self.assertRaises(exception.StateDirUnusable,
                                  state.external_lock(self.conf, "x")
                                  .__enter__)
        self.assertEqual("State directory %s is a symbolic link: replace it "
                         "with a directory (the service user's), or set the "
                         "option to the directory it points to"
                         % os.path.join(self.lock_path, "locks"), str(error))
        self.assertEqual([], os.listdir(elsewhere))
        self.assertEqual(0o700, os.stat(elsewhere).st_mode & 0o7777)

    def test_linked_state_directory_is_not_followed(self) -> None:
        elsewhere = os.path.join(self.lock_path, "elsewhere")
        os.mkdir(elsewhere, 0o700)
        link = os.path.join(self.lock_path, "state")
        os.symlink(elsewhere, link)
        self.flags(state_path=link)
        error = self.assertRaises(exception.StateDirUnusable, state.ensure,
                                  self.conf, "ifaces", "locks")
        self.assertIn("State directory %s is a symbolic link" % link,
                      str(error))
        self.assertEqual(1, len(str(error).splitlines()))
        self.assertEqual([], os.listdir(elsewhere))
        self.assertEqual(0o700, os.stat(elsewhere).st_mode & 0o7777)


class TestLockInterop(base.TestCase):
    """The lock excludes (and is excluded by) oslo.concurrency's external
    lock of the same name, which an older release still takes."""

    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.locks = os.path.join(self.lock_path, "locks")

    def lockutils_lock(self) -> lockutils.InterProcessLock:
        return lockutils.external_lock("iface-lab0",
                                       lock_file_prefix=state.LOCK_PREFIX,
                                       lock_path=self.locks)

    def in_child(self, function: Callable[[], bool]) -> bool:
        """``function``'s answer, run in a forked process (record locks
        are per process)."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            answer = b"?"
            try:
                answer = b"1" if function() else b"0"
            finally:
                os.write(write_end, answer)
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            answer = pipe.read()
        os.waitpid(pid, 0)
        return answer == b"1"

    def test_ours_excludes_lockutils(self) -> None:
        def try_lockutils() -> bool:
            lock = self.lockutils_lock()
            taken = bool(lock.acquire(blocking=False))
            if taken:
                lock.release()
            return taken

        with state.external_lock(self.conf, "iface-lab0"):
            self.assertFalse(self.in_child(try_lockutils))
        self.assertTrue(self.in_child(try_lockutils))

    def test_lockutils_excludes_ours(self) -> None:
        def try_ours() -> bool:
            fd = os.open(os.path.join(self.locks,
                                      state.LOCK_PREFIX + "iface-lab0"),
                         os.O_WRONLY)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            return True

        state.ensure(self.conf, "locks")
        lock = self.lockutils_lock()
        self.assertTrue(lock.acquire(blocking=False))
        try:
            self.assertFalse(self.in_child(try_ours))
        finally:
            lock.release()
        self.assertTrue(self.in_child(try_ours))
