"""Common test base: isolated configuration, lock path and logging."""

from __future__ import annotations

import logging

import fixtures
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from iscsi_transports import config
from iscsi_transports import fixture
from iscsi_transports import opts


class TestCase(testtools.TestCase):
    """A test with its own ConfigOpts, a temp lock path and a captured log."""

    def setUp(self) -> None:
        super().setUp()
        self.conf = cfg.ConfigOpts()
        opts.register_opts(self.conf)
        self.conf_fixture = self.useFixture(config_fixture.Config(self.conf))
        self.lock_path = self.useFixture(fixtures.TempDir()).path
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.sysfs = self.useFixture(fixture.SysfsTree())
        self.flags(sysfs_root=self.sysfs.root)
        # stevedore caches entry points per process; tests that install a
        # distribution on sys.path need a fresh look.
        self.useFixture(fixtures.MonkeyPatch(
            "stevedore.extension.ExtensionManager.ENTRY_POINT_CACHE", {}))

    def flags(self, **kwargs: object) -> None:
        """Override options of the ``iscsi_transports`` group."""
        for name, value in kwargs.items():
            self.conf_fixture.config(group=config.GROUP, **{name: value})
