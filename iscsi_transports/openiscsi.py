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

"""The installed open-iscsi, as its iscsiadm binary says it was built.

Where iscsiadm keeps its records and its lock is compiled in
(``-DISCSI_DB_ROOT``, ``-DLOCK_DIR`` in open-iscsi's ``meson.build``),
never read from a file at run time: Debian 12 (2.1.8) keeps the records
in ``/etc/iscsi``, Debian 13 (2.1.11) in ``/var/lib/iscsi``.  Guessing
from which directories exist is wrong the day a stray one appears, so the
answer is read where iscsiadm itself has it: ``usr/idbm.h`` defines
``NODE_CONFIG_DIR`` as ``ISCSI_DB_ROOT"/nodes"`` and ``usr/iface.h``
``IFACE_CONFIG_DIR`` as ``ISCSI_DB_ROOT"/ifaces"``, literals the compiler
joins, so the binary holds ``<root>/nodes`` and ``<root>/ifaces`` as
NUL-terminated strings (and ``LOCK_WRITE_FILE``, ``LOCK_DIR"/lock.write"``,
the same way).  The binary read is the one the root daemon runs (found on
:data:`SECURE_PATH`).  Low in the package: the library and its root daemon
must find the same directories, and the library's cold path imports no
privsep.

When the binary names no such directory, or several (a wrapper script, an
unusual build), the daemon's own configuration section, which only root
writes, may say it (``iscsi_db_root``, ``iscsi_lock_dir``); otherwise
every root operation on records is refused with one line saying so.

The version (``iscsiadm --version``, read once per binary) decides what a
stale ``lock.write`` does (see :func:`takes_over_stale_lock`).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from typing import NamedTuple

from oslo_config import cfg

from iscsi_transports import exception

__all__ = ["DAEMON_SECTION", "LOCK_WAIT", "SECURE_PATH", "Build", "build_opts",
           "installed", "installed_version", "read_build", "register_opts",
           "takes_over_stale_lock"]

#: Where the root daemon looks for the binaries it runs (iscsiadm among
#: them): a fixed PATH, never the caller's.
SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The root daemon's configuration section (the privsep context's,
#: :data:`iscsi_transports.privileged.CFG_SECTION`), which only root writes.
DAEMON_SECTION = "iscsi_transports_privileged"

build_opts = [
    cfg.StrOpt("iscsi_db_root",
               help="open-iscsi's records directory (its ISCSI_DB_ROOT, "
                    "holding nodes, ifaces and send_targets), for an "
                    "iscsiadm that does not name exactly one (a wrapper "
                    "script): read by the root daemon from this section, "
                    "which only root writes. Unset: read from the "
                    "iscsiadm binary. A value the binary contradicts is "
                    "refused."),
    cfg.StrOpt("iscsi_lock_dir",
               help="open-iscsi's lock directory (its LOCK_DIR, holding "
                    "lock and lock.write), for an iscsiadm that does not "
                    "name exactly one; as iscsi_db_root."),
]

#: An absolute path then ``/<leaf>``, as a whole NUL-terminated string
#: (what comes before it in the binary is not text: a NUL, or data).
_COMPILED = r"(?<![\x20-\x7e])(/[\x21-\x7e]*?)/%s\0"
_VERSION_RE = re.compile(r"\bversion\s+(\d+(?:\.\d+)+)")
#: How long iscsiadm waits for ``lock.write`` (``idbm_lock``: 3000 tries,
#: 10 ms apart, DB_LOCK_RETRIES and DB_LOCK_USECS_WAIT since 2.1.10).
LOCK_WAIT = 30.0
#: The first open-iscsi whose idbm_lock fails when lock.write stays
#: (usr/idbm.c, "Timeout on acquiring lock on DB"); before it iscsiadm
#: went on after its 30 s as if it held the lock, and removed the file
#: when done.
STRICT_LOCK_VERSION = (2, 1, 10)
#: The most of a binary that is read (iscsiadm is about 400 kB).
_MAX_BINARY = 64 * 1024 * 1024
#: Seconds ``iscsiadm --version`` may take.
_VERSION_TIMEOUT = 10


class Build(NamedTuple):
    """What one iscsiadm binary was built with."""

    binary: str
    #: ISCSI_DB_ROOT: ``nodes``, ``ifaces`` and ``send_targets`` are in it.
    db_root: str
    #: LOCK_DIR: ``lock`` and ``lock.write`` are in it.
    lock_dir: str
    #: From ``iscsiadm --version``; empty when it printed none.
    version: tuple[int, ...]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) or "unknown"


def compiled_dirs(data: bytes, leaf: str) -> set[str]:
    """The directories ``D`` for which ``data`` holds the string
    ``D/<leaf>`` (NUL-terminated, not the tail of a longer text)."""
    pattern = re.compile((_COMPILED % re.escape(leaf)).encode("ascii"))
    return {match.group(1).decode("ascii") for match in
            pattern.finditer(data)}


def _one(binary: str, what: tuple[str, str], found: set[str],
         configured: str | None, option: str) -> str:
    """The one directory ``found`` in the binary, else ``configured``;
    OpenIscsiBuildUnknown when neither says, or they disagree."""
    if configured and found and found != {configured}:
        raise exception.OpenIscsiBuildUnknown(
            binary, "names %s, not %s as %s says"
            % (", ".join(sorted(found)), configured, option), option)
    if len(found) == 1:
        return found.pop()
    if configured:
        return configured
    problem = "names no %s" % what[0] if not found else \
        "names several %s (%s)" % (what[1], ", ".join(sorted(found)))
    raise exception.OpenIscsiBuildUnknown(binary, problem, option)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register :data:`build_opts` in the daemon's section of ``conf``
    (oslo.config's global ``CONF``, as the privsep context's own)."""
    conf.register_opts(build_opts, group=DAEMON_SECTION)


