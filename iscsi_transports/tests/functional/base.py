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

"""Base class of the functional tests: the real lab, the real iscsiadm.

The library's root operations run in its privsep daemon, started with
``privsep-helper`` through ``nsenter -t <lab pid> -m -n --`` (the test's
``helper_command``), so that they reach the lab's private /etc/iscsi and
network namespace: a daemon in this process's namespaces, or the
in-process operations a root caller would otherwise get, would reach the
host's records instead.  Every executor the library asks for is that
daemon's, recorded by :attr:`FunctionalTestCase.root`.
Nothing here is skipped: a lab that cannot start fails the test.
"""

from __future__ import annotations

import sys

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from iscsi_transports import privileged
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.functional import lab as lab_mod
from iscsi_transports.tests.kernel import recording


class FunctionalTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.lab = lab_mod.get_lab()
        self.lab.reset_records()
        self.addCleanup(self.lab.reset_records)
        self.flags(state_path=self.lock_path, iscsiadm_timeout=60,
                   iscsi_db_path=self.lab.etc_iscsi)
        self.start_daemon(self.lab.root_helper)
        #: Every root operation, through the lab's daemon, as it ran.
        self.root = recording.RootRecorder(client.Executor(in_process=False))
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.client.executor",
            lambda in_process=None: self.root))
        self.iscsiadm = iscsiadm.Iscsiadm(self.conf, executor=self.root)

    def start_daemon(self, prefix: str) -> None:
        """Start the library's daemon through ``prefix`` (nsenter into
        the lab), stopped again after the test."""
        privileged.context.stop()
        self.addCleanup(privileged.context.stop)
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(group=privileged.CFG_SECTION, helper_command=(
            "%s %s -m oslo_privsep.daemon" % (prefix, sys.executable)))
        client.Executor(in_process=False).iscsiadm(["-m", "node"], 60)

    def discovery_chap(self, user: str, password: str) -> None:
        self.lab.add_discovery_chap(user, password)
        self.addCleanup(self.lab.remove_discovery_chap, user)
