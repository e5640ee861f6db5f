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

"""What a terminal is told while a step waits."""

from __future__ import annotations

import io
import threading

from iscsi_transports.cmd import output
from iscsi_transports.tests import base


class Terminal(io.StringIO):
    """A stream that says it is a terminal and tells when it was written."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)


class TestWaiting(base.TestCase):

    def test_terminal_is_told_what_and_how_long_then_cleaned(self) -> None:
        terminal = Terminal()
        with output.waiting("waiting for 10.0.0.1:3260 to answer", 120,
                            terminal, after=0):
            self.assertTrue(terminal.written.wait(10))
        text = terminal.getvalue()
        self.assertIn("\rwaiting for 10.0.0.1:3260 to answer: 0 s so far, "
                      "at most 120 s", text)
        self.assertTrue(text.endswith("\r\x1b[K"), repr(text))

    def test_quick_step_says_nothing(self) -> None:
        terminal = Terminal()
        with output.waiting("waiting", 120, terminal, after=60):
            pass
        self.assertEqual("", terminal.getvalue())

    def test_not_a_terminal_says_nothing(self) -> None:
        stream = io.StringIO()
        with output.waiting("waiting", 120, stream, after=0):
            pass
        self.assertEqual("", stream.getvalue())
