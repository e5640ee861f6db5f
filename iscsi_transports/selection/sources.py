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

"""Where each transport plugin comes from: in-tree or which distribution.

``iscsi-transports list`` shows, for every plugin, the distribution and
entry point it was loaded from, so an operator can tell an in-tree plugin
from a vendor's.  stevedore's entry-point cache drops the distribution,
and asking :mod:`importlib.metadata` indexes every installed distribution
and imports the email parser, which together cost more than the rest of a
``list`` (see ``benchmarks/bench_cold_start.py``).  So the metadata
directories on ``sys.path`` are read by hand, once per process, and only
those whose ``entry_points.txt`` names the plugin group are parsed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import pathlib
import sys
import typing

from iscsi_transports import base

#: The entry-point group of transport plugins.
NAMESPACE = base.ENTRY_POINT_GROUP
#: Every transport this distribution ships, in the order they are listed.
IN_TREE = ("tcp", "iser", "bnx2i", "be2iscsi", "cxgb3i", "cxgb4i", "ocs",
           "qedi", "qla4xxx")


def is_in_tree(ext: typing.Any) -> bool:
    """Whether a loaded extension is one this distribution ships."""
    return (ext.name in IN_TREE and
            ext.entry_point.value.startswith("iscsi_transports.plugins."))


def order(name: str) -> tuple[int, str]:
    """Sort key: in-tree plugins in catalogue order, then the others."""
    return (IN_TREE.index(name) if name in IN_TREE else len(IN_TREE), name)


@functools.lru_cache(maxsize=1)
def distributions_by_entry_point() -> dict[tuple[str, str], str]:
    """(entry-point name, value) -> the distribution that declares it.

    Cached for the process: call ``cache_clear()`` after installing a
    distribution on ``sys.path`` at run time (the tests do).
    """
    owners: dict[tuple[str, str], str] = {}
    for info_dir in _metadata_dirs():
        if NAMESPACE not in _read(info_dir, "entry_points.txt"):
            continue
        name = _metadata_name(info_dir)
        dist = importlib.metadata.PathDistribution(pathlib.Path(info_dir))
        for entry_point in dist.entry_points.select(group=NAMESPACE):
            owners.setdefault((entry_point.name, entry_point.value), name)
    return owners


def _metadata_dirs() -> list[str]:
    dirs = []
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        dirs += [os.path.join(entry or ".", name) for name in names
                 if name.endswith((".dist-info", ".egg-info"))]
    return dirs


def _read(directory: str, name: str) -> str:
    try:
        with open(os.path.join(directory, name), encoding="utf-8",
                  errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _metadata_name(info_dir: str) -> str:
    """The ``Name:`` header of a distribution's metadata."""
    text = _read(info_dir, "METADATA") or _read(info_dir, "PKG-INFO")
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == "name" and value.strip():
            return value.strip()
    return "unknown distribution"


def describe(ext_or_ep: typing.Any) -> str:
    """``distribution (name = module:attr)`` for an extension or entry point."""
    entry_point = getattr(ext_or_ep, "entry_point", ext_or_ep)
    dist = distributions_by_entry_point().get(
        (entry_point.name, entry_point.value), "unknown distribution")
    return "%s (%s = %s)" % (dist, entry_point.name, entry_point.value)
