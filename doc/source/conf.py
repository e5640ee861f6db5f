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

# Sphinx configuration of the iscsi-transports documentation.
#
# Build: sphinx-build -W -b html doc/source doc/build/html (tox -e docs).
# The transport catalogue comes from the entry points (stevedore's
# list-plugins) and the configuration reference from the options
# (oslo.config's show-options), so neither can drift from the code.

from __future__ import annotations

import configparser
import os
import sys
from typing import Generic, TypeVar

from stevedore import extension
from stevedore import sphinxext

sys.path.insert(0, os.path.abspath(os.path.join("..", "..")))

project = "iscsi-transports"
copyright = "2026, iscsi-transports developers"
author = "iscsi-transports developers"

extensions = [
    "sphinx.ext.autodoc",
    "stevedore.sphinxext",
    "oslo_config.sphinxext",
    "openstackdocstheme",
]

# openstackdocstheme
# No repository name and no bug project: the project has no public
# repository or bug tracker, and the theme would link every page to
# opendev.org and Launchpad pages that do not exist.
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
html_theme = "openstackdocs"


def _declared_version() -> str:
    """setup.cfg's ``[metadata] version``, the version every build reports.

    The theme would ask pbr, which derives it from git (``0.1.0.devN`` on a
    commit without a tag); setup.py gives pbr this one instead.
    """
    parser = configparser.ConfigParser()
    parser.read(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "setup.cfg"))
    return parser["metadata"]["version"]


openstackdocs_auto_version = False
version = release = _declared_version()

master_doc = "index"
exclude_patterns = ["_build"]
pygments_style = "native"
add_module_names = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}


_T = TypeVar("_T")


class _ShippedTransports(extension.ExtensionManager, Generic[_T]):
    """Only the transports this distribution ships.

    Generic of its own: stevedore's sphinxext subscripts the manager class
    since 5.6.0, when its managers became generic, and requirements.txt
    admits 5.0.0, whose manager cannot be subscripted as a base.

    ``list-plugins`` lists every entry point installed in the build
    environment; the catalogue documents what ships in this release, not
    the example vendor plugin the tests install or a vendor package that
    happens to be present on the builder.
    """

    def list_entry_points(self):
        return [entry_point for entry_point in super().list_entry_points()
                if entry_point.value.startswith("iscsi_transports.plugins.")]


class _CatalogueExtensionModule:
    ExtensionManager = _ShippedTransports


sphinxext.extension = _CatalogueExtensionModule
