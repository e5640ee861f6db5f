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

"""Running iscsiadm, multipath and multipathd as root, with a checked argv.

The binary is looked up on a fixed PATH (the caller cannot name one), its
argv is checked by :mod:`~iscsi_transports.privileged.validate`, it gets a
minimal environment (``LC_ALL=C`` so output parses the same everywhere) and
its own session, and on timeout its whole process group is killed.  What
an argv acts on is proven first (:mod:`~iscsi_transports.privileged.
objects`): a node logout or delete never of the target the firmware booted
from, a multipathd path only an iSCSI disk the host does not use, a map
flushed only when made of such disks.  The exit code is returned, not
judged: mapping it to typed errors is the iscsiadm layer's job.  No argv
that reaches here holds a secret (the checks refuse ``*.password`` keys),
so nothing needs masking.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from typing import NamedTuple

from iscsi_transports import exception
from iscsi_transports import openiscsi
from iscsi_transports import privileged
from iscsi_transports.privileged import objects
from iscsi_transports.privileged import validate

LOG = logging.getLogger(__name__)

#: Where the daemon looks for the binaries it runs (where the records
#: directory is read from its iscsiadm too).
SECURE_PATH = openiscsi.SECURE_PATH


class CommandResult(NamedTuple):
    """What a command returned; never raised for a non-zero exit code."""

    exit_code: int
    stdout: str
    stderr: str


@privileged.entrypoint
def iscsiadm(args: Sequence[str], timeout: int) -> CommandResult:
    """Run ``iscsiadm`` with checked ``args``."""
    argv = validate.iscsiadm_args(args)
    _prove_node(argv)
    return run("iscsiadm", argv, validate.timeout("run iscsiadm", timeout))


@privileged.entrypoint
def multipath(args: Sequence[str], timeout: int) -> CommandResult:
    argv = validate.multipath_args(args)
    if argv[0] == "-f":
        objects.iscsi_map("run multipath", argv[1])
    return run("multipath", argv, validate.timeout("run multipath", timeout))


@privileged.entrypoint
def multipathd(args: Sequence[str], timeout: int) -> CommandResult:
    argv = validate.multipathd_args(args)
    if argv[:2] in (["add", "path"], ["del", "path"]):
        operation = "run multipathd"
        objects.iscsi_disk(operation, argv[2])
        if argv[0] == "del":
            objects.unused_disk(operation, argv[2])
    return run("multipathd", argv,
               validate.timeout("run multipathd", timeout))


def _prove_node(argv: list[str]) -> None:
    """A checked node ``--logout`` or ``-o delete`` never reaches the
    target the firmware booted from."""
    deletes = any(word == "-o" and value == "delete"
                  for word, value in itertools.pairwise(argv))
    if argv[1] == "node" and ("--logout" in argv or deletes):
        objects.not_boot_target("run iscsiadm",
                                argv[argv.index("-T") + 1])


def run(binary: str, argv: list[str], timeout: int) -> CommandResult:
    """Run ``binary`` (found on :data:`SECURE_PATH`) with a checked argv."""
    path = shutil.which(binary, path=SECURE_PATH)
    shown = " ".join([binary, *argv])
    if path is None:
        raise exception.PrivilegedOperationFailed(
            "run " + binary, "%s is not installed (not found on %s)"
            % (binary, SECURE_PATH))
    LOG.debug("Running %s", shown)
    process = subprocess.Popen(  # noqa: S603 - argv list, checked above
        [path, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={"PATH": SECURE_PATH, "LC_ALL": "C"},
        start_new_session=True,
        close_fds=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise exception.PrivilegedCommandTimeout(shown, str(timeout)) \
            from None
    return CommandResult(process.returncode,
                         stdout.decode("utf-8", "replace"),
                         stderr.decode("utf-8", "replace"))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the command and anything it started (its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        LOG.debug("Process group %s already gone", process.pid)
    process.communicate()
