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

"""Kernel tests: the library against a real Linux iSCSI stack.

They run only inside the kernel lab's VM (``tools/kernel-lab/run-tests.sh``
boots it and runs them there in one boot); the host's kernel has no iSCSI.
On the host, discovery of this package yields no tests, so ``stestr run``
of the unit and functional tests does not run them against the wrong
kernel: their results reach ``tools/run-tests.sh`` through the VM's
subunit stream instead, which fails loudly when the VM does not boot.
"""

from __future__ import annotations

import os
import unittest

#: Set by the lab's guest (tools/kernel-lab/guest.sh) to its work dir.
LAB_ENV = "ISCSI_TRANSPORTS_KERNEL_LAB"


def in_lab() -> bool:
    """Whether this process runs inside the kernel lab's VM."""
    return bool(os.environ.get(LAB_ENV)) and os.path.isdir(
        os.environ[LAB_ENV])


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite,
               pattern: str | None) -> unittest.TestSuite:
    if not in_lab():
        return unittest.TestSuite()
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    tests.addTests(loader.discover(here, pattern or "test*.py", top))
    return tests
