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

"""Typed errors raised by iscsi-transports.

Every error carries its arguments as attributes so that callers (nova, the
console script, tests) can act on them without parsing messages, and every
message is written for an operator: it says what was wrong and, where we
know, what to do about it.  Messages never contain CHAP secrets; commands
are masked before they are stored (see :mod:`iscsi_transports.iscsiadm`).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["AmbiguousTarget",
           "AuthenticationFailed",
           "BrickNotAdoptable",
           "DiscoveryFailed",
           "HostNotFound",
           "IdbmError",
           "IfaceConflict",
           "InvalidConnectionProperties",
           "InvalidHwAddress",
           "InvalidIPAddress",
           "InvalidIfaceName",
           "InvalidIfaceRecord",
           "InvalidInput",
           "InvalidIscsiadmRequest",
           "InvalidPortal",
           "InvalidTargetName",
           "IscsiTransportsError",
           "IscsiadmAccessDenied",
           "IscsiadmConnectionError",
           "IscsiadmError",
           "IscsiadmInternalError",
           "IscsiadmNotFound",
           "IscsiadmParseError",
           "IscsiadmTimeout",
           "IscsidNotAvailable",
           "IscsidRequestTimeout",
           "LogoutFailed",
           "MultipathCommandFailed",
           "MultipathFlushFailed",
           "MultipathMapNotFound",
           "MultipathdNotRunning",
           "MutualChapLoginRefused",
           "NoObjectsFound",
           "NodeRecordConflict",
           "PduTimeout",
           "RunRefused",
           "SessionExists",
           "SessionNotFound",
           "TargetError",
           "TransportCapabilityError",
           "TransportNotFound",
           "TransportNotLoaded",
           "TransportTimeout",
           "TransportUnusable",
           "VolumeAttachFailed",
           "VolumeDetachIncomplete",
           "VolumeDeviceNotFound"]

#: ``<key> = <value>`` where the key names a secret (``*.password``,
#: ``*.password_in``, ``*chap_secret``): the value is masked in messages.
_SECRET_VALUE_RE = re.compile(
    r"((?:password|secret|passwd)[^\s=]*[ \t]*=[ \t]*)[^\n]*", re.IGNORECASE)


class IscsiTransportsError(Exception):
    """Base class of every error this library raises on purpose."""

    msg_fmt = "An unknown error occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        for key, value in kwargs.items():
            setattr(self, key, value)
        if message is None:
            message = self.msg_fmt % kwargs
        self.message = message
        super().__init__(message)


# -- adoption by os-brick's callers ------------------------------------------

class BrickNotAdoptable(IscsiTransportsError):
    """os-brick is not built the way :mod:`iscsi_transports.adopt` replaces
    its iSCSI connector; running os-brick's own connector instead would be
    a second iSCSI stack on the host, so the program must not go on."""

    msg_fmt = ("iscsi-transports cannot take over os-brick %(version)s's "
               "iSCSI/iSER connector: %(problem)s; refusing to run os-brick's "
               "own connector instead (upgrade iscsi-transports or run the "
               "service without iscsi-transports run)")


class RunRefused(IscsiTransportsError):
    """``iscsi-transports run`` cannot run the command with the library as
    its os-brick connector; nothing was started."""

    msg_fmt = "cannot run %(command)s: %(reason)s"


# -- input validation -------------------------------------------------------

class InvalidInput(IscsiTransportsError, ValueError):
    """A value given to the library is malformed; nothing was changed."""

    msg_fmt = "Invalid input: %(reason)s"


class InvalidIfaceName(InvalidInput):
    msg_fmt = "Invalid iface name %(name)r: %(reason)s"


class InvalidHwAddress(InvalidInput):
    msg_fmt = "Invalid hardware (MAC) address %(value)r: %(reason)s"


class InvalidIPAddress(InvalidInput):
    msg_fmt = "Invalid IP address %(value)r: %(reason)s"


class InvalidPortal(InvalidInput):
    msg_fmt = "Invalid portal %(value)r: %(reason)s"


class InvalidTargetName(InvalidInput):
    msg_fmt = "Invalid iSCSI target name %(value)r: %(reason)s"


class InvalidIfaceRecord(InvalidInput):
    """An iface record failed its transport's correctness checks."""

    msg_fmt = "Iface %(name)s is not valid: %(problems)s"

    def __init__(self, name: str, problems: list[str]) -> None:
        super().__init__(name=name, problems="; ".join(problems))
        self.problem_list = list(problems)


