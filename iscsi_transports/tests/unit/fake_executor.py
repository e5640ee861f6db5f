"""A recording stand-in for :class:`iscsi_transports.privileged.client.
Executor` in unit tests of its callers.

It records every root operation asked of it and answers as scripted; the
real executors (daemon and in process) are tested in
``tests/unit/privileged`` and against the lab in
``tests/functional/test_privileged.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from iscsi_transports.privileged import client


class RecordingExecutor:
    """Records every root operation; iscsiadm answers ``self.answer``."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.answer = client.CommandResult(0, "", "")
        self.raises: dict[str, Exception] = {}
        self.deleted = True
        self.initiator_file = ""
        #: What read_node_layout answers: portal groups, single file's iface.
        self.layout: tuple[list[int], str | None] = ([], None)

    def _record(self, name: str, *args: object) -> None:
        self.calls.append((name, *args))
        if name in self.raises:
            raise self.raises[name]

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> client.CommandResult:
        self._record("iscsiadm", list(args), timeout)
        return self.answer

    def multipath(self, args: Sequence[str],
                  timeout: int) -> client.CommandResult:
        self._record("multipath", list(args), timeout)
        return self.answer

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> client.CommandResult:
        self._record("multipathd", list(args), timeout)
        return self.answer

    def scan_host(self, host: int, hctl: str) -> None:
        self._record("scan_host", host, hctl)

    def rescan_disk(self, name: str) -> None:
        self._record("rescan_disk", name)

    def delete_disk(self, name: str) -> bool:
        self._record("delete_disk", name)
        return self.deleted

    def flush_disk(self, name: str) -> bool:
        self._record("flush_disk", name)
        return True

    def read_block(self, path: str) -> None:
        self._record("read_block", path)

    def read_initiator_file(self) -> str:
        self._record("read_initiator_file")
        return self.initiator_file

    def write_node_settings(self, target: str, portal: str, iface: str,
                            settings: Mapping[str, str]) -> None:
        self._record("write_node_settings", target, portal, iface,
                     dict(settings))

    def write_discovery_auth(self, portal: str,
                             settings: Mapping[str, str]) -> None:
        self._record("write_discovery_auth", portal, dict(settings))

    def read_node_layout(self, target: str,
                         portal: str) -> tuple[list[int], str | None]:
        self._record("read_node_layout", target, portal)
        return self.layout
