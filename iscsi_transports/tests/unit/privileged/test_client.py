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

"""A daemon that cannot start is one typed line, whatever the cause."""

from __future__ import annotations

import os

from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import privileged
from iscsi_transports.privileged import client
from iscsi_transports.tests import base


class TestDaemonStart(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        context = privileged.context
        saved = context.client_mode
        self.addCleanup(context.set_client_mode, saved)
        self.addCleanup(context.stop)
        context.stop()
        context.set_client_mode(True)

    def start_with(self, helper_command: str) -> str:
        cfg.CONF.set_override("helper_command", helper_command,
                              group=privileged.CFG_SECTION)
        self.addCleanup(cfg.CONF.clear_override, "helper_command",
                        group=privileged.CFG_SECTION)
        error = self.assertRaises(exception.PrivsepUnavailable,
                                  client.Executor(in_process=False).iscsiadm,
                                  ["-m", "node"], 30)
        self.assertIsNone(privileged.context.channel)
        message = str(error)
        self.assertEqual(1, len(message.splitlines()))
        return message

    def test_helper_command_naming_no_program(self) -> None:
        missing = os.path.join(self.lock_path, "no-such-helper")
        message = self.start_with(missing + " privsep-helper")
        self.assertIn("FileNotFoundError", message)
        self.assertIn(missing, message)

    def test_helper_that_exits_non_zero(self) -> None:
        message = self.start_with("/bin/false")
        self.assertIn("exited non-zero (1)", message)
