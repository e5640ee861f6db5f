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

"""``doctor [--portal PORTAL]``: a checklist per transport, and the verdict.

First what software iSCSI needs at all (iscsid, iscsi_tcp, the initiator
name) and what is wrong in the configuration, then each transport.  Exits 1
when any of those fails or the configured transport (or ``source_ip``)
cannot be used, so a deployment tool can run it as a health check; the
checklist says why.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports.cmd import configcheck
from iscsi_transports.cmd import output
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.support import doctor as doctor_mod

WIDTH = 80


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "doctor", parents=[common],
        help="check each transport step by step and say what to fix")
    parser.add_argument(
        "--portal", metavar="PORTAL",
        help="also check the route to this portal (10.0.0.1:3260) and "
             "choose as an attach to it would")
    parser.add_argument(
        "--privileges", action="store_true",
        help="also check the service user's setup: the state directory, "
             "lock files, and that the privsep daemon starts (it is "
             "started once); run it as that user")
    # Configuration problems are errors here, in the report, not warnings.
    parser.set_defaults(func=run_doctor, reports_config=True)


def run_doctor(conf: cfg.ConfigOpts, args: argparse.Namespace,
               out: TextIO) -> int:
    manager = manager_mod.TransportManager(conf)
    report = doctor_mod.Doctor(
        manager, args.portal,
        config_problems=configcheck.file_problems(args.config_file),
        privileges=args.privileges).report()
    output.emit(args, report, render, out)
    return 0 if report["healthy"] else 1


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent))


def _transport_lines(item: dict[str, Any]) -> list[str]:
    lines = ["%s (%s, %s): %s" % (
        item["name"], "offload" if item["offload"] else "software",
        "enabled" if item["enabled"] else "disabled",
        "usable" if item["usable"] else "NOT USABLE")]
    for check in item["checks"]:
        lines += _check_lines(check)
    return lines


def _check_lines(check: dict[str, str]) -> list[str]:
    return _wrap(check["detail"], "  [%-4s] %-13s " % (check["status"],
                                                       check["check"]))


def _multipath_lines(section: dict[str, Any]) -> list[str]:
    lines = ["multipath:"]
    for check in section["checks"]:
        lines += _wrap(check["detail"], "  [%-4s] %-15s " % (
            check["status"], check["check"]))
    return lines + [""]


def _verdict_lines(report: dict[str, Any]) -> list[str]:
    active = report["active"]
    if active["transport"] is None:
        return _wrap(active["reason"], "driver would use: nothing: ")
    head = "driver would use: %s, iface %s%s, because " % (
        active["transport"], active["iface"],
        " (FALLBACK)" if active["fallback"] else "")
    return _wrap(head + active["reason"], "")


def render(report: dict[str, Any]) -> str:
    """The checklist as an operator reads it, at most 80 columns wide."""
    lines = []
    if report["portal"]:
        route = report["route"]
        lines += _wrap("portal %s: %s" % (report["portal"], "goes out %s" % (
            "via %s " % route["gateway"] if route["gateway"] else "") +
            "dev %s src %s" % (route["netdev"], route["source_ip"])
            if route else "no route"), "")
        lines.append("")
    lines.append("software iSCSI (every transport needs it):")
    for check in report["basics"]:
        lines += _check_lines(check)
    lines.append("")
    if report["privileges"]:
        lines.append("privileges (the service user's state and way to "
                     "root):")
        for check in report["privileges"]:
            lines += _check_lines(check)
        lines.append("")
    for problem in report["config_problems"]:
        lines += _wrap(problem, "[FAIL] config ")
    if report["config_problems"]:
        lines.append("")
    for item in report["transports"]:
        lines += _transport_lines(item) + [""]
    for record in report["unreadable_records"]:
        lines += _wrap("unreadable iface record %s: %s" % (
            record["name"], record["error"]), "[FAIL] ")
    for failure in report["load_failures"]:
        lines += _wrap("plugin %s failed to load: %s" % (
            failure["name"], failure["error"]), "[FAIL] ")
    lines += _multipath_lines(report["multipath"])
    return "\n".join(lines + _verdict_lines(report)) + "\n"
