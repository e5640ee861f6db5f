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

"""Common test base: isolated configuration, lock path and logging.

Built on the public :mod:`iscsi_transports.fixture`, the same fixtures the
vendor guide tells plugin authors to test with.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import fixtures
import testtools
from oslo_config import cfg

from iscsi_transports import fixture
from iscsi_transports import opts

#: The unprivileged service user of the tests (nobody).
SERVICE_UID = SERVICE_GID = 65534


def as_service_user(function: Callable[[], object]) -> str:
    """Run ``function`` in a child process of uid/gid 65534 with no
    groups: its result as text (``ok`` for None), or ``Type: message`` of
    what it raised.  The test runner itself never drops root."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the test runner
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(SERVICE_GID)
            os.setuid(SERVICE_UID)
            value = function()
            result = "ok" if value is None else str(value)
        except BaseException as error:  # reported to the parent
            result = "%s: %s" % (type(error).__name__, error)
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    os.waitpid(pid, 0)
    return output


class TestCase(testtools.TestCase):
    """A test with its own ConfigOpts, a temp lock path and a captured log."""

    def setUp(self) -> None:
        super().setUp()
        self.conf = cfg.ConfigOpts()
        # The console script loads the global too (for the privsep
        # context): no test leaves its files there for the next.
        self.addCleanup(cfg.CONF.clear)
        # Every option, so that a test may set any of them.
        opts.register_opts(self.conf)
        self.lock_path = self.useFixture(fixtures.TempDir()).path
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.sysfs = self.useFixture(fixture.SysfsTree())
        self.conf_fixture = self.useFixture(
            fixture.Config(self.conf, sysfs_root=self.sysfs.root))
        # open-iscsi's records of the host running the tests stay unseen.
        self.flags(iscsi_db_path=self.useFixture(fixtures.TempDir()).path)
        # stevedore caches entry points per process; tests that install a
        # distribution on sys.path need a fresh look.
        self.useFixture(fixtures.MonkeyPatch(
            "stevedore.extension.ExtensionManager.ENTRY_POINT_CACHE", {}))

    def flags(self, **kwargs: object) -> None:
        """Override options of the ``iscsi_transports`` group."""
        self.conf_fixture.flags(**kwargs)
