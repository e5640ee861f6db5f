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

"""What every subcommand shares: the common options and the output format.

Kept out of :mod:`iscsi_transports.cmd.main` so that the subcommand modules
and the script's entry point never import each other both ways.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

__all__ = ["common_parser", "emit", "waiting"]

#: Seconds of silence before a terminal is told what a step waits for.
QUIET_SECONDS = 2.0


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
    common.add_argument(
        "--debug", action="store_true",
        help="show the library's log and iscsiadm's full output on errors")
    # Configuration problems are warnings, except in a command that
    # reports them itself (doctor sets this).
    common.set_defaults(reports_config=False)
    return common


def emit(args: argparse.Namespace, data: Any,
         render: Callable[[Any], str], out: TextIO) -> None:
    """Print ``data`` as JSON or as the subcommand's table."""
    if args.format == "json":
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        out.write(render(data))


@contextlib.contextmanager
def waiting(what: str, limit: float, stream: TextIO | None = None,
            after: float = QUIET_SECONDS) -> Iterator[None]:
    """On a terminal, say what a slow step waits for and for how long.

    A target that accepts TCP and never answers keeps iscsiadm silent for
    its whole login timeout; after ``after`` seconds a status line (updated
    each second, erased at the end) names ``what`` and the ``limit`` in
    seconds.  Not on a terminal: nothing, so logs and pipes stay clean.
    """
    stream = stream or sys.stderr
    if not stream.isatty():
        yield
        return
    done = threading.Event()
    started = time.monotonic()

    def tell() -> None:
        if done.wait(after):
            return
        while True:
            stream.write("\r%s: %d s so far, at most %d s\x1b[K" % (
                what, time.monotonic() - started, limit))
            stream.flush()
            if done.wait(1.0):
                stream.write("\r\x1b[K")
                stream.flush()
                return

    teller = threading.Thread(target=tell, daemon=True)
    teller.start()
    try:
        yield
    finally:
        done.set()
        teller.join()
