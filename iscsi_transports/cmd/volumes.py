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

"""``volumes``: every iSCSI volume on this host, its state and its users.

Read only (see :mod:`iscsi_transports.attach.inventory`).  Three formats:
a table for people, JSON for tools (its keys are a contract) and
node_exporter's textfile-collector format (``--format prometheus``) for a
timer that writes it where node_exporter reads it.  Exits 0 whatever the
volumes' states: the report says them.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterable
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports.attach import inventory
from iscsi_transports.cmd import output

PROMETHEUS = "prometheus"
PREFIX = "iscsi_transports_"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "volumes", parents=[common], conflict_handler="resolve",
        help="list every iSCSI session, disk and multipath map on this "
             "host by volume, with its state and who holds it")
    parser.add_argument(
        "--format", choices=("table", "json", PROMETHEUS), default="table",
        help="output format (default: table); prometheus: node_exporter's "
             "textfile-collector format")
    parser.add_argument(
        "--dev-root", metavar="DIR", default="/dev",
        help="where udev's device links are (the stable paths reported)")
    parser.add_argument(
        "--proc-root", metavar="DIR", default="/proc",
        help="where procfs is mounted (mounts, processes holding volumes)")
    parser.add_argument(
        "--no-processes", dest="processes", action="store_false",
        help="do not look for processes that hold volumes open (each "
             "process's open files are read otherwise)")
    parser.set_defaults(func=run_volumes)


def run_volumes(conf: cfg.ConfigOpts, args: argparse.Namespace,
                out: TextIO) -> int:
    found = inventory.read(conf, dev_root=args.dev_root,
                           proc_root=args.proc_root,
                           processes=args.processes)
    if args.format == PROMETHEUS:
        out.write(prometheus(found))
    else:
        output.emit(args, found.as_dict(), render, out)
    return 0


# -- table -------------------------------------------------------------------

_ROW = "%-9s %-8s %-6s %-4s %-5s %-4s %-7s %s"


def render(data: dict[str, Any]) -> str:
    lines = [_ROW % ("STATE", "DEVICE", "PATHS", "LUN", "USED", "OURS",
                     "TRANSP", "TARGET / PORTAL / IFACE")]
    for volume in data["volumes"]:
        lines.append(_row(volume))
        lines += ["    %s" % problem for problem in volume["problems"]]
        users = volume["users"]
        lines += ["    mounted on %s" % point for point in users["mounts"]]
        lines += ["    held by %s" % holder for holder in users["holders"]]
        lines += ["    open in %s (pid %d)" % (process["comm"] or "?",
                                               process["pid"])
                  for process in users["processes"]]
        if volume["fallback"]:
            lines.append("    fell back from %s: %s" % (
                volume["requested"], volume["reason"]))
    if not data["volumes"]:
        lines.append("no iSCSI session on this host")
    lines += ["problem: %s" % problem for problem in data["problems"]]
    return "\n".join(lines) + "\n"


def _row(volume: dict[str, Any]) -> str:
    paths = volume["paths"]
    where = " ".join(str(value) for value in (
        volume["target_iqn"], volume["portal"], volume["iface"]))
    return (_ROW % (
        volume["state"], volume["device"],
        "%d/%d" % (volume["paths_up"], len(paths)),
        "-" if volume["lun"] is None else volume["lun"],
        "yes" if volume["in_use"] else "no",
        "yes" if volume["managed"] else "no",
        volume["transport"] or "-", where)).rstrip()


# -- node_exporter's textfile format ---------------------------------------------


def prometheus(found: inventory.Inventory) -> str:
    """The exposition format (text 0.0.4): ``# HELP`` and ``# TYPE`` once
    per metric, then its samples; every state appears, with 0, so that a
    rule on a state that went away still sees a value."""
    metrics = _Metrics()
    sessions: dict[int, str] = {}
    for volume in found.volumes:
        for path in volume.paths:
            if path.sid is not None:
                sessions[path.sid] = path.session_state or "unknown"
    by_state = collections.Counter(sessions.values())
    metrics.add("sessions", "iSCSI sessions on this host, by session state "
                "(LOGGED_IN, FAILED, FREE).",
                [({"state": state}, count)
                 for state, count in sorted(by_state.items())])
    volumes = collections.Counter(volume.state for volume in found.volumes)
    metrics.add("volumes", "iSCSI volumes on this host, by state (see "
                "iscsi-transports volumes).",
                [({"state": state}, volumes[state])
                 for state in inventory.STATES])
    metrics.add("volumes_in_use", "iSCSI volumes that are mounted, held or "
                "open in a process.",
                [({}, sum(volume.in_use for volume in found.volumes))])
    metrics.add("map_paths", "Paths of each dm-multipath map of iSCSI "
                "disks, by path state (up: session logged in and disk "
                "running).", list(_map_paths(found.volumes)))
    managed = [volume for volume in found.volumes if volume.managed]
    used = collections.Counter(volume.first.transport if volume.first
                               else None for volume in managed)
    metrics.add("attachments", "Volumes this library attached, by the "
                "transport their session uses.",
                [({"transport": transport or "unknown"}, count)
                 for transport, count in sorted(
                     used.items(), key=lambda item: str(item[0]))])
    fallbacks = collections.Counter(
        (volume.requested or "unknown", (volume.first.transport if
                                         volume.first else None) or
         "unknown") for volume in managed if volume.fallback)
    metrics.add("fallbacks", "Volumes this library attached over another "
                "transport than the one asked for, by the one asked for "
                "and the one used.",
                [({"requested": requested, "transport": transport}, count)
                 for (requested, transport), count in sorted(
                     fallbacks.items())])
    metrics.add("inventory_problems", "Problems reading the inventory "
                "(unreadable records, processes not checked).",
                [({}, len(found.problems))])
    return metrics.text()


def _map_paths(volumes: Iterable[inventory.Volume]
               ) -> Iterable[tuple[dict[str, str], int]]:
    for volume in volumes:
        if volume.map is None:
            continue
        up = sum(path.up for path in volume.paths)
        labels = {"map": volume.map, "wwid": volume.scsi_wwn or ""}
        yield {**labels, "state": "up"}, up
        yield {**labels, "state": "down"}, len(volume.paths) - up


class _Metrics:
    """Gauges in the exposition format, escaped as it requires."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, name: str, help_text: str,
            samples: list[tuple[dict[str, str], int]]) -> None:
        full = PREFIX + name
        self.lines.append("# HELP %s %s" % (full, _escape_help(help_text)))
        self.lines.append("# TYPE %s gauge" % full)
        for labels, value in samples:
            self.lines.append("%s%s %d" % (full, _labels(labels), value))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{%s}" % ",".join(
        '%s="%s"' % (key, str(value).replace("\\", "\\\\")
                     .replace('"', '\\"').replace("\n", "\\n"))
        for key, value in labels.items())
