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

"""open-iscsi exit codes as typed errors, checked against a table written
out here from ``include/iscsi_err.h`` (open-iscsi master, 2026-03: 0-33),
not against the table under test."""

from __future__ import annotations

from iscsi_transports import exception
from iscsi_transports.iscsiadm import errors
from iscsi_transports.tests import base

#: exit code -> (iscsi_err.h name, the error iscsiadm's runner raises).
EXPECTED: dict[int, tuple[str, type[exception.IscsiadmError]]] = {
    1: ("ISCSI_ERR", exception.IscsiadmError),
    2: ("ISCSI_ERR_SESS_NOT_FOUND", exception.SessionNotFound),
    3: ("ISCSI_ERR_NOMEM", exception.IscsiadmInternalError),
    4: ("ISCSI_ERR_TRANS", exception.IscsiadmConnectionError),
    5: ("ISCSI_ERR_LOGIN", exception.IscsiadmConnectionError),
    6: ("ISCSI_ERR_IDBM", exception.IdbmError),
    7: ("ISCSI_ERR_INVAL", exception.InvalidIscsiadmRequest),
    8: ("ISCSI_ERR_TRANS_TIMEOUT", exception.TransportTimeout),
    9: ("ISCSI_ERR_INTERNAL", exception.IscsiadmInternalError),
    10: ("ISCSI_ERR_LOGOUT", exception.LogoutFailed),
    11: ("ISCSI_ERR_PDU_TIMEOUT", exception.PduTimeout),
    12: ("ISCSI_ERR_TRANS_NOT_FOUND", exception.TransportNotLoaded),
    13: ("ISCSI_ERR_ACCESS", exception.IscsiadmAccessDenied),
    14: ("ISCSI_ERR_TRANS_CAPS", exception.TransportCapabilityError),
    15: ("ISCSI_ERR_SESS_EXISTS", exception.SessionExists),
    16: ("ISCSI_ERR_INVALID_MGMT_REQ", exception.InvalidIscsiadmRequest),
    17: ("ISCSI_ERR_ISNS_UNAVAILABLE", exception.IscsiadmError),
    18: ("ISCSI_ERR_ISCSID_COMM_ERR", exception.IscsidNotAvailable),
    19: ("ISCSI_ERR_FATAL_LOGIN", exception.TargetError),
    20: ("ISCSI_ERR_ISCSID_NOTCONN", exception.IscsidNotAvailable),
    21: ("ISCSI_ERR_NO_OBJS_FOUND", exception.NoObjectsFound),
    22: ("ISCSI_ERR_SYSFS_LOOKUP", exception.IscsiadmError),
    23: ("ISCSI_ERR_HOST_NOT_FOUND", exception.HostNotFound),
    24: ("ISCSI_ERR_LOGIN_AUTH_FAILED", exception.AuthenticationFailed),
    25: ("ISCSI_ERR_ISNS_QUERY", exception.IscsiadmError),
    26: ("ISCSI_ERR_ISNS_REG_FAILED", exception.IscsiadmError),
    27: ("ISCSI_ERR_OP_NOT_SUPP", exception.TransportCapabilityError),
    28: ("ISCSI_ERR_BUSY", exception.IscsiadmError),
    29: ("ISCSI_ERR_AGAIN", exception.IscsiadmError),
    30: ("ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE",
         exception.InvalidIscsiadmRequest),
    31: ("ISCSI_ERR_CHILD_TERMINATED", exception.IscsiadmInternalError),
    32: ("ISCSI_ERR_SESSION_NOT_CONNECTED", exception.LogoutFailed),
    33: ("ISCSI_ERR_REQ_TIMEDOUT", exception.IscsidRequestTimeout),
}