class InvalidConnectionProperties(InvalidInput):
    msg_fmt = "Invalid connection properties: %(reason)s"


class AmbiguousTarget(InvalidConnectionProperties):
    """Without ``target_iqn`` more than one target could be the volume's;
    nothing was touched."""

    msg_fmt = ("Without target_iqn, LUN %(lun)s at %(portal)s could be "
               "any of %(targets)s: nothing was done; send target_iqn (a "
               "detach may pass the device info the attach returned)")


# -- transports and plugins -------------------------------------------------

class TransportNotFound(IscsiTransportsError, LookupError):
    msg_fmt = "No transport plugin named %(name)r is loaded."


class TransportUnusable(IscsiTransportsError):
    """The configured transport cannot be used and fallback is off."""

    msg_fmt = "Transport %(name)s cannot be used: %(reason)s"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name=name, reason=reason)
        self.name = name
        self.reason = reason




# -- iscsiadm ---------------------------------------------------------------

class IscsiadmError(IscsiTransportsError):
    """iscsiadm ran and failed.

    ``cmd`` is the argv with secrets masked; ``exit_code`` and ``stderr`` are
    what iscsiadm returned.  Subclasses name the open-iscsi error classes that
    callers decide on (fallback, retry, give up).
    """

    msg_fmt = ("iscsiadm failed with exit code %(exit_code)s (%(meaning)s): "
               "%(cmd)s: %(stderr)s")
    meaning = "error"

    def __init__(self, cmd: list[str] | tuple[str, ...], exit_code: int | None,
                 stderr: str = "", stdout: str = "") -> None:
        super().__init__(cmd=" ".join(cmd), exit_code=exit_code,
                         stderr=(stderr or "").strip(), meaning=self.meaning)
        self.argv = list(cmd)
        self.exit_code = exit_code
        self.stderr = (stderr or "").strip()
        self.stdout = stdout


class IscsiadmNotFound(IscsiadmError):
    msg_fmt = ("iscsiadm could not be run (%(stderr)s): install open-iscsi. "
               "Command: %(cmd)s")
    meaning = "not installed"


class IscsiadmTimeout(IscsiadmError):
    msg_fmt = ("iscsiadm did not finish within %(timeout)s seconds and was "
               "killed: %(cmd)s")
    meaning = "timed out"

    def __init__(self, cmd: list[str] | tuple[str, ...],
                 timeout: float) -> None:
        # Skips IscsiadmError.__init__, whose kwargs lack ``timeout``.
        IscsiTransportsError.__init__(
            self, cmd=" ".join(cmd), exit_code=None, stderr="",
            meaning=self.meaning, timeout=timeout)
        self.argv = list(cmd)
        self.stdout = ""


class SessionNotFound(IscsiadmError):
    meaning = "session not found"


class IscsiadmInternalError(IscsiadmError):
    meaning = "internal error or out of memory"


class IscsiadmConnectionError(IscsiadmError):
    """Could not reach, log in to, or keep a connection to the portal."""

    meaning = "connection or login failure"


class IdbmError(IscsiadmError):
    """open-iscsi's record database (nodes, ifaces) refused the operation."""

    meaning = "record database error"



class InvalidIscsiadmRequest(IscsiadmError):
    meaning = "invalid request or argument"


class TransportTimeout(IscsiadmError):
    meaning = "transport timeout"


class TransportNotLoaded(IscsiadmError):
    """The kernel (or iscsiadm) cannot find the iface's transport."""

    meaning = "transport not found"


class TransportCapabilityError(IscsiadmError):
    meaning = "operation not supported by the transport"


class SessionExists(IscsiadmError):
    meaning = "session already exists"


class IscsidNotAvailable(IscsiadmError):
    meaning = "iscsid is not running or not reachable"


class IscsidRequestTimeout(IscsidNotAvailable):
    """iscsid took the request but did not answer in time (exit 33)."""

    meaning = "iscsid request timed out"


