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

"""A process the kernel tests talk to one JSON line at a time.

nova-compute (:class:`~iscsi_transports.tests.kernel.base.NovaCompute`)
and the service user (:class:`~iscsi_transports.tests.kernel.service_user.
ServiceUser`) each run in a process of their own: a request is one JSON
object on its stdin, the answer one JSON object on its stdout, and its
stderr goes to a log file.  Standard library only: the service user's
process imports this before its configuration is read.
"""

from __future__ import annotations

import json
import select
import subprocess
import time
from collections.abc import Sequence
from typing import Any


class JsonLinesChild:
    """Starts ``argv`` and exchanges JSON lines with it; failures (no
    answer in ``timeout`` seconds, the process gone) are AssertionErrors
    that end with the tail of its log."""

    #: Who answers, in failure messages.
    who = "the child process"

    def __init__(self, argv: Sequence[str], log_path: str, timeout: float,
                 **popen: Any) -> None:
        self.timeout = timeout
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, text=True, **popen)

    def log(self) -> str:
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def _log_tail(self, lines: int = 40) -> str:
        return "".join(self.log().splitlines(keepends=True)[-lines:])

    def _reply(self) -> dict[str, Any]:
        """The next answer."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("%s did not answer in %ss (log: %s)"
                                     % (self.who, self.timeout,
                                        self.log_path))
            ready, _, _ = select.select([self.process.stdout], [], [],
                                        remaining)
            if ready:
                break
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError("%s exited %s; the end of its log (%s):\n%s"
                                 % (self.who, self.process.wait(),
                                    self.log_path, self._log_tail()))
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _send(self, op: str, **kwargs: Any) -> dict[str, Any]:
        """Ask ``op`` with ``kwargs``; the answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(dict(kwargs, op=op)) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
