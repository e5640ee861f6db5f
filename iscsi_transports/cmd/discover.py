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

"""``discover PORTAL``: a real SendTargets discovery through the active iface.

It runs exactly what an attach would run for discovery: the active
transport's iface record is ensured, ``iscsiadm -m discovery ... -I
<iface>`` is run, and on a transport-class failure it retries once over
software TCP.  The output says which transport and iface answered and why.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.cmd import output
from iscsi_transports.iscsiadm import errors


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "discover", parents=[common],
        help="list the targets a portal offers, through the active iface")
    parser.add_argument("portal", help="portal address, e.g. 10.0.0.1:3260 "
                                       "or [fe80::1]:3260")
    parser.add_argument(
        "--transport", metavar="NAME",
        help="use this transport or iface instead of [iscsi_transports] "
             "transport")
    parser.set_defaults(func=run_discover)


def run_discover(conf: cfg.ConfigOpts, args: argparse.Namespace,
                 out: TextIO) -> int:
    if args.transport:
        conf.set_override("transport", args.transport, group=config.GROUP)
    driver = driver_mod.ISCSIDriver(conf)
    what = "waiting for %s to answer SendTargets discovery" % args.portal
    try:
        with output.waiting(what, driver.options.iscsiadm_timeout):
            result = driver.discover(args.portal)
    except exception.IscsiadmError as error:
        # One line; iscsiadm's own output went to the --debug log.
        raise exception.DiscoveryFailed(
            portal=args.portal, cause=errors.cause(error),
            hint="" if args.debug else " (--debug shows iscsiadm's output)"
        ) from None
    output.emit(args, result, render, out)
    return 0


def render(result: dict[str, Any]) -> str:
    """A table of targets, then how they were reached."""
    lines = ["%-24s %5s  %s" % ("PORTAL", "TPGT", "TARGET")]
    lines += ["%-24s %5s  %s" % (t["portal"], t["tpgt"], t["target"])
              for t in result["targets"]]
    if not result["targets"]:
        lines.append("(no targets)")
    lines.append("")
    lines.append("transport: %s  iface: %s" % (result["transport"],
                                               result["iface"]))
    if result["fallback"]:
        lines.append("fell back to tcp: %s" % result["reason"])
    return "\n".join(lines) + "\n"