class NoObjectsFound(IscsiadmError):
    meaning = "no records or sessions found"


class TargetError(IscsiadmError):
    """The target refused us for a reason that another transport won't fix."""

    meaning = "target error"


class AuthenticationFailed(TargetError):
    meaning = "authentication failed"


class MutualChapLoginRefused(TargetError):
    """Exit 19 (ISCSI_ERR_FATAL_LOGIN) of a login with mutual CHAP.

    iscsid gives 19 when the *target's* CHAP answer is wrong, but also for
    other refusals (unknown target, failed negotiation), and only its own
    log says which: so this is a TargetError that names the likely cause,
    not an AuthenticationFailed.
    """

    meaning = ("login refused for good; mutual CHAP was configured, so a "
               "likely cause is a wrong target secret (auth_password_in); "
               "iscsid's log says which")



class PduTimeout(IscsiadmConnectionError):
    """No answer to an iSCSI PDU: portal unreachable, or an iface that
    cannot carry the connection (software iSCSI with iface.ipaddress)."""

    meaning = "iSCSI PDU timed out"


class LogoutFailed(IscsiadmError):
    meaning = "logout failed"


class IscsiadmAccessDenied(IscsiadmError):
    meaning = "permission denied"


class HostNotFound(TransportNotLoaded):
    """The iface's offload host (card port) is not present."""

    meaning = "iSCSI host not found"


class DiscoveryFailed(IscsiTransportsError):
    """A SendTargets discovery failed; ``cause`` says why in one line."""

    msg_fmt = "discovery of %(portal)s failed: %(cause)s%(hint)s"


class IscsiadmParseError(IscsiTransportsError, ValueError):
    """Input that does not parse; the quoted input has its secrets masked.

    The input can be a node record or a hand-edited iface file, where
    ``...password = <secret>`` lines live, and the message reaches logs
    and the console (``iscsi-transports doctor``).
    """

    msg_fmt = "Cannot parse iscsiadm %(what)s output line %(line)r"

    def __init__(self, what: str, line: Any) -> None:
        if isinstance(line, str):
            line = _SECRET_VALUE_RE.sub(r"\1***", line)
        super().__init__(what=what, line=line)


class NodeRecordConflict(IscsiTransportsError):
    """Another iface's node record is in open-iscsi's single-file layout,
    which writing ours would replace (see :mod:`iscsi_transports.iscsiadm.
    nodes`)."""

    msg_fmt = ("Not writing a node record for %(target)s at %(portal)s "
               "through iface %(iface)s: open-iscsi would replace %(path)s, "
               "the record of iface %(owner)s (a record made without a "
               "target portal group is one file per target and portal, "
               "whatever the iface). Recreate that record with its portal "
               "group (iscsiadm -m node -o new -p <address>:<port>,<tpgt> "
               "-I %(owner)s) or attach through iface %(owner)s.")


class IfaceConflict(IscsiTransportsError):
    """An iface record exists on disk that this library did not create."""

    msg_fmt = ("Iface %(name)s already exists with different settings and "
               "was not created by iscsi-transports; it was left untouched. "
               "On disk: %(existing)s. Wanted: %(wanted)s.")


# -- volumes ----------------------------------------------------------------

class VolumeDeviceNotFound(IscsiTransportsError):
    msg_fmt = "No block device appeared for %(target)s (looked for %(paths)s)."


class VolumeDetachIncomplete(IscsiTransportsError):
    """A detach went as far as it safely could and left these disks."""

    msg_fmt = "Detach left disks behind: %(left)s"


class VolumeAttachFailed(IscsiTransportsError):
    msg_fmt = "Could not attach %(target)s: %(reason)s"


# -- dm-multipath -----------------------------------------------------------

class MultipathdNotRunning(IscsiTransportsError):
    msg_fmt = ("multipathd is not running (%(reason)s): start it "
               "(systemctl enable --now multipathd) or attach without "
               "multipath.")


class MultipathCommandFailed(IscsiTransportsError):
    """``multipath`` or ``multipathd`` answered with a failure."""

    msg_fmt = "%(cmd)s failed (exit %(exit_code)s): %(reason)s"


