"""What every subcommand shares: the common options and the output format.

Kept out of :mod:`iscsi_transports.cmd.main` so that the subcommand modules
and the script's entry point never import each other both ways.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["common_parser", "emit"]


def common_parser() -> argparse.ArgumentParser:
    """Options every subcommand accepts."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-file", action="append", default=[], metavar="FILE",
        help="oslo.config file to read (repeatable), e.g. nova.conf")
    common.add_argument(
        "--sysfs-root", metavar="DIR",
        help="read hardware from this sysfs tree instead of sysfs_root")
    common.add_argument(
        "--snapshot", metavar="FILE",
        help="replay a host snapshot (iscsi-transports snapshot): sysfs, "
             "iface records and network come from it")
    common.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="output format (default: table)")
    return common



def emit(args: argparse.Namespace, data: Any,
         render: Callable[[Any], str], out: TextIO) -> None:
    """Print ``data`` as JSON or as the subcommand's table."""
    if args.format == "json":
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        out.write(render(data))
