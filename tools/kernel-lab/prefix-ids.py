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

"""Prefix every test id of a subunit v2 stream (stdin to stdout).

Usage: python3 tools/kernel-lab/prefix-ids.py PREFIX < IN > OUT

The kernel tests run on more than one userland (run-tests.sh): with the
userland's name in front of each id (``trixie.iscsi_transports.tests...``)
the combined counts and failure listings of tools/run-tests.sh say which
one a result came from.
"""

from __future__ import annotations

import sys

import subunit
import testtools


class Prefixed(testtools.StreamResult):
    """Forwards every event to ``target`` with ``prefix`` on its test id."""

    def __init__(self, target: testtools.StreamResult, prefix: str) -> None:
        super().__init__()
        self.target = target
        self.prefix = prefix

    def status(self, test_id: str | None = None, **kwargs: object) -> None:
        if test_id is not None:
            test_id = self.prefix + test_id
        self.target.status(test_id=test_id, **kwargs)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1]:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    output = subunit.StreamResultToBytes(sys.stdout.buffer)
    subunit.ByteStreamToStreamResult(sys.stdin.buffer).run(
        Prefixed(output, argv[1] + "."))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
