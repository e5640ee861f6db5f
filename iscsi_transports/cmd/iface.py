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

"""``iface --transport NAME [--hwaddress MAC] [--ip ADDRESS]``: the iface
record a transport would write for a port, checked against this host.

An operator who pins a port (``transport = cxgb4i.<mac>``) or writes a
record by hand sees here what the plugin makes of the (IP address, hardware
address, transport) triple and whether it matches a port this host has.
Nothing is written: ``discover`` and attaches create records.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports import iface as iface_mod
from iscsi_transports.cmd import output
from iscsi_transports.selection import manager as manager_mod


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "iface", parents=[common],
        help="build and check the iface record a transport would write for "
             "a port (nothing is written)")
    parser.add_argument("--transport", required=True, metavar="NAME",
                        help="transport plugin name, e.g. cxgb4i")
    parser.add_argument("--hwaddress", metavar="MAC",
                        help="the port's hardware address")
    parser.add_argument("--ip", metavar="ADDRESS",
                        help="the port's IP address (iface.ipaddress)")
    parser.set_defaults(func=run_iface)


def run_iface(conf: cfg.ConfigOpts, args: argparse.Namespace,
              out: TextIO) -> int:
    """Exit 0 when the record fits a port of this host, 1 otherwise."""
    manager = manager_mod.TransportManager(conf)
    transport = manager.get(args.transport)
    record = transport.iface_from_tuple(args.ip, args.hwaddress,
                                        args.transport)
    problems = transport.validate_iface(record,
                                        manager.detect(args.transport))
    output.emit(args, {"iface": record.as_dict(), "problems": problems,
                       "record": iface_mod.format_record(record)},
                render, out)
    return 1 if problems else 0


def render(data: dict[str, Any]) -> str:
    """The record as iscsiadm stores it, then the verdict."""
    lines = [data["record"].rstrip("\n")]
    lines += ["problem: %s" % problem for problem in data["problems"]]
    if not data["problems"]:
        lines.append("matches a port of this host")
    return "\n".join(lines) + "\n"
