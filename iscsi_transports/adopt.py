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

"""This library as os-brick's iSCSI and iSER connector, in a running program.

nova, cinder (volume, backup) and glance_store get their connectors from
os-brick's ``InitiatorConnector.factory`` and report the host's initiator
with os-brick's module-level ``get_connector_properties``; both look the
connector class up by its dotted path in ``os_brick.initiator.connector``:
the factory in the per-architecture protocol mappings that
``get_connector_mapping`` returns, ``get_connector_properties`` in the list
``_get_connector_list`` returns.  :func:`adopt` replaces os-brick's
``ISCSIConnector`` path by :class:`iscsi_transports.brick.ISCSIConnector`'s
in both, for the ``ISCSI`` and ``ISER`` protocols, so every caller's own,
unmodified code gets the library's connector, and cinder is told the
initiator name of the iface the library will log in with.  No file of
os-brick or of its callers changes.

:func:`install` does it for the running process: at once when os-brick's
module is loaded, else from an import hook the moment it is (importing
os-brick early would come before a service's eventlet monkey-patching).
``iscsi-transports run`` calls it from the ``sitecustomize`` in
:data:`BOOTSTRAP_DIR` (:mod:`iscsi_transports.bootstrap`).

Before changing anything the module's structure is checked; where it is
not what this module replaces, :class:`~iscsi_transports.exception.
BrickNotAdoptable` says so in one line naming os-brick's version, and the
stock connector is never used silently.  This module imports neither
os-brick nor :mod:`iscsi_transports.brick`: os-brick imports the connector
class itself, by the path written here, when a caller first asks for it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

from iscsi_transports import exception

#: The module whose lookups are changed.
CONNECTOR_MODULE = "os_brick.initiator.connector"
#: os-brick's own iSCSI/iSER connector, as its tables name it.
BRICK_ISCSI = "os_brick.initiator.connectors.iscsi.ISCSIConnector"
#: The library's connector, named the same way.
OURS = "iscsi_transports.brick.ISCSIConnector"
#: Protocols served by the library (os-brick's ``initiator.ISCSI`` and
#: ``initiator.ISER``); the factory upper-cases what callers pass.
PROTOCOLS = ("ISCSI", "ISER")
#: Architectures whose mapping os-brick keeps apart (x86 and the rest
#: share one; s390x and ppc64 have their own, ppc64's with ISER).
ARCHES = ("x86_64", "s390x", "ppc64le")
#: Set by ``iscsi-transports run`` in the command's environment: the
#: bootstrap directory, which its ``sitecustomize`` installs the hook from.
ACTIVE_ENV = "ISCSI_TRANSPORTS_RUN"
#: The directory ``iscsi-transports run`` puts first on ``PYTHONPATH``.
BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "bootstrap")
#: Set on os-brick's module once adopted (and checked by ``run``).
MARKER = "_iscsi_transports_adopted"


def brick_version() -> str:
    """The installed os-brick's version, for messages."""
    try:
        return importlib.metadata.version("os-brick")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _calls(function: object, name: str) -> bool:
    """Whether ``function`` (or the function it wraps) looks ``name`` up
    as a global: how os-brick's factory and properties reach the tables
    changed here."""
    code = getattr(getattr(function, "__wrapped__", function), "__code__",
                   None)
    return code is not None and name in code.co_names


def _check_mapping(mapping: object, arch: str) -> str | None:
    if not isinstance(mapping, dict):
        return "get_connector_mapping(%r) is not a dict" % arch
    for protocol in PROTOCOLS:
        value = mapping.get(protocol)
        if value is None and not (protocol == "ISER" and arch == "s390x"):
            return "get_connector_mapping(%r) has no %s entry" % (
                arch, protocol)
        if value not in (None, BRICK_ISCSI, OURS):
            return "get_connector_mapping(%r) sends %s to %r, not %s" % (
                arch, protocol, value, BRICK_ISCSI)
    return None