def _configured(option: str) -> str | None:
    """``option`` of the daemon's section (registered here, where used)."""
    register_opts(cfg.CONF)
    value = cfg.CONF[DAEMON_SECTION][option]
    if value and not os.path.isabs(value):
        raise exception.OpenIscsiBuildUnknown(
            option, "is %r, not an absolute path" % value, option)
    return value or None


def _read_binary(binary: str) -> bytes:
    try:
        with open(binary, "rb") as handle:
            return handle.read(_MAX_BINARY)
    except OSError as error:
        raise exception.OpenIscsiBuildUnknown(
            binary, "cannot be read (%s)" % error.strerror,
            "iscsi_db_root") from None


def takes_over_stale_lock(version: tuple[int, ...]) -> bool:
    """Whether iscsiadm ``version``, after waiting 30 s for ``lock.write``,
    goes on without it (2.1.8, 2.1.9) rather than fail with exit 6 (2.1.10
    and later).  An unknown version is taken as a later one: failing is
    what never writes beside another writer."""
    return bool(version) and version < STRICT_LOCK_VERSION


def _identity(binary: str) -> tuple[str, tuple[int, int, int, int]]:
    """The resolved ``binary`` and what keys the caches of it (device,
    inode, size, mtime): an upgraded package is a new file, read again."""
    real = os.path.realpath(binary)
    try:
        info = os.stat(real)
    except OSError as error:
        raise exception.OpenIscsiBuildUnknown(
            binary, "cannot be read (%s)" % error.strerror,
            "iscsi_db_root") from None
    return real, (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _version(binary: str, identity: tuple[int, int, int, int]
             ) -> tuple[int, ...]:
    """``iscsiadm --version``'s number; empty if it gives none."""
    del identity
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [binary, "--version"], stdin=subprocess.DEVNULL,
            capture_output=True, timeout=_VERSION_TIMEOUT, check=False,
            env={"PATH": SECURE_PATH, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired):
        return ()
    match = _VERSION_RE.search(result.stdout.decode("ascii", "replace"))
    return tuple(int(part) for part in match.group(1).split(".")) \
        if match else ()


@functools.lru_cache(maxsize=8)
def _read_build(binary: str, identity: tuple[int, int, int, int],
                db_root: str | None, lock_dir: str | None) -> Build:
    data = _read_binary(binary)
    return Build(
        binary=binary,
        db_root=_one(binary, ("records directory", "records directories"),
                     compiled_dirs(data, "nodes") &
                     compiled_dirs(data, "ifaces"), db_root,
                     "iscsi_db_root"),
        lock_dir=_one(binary, ("lock directory", "lock directories"),
                      compiled_dirs(data, "lock.write"), lock_dir,
                      "iscsi_lock_dir"),
        version=_version(binary, identity))


def read_build(binary: str, db_root: str | None = None,
               lock_dir: str | None = None) -> Build:
    """What ``binary`` was built with, or OpenIscsiBuildUnknown (one
    line); ``db_root`` and ``lock_dir`` stand in where it names none."""
    return _read_build(*_identity(binary), db_root, lock_dir)


def _which() -> str:
    binary = shutil.which("iscsiadm", path=SECURE_PATH)
    if binary is None:
        raise exception.OpenIscsiBuildUnknown(
            "iscsiadm", "is not installed (not found on %s)"
            % SECURE_PATH, "iscsi_db_root")
    return binary


def installed() -> Build:
    """The build of the iscsiadm the root daemon runs."""
    return read_build(_which(), _configured("iscsi_db_root"),
                      _configured("iscsi_lock_dir"))


def installed_version() -> tuple[int, ...]:
    """The version of the iscsiadm the root daemon runs (empty when it
    cannot be run or prints none), read once per binary."""
    try:
        return _version(*_identity(_which()))
    except exception.OpenIscsiBuildUnknown:
        return ()
