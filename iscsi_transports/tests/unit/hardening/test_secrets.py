"""CHAP secrets never reach logs, exception messages or console output.

The attach runs through the production path (``processutils``) against a
scripted iscsiadm that echoes every argument back on stderr, with every
logger captured at every level, so a secret leaks here if any layer --
ours or oslo's -- prints a command line or an error unmasked.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import traceback

import fixtures

from iscsi_transports import brick
from iscsi_transports import exception
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.cmd import main as cmd_main
from iscsi_transports.iscsiadm import runner
from iscsi_transports.tests import base
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
  *--login*) echo "login failed, args: $*" >&2; exit "${LOGIN_EXIT:-24}" ;;
  *"-o update"*) echo "update: $*" >&2; exit "${UPDATE_EXIT:-0}" ;;
esac
exit 0
""" % {"portal": PORTAL, "iqn": IQN}


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


class SecretsCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        # Every logger, every level: the library's, processutils', root.
        self.all_logs = self.useFixture(
            fixtures.FakeLogger(name="", level=1, format="%(name)s %(message)s"))
        self.dev = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(self.lock_path, "iscsiadm")
        with open(path, "w") as out:
            out.write(SCRIPT)
        os.chmod(path, stat.S_IRWXU)
        self.flags(iscsiadm_path=path, state_path=self.lock_path,
                   device_dir=self.dev, device_scan_attempts=1,
                   device_scan_interval=0)
        # The real processutils runs the script; logins it lets through
        # become sessions in the built sysfs tree.
        self.kernel = self.useFixture(fake_kernel.Kernel(
            self.sysfs, runner._default_execute))
        self.driver = driver_mod.ISCSIDriver(self.conf,
                                             **self.kernel.driver_kwargs())

    def assert_no_secret(self, *texts: object) -> None:
        for text in texts:
            for name, secret in SECRETS.items():
                self.assertNotIn(secret, str(text), "%s leaked" % name)

    def assert_logs_clean(self) -> None:
        self.assertIn("iscsiadm", self.all_logs.output)  # logs were captured
        self.assert_no_secret(self.all_logs.output, self.log.output)


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
        self.useFixture(fixtures.EnvironmentVariable("LOGIN_EXIT", "12"))
        error = self.assertRaises(exception.IscsiadmError,
                                  self.driver.connect_volume, chap_props())
        self.assert_no_secret(str(error), repr(error))
        self.assert_logs_clean()

    def test_failed_update_carrying_secrets_and_its_traceback(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable("UPDATE_EXIT", "7"))
        error = self.assertRaises(exception.IscsiadmError,
                                  self.driver.connect_volume, chap_props())
        self.assertIn("-v ***", str(error))
        self.assert_no_secret(str(error), repr(error), error.stderr,
                              "".join(traceback.format_exception(error)))
        self.assert_logs_clean()

    def test_successful_attach_returns_no_secret(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable("LOGIN_EXIT", "0"))
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
        self.useFixture(fixtures.EnvironmentVariable("LOGIN_EXIT", "0"))
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
