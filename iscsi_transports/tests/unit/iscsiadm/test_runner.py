"""The iscsiadm runner, its error mapping and iface records, with a fake
``execute`` (no process is started)."""

from __future__ import annotations

import os
import subprocess
import sys

from iscsi_transports import exception
from iscsi_transports.iscsiadm import errors
from iscsi_transports.iscsiadm import runner as iscsiadm
from iscsi_transports.tests import base
from iscsi_transports.tests.unit import fake_execute
from iscsi_transports.tests.unit.iscsiadm import test_errors
from iscsi_transports.tests.unit.iscsiadm import test_parse as samples

SECRET = "s3cr3t-Ch4p"
IQN = "iqn.2026-11.org.openstack.test:volume-1"


class IscsiadmTestCase(base.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(state_path=self.lock_path)
        self.execute = fake_execute.FakeExecute()
        self.iscsiadm = iscsiadm.Iscsiadm(self.conf, execute=self.execute)


class TestRun(IscsiadmTestCase):
    def test_root_helper_is_split_and_prepended(self) -> None:
        self.flags(root_helper="sudo iscsi-transports-rootwrap '/etc/a b'",
                   iscsiadm_path="/usr/sbin/iscsiadm")
        self.iscsiadm.run(["-m", "iface"])
        self.assertEqual(["sudo", "iscsi-transports-rootwrap", "/etc/a b",
                          "/usr/sbin/iscsiadm", "-m", "iface"],
                         self.execute.calls[0])

    def test_timeout_and_quiet_processutils_logging(self) -> None:
        self.flags(iscsiadm_timeout=7)
        self.iscsiadm.run(["-m", "iface"])
        self.assertEqual(7, self.execute.kwargs[0]["timeout"])
        self.assertEqual(iscsiadm.NEVER_LOGGED,
                         self.execute.kwargs[0]["loglevel"])

    def test_every_exit_code_is_mapped(self) -> None:
        for code, (_name, cls) in test_errors.EXPECTED.items():
            self.execute.rules = []
            self.execute.on("-m", exit_code=code, stderr="boom")
            error = self.assertRaises(cls, self.iscsiadm.run, ["-m", "node"])
            self.assertEqual(code, error.exit_code)
            self.assertEqual("boom", error.stderr)

    def test_auth_failure_is_a_target_error(self) -> None:
        self.execute.on("-m", exit_code=24)
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.iscsiadm.run, ["-m", "discovery"])
        self.assertIsInstance(error, exception.TargetError)

    def test_missing_binary(self) -> None:
        def missing(*cmd: str, **kwargs: object) -> None:
            raise FileNotFoundError(2, "No such file or directory")
        tool = iscsiadm.Iscsiadm(self.conf, execute=missing)
        self.assertRaises(exception.IscsiadmNotFound, tool.run, ["-m", "x"])

    def test_root_helper_cannot_exec(self) -> None:
        self.execute.on("-m", exit_code=127, stderr="nsenter: failed")
        self.assertRaises(exception.IscsiadmNotFound, self.iscsiadm.run,
                          ["-m", "node"])

    def test_timeout_kills_the_process(self) -> None:
        killed = []

        class Proc:
            pid = 42

            def kill(self) -> None:
                killed.append(True)

            def wait(self, timeout: float) -> None:
                killed.append(timeout)

        def hang(*cmd: str, **kwargs: object) -> None:
            kwargs["on_execute"](Proc())  # type: ignore[operator]
            raise subprocess.TimeoutExpired(list(cmd), 3)

        tool = iscsiadm.Iscsiadm(self.conf, execute=hang)
        self.flags(iscsiadm_timeout=3)
        error = self.assertRaises(exception.IscsiadmTimeout, tool.run,
                                  ["-m", "session"])
        self.assertEqual(3, error.timeout)
        self.assertEqual([True, 5], killed)

    def test_login_to_an_existing_session_says_so(self) -> None:
        self.execute.on("--login", exit_code=15)
        self.assertFalse(self.iscsiadm.login(IQN, "10.0.0.1:3260",
                                             ["-I", "cx"]))
        self.execute.rules.clear()
        self.assertTrue(self.iscsiadm.login(IQN, "10.0.0.1:3260",
                                            ["-I", "cx"]))

    def test_a_longer_timeout_wins_over_the_option(self) -> None:
        self.flags(iscsiadm_timeout=120)
        self.iscsiadm.run(["-m", "node"], timeout=150)
        self.iscsiadm.run(["-m", "node"], timeout=30)
        self.assertEqual([150, 120], [kw["timeout"]
                                      for kw in self.execute.kwargs])


