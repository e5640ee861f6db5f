"""Root and the service user sharing the state directory, for real.

The service user is uid/gid 65534 in a forked child (``setgid``,
``setuid``), so every permission check is the kernel's.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

import fixtures
from oslo_concurrency import lockutils  # noqa: F401 - loaded before the fork

from iscsi_transports import state
from iscsi_transports.tests import base

SERVICE_UID = SERVICE_GID = 65534


def as_service_user(function: Callable[[], object]) -> str:
    """Run ``function`` as uid 65534 in a child; ``ok`` or its error."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the test runner
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(SERVICE_GID)
            os.setuid(SERVICE_UID)
            function()
            result = "ok"
        except BaseException as error:  # reported to the parent
            result = "%s: %s" % (type(error).__name__, error)
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    os.waitpid(pid, 0)
    return output


class TestSharedState(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        top = self.useFixture(fixtures.TempDir()).path
        os.chmod(top, 0o755)
        self.state = os.path.join(top, "nova", "iscsi-transports")
        os.makedirs(os.path.dirname(self.state))
        # nova's state_path belongs to the service user.
        os.chown(os.path.dirname(self.state), SERVICE_UID, SERVICE_GID)
        self.flags(state_path=self.state)

    def owner(self, path: str) -> tuple[int, int, int]:
        info = os.stat(path)
        return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)

    def test_what_root_creates_the_service_user_can_use(self) -> None:
        self.assertEqual(self.state, state.ensure(self.conf, "ifaces"))
        with state.external_lock(self.conf, "iface-lab0"):
            pass
        lock = os.path.join(self.state, "locks",
                            "iscsi_transports-iface-lab0")
        for path in (self.state, os.path.join(self.state, "ifaces"),
                     os.path.join(self.state, "locks")):
            self.assertEqual((SERVICE_UID, SERVICE_GID, 0o770),
                             self.owner(path))
        self.assertEqual((SERVICE_UID, SERVICE_GID), self.owner(lock)[:2])

        def take_lock() -> None:
            state.ensure(self.conf)
            with state.external_lock(self.conf, "iface-lab0"):
                pass

        self.assertEqual("ok", as_service_user(take_lock))

    def test_what_the_service_user_creates_root_can_use(self) -> None:
        def create() -> None:
            state.ensure(self.conf)
            with state.external_lock(self.conf, "path-1"):
                pass

        self.assertEqual("ok", as_service_user(create))
        with state.external_lock(self.conf, "path-1"):
            pass
        lock = os.path.join(self.state, "locks", "iscsi_transports-path-1")
        self.assertEqual((SERVICE_UID, SERVICE_GID), self.owner(lock)[:2])

    def test_an_old_root_lock_file_is_named_with_the_fix(self) -> None:
        state.ensure(self.conf, "locks")
        lock = os.path.join(self.state, "locks", "iscsi_transports-path-1")
        with open(lock, "w"):
            pass  # as an older release left it: root's, 0644
        os.chmod(lock, 0o644)

        def take_lock() -> None:
            with state.external_lock(self.conf, "path-1"):
                pass

        result = as_service_user(take_lock)
        self.assertTrue(result.startswith(
            "LockFileUnusable: Lock file %s cannot be opened by uid 65534"
            % lock), result)
        self.assertIn("chown --reference=", result)
        # Root's next use hands it over.
        with state.external_lock(self.conf, "path-1"):
            pass
        self.assertEqual("ok", as_service_user(take_lock))

    def test_an_unwritable_state_dir_is_one_line(self) -> None:
        os.chown(os.path.dirname(self.state), 0, 0)  # a root-owned parent
        result = as_service_user(lambda: state.ensure(self.conf))
        self.assertEqual(
            "StateDirUnusable: State directory %s cannot be created "
            "(Permission denied): create it for the service user, e.g. "
            "'install -d -o nova -g nova -m 0750 %s', or set "
            "[iscsi_transports] state_path" % (self.state, self.state),
            result)
        self.assertFalse(os.path.exists(self.state))

    def test_a_state_dir_of_root_is_not_writable_for_the_user(self) -> None:
        os.makedirs(self.state, mode=0o755)
        result = as_service_user(lambda: state.ensure(self.conf))
        self.assertIn("State directory %s is not writable by uid 65534"
                      % self.state, result)
        self.assertEqual(1, len(result.splitlines()))
