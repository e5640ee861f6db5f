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

"""What a CHAP user name or secret may be: open-iscsi's record limits."""

from __future__ import annotations

from iscsi_transports import chap
from iscsi_transports.tests import base


class TestProblem(base.TestCase):

    def test_kept(self) -> None:
        for value in ("x", "x" * 255, "\u00e9" * 127 + "x", "\u20ac" * 85,
                      "\U0001f511" * 63 + "abc", "pass word", "a=b # c"):
            self.assertIsNone(chap.problem(value), value)

    def test_refused(self) -> None:
        for value, why in (
                ("x" * 256, "256 bytes"), ("\u00e9" * 128, "256 bytes"),
                ("\u20ac" * 340, "1020 bytes"), ("", "non-empty"),
                (None, "non-empty"), (5, "non-empty"),
                ("a\nb", "line break"), ("a\x00b", "control"),
                ("a\rb", "control"), ("a\u2028b", "control"),
                ("a\x85b", "control"), (" a", "white space"),
                ("a\t", "control"), ("a\u3000", "white space"),
                ("\ud800", "UTF-8")):
            problem = chap.problem(value)
            self.assertIsNotNone(problem, repr(value))
            self.assertIn(why, problem or "")
