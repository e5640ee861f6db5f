"""One interface to the root operations, with or without the daemon.

:class:`DaemonExecutor` sends each call to the privsep daemon (started on
first use through the service's root helper, as nova's own contexts are);
:class:`InProcessExecutor` runs the same checked functions here, for a tool
that is already root.  Callers get an :class:`Executor` from
:func:`iscsi_transports.privileged.executor` and never know which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from iscsi_transports import exception
from iscsi_transports.privileged import commands
from iscsi_transports.privileged import records
from iscsi_transports.privileged import scsi

__all__ = ["CommandResult", "DaemonExecutor", "Executor",
           "InProcessExecutor"]

CommandResult = commands.CommandResult
_T = TypeVar("_T")


class Executor(Protocol):
    """The root operations; every argument is checked where they run."""

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> CommandResult: ...

    def multipath(self, args: Sequence[str],
                  timeout: int) -> CommandResult: ...

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> CommandResult: ...

    def scan_host(self, host: int, hctl: str) -> None: ...

    def rescan_disk(self, name: str) -> None: ...

    def delete_disk(self, name: str) -> bool: ...

    def flush_disk(self, name: str) -> bool: ...

    def read_block(self, path: str) -> None: ...

    def read_initiator_file(self) -> str: ...

    def write_node_settings(self, target: str, portal: str, iface: str,
                            settings: Mapping[str, str]) -> None: ...

    def write_discovery_auth(self, portal: str,
                             settings: Mapping[str, str]) -> None: ...

    def read_node_layout(self, target: str,
                         portal: str) -> tuple[list[int], str | None]: ...


class InProcessExecutor:
    """Runs the checked operations in this process (already root)."""

    def iscsiadm(self, args: Sequence[str], timeout: int) -> CommandResult:
        return commands.iscsiadm(list(args), timeout)

    def multipath(self, args: Sequence[str], timeout: int) -> CommandResult:
        return commands.multipath(list(args), timeout)

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> CommandResult:
        return commands.multipathd(list(args), timeout)

    def scan_host(self, host: int, hctl: str) -> None:
        scsi.scan_host(host, hctl)

    def rescan_disk(self, name: str) -> None:
        scsi.rescan_disk(name)

    def delete_disk(self, name: str) -> bool:
        return scsi.delete_disk(name)

    def flush_disk(self, name: str) -> bool:
        return scsi.flush_disk(name)

    def read_block(self, path: str) -> None:
        scsi.read_block(path)

    def read_initiator_file(self) -> str:
        return records.read_initiator_file()

    def write_node_settings(self, target: str, portal: str, iface: str,
                            settings: Mapping[str, str]) -> None:
        records.write_node_settings(target, portal, iface, settings)

    def write_discovery_auth(self, portal: str,
                             settings: Mapping[str, str]) -> None:
        records.write_discovery_auth(portal, settings)

    def read_node_layout(self, target: str,
                         portal: str) -> tuple[list[int], str | None]:
        return records.read_node_layout(target, portal)


def _call(function: Callable[..., _T], *args: Any) -> _T:
    """Call an entry point; a daemon that cannot start is a typed error."""
    from oslo_privsep import daemon
    _start_daemon()
    try:
        return function(*args)
    except daemon.FailedToDropPrivileges as error:
        raise exception.PrivsepUnavailable(reason=str(error)) from None


def _start_daemon() -> None:
    """Start the daemon (or restart a dead one) before a call, as the
    entry point would, so that whatever stops it from starting is one
    typed line (PrivsepUnavailable) and never a traceback: a missing
    ``sudo``, a ``helper_command`` naming no program (FileNotFoundError),
    a helper that exits non-zero.  Errors of the call itself are not
    touched.
    """
    from iscsi_transports.privileged import context
    if not context.client_mode:  # oslo.privsep's test mode: no daemon
        return
    try:
        if context.channel is not None and not context.channel.running:
            context.stop()
        if context.channel is None:
            context.start()
    except Exception as error:
        reason = " ".join(("%s: %s" % (type(error).__name__,
                                        error)).split())
        raise exception.PrivsepUnavailable(reason=reason) from None


class DaemonExecutor:
    """Sends each operation to the privsep daemon."""

    def __init__(self) -> None:
        from iscsi_transports.privileged import entry
        self._entry = entry

    def _command(self, function: Callable[..., Any], args: Sequence[str],
                 timeout: int) -> CommandResult:
        exit_code, stdout, stderr = _call(function, list(args), timeout)
        return CommandResult(exit_code, stdout, stderr)

    def iscsiadm(self, args: Sequence[str], timeout: int) -> CommandResult:
        return self._command(self._entry.iscsiadm, args, timeout)

    def multipath(self, args: Sequence[str], timeout: int) -> CommandResult:
        return self._command(self._entry.multipath, args, timeout)

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> CommandResult:
        return self._command(self._entry.multipathd, args, timeout)

    def scan_host(self, host: int, hctl: str) -> None:
        _call(self._entry.scan_host, host, hctl)

    def rescan_disk(self, name: str) -> None:
        _call(self._entry.rescan_disk, name)

    def delete_disk(self, name: str) -> bool:
        return bool(_call(self._entry.delete_disk, name))

    def flush_disk(self, name: str) -> bool:
        return bool(_call(self._entry.flush_disk, name))

    def read_block(self, path: str) -> None:
        _call(self._entry.read_block, path)

    def read_initiator_file(self) -> str:
        return str(_call(self._entry.read_initiator_file))

    def write_node_settings(self, target: str, portal: str, iface: str,
                            settings: Mapping[str, str]) -> None:
        _call(self._entry.write_node_settings, target, portal, iface,
              settings)

    def write_discovery_auth(self, portal: str,
                             settings: Mapping[str, str]) -> None:
        _call(self._entry.write_discovery_auth, portal, settings)

    def read_node_layout(self, target: str,
                         portal: str) -> tuple[list[int], str | None]:
        # Over the daemon's channel a tuple arrives as a list.
        tpgts, owner = _call(self._entry.read_node_layout, target, portal)
        return [int(tpgt) for tpgt in tpgts], \
            None if owner is None else str(owner)