class TestSecrets(IscsiadmTestCase):
    def test_mask_argv(self) -> None:
        argv = ["iscsiadm", "-o", "update",
                "-n", "node.session.auth.password", "-v", SECRET,
                "-n", "node.session.auth.username", "-v", "user",
                "-n", "discovery.sendtargets.auth.password_in", "-v", "in"]
        masked = errors.mask_argv(argv)
        self.assertNotIn(SECRET, masked)
        self.assertNotIn("in", masked)
        self.assertIn("user", masked)
        self.assertEqual(argv[:6], masked[:6])

    def test_secrets_never_in_errors_or_logs(self) -> None:
        self.execute.on("--discover", exit_code=24,
                        stderr="rejected %s" % SECRET)
        auth = {"discovery.sendtargets.auth.authmethod": "CHAP",
                "discovery.sendtargets.auth.username": "u",
                "discovery.sendtargets.auth.password": SECRET,
                "discovery.sendtargets.auth.password_in": SECRET + "in"}
        error = self.assertRaises(exception.AuthenticationFailed,
                                  self.iscsiadm.discover, "10.0.0.1:3260",
                                  ["-I", "default"], auth)
        self.assertNotIn(SECRET, str(error))
        self.assertNotIn(SECRET, " ".join(error.argv))
        self.assertNotIn(SECRET, self.log.output)
        self.assertIn("***", str(error))
        # the real secret did reach iscsiadm
        update = self.execute.commands("-o", "update")[0]
        self.assertIn(SECRET, update)


class TestCommands(IscsiadmTestCase):
    def test_discovery_without_chap_is_one_process_writing_nothing(
            self) -> None:
        self.execute.on("discovery", stdout=samples.DISCOVERY)
        targets = self.iscsiadm.discover("127.0.0.1:3260", ["-I", "ci0"])
        self.assertEqual(IQN, targets[0].name)
        self.assertEqual([["iscsiadm", "-m", "discovery", "-t", "sendtargets",
                           "-p", "127.0.0.1:3260", "-I", "ci0", "-o",
                           "nonpersistent"]],
                         self.execute.calls)

    def test_every_node_command_names_the_iface(self) -> None:
        portal = "10.0.0.1:3260"
        self.iscsiadm.node_new(IQN, portal, ["-I", "cx"])
        self.iscsiadm.node_update(IQN, portal, ["-I", "cx"], {"a": "b"})
        self.iscsiadm.login(IQN, portal, ["-I", "cx"])
        self.iscsiadm.logout(IQN, portal, ["-I", "cx"])
        self.iscsiadm.node_delete(IQN, portal, ["-I", "cx"])
        self.assertEqual(5, len(self.execute.calls))
        for cmd in self.execute.calls:
            self.assertEqual("cx", cmd[cmd.index("-I") + 1])

    def test_login_existing_session_and_logout_none_are_fine(self) -> None:
        self.execute.on("--login", exit_code=15)
        self.execute.on("--logout", exit_code=21)
        self.iscsiadm.login(IQN, "10.0.0.1:3260", ["-I", "default"])
        self.iscsiadm.logout(IQN, "10.0.0.1:3260", ["-I", "default"])
        self.assertEqual(2, len(self.execute.calls))


class TestDefaultExecute(base.TestCase):
    """The production execute: processutils' calling convention and
    errors, started without a Python ``preexec_fn`` (so with vfork)."""

    @staticmethod
    def python(code: str) -> list[str]:
        return [sys.executable, "-c", code]

    def test_output_and_accepted_exit_codes(self) -> None:
        out, err = iscsiadm._default_execute(
            *self.python("import sys; print('o'); print('e', file=sys.stderr);"
                         " sys.exit(21)"), check_exit_code=[0, 21])
        self.assertEqual(("o\n", "e\n"), (out, err))

    def test_other_exit_code_is_processutils_error_masked(self) -> None:
        from oslo_concurrency import processutils
        error = self.assertRaises(
            processutils.ProcessExecutionError, iscsiadm._default_execute,
            *self.python("import sys; sys.exit(19)"), "-n",
            "node.session.auth.password_in", "-v", "hush")
        self.assertEqual(19, error.exit_code)
        self.assertNotIn("hush", str(error))

    def test_new_session_and_on_execute(self) -> None:
        started: list[subprocess.Popen[str]] = []
        out, _err = iscsiadm._default_execute(
            *self.python("import os; print(os.getsid(0) == os.getpid())"),
            preexec_fn=os.setsid, on_execute=started.append)
        self.assertEqual("True\n", out)
        self.assertEqual(1, len(started))

    def test_timeout_leaves_the_process_to_the_caller(self) -> None:
        started: list[subprocess.Popen[str]] = []
        self.assertRaises(subprocess.TimeoutExpired,
                          iscsiadm._default_execute,
                          *self.python("import time; time.sleep(30)"),
                          timeout=0.2, on_execute=started.append)
        started[0].kill()
        started[0].wait()

    def test_other_preexec_fn_is_refused(self) -> None:
        self.assertRaises(ValueError, iscsiadm._default_execute, "true",
                          preexec_fn=os.getpid)
