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

"""The ``iscsi-transports`` console script.

Each subcommand lives in its own module with a ``register(subparsers,
common)`` function, imported by name so that running one command imports
only its module; the subcommands share :mod:`iscsi_transports.cmd.output`
and never import this module.  This module parses arguments, loads configuration and
turns errors into exit codes: 0 success, 2 usage error (argparse), 1 any
other error with a one-line message on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import state
from iscsi_transports.cmd import output
from iscsi_transports.selection import manager

PROG = "iscsi-transports"
#: The distribution whose version ``--version`` prints.
DISTRIBUTION = "iscsi-transports"
#: The library's logger (every module logs under it).
LOGGER = "iscsi_transports"
#: Modules that each add subcommands, in help order.
SUBCOMMAND_MODULES = (
    "iscsi_transports.cmd.inventory",
    "iscsi_transports.cmd.discover",
    "iscsi_transports.cmd.doctor",
    "iscsi_transports.cmd.snapshot",
    "iscsi_transports.cmd.iface",
    "iscsi_transports.cmd.volume",
    "iscsi_transports.cmd.volumes",
    "iscsi_transports.cmd.run",
)
#: Which module adds each subcommand, so that running one imports only its
#: module (the driver, tarfile, ... stay unloaded for ``list``); kept in
#: step with the modules by a unit test.
COMMAND_MODULES = {
    "list": "iscsi_transports.cmd.inventory",
    "show": "iscsi_transports.cmd.inventory",
    "active": "iscsi_transports.cmd.inventory",
    "discover": "iscsi_transports.cmd.discover",
    "doctor": "iscsi_transports.cmd.doctor",
    "snapshot": "iscsi_transports.cmd.snapshot",
    "iface": "iscsi_transports.cmd.iface",
    "attach": "iscsi_transports.cmd.volume",
    "detach": "iscsi_transports.cmd.volume",
    "volumes": "iscsi_transports.cmd.volumes",
    "run": "iscsi_transports.cmd.run",
}


def modules_for(argv: Sequence[str] | None) -> Sequence[str]:
    """The subcommand modules needed to parse ``argv``.

    Only the named command's module when the first word is a known
    command; every module otherwise (help, a typo, no command), so usage
    messages list every command.
    """
    words = [arg for arg in argv or () if not arg.startswith("-")]
    module = COMMAND_MODULES.get(words[0]) if words else None
    return (module,) if module else SUBCOMMAND_MODULES


class VersionAction(argparse.Action):
    """``--version``: the installed distribution's version, looked up only
    when asked, so that other commands do not pay for the metadata read."""

    def __init__(self, option_strings: Sequence[str], dest: str,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0,
                         help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from importlib import metadata
        try:
            version = metadata.version(DISTRIBUTION)
        except metadata.PackageNotFoundError:
            version = "unknown (not installed: pip install .)"
        sys.stdout.write("%s %s\n" % (PROG, version))
        parser.exit()


def build_parser(argv: Sequence[str] | None = None
                 ) -> argparse.ArgumentParser:
    """The argument parser; with ``argv``, only the modules it needs."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Inspect the iSCSI transports (TCP, iSER, "
                               "offload HBAs) this host can use.")
    parser.add_argument("--version", action=VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       required=True)
    common = output.common_parser()
    for module_name in modules_for(argv):
        importlib.import_module(module_name).register(subparsers, common)
    return parser


def load_config(args: argparse.Namespace) -> cfg.ConfigOpts:
    """A private ConfigOpts with the files and overrides from the command.

    Also loads oslo.config's global ``CONF`` with the same files: the
    privsep context (the root operations of a run as a service user)
    reads its ``[iscsi_transports_privileged]`` section there, and the
    ``--config-file`` arguments it gives ``privsep-helper`` (what the
    documented filter lines match).  Nothing else reads the global.
    """
    conf = cfg.ConfigOpts()
    manager.register_opts(conf)  # the rest register when they are used
    # The service's own options the state directory follows (nova's
    # state_path, oslo.concurrency's lock_path): read from its file as
    # nova-compute reads them, so both use the same directory and locks.
    state.register_service_opts(conf)
    conf(args=[], project="iscsi-transports",
         default_config_files=args.config_file)
    cfg.CONF(args=[], project="iscsi-transports",
             default_config_files=args.config_file)
    if args.sysfs_root:
        conf.set_override("sysfs_root", args.sysfs_root, group=config.GROUP)
    if args.snapshot:
        # Lazy: tarfile, doctor and network load only when replaying.
        from iscsi_transports.support import snapshot
        snapshot.replay(conf, args.snapshot)
    return conf


@contextlib.contextmanager
def library_log(err: TextIO, debug: bool,
                config_warnings: bool) -> Iterator[None]:
    """The library's log on the console: all of it with ``--debug``;
    otherwise only configuration problems, one line each.

    Each command's output already says what the rest of the log would
    (fallback reasons, load and detection failures), so without
    ``--debug`` it would only say it twice, with tracebacks.  A command
    that reports configuration problems itself (doctor) gets no warnings.
    """
    shown: list[tuple[logging.Logger, logging.Handler]] = []
    library = logging.getLogger(LOGGER)
    if debug:
        shown.append((library, _handler(err, "%(levelname)s %(name)s: "
                                             "%(message)s")))
    else:
        shown.append((library, logging.NullHandler()))
        if config_warnings:
            shown.append((manager.CONFIG_LOG, _handler(
                err, PROG + ": warning: %(message)s")))
    saved = library.level, library.propagate
    library.setLevel(logging.DEBUG if debug else logging.WARNING)
    library.propagate = False
    for logger, handler in shown:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, handler in shown:
            logger.removeHandler(handler)
        library.setLevel(saved[0])
        library.propagate = saved[1]


def _handler(err: TextIO, fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter(fmt))
    return handler


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser(argv).parse_args(argv)
    with library_log(err, args.debug, not args.reports_config), \
            warnings.catch_warnings():
        # oslo.privsep (the root operations) imports eventlet, whose
        # deprecation warning would put eight lines on every attach's stderr.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        return run(args, out, err)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the parsed command; errors become one line and exit code 1."""
    try:
        conf = load_config(args)
        if args.config_file and not args.reports_config:
            # Lazy: only a run given files has any to check.
            from iscsi_transports.cmd import configcheck
            for problem in configcheck.file_problems(args.config_file):
                err.write("%s: warning: %s\n" % (PROG, problem))
        return int(args.func(conf, args, out) or 0)
    except BrokenPipeError:
        # The reader went away (``| head``); say nothing more, as cat does.
        return 1
    except (exception.IscsiTransportsError, cfg.Error, OSError) as error:
        message = " ".join(str(error).split())
        err.write("%s: error: %s\n" % (PROG, message))
        return 1


if __name__ == "__main__":
    sys.exit(main())
