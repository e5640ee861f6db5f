"""Run nova's libvirt iSCSI/iSER volume-driver tests against this library.

Runs inside the virtualenv ``tools/nova-tests.sh`` builds (nova from PyPI
with ``doc/source/admin/nova-volume-drivers.patch`` applied, and this
project installed).  nova's test modules are run unchanged; the one thing
changed is the name they use for the class under test:

- ``test_iscsi.py`` and ``test_iser.py`` build nova's drivers as
  ``iscsi.LibvirtISCSIVolumeDriver(host)`` and
  ``iser.LibvirtISERVolumeDriver(host)``, where ``iscsi``/``iser`` are the
  modules they imported.  In those two test modules (only there) the name
  ``iscsi``/``iser`` is rebound to a view of nova's module whose driver
  class is this library's subclass; every other attribute (``LOG``, which
  the tests patch) is nova's own object.  nova's modules themselves are not
  touched: their ``super(LibvirtISCSIVolumeDriver, self)`` calls must keep
  meaning nova's class, which is what our subclasses inherit from.
- nova's own loader goes through ``VOLUME_DRIVERS``, which the documented
  patch points at our classes; ``test_in_nova.py`` checks that, the
  rebinding above, that the installed nova is exactly the release plus the
  patch, and nova's ``LibvirtDriver`` volume path through our classes.

The results go to a subunit v2 stream (``--output``) and a one-line
summary on stdout; the exit status says whether everything passed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import types
import unittest

NOVA_TESTS = ("nova.tests.unit.virt.libvirt.volume.test_iscsi",
              "nova.tests.unit.virt.libvirt.volume.test_iser",
              "nova.tests.unit.virt.libvirt.volume.test_volume")
OUR_TESTS = ("test_in_nova",)


class DriverModuleView(types.ModuleType):
    """nova's volume-driver module, except that one class is ours."""

    def __init__(self, module: types.ModuleType, name: str,
                 cls: type) -> None:
        super().__init__(module.__name__, module.__doc__)
        self.__dict__["_nova_module"] = module
        self.__dict__[name] = cls

    def __getattr__(self, name: str) -> object:
        return getattr(self.__dict__["_nova_module"], name)


def use_our_classes() -> None:
    """Rebind ``iscsi``/``iser`` in nova's two driver test modules."""
    from iscsi_transports import nova_libvirt
    for test_module, name in (("test_iscsi", "LibvirtISCSIVolumeDriver"),
                              ("test_iser", "LibvirtISERVolumeDriver")):
        tests = importlib.import_module(
            "nova.tests.unit.virt.libvirt.volume." + test_module)
        attr = test_module[len("test_"):]
        nova_module = getattr(tests, attr)
        setattr(tests, attr, DriverModuleView(
            nova_module, name, getattr(nova_libvirt, name)))


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
    use_our_classes()
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
