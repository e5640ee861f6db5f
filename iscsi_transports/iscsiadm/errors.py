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

"""open-iscsi exit codes as typed errors, and CHAP secrets kept out of them.

The table follows ``include/iscsi_err.h`` of open-iscsi (2.1.8 and master
as of 2026-03, which adds 33; checked against the installed iscsiadm's
messages).  Secrets are masked on the argv
list itself, before anything is logged or raised: oslo's ``mask_password``
misses ``*.password_in``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from iscsi_transports import exception

#: open-iscsi exit codes (include/iscsi_err.h) -> (name, error).
EXIT_CODES: dict[int, tuple[str, type[exception.IscsiadmError]]] = {
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
    30: ("ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE", exception.InvalidIscsiadmRequest),
    31: ("ISCSI_ERR_CHILD_TERMINATED", exception.IscsiadmInternalError),
    # Only a logout returns 32: the session is reconnecting, try later.
    32: ("ISCSI_ERR_SESSION_NOT_CONNECTED", exception.LogoutFailed),
    33: ("ISCSI_ERR_REQ_TIMEDOUT", exception.IscsidRequestTimeout),
}
#: Exit codes of a wrapper (a script, env) that could not exec iscsiadm.
_NOT_FOUND_CODES = (126, 127)
_SECRET_KEY_RE = re.compile(r"password|secret", re.IGNORECASE)
MASK = "***"


def is_secret_key(key: str) -> bool:
    """Whether a record setting named ``key`` holds a secret."""
    return bool(_SECRET_KEY_RE.search(key))


def mask_argv(argv: Sequence[str]) -> list[str]:
    """argv with the value after ``-v`` masked when ``-n`` names a secret.

    oslo's ``mask_password`` misses ``*.password_in``, so we do it
    ourselves, on the list, before anything is logged or raised.
    """
    masked, secret_key = [], False
    for index, arg in enumerate(argv):
        if index and argv[index - 1] == "-v" and secret_key:
            masked.append(MASK)
            secret_key = False
            continue
        if index and argv[index - 1] == "-n":
            secret_key = is_secret_key(arg)
        masked.append(arg)
    return masked


def secrets_of(argv: Sequence[str]) -> list[str]:
    """The secret values in ``argv`` (to scrub them from output too)."""
    return [real for real, shown in zip(argv, mask_argv(argv))
            if shown == MASK and real != MASK and real]


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def error_for(argv: Sequence[str], exit_code: int | None, stderr: str = "",
              stdout: str = "", secrets: Iterable[str] = ()
              ) -> exception.IscsiadmError:
    """The typed error for an iscsiadm exit code; secrets masked.

    ``secrets`` adds values seen on earlier command lines: a discovery run
    after ``-o update -n ...password`` must not echo the password either.
    """
    secrets = [*secrets_of(argv), *secrets]
    cls = exception.IscsiadmError
    if exit_code in _NOT_FOUND_CODES:
        cls = exception.IscsiadmNotFound
    elif exit_code in EXIT_CODES:
        cls = EXIT_CODES[exit_code][1]
    return cls(mask_argv(argv), exit_code, scrub(stderr or "", secrets),
               scrub(stdout or "", secrets))



ISCSID_DOWN = ("iscsid is not running: start it (systemctl start iscsid, or "
               "enable iscsid.socket)")
AUTH_FAILED = ("authentication failed: the target refused the CHAP user name "
               "or password")
#: What iscsiadm's own messages (open-iscsi 2.1.8, seen in the functional
#: lab) say about why a connection failed, first match wins; ``{0}`` is the
#: pattern's group.  The exit code alone does not tell a refused connection
#: from a silent target, nor a typo in a host name from an empty discovery.
_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"can ?not connect to (?:the )?iSCSI daemon|could not "
                r"connect to iscsid", re.IGNORECASE), ISCSID_DOWN),
    (re.compile(r"cannot resolve host(?: name)? (\S+?)\.?(?:\s|$)",
                re.IGNORECASE),
     "the name {0} could not be resolved: check DNS or /etc/hosts, or give "
     "an IP address"),
    (re.compile(r"authoriz|authenticat", re.IGNORECASE), AUTH_FAILED),
    (re.compile(r"Connection refused", re.IGNORECASE),
     "connection refused: nothing listens on that address and port (is the "
     "target's iSCSI service running, is the port right?)"),
    (re.compile(r"Login response timeout|did not get response PDU",
                re.IGNORECASE),
     "no answer: the portal accepted the TCP connection but sent no iSCSI "
     "reply (is it an iSCSI target?)"),
    (re.compile(r"No route to host|Network is unreachable|timed out",
                re.IGNORECASE),
     "no answer: the portal is unreachable (address, route or firewall)"),
)


def cause(error: exception.IscsiadmError) -> str:
    """One line a person can act on: why iscsiadm failed, without its
    output (``error.stderr`` keeps that, for ``--debug`` and the logs)."""
    if isinstance(error, exception.IscsiadmTimeout):
        return ("no answer within %s seconds (iscsiadm_timeout); iscsiadm "
                "was stopped" % error.kwargs["timeout"])
    if isinstance(error, exception.IscsidNotAvailable):
        return ISCSID_DOWN
    if isinstance(error, exception.AuthenticationFailed):
        return AUTH_FAILED
    for pattern, text in _CAUSES:
        match = pattern.search(error.stderr)
        if match:
            return text.format(*match.groups())
    if isinstance(error, exception.IscsiadmNotFound):
        return " ".join(error.message.split())
    return "iscsiadm failed with exit code %s (%s)" % (error.exit_code,
                                                       error.meaning)


#: The node setting that makes a login's CHAP mutual (the target's secret).
MUTUAL_CHAP = "node.session.auth.password_in"


def explain_refusal(error: exception.TargetError,
                    session_auth: Mapping[str, str]
                    ) -> exception.TargetError:
    """A refused login's error, naming the likely cause when it can.

    Exit 19 (ISCSI_ERR_FATAL_LOGIN) is what iscsid returns when the
    target's answer to our CHAP challenge is wrong (iscsid logs "received
    incorrect CHAP response from target"), and also for other refusals
    (an unknown target, a failed negotiation): iscsiadm's output does not
    tell them apart.  With mutual CHAP configured the error says so and
    stays a :class:`~iscsi_transports.exception.TargetError`.
    """
    if error.exit_code != 19 or MUTUAL_CHAP not in session_auth or \
            isinstance(error, exception.MutualChapLoginRefused):
        return error
    return exception.MutualChapLoginRefused(error.argv, error.exit_code,
                                            error.stderr, error.stdout)
