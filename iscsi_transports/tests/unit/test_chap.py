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
