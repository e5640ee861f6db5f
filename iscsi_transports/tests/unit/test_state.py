"""Where the state directory is, and the one-line error when it is unusable.

What depends on two users (root and the service user) sharing it is in
``tests/functional/test_state.py``, which runs as root.
"""

from __future__ import annotations

import os

from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import state
from iscsi_transports.tests import base


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
        self.assertEqual(["ifaces", "locks"], sorted(os.listdir(path)))
        self.assertEqual(path, state.ensure(self.conf))  # idempotent

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
                                  self.conf)
        self.assertIn(os.path.join(path, "locks") + " is not a directory",
                      str(error))


class TestExternalLock(base.TestCase):

    def test_lock_file_made_before_the_lock_is_taken(self) -> None:
        self.flags(state_path=self.lock_path)
        with state.external_lock(self.conf, "iface-lab0"):
            lock = os.path.join(self.lock_path, "locks",
                                "iscsi_transports-iface-lab0")
            self.assertTrue(os.path.isfile(lock))
            self.assertEqual(0o660, os.stat(lock).st_mode & 0o660)
