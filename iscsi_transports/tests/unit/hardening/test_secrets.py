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

"""CHAP secrets never reach logs, exception messages or console output.

The attach runs iscsiadm through the production path (the root operation
run in process, as the daemon runs it) against a scripted iscsiadm that
echoes every argument back on stderr, with every logger captured at every
level, so a secret leaks here if any layer -- ours or oslo's -- prints a
command line, a record write or an error unmasked.  The record writes
themselves (where the secrets go) are recorded, not run: they are tested
on built records in ``tests/unit/privileged``.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import traceback
from collections.abc import Sequence

import fixtures

from iscsi_transports import brick
from iscsi_transports import exception
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.privileged import client
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import fake_kernel

SECRETS = {"auth_password": "S3ss10n-pw", "auth_password_in": "Mutu4l-pw",
           "discovery_auth_password": "D1sc0-pw",
           "discovery_auth_password_in": "D1scMutu4l-pw"}
PORTAL = "192.0.2.10:3260"
IQN = "iqn.2010-10.org.openstack:volume-1"
SCRIPT = """#!/bin/sh
echo "iscsiadm called with: $*" >&2
case "$*" in
  *"-m session"*) exit 21 ;;
  *--discover*|*"-m discovery "*) echo "%(portal)s,1 %(iqn)s"; exit 0 ;;
  *--login*) echo "login failed, args: $*" >&2; exit %(login_exit)d ;;
