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

"""``snapshot FILE``: capture this host for replay with ``--snapshot FILE``."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports.cmd import output
from iscsi_transports.support import snapshot as snapshot_mod


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "snapshot", parents=[common],
        help="write what detection reads (sysfs subset, iface records, "
             "addresses, routes) to a .tar.gz for replay with --snapshot")
    parser.add_argument("file", metavar="FILE", help="archive to write")
    parser.add_argument(
        "--portal", action="append", default=[], metavar="PORTAL",
        help="also record the kernel's own route to this portal (policy "
             "routing included); repeatable")
    parser.set_defaults(func=run_snapshot)


def run_snapshot(conf: cfg.ConfigOpts, args: argparse.Namespace,
                 out: TextIO) -> int:
    counts = snapshot_mod.capture(conf, args.file, args.portal)
    output.emit(args, {"file": args.file, **counts}, render, out)
    return 0


def render(data: dict[str, Any]) -> str:
    return ("wrote %(file)s: %(sysfs_files)d sysfs files, %(sysfs_links)d "
            "links, %(iface_records)d iface records, %(addresses)d addresses, "
            "%(routes)d routes\n" % data)
