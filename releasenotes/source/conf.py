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

# Sphinx configuration of the iscsi-transports release notes (reno).
#
# Build: sphinx-build -W -b html releasenotes/source releasenotes/build/html
# (tox -e releasenotes).  reno reads the notes from git history: commit a
# note for it to appear.

from __future__ import annotations

import configparser
import os
import re

from docutils import nodes
from sphinx import application

project = "iscsi-transports Release Notes"
copyright = "2026, iscsi-transports developers"
author = "iscsi-transports developers"

extensions = [
    "reno.sphinxext",
    "openstackdocstheme",
]

# No repository name and no bug project: the project has no public
# repository or bug tracker, and the theme would link every page to
# opendev.org and Launchpad pages that do not exist.
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
html_theme = "openstackdocs"

master_doc = "index"
exclude_patterns = ["_build"]
pygments_style = "native"
version = ""
release = ""
locale_dirs = ["locale/"]

# reno titles a version by its git tag.  Notes that no release tag covers
# yet are titled "0.0.0" while the history has no tag at all, or
# "<last tag>-<commits since>" after one; reno's unreleased-version-title
# replaces only the second.  Both are the release being prepared, whose
# version setup.cfg declares (and every build reports): title them so.
_UNTAGGED = re.compile(r"0\.0\.0|\d+(\.\d+)*-\d+")


def _declared_version() -> str:
    parser = configparser.ConfigParser()
    parser.read(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "setup.cfg"))
    return parser["metadata"]["version"]


def _title_untagged_notes(app: application.Sphinx,
                          doctree: nodes.document) -> None:
    for title in doctree.findall(nodes.title):
        if (isinstance(title.parent, nodes.section)
                and any(i.startswith("relnotes-") for i in title.parent["ids"])
                and _UNTAGGED.fullmatch(title.astext())):
            title.children = [nodes.Text(_declared_version())]


def setup(app: application.Sphinx) -> None:
    # Before the table of contents is collected (priority 500).
    app.connect("doctree-read", _title_untagged_notes, priority=400)
