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

"""Scenario 3: session CHAP and mutual CHAP against a LIO ACL (the secrets
written into the node record by the privileged executor, on no command
line)."""

from __future__ import annotations

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import recording
from iscsi_transports.tests.kernel import targets

SECRET = "kernel-lab-secret-1"
TARGET_SECRET = "kernel-lab-target-secret-2"
WRONG = "kernel-lab-wrong-secret-9"
SECRETS = (SECRET, TARGET_SECRET, WRONG)


def record_auth(chap: targets.Chap) -> dict[str, str]:
    """The node record's CHAP settings for ``chap``, secrets masked as
    the recorder keeps them."""
    auth = {"node.session.auth.authmethod": "CHAP",
            "node.session.auth.username": chap.username,
            "node.session.auth.password": recording.MASK}
    if chap.username_in:
        auth.update({"node.session.auth.username_in": chap.username_in,
                     "node.session.auth.password_in": recording.MASK})
    return auth


class TestSessionChap(base.KernelTestCase):

    def attach_detach(self, chap: targets.Chap) -> None:
        target = self.lio(chap=chap)
        driver = self.driver()
        props = target.props(**chap.props())
        info = driver.connect_volume(props)
        disk = self.assert_attached(target.iqn, info["path"])
        # Still two iscsiadm processes, no secret on their command lines.
        self.assert_two_process_attach(target, info, record_auth(chap),
                                       SECRETS)
        self.assert_pattern_io(info["path"])
        self.root.clear()
        driver.disconnect_volume(props, info)
        self.assert_two_process_detach(target, disk)
        self.assert_clean(target.iqn, [disk])
        self.assertNotIn(SECRET, self.log.output)
        self.assertNotIn(TARGET_SECRET, self.log.output)

    def test_chap(self) -> None:
        self.attach_detach(targets.Chap("kl-user", SECRET))

    def test_mutual_chap(self) -> None:
        self.attach_detach(targets.Chap("kl-user", SECRET, "kl-target",
                                        TARGET_SECRET))


class TestWrongSecret(base.KernelTestCase):
    """A refused login is the target's answer: no fallback to TCP on the
    default iface, whose login would be refused the same way."""

    def setUp(self) -> None:
        super().setUp()
        # A named iface, so that a fallback to ``default`` would be possible.
        self.flags(transport=base.NIC_IFACE)
        self.forget_iface(base.NIC_IFACE)

    def assert_refused(self, target: targets.LioTarget,
                       props: dict[str, str],
                       expected: type[base.exception.IscsiadmError] =
                       base.exception.AuthenticationFailed,
                       exit_code: int = 24) -> base.exception.IscsiadmError:
        error = self.assertRaises(expected, self.driver().connect_volume,
                                  props)
        self.assertEqual(exit_code, error.exit_code)
        self.assertEqual([base.NIC_IFACE], sorted(set(self.root.ifaces())))
        self.assertEqual(1, len(self.root.logins))
        command_lines = repr(self.root.iscsiadm_args())
        for secret in SECRETS:
            self.assertNotIn(secret, command_lines)
        self.assertEqual([], machine.sessions(target.iqn))
        # Nothing left behind: the record held the CHAP settings.
        self.assertEqual([], machine.node_records(target.iqn))
        for text in (str(error), self.log.output):
            self.assertNotIn(WRONG, text)
            self.assertNotIn(SECRET, text)
            self.assertNotIn(TARGET_SECRET, text)
        return error

    def test_wrong_secret(self) -> None:
        chap = targets.Chap("kl-user", SECRET)
        target = self.lio(chap=chap)
        self.assert_refused(target, target.props(**chap.props(
            password=WRONG)))

    def test_wrong_target_secret_in_mutual_chap(self) -> None:
        # iscsid finds the target's CHAP answer wrong and says so only in
        # its own log; iscsiadm exits 19 (ISCSI_ERR_FATAL_LOGIN), which
        # other refusals give too: a TargetError naming the likely cause.
        chap = targets.Chap("kl-user", SECRET, "kl-target", TARGET_SECRET)
        target = self.lio(chap=chap)
        error = self.assert_refused(
            target, target.props(**chap.props(password_in=WRONG)),
            base.exception.MutualChapLoginRefused, 19)
        self.assertNotIsInstance(error, base.exception.AuthenticationFailed)
        self.assertIn("mutual CHAP", str(error))
        self.assertIn("target secret", str(error))

    def test_refused_login_leaves_no_node_record(self) -> None:
        # "Failed operations leave nothing behind": the node record the
        # attach created holds the CHAP settings it was given.
        chap = targets.Chap("kl-user", SECRET)
        target = self.lio(chap=chap)
        self.assert_refused(target, target.props(**chap.props(
            password=WRONG)))
        self.assertEqual([], machine.node_records(target.iqn))
