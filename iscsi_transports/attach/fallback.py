"""Which failures are worth one retry over software TCP.

The driver falls back when another transport could succeed where this one
failed: the transport or its iface cannot carry the session.  It does not
when TCP would fail the same way: the target refused us (authentication
included), or iscsiadm itself is missing, hung or not permitted.
"""

from __future__ import annotations

from iscsi_transports import exception


class IfaceUnusable(exception.TransportUnusable):
    """The selected iface could not be ensured or failed validation."""


#: Errors that say "this transport/iface cannot carry the session": worth
#: one retry over software TCP.  TargetError (auth included) is not.
TRANSPORT_ERRORS = (
    exception.TransportNotLoaded, exception.TransportTimeout,
    exception.IscsiadmConnectionError, exception.IdbmError,
    exception.TransportCapabilityError, exception.InvalidIscsiadmRequest,
)
#: Errors that would fail the same way over TCP, even from the iface step.
HOST_ERRORS = (exception.IscsiadmNotFound, exception.IscsiadmTimeout,
               exception.IscsiadmAccessDenied)


def is_transport_error(error: BaseException) -> bool:
    """True when another transport could succeed where this one failed."""
    if isinstance(error, (exception.TargetError, *HOST_ERRORS)):
        return False
    if isinstance(error, IfaceUnusable):
        return True
    if isinstance(error, exception.NoObjectsFound):
        # iscsiadm drops an iface whose transport it cannot load and then
        # finds nothing to do (exit 21, "Could not load transport").
        stderr = str(getattr(error, "stderr", "") or "")
        return "transport" in stderr.lower()
    return isinstance(error, TRANSPORT_ERRORS)
