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

"""The kernel tests' root operations: run for real, and recorded.

The kernel tests attach the way production does (nova's path): every root
operation goes through a privileged executor.  In the VM the tests are
root, so that executor is the library's in-process one -- the same
checked operations the oslo.privsep daemon runs for a service user
(``test_service_user`` covers the daemon).
:class:`RootRecorder` wraps it and keeps, for each operation, what was
asked, when it started and ended and, for a command, its exit code: a test
asserts what ran (which iscsiadm processes, which settings went into which
node record, which LUN was scanned, which disk flushed and deleted) besides
what the kernel shows.

CHAP secrets: an iscsiadm argv is kept exactly as it ran, because a secret
there is what a test must be able to find and fail on; the settings written
into node and discovery records are kept with their secret values masked,
so that no failing test's output shows one.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, ParamSpec, TypeVar, cast

from iscsi_transports.iscsiadm import errors
from iscsi_transports.privileged import client
from iscsi_transports.privileged import validate

__all__ = ["MASK", "NodeSettings", "Operation", "RootRecorder",
           "bare_portal", "bare_portals", "masked"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
#: The operations that run a command: their argv is kept, not the timeout.
_COMMANDS = ("iscsiadm", "multipath", "multipathd")
#: The operations that write settings: their values are kept masked.
_SETTINGS = ("write_node_settings", "write_discovery_auth")
#: What a secret value is recorded as.
MASK = errors.MASK
#: A record portal's target portal group: ``10.0.2.15:3260,1``.
_TPGT_RE = re.compile(r",[0-9]+\Z")


class Operation(NamedTuple):
    """One root operation as it ran."""

    #: The executor method: ``iscsiadm``, ``write_node_settings``, ...
    name: str
    #: Its arguments (an iscsiadm argv as one list; settings masked).
    args: tuple[object, ...]
    started: float
    ended: float
    #: A command's exit code; None for other operations, or a command
    #: that raised (a timeout).
    exit_code: int | None = None


class NodeSettings(NamedTuple):
    """One ``write_node_settings``: the record and what went into it."""

    target: str
    portal: str
    iface: str
    #: Secret values masked (:data:`MASK`).
    settings: dict[str, str]


def masked(settings: Mapping[str, str]) -> dict[str, str]:
    """``settings`` with each CHAP secret's value masked."""
    return {key: MASK if validate.SECRET_KEY_RE.search(key) else value
            for key, value in settings.items()}


def bare_portal(portal: str) -> str:
    """``portal`` without its target portal group: a record may be named
    with or without it, and the tests assert which record, not which of
    the two names the driver found for it."""
    return _TPGT_RE.sub("", portal)


def bare_portals(argv: Sequence[str]) -> list[str]:
    """``argv`` with the portal after ``-p`` bare (:func:`bare_portal`)."""
    return [bare_portal(arg) if index and argv[index - 1] == "-p" else arg
            for index, arg in enumerate(argv)]


class RootRecorder(client.Executor):
    """A privileged executor that runs each operation through ``inner``
    and records it; see the module docstring."""

    def __init__(self, inner: client.Executor,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(inner.in_process)
        self.inner = inner
        self.operations: list[Operation] = []
        self._clock = clock
        # Multipath attaches run their paths in threads.
        self._lock = threading.Lock()

    def call(self, operation: Callable[_P, _T], *args: _P.args,
             **kwargs: _P.kwargs) -> _T:
        """Run ``operation`` through ``inner``, then record it."""
        name = operation.__name__
        started = self._clock()
        exit_code = None
        try:
            result = self.inner.call(operation, *args, **kwargs)
            if name in _COMMANDS:
                exit_code = int(cast(Sequence[int], result)[0])
            return result
        finally:
            with self._lock:
                self.operations.append(Operation(
                    name, _shown(name, args), started, self._clock(),
                    exit_code))

    def clear(self) -> None:
        """Forget what ran so far (a test's next step starts afresh)."""
        with self._lock:
            self.operations.clear()

    # -- what ran ----------------------------------------------------------

    def names(self) -> list[str]:
        """Each operation's name, in the order they ended."""
        return [operation.name for operation in self.operations]

    def named(self, name: str) -> list[Operation]:
        return [operation for operation in self.operations
                if operation.name == name]

    def iscsiadm_args(self) -> list[list[str]]:
        """The argv of each iscsiadm process (after ``iscsiadm``)."""
        return [list(_argv(operation)) for operation in self.named("iscsiadm")]

    @property
    def exit_codes(self) -> list[int | None]:
        """Each iscsiadm process's exit code."""
        return [operation.exit_code for operation in self.named("iscsiadm")]

    def node_settings(self) -> list[NodeSettings]:
        """Each ``write_node_settings``, in order."""
        written = []
        for operation in self.named("write_node_settings"):
            target, portal, iface, settings = operation.args
            assert isinstance(settings, dict)
            written.append(NodeSettings(str(target), str(portal),
                                        str(iface), dict(settings)))
        return written

    def ifaces(self) -> list[str]:
        """Each iface a node or discovery operation named (iscsiadm's
        ``-I`` outside iface mode, and node records written)."""
        named = []
        for operation in self.operations:
            if operation.name == "iscsiadm":
                argv = _argv(operation)
                if "-I" in argv and argv[:2] != ["-m", "iface"]:
                    named.append(argv[argv.index("-I") + 1])
            elif operation.name == "write_node_settings":
                named.append(str(operation.args[2]))
        return named

    def portal_spans(self) -> list[tuple[str, bool, float, float]]:
        """(portal, whether a login, start, end) of each operation on a
        portal (an iscsiadm process with ``-p``, a node record's layout
        read or settings written); the portal without its portal group."""
        spans = []
        for operation in self.operations:
            login = False
            if operation.name == "iscsiadm":
                argv = _argv(operation)
                if "-p" not in argv:
                    continue
                portal, login = argv[argv.index("-p") + 1], "--login" in argv
            elif operation.name in ("read_node_layout",
                                    "write_node_settings"):
                portal = str(operation.args[1])
            else:
                continue
            spans.append((bare_portal(portal), login, operation.started,
                          operation.ended))
        return spans

    @property
    def logins(self) -> list[tuple[str, float, float]]:
        """(portal, start, end) of each ``--login``."""
        return [(portal, start, end)
                for portal, login, start, end in self.portal_spans() if login]

    def overlapped(self) -> bool:
        """Whether every portal's commands began before any portal's
        ended: in series, one path's commands all end before the next
        path's begin."""
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        for portal, _login, start, end in self.portal_spans():
            first[portal] = min(first.get(portal, start), start)
            last[portal] = max(last.get(portal, end), end)
        return bool(first) and max(first.values()) < min(last.values())


def _argv(operation: Operation) -> list[str]:
    (argv,) = operation.args
    assert isinstance(argv, list)
    return [str(arg) for arg in argv]


def _shown(name: str, args: tuple[object, ...]) -> tuple[object, ...]:
    """What is recorded of an operation's arguments: a command's argv as
    one list, settings with their secrets masked, else all of them."""
    if name in _COMMANDS:
        return (list(cast(Sequence[str], args[0])),)
    if name in _SETTINGS:
        *named, settings = args
        return (*named, masked(cast(Mapping[str, str], settings)))
    return args
