"""A scripted stand-in for ``processutils.execute`` in unit tests.

Rules are matched in order against the argv; the first rule whose words all
appear in the command answers it (output or an exit code).  Every call is
recorded so tests can count processes and inspect argv.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from oslo_concurrency import processutils


@dataclasses.dataclass
class Rule:
    words: tuple[str, ...]
    stdout: str = ""
    exit_code: int = 0
    stderr: str = ""
    times: int | None = None  # None: answer forever


class FakeExecute:
    """Call it like processutils.execute; script it with :meth:`on`."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.calls: list[list[str]] = []
        self.kwargs: list[dict[str, Any]] = []
        #: Called with each argv before it is answered (tests that check
        #: what the host looked like when a command ran).
        self.observers: list[Callable[[list[str]], None]] = []

    def on(self, *words: str, stdout: str = "", exit_code: int = 0,
           stderr: str = "", times: int | None = None) -> FakeExecute:
        self.rules.append(Rule(words, stdout, exit_code, stderr, times))
        return self

    def __call__(self, *cmd: str, **kwargs: Any) -> tuple[str, str]:
        self.calls.append(list(cmd))
        self.kwargs.append(kwargs)
        for observer in self.observers:
            observer(list(cmd))
        rule = self._match(list(cmd))
        ok = kwargs.get("check_exit_code", [0])
        if rule.exit_code not in ok:
            raise processutils.ProcessExecutionError(
                stdout=rule.stdout, stderr=rule.stderr,
                exit_code=rule.exit_code, cmd=" ".join(cmd))
        return rule.stdout, rule.stderr

    def _match(self, cmd: list[str]) -> Rule:
        for rule in self.rules:
            if rule.times == 0:
                continue
            if all(word in cmd for word in rule.words):
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return Rule(())

    def commands(self, *words: str) -> list[list[str]]:
        """Recorded commands containing every word."""
        return [cmd for cmd in self.calls if all(w in cmd for w in words)]