esac
exit 0
"""


def chap_props(with_iqn: bool = True) -> dict[str, object]:
    props: dict[str, object] = {
        "target_portal": PORTAL, "target_lun": 1,
        "auth_method": "CHAP", "auth_username": "alice",
        "auth_username_in": "target", "discovery_auth_method": "CHAP",
        "discovery_auth_username": "bob",
        "discovery_auth_username_in": "target2", **SECRETS}
    if with_iqn:
        props["target_iqn"] = IQN
    return props


class RealIscsiadm(fake_executor.ScriptedExecutor):
    """iscsiadm run for real by the in-process root operation; the other
    operations recorded."""

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> client.CommandResult:
        super().iscsiadm(args, timeout)
        return client.executor(in_process=True).iscsiadm(args, timeout)


class SecretsCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        # Every logger, every level: the library's, processutils', root.
        self.all_logs = self.useFixture(
            fixtures.FakeLogger(name="", level=1, format="%(name)s %(message)s"))
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.bin = os.path.join(self.lock_path, "bin")
        os.mkdir(self.bin)
        self.useFixture(fixtures.MonkeyPatch(
            "iscsi_transports.privileged.commands.SECURE_PATH", self.bin))
        self.script(login_exit=24)
        self.flags(state_path=self.lock_path, device_dir=self.dev,
                   device_scan_attempts=1, device_scan_interval=0)
        # The root operation runs the script; logins it lets through
        # become sessions in the built sysfs tree.
        self.root = RealIscsiadm()
        self.kernel = self.useFixture(fake_kernel.Kernel(self.sysfs,
                                                         self.root))
        self.driver = driver_mod.ISCSIDriver(self.conf,
                                             **self.kernel.driver_kwargs())

    def script(self, login_exit: int) -> None:
        """The scripted iscsiadm; a login exits ``login_exit``."""
        path = os.path.join(self.bin, "iscsiadm")
        with open(path, "w") as out:
            out.write(SCRIPT % {"portal": PORTAL, "iqn": IQN,
                                "login_exit": login_exit})
        os.chmod(path, stat.S_IRWXU)

    def assert_no_secret(self, *texts: object) -> None:
        for text in texts:
            for name, secret in SECRETS.items():
                self.assertNotIn(secret, str(text), "%s leaked" % name)

    def assert_logs_clean(self) -> None:
        self.assertIn("iscsiadm", self.all_logs.output)  # logs were captured
        self.assert_no_secret(self.all_logs.output, self.log.output)
        # No secret was on iscsiadm's command line either.
        self.assert_no_secret(self.root.argvs)


class TestAttach(SecretsCase):

    def test_failed_login_with_every_chap_secret(self) -> None:
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.driver.connect_volume, chap_props())
        self.assert_no_secret(str(error), repr(error), error.stderr,
                            error.stdout, error.argv, error.kwargs)
        self.assert_logs_clean()

    def test_failed_discovery_login_with_secrets_in_discoverydb(self) -> None:
        self.assertRaises(exception.AuthenticationFailed,
                          self.driver.connect_volume, chap_props(False))
        self.assert_logs_clean()

    def test_transport_error_and_fallback_reason(self) -> None:
        self.script(login_exit=12)
        error = self.assertRaises(exception.IscsiadmError,
                                  self.driver.connect_volume, chap_props())
        self.assert_no_secret(str(error), repr(error))
        self.assert_logs_clean()

    def test_failed_record_write_of_the_secrets_and_its_traceback(
            self) -> None:
        self.root.raises["write_node_settings"] = \
            exception.PrivilegedOperationFailed(
                "write a node record's settings", "No space left on device")
        error = self.assertRaises(exception.PrivilegedOperationFailed,
                                  self.driver.connect_volume, chap_props())
        (written,) = self.root.written()
        self.assertEqual(SECRETS["auth_password"],
                         written[3]["node.session.auth.password"])
        self.assert_no_secret(str(error), repr(error),
                              "".join(traceback.format_exception(error)))
        self.assert_logs_clean()

    def test_successful_attach_returns_no_secret(self) -> None:
        self.script(login_exit=0)
        self.kernel.map(IQN, 1, "sdb", "disk/by-path/ip-%s-iscsi-%s-lun-1"
                        % (PORTAL, IQN))
        info = self.driver.connect_volume(chap_props())
        self.assert_no_secret(info)
        self.assert_logs_clean()

    def test_os_brick_error_carries_no_secret(self) -> None:
        # What nova and cinder see: the library's message in os-brick's
        # exception.
        error = self.assertRaises(exception.IscsiadmError,
                                  self.driver.connect_volume, chap_props())
        raised = brick.brick_error(error)
        self.assert_no_secret(str(raised), repr(raised), raised.msg)
        self.assert_logs_clean()

    def test_os_brick_connector_returns_no_secret(self) -> None:
        # nova keeps what connect_volume returns; cinder passes it back.
        self.script(login_exit=0)
        self.kernel.map(IQN, 1, "sdb", "disk/by-path/ip-%s-iscsi-%s-lun-1"
                        % (PORTAL, IQN))
        connector = brick.ISCSIConnector("", conf=self.conf,
                                         iscsi_driver=self.driver)
        self.assert_no_secret(connector.connect_volume(chap_props()))
        self.assert_logs_clean()


class TestConsole(SecretsCase):

    def run_console(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cmd_main.main(list(argv), out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def test_doctor_and_snapshot_skip_secret_lines_in_iface_files(self) -> None:
        iface_dir = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(iface_dir, "weird0"), "w") as record:
            record.write("iface.iscsi_ifacename = weird0\n"
                         "iface.transport_name = tcp\n"
                         "node.session.auth.password = %s\n"
                         "iface.chap_secret = %s\n"
                         % (SECRETS["auth_password"],
                            SECRETS["auth_password_in"]))
        config = os.path.join(self.lock_path, "test.conf")
        with open(config, "w") as conf:
            conf.write("[iscsi_transports]\niface_dir = %s\nsysfs_root = %s\n"
                       % (iface_dir, self.sysfs.root))
        archive = os.path.join(self.lock_path, "snap.tar.gz")
        outputs = [self.run_console(*argv, "--config-file", config)
                   for argv in (["doctor", "--format", "json"], ["doctor"],
                                ["snapshot", archive])]
        self.assertIn("weird0", outputs[0][1])  # the file was read
        self.assertEqual(0, outputs[2][0], outputs[2])
        self.assert_no_secret(outputs)
        with tarfile.open(archive) as tar:
            members = [tar.extractfile(m).read().decode(errors="replace")
                       for m in tar.getmembers() if m.isfile()]
        self.assert_no_secret(members)
        self.assert_no_secret(self.all_logs.output)
