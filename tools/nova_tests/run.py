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

"""Run nova's libvirt iSCSI/iSER volume-driver tests with this library.

Runs inside the virtualenv ``tools/nova-tests.sh`` builds (nova from PyPI,
unchanged, and this project installed), under ``iscsi-transports run``, as
a deployment runs nova-compute: os-brick's factory hands nova's own
``LibvirtISCSIVolumeDriver`` and ``LibvirtISERVolumeDriver`` the library's
connector.  nova's test modules run unchanged; ``test_in_nova.py`` checks
that nova and os-brick are exactly their releases, that nova's drivers got
the library's connector, and nova's ``LibvirtDriver`` volume path and
``get_volume_connector`` through it.

The results go to a subunit v2 stream (``--output``) and a one-line
summary on stdout; the exit status says whether everything passed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import unittest

NOVA_TESTS = ("nova.tests.unit.virt.libvirt.volume.test_iscsi",
              "nova.tests.unit.virt.libvirt.volume.test_iser",
              "nova.tests.unit.virt.libvirt.volume.test_volume")
OUR_TESTS = ("test_in_nova",)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True,
                        help="where to write the subunit v2 stream")
    args = parser.parse_args()
    # nova's test package monkey-patches (eventlet) on import: first, as
    # under nova's own runner.
    importlib.import_module("nova.tests.unit")
    import subunit
    import testtools
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    # Not under iscsi-transports run: nova's tests would test os-brick.
    from iscsi_transports import adopt
    adopt.verify()
    suite = unittest.TestLoader().loadTestsFromNames(
        [*NOVA_TESTS, *OUR_TESTS])
    summary = testtools.StreamSummary()
    with open(args.output, "wb") as stream:
        result = testtools.ExtendedToStreamDecorator(
            testtools.CopyStreamResult(
                [subunit.StreamResultToBytes(stream), summary]))
        result.startTestRun()
        try:
            suite.run(result)
        finally:
            result.stopTestRun()
    print("nova volume-driver tests: %d run, %d failed, %d skipped (%s)" % (
        summary.testsRun, len(summary.errors) + len(summary.failures),
        len(summary.skipped), args.output))
    for test, details in summary.errors + summary.failures:
        print("FAILED %s\n%s" % (test.id(), details))
    return 0 if summary.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
