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

"""``attach`` and ``detach``: what nova does with a volume, from a shell.

An operator tests a host with the connection properties cinder hands out,
saved as JSON (the ``data`` of a ``connection_info``, or the whole
``connection_info``): secrets stay in the file, never on the command line.
``attach`` prints the device info (``path``, ``scsi_wwn``, ``transport``,
``iface``, ``fallback``, ``reason``, ``paths``, ...; with ``--multipath``
the dm-multipath map as ``path`` plus ``multipath_id`` and ``map``), which
``detach --device-info`` takes back; without it, sysfs says what is
attached, a multipath map included.
Failures are one line and exit 1; a failed attach leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.cmd import output


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    attach = subparsers.add_parser(
        "attach", parents=[common],
        help="attach a volume from its connection properties (JSON file)")
    _properties_argument(attach)
    attach.add_argument(
        "--volume-type", choices=("iscsi", "iser"),
        help="driver_volume_type (default: the file's, else iscsi)")
    attach.add_argument(
        "--multipath", action="store_true",
        help="log in to every portal at once and return the dm-multipath "
             "map multipathd builds (nova's volume_use_multipath); without "
             "it the first portal that works is the one path")
    attach.add_argument(
        "--enforce-multipath", action="store_true",
        help="with --multipath: fail before any login when multipathd is "
             "not running, instead of attaching one path")
    attach.set_defaults(func=run_attach)
    detach = subparsers.add_parser(
        "detach", parents=[common],
        help="detach a volume attached with these connection properties")
    _properties_argument(detach)
    detach.add_argument(
        "--device-info", metavar="FILE",
        help="what attach printed (--format json); optional: sysfs tells "
             "which sessions and disks hold the volume")
    detach.add_argument(
        "--force", action="store_true",
        help="go on past disks that cannot be flushed (their unwritten "
             "data is lost), then say what was left")
    detach.set_defaults(func=run_detach)


def _properties_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--properties", metavar="FILE", required=True,
        help="JSON file with cinder's connection properties (target_portal, "
             "target_iqn, target_lun, auth_*, ...) or a whole "
             "connection_info")


def read_json(path: str, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; InvalidInput in one line if not."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except ValueError as error:
        raise exception.InvalidInput(
            reason="%s %s is not JSON: %s" % (what, path, error)) from None
    if not isinstance(data, dict):
        raise exception.InvalidInput(
            reason="%s %s must hold a JSON object" % (what, path))
    return data


def _properties(path: str) -> tuple[dict[str, Any], str | None]:
    """The connection properties and the volume type the file names."""
    data = read_json(path, "properties file")
    if isinstance(data.get("data"), dict):
        return data["data"], data.get("driver_volume_type")
    return data, None


def run_attach(conf: cfg.ConfigOpts, args: argparse.Namespace,
               out: TextIO) -> int:
    props, file_type = _properties(args.properties)
    volume_type = args.volume_type or file_type or "iscsi"
    info = driver_mod.ISCSIDriver(conf).connect_volume(
        props, volume_type=volume_type, multipath=args.multipath,
        enforce_multipath=args.enforce_multipath)
    output.emit(args, dict(info), render_attach, out)
    return 0


def run_detach(conf: cfg.ConfigOpts, args: argparse.Namespace,
               out: TextIO) -> int:
    props, _file_type = _properties(args.properties)
    info = read_json(args.device_info, "device info file") \
        if args.device_info else None
    driver_mod.ISCSIDriver(conf).disconnect_volume(props, info,
                                                   force=args.force)
    output.emit(args, {"detached": True}, lambda _data: "detached\n", out)
    return 0


def render_attach(info: dict[str, Any]) -> str:
    lines = ["path:      %s" % info["path"],
             "scsi_wwn:  %s" % info.get("scsi_wwn"),
             "transport: %s  iface: %s" % (info["transport"], info["iface"])]
    if info.get("multipath_id"):
        lines.append("multipath: map %s, WWID %s" % (info.get("map"),
                                                     info["multipath_id"]))
    lines += ["  path %s %s (%s %s LUN %s, iface %s)" % (
        t.get("disk") or "-", t.get("device"), t.get("portal"), t.get("iqn"),
        t.get("lun"), t.get("iface")) for t in info.get("targets", ())]
    if info["fallback"]:
        lines.append("fell back to tcp: %s" % info["reason"])
    return "\n".join(lines) + "\n"
