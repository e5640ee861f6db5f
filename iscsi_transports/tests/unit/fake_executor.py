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

"""A recording stand-in for the root daemon in unit tests of its callers.

:class:`RecordingExecutor` is a :class:`iscsi_transports.privileged.client.
Executor` whose one :meth:`~RecordingExecutor.call` records the operation
and answers as scripted instead of running it, so every operation keeps the
signature the real executor declares; :class:`ScriptedExecutor` answers
iscsiadm by rules on its argv.  The real operations (daemon and in
process) are tested in ``tests/unit/privileged`` and against the lab in
``tests/functional/test_privileged.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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


@dataclasses.dataclass
class Rule:
    words: tuple[str, ...]
    stdout: str = ""
    exit_code: int = 0
    stderr: str = ""
    times: int | None = None  # None: answer forever


class ScriptedExecutor(RecordingExecutor):
    """iscsiadm answered by rules; every operation recorded.

    Rules are matched in order against the iscsiadm argv (``iscsiadm``
    first); the first rule whose words all appear in it answers (output or
    an exit code); no match is exit 0 with no output.  :attr:`argvs` keeps
    each iscsiadm argv, so tests can count processes and inspect them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rules: list[Rule] = []
        self.argvs: list[list[str]] = []
        #: Called with each argv before it is answered (tests that check
        #: what the host looked like when a command ran).
        self.observers: list[Callable[[list[str]], None]] = []

    def on(self, *words: str, stdout: str = "", exit_code: int = 0,
           stderr: str = "", times: int | None = None) -> ScriptedExecutor:
        self.rules.append(Rule(words, stdout, exit_code, stderr, times))
        return self

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> client.CommandResult:
        super().iscsiadm(args, timeout)
        argv = ["iscsiadm", *args]
        self.argvs.append(argv)
        for observer in self.observers:
            observer(list(argv))
        rule = self._match(argv)
        return client.CommandResult(rule.exit_code, rule.stdout, rule.stderr)

    def _match(self, argv: list[str]) -> Rule:
        for rule in self.rules:
            if rule.times == 0:
                continue
            if all(word in argv for word in rule.words):
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return Rule(())

    def commands(self, *words: str) -> list[list[str]]:
        """Recorded iscsiadm argvs containing every word."""
        return [argv for argv in self.argvs
                if all(word in argv for word in words)]

    def written(self, name: str = "write_node_settings"
                ) -> list[tuple[object, ...]]:
        """The arguments of each ``name`` operation (settings written)."""
        return [call[1:] for call in self.calls if call[0] == name]
