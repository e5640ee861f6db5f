# Sphinx configuration of the iscsi-transports documentation.
#
# Build: sphinx-build -W -b html doc/source doc/build/html (tox -e docs).
# The transport catalogue comes from the entry points (stevedore's
# list-plugins) and the configuration reference from the options
# (oslo.config's show-options), so neither can drift from the code.

from __future__ import annotations

import os
import sys
from typing import TypeVar

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
openstackdocs_repo_name = "openstack/iscsi-transports"
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = "iscsi-transports"
openstackdocs_bug_tag = "doc"
html_theme = "openstackdocs"

master_doc = "index"
exclude_patterns = ["_build"]
pygments_style = "native"
add_module_names = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}


_T = TypeVar("_T")


class _ShippedTransports(extension.ExtensionManager[_T]):
    """Only the transports this distribution ships.

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