class TestExitCodeTable(base.TestCase):

    def test_table_matches_iscsi_err_h(self) -> None:
        self.assertEqual(EXPECTED, errors.EXIT_CODES)

    def test_every_code_gives_its_error_class_exactly(self) -> None:
        for code, (name, cls) in EXPECTED.items():
            error = errors.error_for(["iscsiadm", "-m", "node"], code, "x")
            self.assertIs(cls, type(error), name)
            self.assertEqual(code, error.exit_code)

    def test_a_wrapper_that_cannot_exec_is_not_found(self) -> None:
        for code in (126, 127):
            self.assertIs(exception.IscsiadmNotFound,
                          type(errors.error_for(["iscsiadm"], code)))

    def test_an_unknown_code_is_the_base_error(self) -> None:
        self.assertIs(exception.IscsiadmError,
                      type(errors.error_for(["iscsiadm"], 99)))


#: iscsiadm 2.1.8's stderr for each cause, as the functional lab produced
#: it (tests/functional/test_cmd_discover.py runs the real cases).
REAL_STDERR = {
    "refused": (11, "iscsiadm: cannot make connection to 127.0.0.1: "
                    "Connection refused\n" * 2 +
                "iscsiadm: connection login retries (reopen_max) 5 exceeded\n"
                "iscsiadm: Could not perform SendTargets discovery: iSCSI "
                "PDU timed out\n"),
    "unresolved": (21, "iscsiadm: Cannot resolve host nosuch.invalid. "
                       "getaddrinfo error: [Temporary failure in name "
                       "resolution]\niscsiadm: cannot resolve host name "
                       "nosuch.invalid\niscsiadm: No portals found\n"),
    "silent": (19, "iscsiadm: Login response timeout. Waited 30 seconds and "
                   "did not get response PDU.\niscsiadm: discovery login to "
                   "127.0.0.1 failed, giving up 2\niscsiadm: Could not "
                   "perform SendTargets discovery: encountered "
                   "non-retryable iSCSI login failure\n"),
    "auth": (24, "iscsiadm: Login failed to authenticate with target \n"
                 "iscsiadm: discovery login to 127.0.0.1 rejected: initiator "
                 "failed authorization\niscsiadm: Could not perform "
                 "SendTargets discovery: iSCSI login failed due to "
                 "authorization failure\n"),
    "iscsid": (20, "iscsiadm: can not connect to iSCSI daemon (111)!\n"
                   "iscsiadm: Cannot perform discovery. Initiatorname "
                   "required.\niscsiadm: Could not perform SendTargets "
                   "discovery: could not connect to iscsid\n"),
    "unreachable": (8, "iscsiadm: cannot make connection to 10.0.0.9: No "
                       "route to host\n"),
}


class TestCause(base.TestCase):
    """One line a person can act on, whatever iscsiadm printed."""

    def cause(self, name: str) -> str:
        code, stderr = REAL_STDERR[name]
        return errors.cause(errors.error_for(["iscsiadm", "-m", "discovery"],
                                             code, stderr))

    def test_each_cause_is_named(self) -> None:
        expected = {"refused": "connection refused",
                    "unresolved": "the name nosuch.invalid could not be "
                                  "resolved",
                    "silent": "sent no iSCSI reply",
                    "auth": "authentication failed",
                    "iscsid": "iscsid is not running",
                    "unreachable": "the portal is unreachable"}
        for name, words in expected.items():
            cause = self.cause(name)
            self.assertIn(words, cause, name)
            self.assertNotIn("\n", cause)
            self.assertNotIn("iscsiadm:", cause)

    def test_killed_after_the_timeout(self) -> None:
        error = exception.IscsiadmTimeout(["iscsiadm", "-m", "discovery"], 7)
        self.assertEqual("no answer within 7 seconds (iscsiadm_timeout); "
                         "iscsiadm was stopped", errors.cause(error))

    def test_the_exit_code_alone_names_iscsid_and_chap(self) -> None:
        self.assertIn("iscsid is not running", errors.cause(
            errors.error_for(["iscsiadm"], 18, "")))
        self.assertIn("authentication failed", errors.cause(
            errors.error_for(["iscsiadm"], 24, "")))

    def test_unknown_output_keeps_the_exit_code(self) -> None:
        self.assertEqual(
            "iscsiadm failed with exit code 6 (record database error)",
            errors.cause(errors.error_for(["iscsiadm"], 6, "odd\n")))
