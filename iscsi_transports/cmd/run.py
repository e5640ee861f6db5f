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

"""``run -- COMMAND [ARG...]``: a Python program with this library as
os-brick's ISCSI and ISER connector.

nova-compute, cinder-volume, cinder-backup and glance-api get their iSCSI
connector from os-brick; under ``run`` os-brick hands them the library's
(:mod:`iscsi_transports.adopt`), with no file of theirs or of os-brick
changed, so a package upgrade of any of them keeps it.  How:

#. COMMAND is found on ``PATH`` and must be a Python program: a console
   script whose ``#!`` line names a Python interpreter (directly or through
   ``env``), or an interpreter itself.  Interpreter options that skip
   ``PYTHONPATH`` or ``site`` (``-E``, ``-I``, ``-S``) are refused: the hook
   would not load.
#. The environment gets the library's bootstrap directory first on
   ``PYTHONPATH`` (its ``sitecustomize`` installs the hook, then runs any
   ``sitecustomize`` it shadows) and ``ISCSI_TRANSPORTS_RUN`` set.
#. A preflight: that interpreter, in that environment, imports os-brick
   the way the program will and checks that its connector is now the
   library's.  A library the interpreter cannot import, an os-brick whose
   structure the hook does not know, or no os-brick at all is one line
   and exit status 1, and COMMAND never starts with os-brick's own
   connector.
#. COMMAND is executed in place of this process (same pid, so systemd and
   kolla supervise the service itself), with its arguments as given.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports import adopt
from iscsi_transports import exception

#: A Python interpreter's file name (``python3``, ``python3.12``).
PYTHON_RE = re.compile(r"python[0-9.]*$")
#: Interpreter options under which ``sitecustomize`` would not load from
#: ``PYTHONPATH``: -E and -I ignore it, -S skips ``site``.
SKIPS_HOOK = frozenset("EIS")
#: Interpreter options that take the next word as their value.
OPTION_WITH_VALUE = ("-W", "-X", "--check-hash-based-pycs")
#: Seconds the preflight may take (importing os-brick on a loaded host).
PREFLIGHT_TIMEOUT = 120.0
#: What the preflight interpreter runs: one line on stderr on failure.
PREFLIGHT = (
    "import sys\n"
    "try:\n"
    "    from iscsi_transports import adopt\n"
    "    adopt.verify()\n"
    "except Exception as error:\n"
    "    sys.exit(' '.join(str(error).split()))\n")


class Program(typing.NamedTuple):
    """COMMAND as found: its path, and the interpreter (with the options
    of its ``#!`` line) that will run it."""

    path: str
    interpreter: tuple[str, ...]


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "run", help="run a Python service (nova-compute, cinder-volume, "
                    "...) with this library as os-brick's iSCSI and iSER "
                    "connector",
        usage="iscsi-transports run -- COMMAND [ARG...]",
        description="Run COMMAND, a Python console script or python, with "
                    "os-brick's connector for the ISCSI and ISER protocols "
                    "served by this library (nova, cinder and glance need "
                    "no change). Refuses with one line, starting nothing, "
                    "when the program's os-brick cannot be taken over.")
    parser.add_argument("command", nargs="+", metavar="COMMAND",
                        help="the program and its arguments, after --")
    # The common options are the library's; COMMAND reads its own.
    parser.set_defaults(func=run_command, debug=False, reports_config=True,
                        config_file=[], sysfs_root=None, snapshot=None)


def run_command(conf: cfg.ConfigOpts, args: argparse.Namespace,
                out: TextIO) -> int:
    """Execute COMMAND under the hook; returns only on failure (raised)."""
    command: list[str] = args.command
    program = resolve(command[0], command[1:])
    env = environment(os.environ)
    preflight(command[0], program, env)
    # The operator's own command line, as its unit file would run it.
    os.execve(program.path, command, env)  # noqa: S606
    return 1  # pragma: no cover - execve does not return


def resolve(name: str, arguments: Sequence[str] = ()) -> Program:
    """Find COMMAND and the Python interpreter that will run it."""
    path = name if os.sep in name else shutil.which(name)
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise exception.RunRefused(command=name,
                                   reason="no such program on PATH")
    if PYTHON_RE.match(os.path.basename(path)):
        _check_options(name, interpreter_options(arguments))
        return Program(path, (path,))
    interpreter = shebang(path)
    if not interpreter or not PYTHON_RE.match(
            os.path.basename(interpreter[0])):
        raise exception.RunRefused(
            command=name, reason="%s is not a Python console script or "
            "interpreter (its #! line names %s)" % (
                path, interpreter[0] if interpreter else "nothing"))
    _check_options(name, interpreter[1:])
    return Program(path, interpreter)


def shebang(path: str) -> tuple[str, ...]:
    """The interpreter of a ``#!`` script and its options (``env NAME``
    resolved on ``PATH``); empty for anything else."""
    try:
        with open(path, "rb") as script:
            first = script.readline(512)
    except OSError:
        return ()
    if not first.startswith(b"#!"):
        return ()
    words = first[2:].decode("utf-8", "replace").split()
    if len(words) > 1 and os.path.basename(words[0]) == "env":
        found = shutil.which(words[1])
        return (found, *words[2:]) if found else (words[1],)
    return tuple(words)


def interpreter_options(arguments: Sequence[str]) -> list[str]:
    """The interpreter's own options at the start of its arguments."""
    options = []
    words = iter(arguments)
    for word in words:
        if not word.startswith("-") or word in ("-", "-c", "-m"):
            break
        options.append(word)
        if word in OPTION_WITH_VALUE:
            next(words, None)
    return options


def _check_options(name: str, options: Sequence[str]) -> None:
    for option in options:
        if option.startswith("-") and not option.startswith("--") and \
                SKIPS_HOOK & set(option[1:]):
            raise exception.RunRefused(
                command=name, reason="its interpreter option %s makes "
                "Python skip PYTHONPATH or site, so the os-brick hook would "
                "not load" % option)


def environment(env: Mapping[str, str]) -> dict[str, str]:
    """COMMAND's environment: the bootstrap directory first on
    ``PYTHONPATH`` (once), the marker set, the rest as it was."""
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep)
             if path and path != adopt.BOOTSTRAP_DIR]
    return {**env,
            "PYTHONPATH": os.pathsep.join([adopt.BOOTSTRAP_DIR, *paths]),
            adopt.ACTIVE_ENV: "1"}


def preflight(name: str, program: Program, env: Mapping[str, str]) -> None:
    """Check, in a process of COMMAND's interpreter and environment, that
    os-brick's connector becomes the library's."""
    try:
        # The interpreter of the operator's command, a fixed program.
        done = subprocess.run([*program.interpreter, "-c", PREFLIGHT],  # noqa: S603
                              env=env, capture_output=True, text=True,
                              timeout=PREFLIGHT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise exception.RunRefused(
            command=name, reason="%s did not import os-brick within %d s" % (
                program.interpreter[0], PREFLIGHT_TIMEOUT)) from None
    if done.returncode == 0:
        return
    lines = [line.strip() for line in done.stderr.splitlines()
             if line.strip()]
    raise exception.RunRefused(command=name, reason="%s: %s" % (
        program.interpreter[0],
        lines[-1] if lines else "exit status %d" % done.returncode))
