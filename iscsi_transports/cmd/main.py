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
import importlib
import sys
from collections.abc import Sequence
from typing import TextIO

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports.cmd import output
from iscsi_transports.selection import manager

PROG = "iscsi-transports"
#: Modules that each add subcommands, in help order.
SUBCOMMAND_MODULES = (
    "iscsi_transports.cmd.inventory",
    "iscsi_transports.cmd.discover",
    "iscsi_transports.cmd.doctor",
    "iscsi_transports.cmd.snapshot",
    "iscsi_transports.cmd.iface",
    "iscsi_transports.cmd.volume",
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


def build_parser(argv: Sequence[str] | None = None
                 ) -> argparse.ArgumentParser:
    """The argument parser; with ``argv``, only the modules it needs."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Inspect the iSCSI transports (TCP, iSER, "
                               "offload HBAs) this host can use.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       required=True)
    common = output.common_parser()
    for module_name in modules_for(argv):
        importlib.import_module(module_name).register(subparsers, common)
    return parser


def load_config(args: argparse.Namespace) -> cfg.ConfigOpts:
    """A private ConfigOpts with the files and overrides from the command."""
    conf = cfg.ConfigOpts()
    manager.register_opts(conf)  # the rest register when they are used
    conf(args=[], project="iscsi-transports",
         default_config_files=args.config_file)
    if args.sysfs_root:
        conf.set_override("sysfs_root", args.sysfs_root, group=config.GROUP)
    if args.snapshot:
        # Lazy: tarfile, doctor and network load only when replaying.
        from iscsi_transports.support import snapshot
        snapshot.replay(conf, args.snapshot)
    return conf


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser(argv).parse_args(argv)
    try:
        conf = load_config(args)
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
