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

"""Which failures are worth one retry over software TCP, code by code.

The driver falls back when another transport could succeed where this one
failed: the transport, its kernel module, its host (card port) or its
iface cannot carry the session.  It does not when TCP would fail the same
way: the target refused us (authentication included), the record database
or the arguments are wrong, or iscsiadm/iscsid itself is missing, hung or
not permitted.

:data:`EXIT_CODE_FALLBACK` is the rule for every exit code of open-iscsi's
``include/iscsi_err.h``; the admin guide prints the same table
(``doc/source/admin/driver.rst``) and a unit test keeps the two equal.
"""

from __future__ import annotations

from iscsi_transports import exception

__all__ = ["EXIT_CODE_FALLBACK", "HOST_ERRORS", "IfaceUnusable",
           "is_transport_error"]


class IfaceUnusable(exception.TransportUnusable):
    """The selected iface could not be ensured or failed validation."""


#: exit code -> (fall back over TCP?, why).
EXIT_CODE_FALLBACK: dict[int, tuple[bool, str]] = {
    1: (False, "generic error: nothing says the transport is at fault"),
    2: (False, "no such session: a bookkeeping error, not the transport"),
    3: (False, "out of memory on the host: TCP needs memory too"),
    4: (False, "connection failure reported by iscsid: the portal is "
               "unreachable or refused, which TCP would meet too"),
    5: (False, "the target refused the login"),
    6: (False, "the node record database failed; TCP uses the same one"),
    7: (False, "invalid argument: the same arguments would go to TCP"),
    8: (True, "the transport's connection timed out (a dead offload port "
              "or its network): TCP goes out another way"),
    9: (False, "iscsid internal error"),
    10: (False, "logout failure: not part of an attach"),
    11: (True, "no answer to an iSCSI PDU through this iface (an iface "
               "that cannot carry the connection)"),
    12: (True, "the transport's kernel module is not loaded"),
    13: (False, "permission denied: TCP needs the same rights"),
    14: (True, "the transport lacks a capability the login needs"),
    15: (False, "the session exists: an attach treats it as success"),
    16: (False, "iscsid refused the request format"),
    17: (False, "iSNS is not available"),
    18: (False, "iscsid could not be reached"),
    19: (False, "the target refused the login for good"),
    20: (False, "iscsid is not running"),
    21: (False, "nothing to act on; except when iscsiadm dropped the "
                "iface because it could not load its transport (see "
                ":func:`is_transport_error`)"),
    22: (False, "a sysfs lookup failed on the host"),
    23: (True, "the iface's iSCSI host (card port) is not present"),
    24: (False, "CHAP authentication failed: TCP sends the same secret"),
    25: (False, "iSNS query failed"),
    26: (False, "iSNS registration failed"),
    27: (True, "the transport does not support the operation"),
    28: (False, "a device or resource is busy: try again, same transport"),
    29: (False, "try again: the same transport may succeed"),
    30: (False, "unknown discovery type"),
    31: (False, "a child process died"),
    32: (False, "the session is reconnecting (logout only)"),
    33: (False, "iscsid did not answer in time: the host is at fault"),
}
#: Errors that would fail the same way over TCP, even from the iface step.
HOST_ERRORS = (exception.IscsiadmNotFound, exception.IscsiadmTimeout,
               exception.IscsiadmAccessDenied)


def is_transport_error(error: BaseException) -> bool:
    """True when another transport could succeed where this one failed."""
    if isinstance(error, IfaceUnusable):
        return True
    if isinstance(error, HOST_ERRORS) or \
            not isinstance(error, exception.IscsiadmError):
        return False
    code = error.exit_code
    if code == 21:
        # iscsiadm drops an iface whose transport it cannot load and then
        # finds nothing to do ("Could not load transport").
        return "transport" in str(error.stderr or "").lower()
    return code is not None and EXIT_CODE_FALLBACK.get(code, (False,))[0]
