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

"""Misspelt names in the configuration files the console script reads.

oslo.config ignores options and groups nobody registered, so a typo such
as ``transprot = cxgb4i`` or ``[iscsi_transport]`` silently leaves the
default in force.  This checks each file as oslo.config's own validator
(``oslo-config-validator``) does: the file is read with
:class:`oslo_config.cfg.ConfigParser` and its names are compared with the
options published under the ``oslo.config.opts`` entry point.  Unlike the
validator it looks only at this library's group, because the file is
usually nova.conf, whose other groups belong to nova.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from importlib import metadata

from oslo_config import cfg

from iscsi_transports import config

__all__ = ["file_problems"]

#: The ``oslo.config.opts`` entry point that lists every option.
OPTS_ENTRY_POINT = "iscsi_transports"


def known_options() -> set[str]:
    """Every option name of the group, with dashes and deprecated names.

    Read through the entry point (what oslo-config-generator and the
    validator use) so that it is the published list, and only when a file
    has the group: the option owners it imports cost start-up time.
    """
    points = metadata.entry_points(group="oslo.config.opts",
                                   name=OPTS_ENTRY_POINT)
    names: set[str] = set()
    for point in points:
        for group, options in point.load()():
            if group == config.GROUP:
                names.update(_names(options))
    return names


def _names(options: Iterable[cfg.Opt]) -> set[str]:
    names = set()
    for opt in options:
        names.update({opt.name, opt.dest, opt.name.replace("-", "_")})
        names.update(old.name for old in opt.deprecated_opts if old.name)
    return names


def file_problems(files: Sequence[str]) -> list[str]:
    """One sentence per misspelt group or option name in ``files``."""
    problems = []
    known: set[str] | None = None
    for path in files:
        sections: dict[str, dict[str, list[str]]] = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except (OSError, cfg.ParseError):
            continue  # oslo.config itself reports an unreadable file
        problems += _group_problems(path, sections)
        if config.GROUP in sections:
            known = known_options() if known is None else known
            problems += _option_problems(path, sections[config.GROUP], known)
    return problems


def _group_problems(path: str, sections: dict[str, dict[str, list[str]]]
                    ) -> list[str]:
    return ["%s: [%s] is not a group of iscsi-transports (did you mean "
            "[%s]?); its options are ignored" % (path, name, config.GROUP)
            for name in sections if name != config.GROUP and
            difflib.get_close_matches(name, [config.GROUP], cutoff=0.8)]


def _option_problems(path: str, section: dict[str, list[str]],
                     known: set[str]) -> list[str]:
    problems = []
    for name in section:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        problems.append("%s: [%s] %s is not an option%s; it is ignored" % (
            path, config.GROUP, name,
            " (did you mean %s?)" % close[0] if close else ""))
    return problems
