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

"""Root and the service user sharing the state directory, for real.

The service user is uid/gid 65534 in a forked child (``setgid``,
``setuid``), so every permission check is the kernel's.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable

import fixtures
from oslo_concurrency import lockutils  # noqa: F401 - loaded before the fork
from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import state
from iscsi_transports.iscsiadm import ifaces as iscsiadm_ifaces
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor


class TestSharedState(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        top = self.useFixture(fixtures.TempDir()).path
        os.chmod(top, 0o755)
        self.state = os.path.join(top, "nova", "iscsi-transports")
        os.makedirs(os.path.dirname(self.state))
        # nova's state_path belongs to the service user.
        os.chown(os.path.dirname(self.state), base.SERVICE_UID, base.SERVICE_GID)
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
            self.assertEqual((base.SERVICE_UID, base.SERVICE_GID, 0o770),
                             self.owner(path))
        self.assertEqual((base.SERVICE_UID, base.SERVICE_GID), self.owner(lock)[:2])

        def take_lock() -> None:
            state.ensure(self.conf)
            with state.external_lock(self.conf, "iface-lab0"):
                pass

        self.assertEqual("ok", base.as_service_user(take_lock))

    def test_what_the_service_user_creates_root_can_use(self) -> None:
        def create() -> None:
            state.ensure(self.conf)
            with state.external_lock(self.conf, "path-1"):
                pass

        self.assertEqual("ok", base.as_service_user(create))
        with state.external_lock(self.conf, "path-1"):
            pass
        lock = os.path.join(self.state, "locks", "iscsi_transports-path-1")
        self.assertEqual((base.SERVICE_UID, base.SERVICE_GID), self.owner(lock)[:2])

    def test_an_old_root_lock_file_is_named_with_the_fix(self) -> None:
        state.ensure(self.conf, "locks")
        lock = os.path.join(self.state, "locks", "iscsi_transports-path-1")
        with open(lock, "w"):
            pass  # as an older release left it: root's, 0644
        os.chmod(lock, 0o644)

        def take_lock() -> None:
            with state.external_lock(self.conf, "path-1"):
                pass

        result = base.as_service_user(take_lock)
        self.assertTrue(result.startswith(
            "LockFileUnusable: Lock file %s cannot be opened by uid 65534"
            % lock), result)
        self.assertIn("chown --reference=", result)
        # Root's next use hands it over.
        with state.external_lock(self.conf, "path-1"):
            pass
        self.assertEqual("ok", base.as_service_user(take_lock))

    def test_an_unwritable_state_dir_is_one_line(self) -> None:
        os.chown(os.path.dirname(self.state), 0, 0)  # a root-owned parent
        result = base.as_service_user(lambda: state.ensure(self.conf))
        self.assertEqual(
            "StateDirUnusable: State directory %s cannot be created "
            "(Permission denied): create it for the service user, e.g. "
            "'install -d -o nova -g nova -m 0750 %s', or set "
            "[iscsi_transports] state_path" % (self.state, self.state),
            result)
        self.assertFalse(os.path.exists(self.state))

    def test_a_state_dir_of_root_is_not_writable_for_the_user(self) -> None:
        os.makedirs(self.state, mode=0o755)
        result = base.as_service_user(lambda: state.ensure(self.conf))
        self.assertIn("State directory %s is not writable by uid 65534"
                      % self.state, result)
        self.assertEqual(1, len(result.splitlines()))


class TestLinksTheServiceUserPlants(base.TestCase):
    """Root (the console script) reaches the state only through what root
    alone controls: a link the service user puts in its own directory, at
    the state directory, a subdirectory of it or above it, is refused with
    one line, and nothing is created, chowned or chmodded where it points
    (``victim``: root's, as ``/etc/iscsi`` is)."""

    def setUp(self) -> None:
        super().setUp()
        top = self.useFixture(fixtures.TempDir()).path
        os.chmod(top, 0o755)
        self.nova = os.path.join(top, "nova")  # nova's state_path
        os.mkdir(self.nova, 0o750)
        os.chown(self.nova, base.SERVICE_UID, base.SERVICE_GID)
        self.state = os.path.join(self.nova, "iscsi-transports")
        self.flags(state_path=self.state)
        self.victim = os.path.join(top, "etc-iscsi")
        os.mkdir(self.victim, 0o700)
        with open(os.path.join(self.victim, "iscsid.conf"), "w") as conf:
            conf.write("keep me\n")
        self.before = self.snapshot()

    def snapshot(self) -> list[tuple[str, int, int, int]]:
        """Every name in the victim with its owner and mode."""
        found = []
        for root, dirs, files in os.walk(self.victim):
            for name in [root] + [os.path.join(root, entry)
                                  for entry in dirs + files]:
                info = os.lstat(name)
                found.append((name, info.st_uid, info.st_gid, info.st_mode))
        return sorted(found)

    def plant(self, link: str) -> None:
        """A link to the victim, made by the service user (owner and all)."""
        os.symlink(self.victim, link)
        os.lchown(link, base.SERVICE_UID, base.SERVICE_GID)

    def assert_refused(self, function: Callable[[], object],
                       problem: str) -> None:
        error = self.assertRaises(exception.StateDirUnusable, function)
        self.assertEqual(1, len(str(error).splitlines()))
        self.assertIn(problem, str(error))
        self.assertEqual(self.before, self.snapshot())

    def use_everything(self) -> None:
        """What the console script does in the state: subdirectories, a
        lock file, an iface marker (before ``-o new``)."""
        state.ensure(self.conf, "ifaces", "locks")
        with state.external_lock(self.conf, "iface-lab0"):
            pass

    def test_the_state_directory_as_a_link(self) -> None:
        self.plant(self.state)
        self.assert_refused(self.use_everything,
                            "State directory %s is a symbolic link"
                            % self.state)

    def test_a_subdirectory_as_a_link(self) -> None:
        os.mkdir(self.state, 0o770)
        os.chown(self.state, base.SERVICE_UID, base.SERVICE_GID)
        for sub in state.SUBDIRS:
            self.plant(os.path.join(self.state, sub))
            self.assert_refused(
                functools.partial(state.ensure, self.conf, sub),
                "State directory %s is a symbolic link"
                % os.path.join(self.state, sub))
            os.unlink(os.path.join(self.state, sub))

    def test_an_iface_marker_is_not_written_through_a_linked_ifaces(
            self) -> None:
        os.mkdir(self.state, 0o770)
        os.chown(self.state, base.SERVICE_UID, base.SERVICE_GID)
        self.plant(os.path.join(self.state, "ifaces"))
        scripted = fake_executor.ScriptedExecutor().on(
            "-m", "iface", "-o", "show", exit_code=6)
        records = iscsiadm_ifaces.IfaceRecords(
            iscsiadm.Iscsiadm(self.conf, executor=scripted))
        wanted = iface_mod.Iface(name="cxgb4i.00:07:43:05:97:07",
                                 transport_name="cxgb4i",
                                 hwaddress="00:07:43:05:97:07")
        self.assert_refused(lambda: records.ensure(wanted),
                            "is a symbolic link")
        self.assertEqual([], [argv for argv in scripted.argvs
                              if "new" in argv])

    def test_a_link_above_the_state_directory(self) -> None:
        link = os.path.join(self.nova, "shared")
        self.plant(link)
        self.flags(state_path=os.path.join(link, "iscsi-transports"))
        self.assert_refused(
            self.use_everything, "is reached through the symbolic link %s "
            "in %s, which a user other than root can replace"
            % (link, self.nova))

    def test_a_root_link_in_the_users_directory_is_refused_too(
            self) -> None:
        link = os.path.join(self.nova, "shared")
        os.symlink(self.victim, link)  # root's, but nova can replace it
        self.flags(state_path=os.path.join(link, "iscsi-transports"))
        self.assert_refused(self.use_everything,
                            "is reached through the symbolic link %s" % link)

    def test_a_linked_lock_path(self) -> None:
        self.conf.register_opt(cfg.StrOpt("lock_path"),
                               group="oslo_concurrency")
        link = os.path.join(self.nova, "tmp")
        self.plant(link)
        locks = os.path.join(link, "locks")
        self.conf.set_override("lock_path", locks, group="oslo_concurrency")
        self.assert_refused(
            state.external_lock(self.conf, "iface-lab0").__enter__,
            "State directory %s is reached through the symbolic link %s"
            % (locks, link))

    def test_links_only_root_can_change_are_followed(self) -> None:
        """An operator's link (``/var/lib/nova`` -> ``/srv/nova``, in a
        directory only root writes) is followed as before."""
        top = os.path.dirname(self.nova)
        os.rename(self.nova, os.path.join(top, "srv-nova"))
        os.symlink("srv-nova", self.nova)  # relative, root's, in root's top
        self.use_everything()
        real = os.path.join(top, "srv-nova", "iscsi-transports")
        for path in (real, os.path.join(real, "ifaces"),
                     os.path.join(real, "locks")):
            info = os.stat(path)
            self.assertEqual((base.SERVICE_UID, base.SERVICE_GID, 0o770),
                             (info.st_uid, info.st_gid,
                              stat.S_IMODE(info.st_mode)))
        self.assertEqual(self.before, self.snapshot())
