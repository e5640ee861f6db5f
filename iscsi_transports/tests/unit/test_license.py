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

"""Every source file carries the Apache-2.0 header (OpenStack convention,
hacking's H102): the licence travels with each file copied out of the
tree, not only with the LICENSE file beside it."""

from __future__ import annotations

import os

from iscsi_transports.tests import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
HEADER = ('# Licensed under the Apache License, Version 2.0 (the "License"); '
          'you may\n')
#: Where the project's own sources live (generated and installed trees
#: such as .venv, .tox and build output are not walked).
SOURCE_DIRS = ("iscsi_transports", "tools", "benchmarks", "examples",
               "doc", "releasenotes", ".ci")
SKIP_DIRS = {"__pycache__", "build", ".tox", ".venv", "node_modules"}


def sources() -> list[str]:
    found = [os.path.join(TOP, "setup.py")]
    for top in SOURCE_DIRS:
        for root, dirs, names in os.walk(os.path.join(TOP, top)):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and
                       not d.endswith(".egg-info")]
            found.extend(os.path.join(root, name) for name in names
                         if name.endswith((".py", ".sh")) or name == "run")
    return found


class TestLicenceHeaders(base.TestCase):
    def test_every_non_empty_source_file_has_the_header(self) -> None:
        missing = []
        for path in sources():
            with open(path, encoding="utf-8") as handle:
                text = handle.read(4096)
            # hacking's H104: a file of nothing but comments is an error,
            # so an empty __init__.py stays empty.
            if text.strip() and HEADER not in text:
                missing.append(os.path.relpath(path, TOP))
        self.assertEqual([], missing)

    def test_the_walk_finds_the_sources(self) -> None:
        names = {os.path.relpath(path, TOP) for path in sources()}
        self.assertIn(os.path.join("iscsi_transports", "portal.py"), names)
        self.assertIn(os.path.join("tools", "run-tests.sh"), names)
