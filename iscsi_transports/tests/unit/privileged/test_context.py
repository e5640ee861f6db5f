"""The privsep context's own settings."""

from __future__ import annotations

import subprocess
import sys

from oslo_config import cfg

from iscsi_transports import privileged
from iscsi_transports.tests import base


class TestThreadPool(base.TestCase):
    """The daemon runs as many root operations at once as a multipath
    attach and a busy host start, not one per CPU."""

    def test_default_is_not_the_cpu_count(self) -> None:
        # A fresh interpreter, as the daemon and nova-compute are: other
        # tests' config fixtures reset the global defaults on cleanup.
        out = subprocess.run(
            [sys.executable, "-c",
             "from iscsi_transports import privileged; "
             "print(privileged.context.conf.thread_pool_size)"],
            capture_output=True, text=True, check=True).stdout
        self.assertEqual(str(privileged.THREAD_POOL_SIZE), out.strip())

    def test_the_sample_config_shows_the_real_default(self) -> None:
        _group, options = privileged.list_opts()
        option = {o.name: o for o in options}["thread_pool_size"]
        self.assertEqual(privileged.THREAD_POOL_SIZE, option.default)
        self.assertIsNone(option.sample_default)

    def test_an_operator_setting_wins(self) -> None:
        cfg.CONF.set_default("thread_pool_size", privileged.THREAD_POOL_SIZE,
                             group=privileged.CFG_SECTION)
        cfg.CONF.set_override("thread_pool_size", 4,
                              group=privileged.CFG_SECTION)
        self.addCleanup(cfg.CONF.clear_override, "thread_pool_size",
                        group=privileged.CFG_SECTION)
        self.assertEqual(4, privileged.context.conf.thread_pool_size)