class MultipathMapNotFound(IscsiTransportsError):
    msg_fmt = ("multipathd built no map for WWID %(wwid)s within "
               "%(seconds)s seconds (paths %(paths)s): check that the "
               "WWID is not blacklisted (multipath -v3 -c /dev/<path>).")


class MultipathFlushFailed(IscsiTransportsError):
    """The map stays, with its paths: nothing under it was touched."""

    msg_fmt = ("Could not flush multipath map %(name)s (WWID %(wwid)s) "
               "after %(attempts)s attempts: %(reason)s. It still holds "
               "%(paths)s; their sessions were left logged in.")


# -- privileged operations and the state directory --------------------------

class PrivilegedError(IscsiTransportsError):
    """Raised by a root operation (:mod:`iscsi_transports.privileged`).

    oslo.privsep re-creates an error from its daemon in the caller as
    ``type(*error.args)``, so these errors take only positional strings,
    named in ``fields``, and keep exactly those as ``args``: the caller gets
    the same type, message and attributes as the daemon raised.  Values
    never include a CHAP secret.
    """

    fields: tuple[str, ...] = ()

    def __init__(self, *values: str) -> None:
        super().__init__(**dict(zip(self.fields, values)))
        self.args = values

    def __str__(self) -> str:
        return self.message


class PrivilegedRequestRefused(PrivilegedError, InvalidInput):
    """The privileged side refused its arguments; nothing ran or changed."""

    fields = ("operation", "reason")
    operation: str
    reason: str
    msg_fmt = ("Refused to %(operation)s as root: %(reason)s. Nothing was "
               "run or written.")


class PrivilegedOperationFailed(PrivilegedError):
    """A root operation was allowed but the kernel or a file refused it."""

    fields = ("operation", "reason")
    operation: str
    reason: str
    msg_fmt = "Could not %(operation)s: %(reason)s"


class PrivilegedCommandTimeout(PrivilegedError):
    fields = ("cmd", "seconds")
    cmd: str
    seconds: str
    msg_fmt = ("%(cmd)s did not finish within %(seconds)s seconds and was "
               "killed.")


class NodeRecordNotFound(PrivilegedError, LookupError):
    fields = ("target", "portal", "iface")
    target: str
    portal: str
    iface: str
    msg_fmt = ("No node record for %(target)s at %(portal)s through iface "
               "%(iface)s: it must exist (iscsiadm -m node -o new) before "
               "its CHAP settings are written; nothing was written.")


class IscsiDbLocked(PrivilegedError):
    """open-iscsi's record lock stayed taken; the record is unchanged."""

    fields = ("path", "seconds")
    path: str
    seconds: str
    msg_fmt = ("open-iscsi's record lock %(path)s stayed taken for "
               "%(seconds)s seconds; nothing was written. If no iscsiadm "
               "is running, remove %(path)s.")


class OpenIscsiBuildUnknown(PrivilegedError):
    """Where the installed iscsiadm keeps its records or its lock is not
    known for sure; nothing was read or written there."""

    fields = ("binary", "problem", "option")
    binary: str
    problem: str
    option: str
    msg_fmt = ("Refused to use open-iscsi's records: %(binary)s "
               "%(problem)s; set %(option)s in [iscsi_transports_privileged]"
               " (root's configuration) to the directory iscsiadm uses.")


class StateWriteFailed(IscsiTransportsError):
    """A file in the state directory could not be written or removed
    (a full disk, an I/O error); nothing half-written was left."""

    msg_fmt = ("Could not %(action)s %(path)s (%(reason)s); nothing "
               "half-written was left: %(fix)s")


class PrivsepUnavailable(IscsiTransportsError):
    msg_fmt = ("The iscsi-transports privileged helper did not start "
               "(%(reason)s): the service's root helper must allow "
               "privsep-helper --privsep_context "
               "iscsi_transports.privileged.context (see the install guide).")


class StateDirUnusable(IscsiTransportsError):
    """The state directory cannot be created or written by this user."""

    msg_fmt = "State directory %(path)s %(problem)s: %(fix)s"


class LockFileUnusable(IscsiTransportsError):
    msg_fmt = "Lock file %(path)s %(problem)s: %(fix)s"
