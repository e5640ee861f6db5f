# Sphinx configuration of the iscsi-transports release notes (reno).
#
# Build: sphinx-build -W -b html releasenotes/source releasenotes/build/html
# (tox -e releasenotes).  reno reads the notes from git history: commit a
# note for it to appear.

from __future__ import annotations

project = "iscsi-transports Release Notes"
copyright = "2026, iscsi-transports developers"
author = "iscsi-transports developers"

extensions = [
    "reno.sphinxext",
    "openstackdocstheme",
]

openstackdocs_repo_name = "openstack/iscsi-transports"
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = "iscsi-transports"
openstackdocs_bug_tag = "releasenotes"
html_theme = "openstackdocs"

master_doc = "index"
exclude_patterns = ["_build"]
pygments_style = "native"
version = ""
release = ""
locale_dirs = ["locale/"]