def problems(module: types.ModuleType) -> list[str]:
    """What in os-brick's connector module is not as :func:`adopt` needs
    it (empty: adoptable)."""
    factory = getattr(getattr(module, "InitiatorConnector", None),
                      "factory", None)
    needed: Sequence[tuple[str, Callable[[], bool]]] = (
        ("InitiatorConnector.factory does not look connectors up with "
         "get_connector_mapping",
         lambda: _calls(factory, "get_connector_mapping")),
        ("get_connector_properties does not walk _get_connector_list",
         lambda: _calls(getattr(module, "get_connector_properties", None),
                        "_get_connector_list")),
        ("it has no get_connector_mapping function",
         lambda: callable(getattr(module, "get_connector_mapping", None))),
        ("it has no _get_connector_list function",
         lambda: callable(getattr(module, "_get_connector_list", None))),
    )
    found = [problem for problem, holds in needed if not holds()]
    if found:
        return found
    for arch in ARCHES:
        problem = _check_mapping(module.get_connector_mapping(arch), arch)
        if problem:
            found.append(problem)
    connectors = module._get_connector_list()
    if not isinstance(connectors, list) or not (
            BRICK_ISCSI in connectors or OURS in connectors):
        found.append("_get_connector_list() does not hold %s" % BRICK_ISCSI)
    return found


def adopt(module: types.ModuleType) -> None:
    """Make os-brick's connector module use the library for ISCSI/ISER.

    Raises :class:`~iscsi_transports.exception.BrickNotAdoptable`, having
    changed nothing, when the module is not built as expected.
    Idempotent.
    """
    found = problems(module)
    if found:
        raise exception.BrickNotAdoptable(version=brick_version(),
                                          problem=found[0])
    for arch in ARCHES:
        mapping = module.get_connector_mapping(arch)
        for protocol in PROTOCOLS:
            if protocol in mapping:
                mapping[protocol] = OURS
    connectors = module._get_connector_list()
    connectors[:] = [OURS if name == BRICK_ISCSI else name
                     for name in connectors]
    setattr(module, MARKER, True)


def adopted(module: types.ModuleType) -> bool:
    """Whether :func:`adopt` has changed this module."""
    return bool(getattr(module, MARKER, False))


class _AdoptingLoader(importlib.abc.Loader):
    """os-brick's own loader, then :func:`adopt` on the loaded module."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec
                      ) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        adopt(module)

    def __getattr__(self, name: str) -> Any:
        # get_source, get_filename, ...: tracebacks and inspect keep
        # working on os-brick's module.
        return getattr(self.loader, name)


class Finder(importlib.abc.MetaPathFinder):
    """Adopts os-brick's connector module when it is imported."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CONNECTOR_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, Finder):
                continue
            find = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = (
                find(fullname, path, target) if find else None)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _AdoptingLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Serve os-brick's ISCSI and ISER connectors from this library in
    this process, from now on.

    For programs that embed os-brick: call it before their first attach
    (before os-brick is imported or after, both work).  Raises
    :class:`~iscsi_transports.exception.BrickNotAdoptable` when os-brick
    is already loaded and not adoptable; when it is loaded later, its
    import raises it.
    """
    module = sys.modules.get(CONNECTOR_MODULE)
    if module is not None:
        adopt(module)
        return
    if not any(isinstance(finder, Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, Finder())


def verify() -> None:
    """Import os-brick's connector module and the library's connector as a
    caller would, and raise :class:`~iscsi_transports.exception.
    BrickNotAdoptable` unless the module has been adopted (``run``'s
    preflight, in the program's interpreter)."""
    module = importlib.import_module(CONNECTOR_MODULE)
    if not adopted(module):
        raise exception.BrickNotAdoptable(
            version=brick_version(), problem="%s was loaded without the "
            "import hook" % CONNECTOR_MODULE)
    importlib.import_module(OURS.rpartition(".")[0])
