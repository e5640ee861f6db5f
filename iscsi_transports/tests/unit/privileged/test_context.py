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
