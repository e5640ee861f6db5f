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

"""The typed seam to the root operations, in process or through the daemon.

Each root operation is declared once, as an entry point of the privsep
context (:func:`iscsi_transports.privileged.entrypoint`) where it does its
work.  :class:`Executor` is how callers reach them: one method per
operation that names its entry point and turns the answer into the
declared type (the daemon's channel turns tuples into plain tuples).  A
service user's executor calls the entry point, so the call crosses into the
daemon (started on first use through the service's root helper, as nova's
own contexts are); a tool already running as root (the console script)
runs the same function's body in this process.  Either way every argument
is checked where the work is done.

The methods all go through :meth:`Executor.call`: a test double or a
recorder overrides that one method and keeps every operation's signature.
"""

from __future__ import annotations

import inspect
import os
import typing
from collections.abc import Callable, Mapping, Sequence

from iscsi_transports import exception
from iscsi_transports.privileged import commands
from iscsi_transports.privileged import records
from iscsi_transports.privileged import scsi

__all__ = ["CommandResult", "Executor", "executor"]

CommandResult = commands.CommandResult
_P = typing.ParamSpec("_P")
_R = typing.TypeVar("_R")


def executor(in_process: bool | None = None) -> Executor:
    """The root operations, through the daemon or in this process.

    ``in_process`` None picks by who we are: already root (the console
    script run by an operator) runs in process, anything else starts the
    daemon on first use through the root helper.  Both check every argument
    the same way.
    """
    if in_process is None:
        in_process = os.geteuid() == 0
    return Executor(in_process)


class Executor:
    """The root operations; every argument is checked where they run."""

    def __init__(self, in_process: bool) -> None:
        #: Run each operation's body here (root already), not the daemon.
        self.in_process = in_process

    def call(self, operation: Callable[_P, _R], *args: _P.args,
             **kwargs: _P.kwargs) -> _R:
        """Run the entry point ``operation``: its body here when in
        process, else through the daemon; a daemon that cannot start is
        PrivsepUnavailable."""
        if self.in_process:
            body = typing.cast(Callable[_P, _R], inspect.unwrap(operation))
            return body(*args, **kwargs)
        from oslo_privsep import daemon
        _start_daemon()
        try:
            return operation(*args, **kwargs)
        except daemon.FailedToDropPrivileges as error:
            raise exception.PrivsepUnavailable(reason=str(error)) from None

    def iscsiadm(self, args: Sequence[str], timeout: int) -> CommandResult:
        return CommandResult(*self.call(commands.iscsiadm, list(args),
                                        timeout))

    def multipath(self, args: Sequence[str], timeout: int) -> CommandResult:
        return CommandResult(*self.call(commands.multipath, list(args),
                                        timeout))

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> CommandResult:
        return CommandResult(*self.call(commands.multipathd, list(args),
                                        timeout))

    def scan_host(self, host: int, hctl: str) -> None:
        self.call(scsi.scan_host, host, hctl)

    def rescan_disk(self, name: str) -> None:
        self.call(scsi.rescan_disk, name)

    def delete_disk(self, name: str) -> bool:
        return bool(self.call(scsi.delete_disk, name))

    def flush_disk(self, name: str) -> bool:
        return bool(self.call(scsi.flush_disk, name))

    def read_block(self, path: str) -> None:
        self.call(scsi.read_block, path)

    def read_initiator_file(self) -> str:
        return str(self.call(records.read_initiator_file))

    def write_node_settings(self, target: str, portal: str, iface: str,
                            settings: Mapping[str, str]) -> None:
        self.call(records.write_node_settings, target, portal, iface,
                  settings)

    def write_discovery_auth(self, portal: str,
                             settings: Mapping[str, str]) -> None:
        self.call(records.write_discovery_auth, portal, settings)

    def read_node_layout(self, target: str,
                         portal: str) -> tuple[list[int], str | None]:
        tpgts, owner = self.call(records.read_node_layout, target, portal)
        return [int(tpgt) for tpgt in tpgts], \
            None if owner is None else str(owner)


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
