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

"""Registers the fake plugins as a real installed distribution.

A ``*.dist-info`` directory with ``entry_points.txt`` on ``sys.path`` is
exactly what pip leaves behind, so stevedore and importlib.metadata find
these plugins the way they find a vendor's package.
"""

from __future__ import annotations

import os
import sys

import fixtures

from iscsi_transports.selection import sources

DIST_NAME = "fake-vendor-plugins"
ENTRY_POINTS = """\
[iscsi_transports.transports]
fakevendor = iscsi_transports.tests.unit.fake_plugins.good:FakeVendorTransport
importerror = iscsi_transports.tests.unit.fake_plugins.import_error:Missing
notatransport = iscsi_transports.tests.unit.fake_plugins.broken:NotATransport
tcp = iscsi_transports.tests.unit.fake_plugins.broken:ShadowTcpTransport
explodinginit = iscsi_transports.tests.unit.fake_plugins.broken:ExplodingInitTransport
explodingdetect = iscsi_transports.tests.unit.fake_plugins.broken:ExplodingDetectTransport
mismatch = iscsi_transports.tests.unit.fake_plugins.good:FakeVendorTransport
"""
TOP_LEVEL = "iscsi_transports_fake_vendor\n"


class FakePluginDistribution(fixtures.Fixture):
    """Installs the fake plugin distribution on ``sys.path`` for one test."""

    def _setUp(self) -> None:
        site = self.useFixture(fixtures.TempDir()).path
        info = os.path.join(site, "fake_vendor_plugins-1.0.dist-info")
        os.makedirs(info)
        files = {"METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n"
                             % DIST_NAME,
                 "entry_points.txt": ENTRY_POINTS}
        for name, text in files.items():
            with open(os.path.join(info, name), "w", encoding="utf-8") as out:
                out.write(text)
        self.useFixture(fixtures.MonkeyPatch("sys.path", [site] + sys.path))
        sources.distributions_by_entry_point.cache_clear()
        self.addCleanup(sources.distributions_by_entry_point.cache_clear)
