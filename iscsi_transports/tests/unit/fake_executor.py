"""A recording stand-in for the root daemon in unit tests of its callers.

:class:`RecordingExecutor` is a :class:`iscsi_transports.privileged.client.
Executor` whose one :meth:`~RecordingExecutor.call` records the operation
and answers as scripted instead of running it, so every operation keeps the
signature the real executor declares.  The real operations (daemon and in
process) are tested in ``tests/unit/privileged`` and against the lab in
``tests/functional/test_privileged.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iscsi_transports.privileged import client


class RecordingExecutor(client.Executor):
    """Records every root operation; iscsiadm answers ``self.answer``."""

    def __init__(self) -> None:
        super().__init__(in_process=True)
        self.calls: list[tuple[object, ...]] = []
        self.answer = client.CommandResult(0, "", "")
        self.raises: dict[str, Exception] = {}
        self.deleted = True
        self.initiator_file = ""
        #: What read_node_layout answers: portal groups, single file's iface.
        self.layout: tuple[list[int], str | None] = ([], None)

    def call(self, operation: Callable[..., Any], *args: Any,
             **kwargs: Any) -> Any:
        name = operation.__name__
        self.calls.append((name, *args))
        if name in self.raises:
            raise self.raises[name]
        return self.answers().get(name)

    def answers(self) -> dict[str, object]:
        """What each operation answers (None when not named here)."""
        return {"iscsiadm": self.answer, "multipath": self.answer,
                "multipathd": self.answer, "delete_disk": self.deleted,
                "flush_disk": True,
                "read_initiator_file": self.initiator_file,
                "read_node_layout": self.layout}
