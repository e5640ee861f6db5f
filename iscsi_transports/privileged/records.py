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

"""Settings written into open-iscsi's records, CHAP never on a command line.

``iscsiadm -o update -n node.session.auth.password -v SECRET`` puts the
secret in iscsiadm's argv, readable by any local user in
``/proc/<pid>/cmdline`` and logged by sudo.  open-iscsi has no other input
for it (no stdin, no file option), so the daemon edits the record file the
way iscsiadm does (``usr/idbm.c``).  A node record's other settings (scan,
startup, login window, multipath timeouts) go in the same write: the
``-o update`` process they would otherwise need is a third of an attach's
iscsiadm calls, and iscsiadm's node mode takes no ``-o new -o update`` in
one call.  Records are:

* records live under open-iscsi's ISCSI_DB_ROOT, read from the installed
  iscsiadm (:mod:`~iscsi_transports.openiscsi`): a node record is
  ``nodes/<target>/<address>,<port>,<tpgt>/<iface>``, or the older
  ``nodes/<target>/<address>,<port>`` file when the target portal group is
  unknown (a static ``-o new``); a SendTargets discovery record is
  ``send_targets/<address>,<port>/st_config``;
* a record is ``# BEGIN RECORD <version>``, ``name = value`` lines (the
  parser strips white space around the name and the value, and takes the
  value to the end of the line), ``# END RECORD``; unset values are left
  out;
* every reader and writer holds open-iscsi's lock: ``link()`` of
  ``<LOCK_DIR>/lock`` to ``lock.write`` succeeds for one process at a
  time (``idbm_lock``), retried every 10 ms for 30 s; what happens then
  depends on the version (:func:`idbm_lock`).

Under that lock the record is read, checked to be the one asked for
(``node.name`` and ``iface.iscsi_ifacename``), its auth lines replaced as a
block when CHAP is given (keys not given are removed, so stale mutual CHAP
cannot linger), each other setting's line replaced (or added), and
the new text written to a temporary file in the records directory itself
(which no open-iscsi code lists) and renamed over the record with the
record's owner and mode.  The record exists beforehand
(``iscsiadm -o new``); this never creates one.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping

from iscsi_transports import exception
from iscsi_transports import fileio
from iscsi_transports import host
from iscsi_transports import openiscsi
from iscsi_transports import privileged
from iscsi_transports.privileged import paths
from iscsi_transports.privileged import validate

LOG = logging.getLogger(__name__)

#: How long open-iscsi's own lock is waited for (as iscsiadm waits).
LOCK_TIMEOUT = openiscsi.LOCK_WAIT
_LOCK_POLL = 0.01
_TMP_PREFIX = ".iscsi-transports-record."
#: What open-iscsi's parser strips around names and values (C isspace):
#: not the other white space str.strip knows.
_SPACE = " \t\n\v\f\r"
_BEGIN = "# BEGIN RECORD"
_END = "# END RECORD"


@contextlib.contextmanager
def idbm_lock(timeout: float | None = None) -> Iterator[None]:
    """Hold open-iscsi's record lock (``idbm_lock``'s link scheme) for at
    most ``timeout`` seconds of waiting (:data:`LOCK_TIMEOUT`).

    When ``lock.write`` stays (its holder killed between ``link`` and
    ``unlink``), this does what the installed iscsiadm does
    (:func:`openiscsi.takes_over_stale_lock`): 2.1.8 and 2.1.9 go on after
    the wait as if they held it, and remove it when done; 2.1.10 and later
    give up, and so does this (IscsiDbLocked), until someone removes it.
    """
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    lock_dir = paths.PATHS.lock_dir()
    lock = os.path.join(lock_dir, "lock")
    write = os.path.join(lock_dir, "lock.write")
    operation = "take open-iscsi's record lock"
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(lock_dir, 0o700)
        os.close(os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                         0o600))
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (lock, error.strerror)) from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.link(lock, write)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                _stale(write, timeout)
                break
            time.sleep(_LOCK_POLL)
        except OSError as error:
            raise exception.PrivilegedOperationFailed(
                operation, "%s: %s" % (write, error.strerror)) from None
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(write)


def _stale(write: str, timeout: float) -> None:
    """After ``timeout`` seconds of ``write`` staying: go on (returns) as
    the installed iscsiadm would, or IscsiDbLocked."""
    version = openiscsi.installed_version()
    if not openiscsi.takes_over_stale_lock(version):
        raise exception.IscsiDbLocked(write, "%g" % timeout)
    LOG.warning("open-iscsi's record lock %s stayed taken for %g seconds: "
                "going on without it and removing it afterwards, as "
                "iscsiadm %s does", write, timeout,
                ".".join(map(str, version)))


def split_portal(portal: str) -> tuple[str, int, int | None]:
    """``address``, ``port`` and ``tpgt`` (or None) of a checked portal."""
    rest, _, tpgt = portal.partition(",")
    if rest.startswith("["):
        address, _, port = rest[1:].partition("]")
        port = port.lstrip(":")
    else:
        address, _, port = rest.partition(":")
    return address, int(port or 3260), int(tpgt) if tpgt else None


#: More than any initiator name file holds; a larger file is not read.
MAX_INITIATOR_FILE = 4096


@privileged.entrypoint
def read_initiator_file() -> str:
    """The initiator name in open-iscsi's initiator name file, "" if there
    is no file or no name in it.

    Debian installs it readable by root only, yet a service user must
    report the initiator name to cinder; the name is no secret, but the
    daemon hands back only it, never the rest of whatever file is there.
    A regular file only, not reached through a symbolic link, opened
    without blocking: opening a FIFO or a device as root could hang or
    have side effects.
    """
    operation = "read the initiator name file"
    try:
        fd = os.open(paths.PATHS.initiator_name(),
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC)
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, error.strerror or str(error)) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise exception.PrivilegedOperationFailed(
                operation, "not a regular file")
        data = handle.read(MAX_INITIATOR_FILE + 1)
    if len(data) > MAX_INITIATOR_FILE:
        raise exception.PrivilegedOperationFailed(
            operation, "larger than %d bytes" % MAX_INITIATOR_FILE)
    return host.parse_initiator_name(data.decode("utf-8", "replace")) or ""


@privileged.entrypoint
def write_node_settings(target: str, portal: str, iface: str,
                        settings: Mapping[str, str]) -> None:
    """Set fields of an existing node record, as one ``iscsiadm -o update``
    with every pair would, without the process.

    ``node.session.auth.*`` keys, if any, replace the record's auth block;
    every other key must be one :func:`validate.node_settings` allows (the
    ones the driver sets), so iscsiadm reads back exactly what was meant.
    """
    operation = "write a node record's settings"
    validate.target(operation, target)
    validate.portal(operation, portal)
    validate.iface_name(operation, iface)
    if not isinstance(settings, dict) or not settings:
        raise validate.refuse(operation, "node settings must be a non-empty "
                              "mapping")
    given = {key: value for key, value in settings.items()
             if isinstance(key, str) and
             key.startswith(validate.NODE_AUTH_PREFIX)}
    auth = validate.auth(operation, validate.NODE_AUTH_PREFIX, given) \
        if given else None
    plain = validate.node_settings(operation, {
        key: value for key, value in settings.items() if key not in given})
    with idbm_lock():
        record = _node_record(target, portal, iface)
        text = _checked(operation, record)
        if auth is not None:
            text = replace_auth(text, validate.NODE_AUTH_PREFIX, auth)
        _replace_file(operation, record, replace_values(text, plain))


@privileged.entrypoint
def write_discovery_auth(portal: str, settings: Mapping[str, str]) -> None:
    """Replace the ``discovery.sendtargets.auth.*`` lines of an existing
    SendTargets discovery record (``-m discoverydb -o new``)."""
    operation = "write a discovery record's CHAP settings"
    validate.portal(operation, portal)
    auth = validate.auth(operation, validate.DISCOVERY_AUTH_PREFIX, settings)
    address, port, _ = split_portal(portal)
    with idbm_lock():
        record = os.path.join(paths.PATHS.send_targets(),
                              "%s,%d" % (address, port), "st_config")
        if not _is_file(record):
            raise exception.NodeRecordNotFound("SendTargets discovery",
                                               portal, "any")
        _replace_file(operation, record,
                      replace_auth(_checked(operation, record),
                                   validate.DISCOVERY_AUTH_PREFIX, auth))


@privileged.entrypoint
def read_node_layout(target: str, portal: str
                     ) -> tuple[list[int], str | None]:
    """Which records ``target`` has at ``portal``: the portal groups of
    its per-iface directories, and the iface of its single-file record
    (None without one); see :mod:`iscsi_transports.iscsiadm.nodes`.

    open-iscsi's records directory is root's alone, and the driver reads
    this before every ``-o new``: through the daemon a service user's
    attach needs no ``iscsiadm -o show`` process for it.  Only these
    names leave the daemon, never a record's content.
    """
    operation = "read a target's node record layout"
    validate.target(operation, target)
    validate.portal(operation, portal)
    address, port, _ = split_portal(portal)
    target_dir = os.path.join(paths.PATHS.nodes(), target)
    base = "%s,%d" % (address, port)
    try:
        entries = os.listdir(target_dir)
    except FileNotFoundError:
        return [], None
    except OSError as error:
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (target_dir, error.strerror)) from None
    groups = [entry[len(base) + 1:] for entry in entries
              if entry.startswith(base + ",")]
    tpgts = sorted(int(group) for group in groups
                   if group.isascii() and group.isdigit() and
                   stat.S_ISDIR(_lstat_mode(os.path.join(
                       target_dir, "%s,%s" % (base, group)))))
    single = os.path.join(target_dir, base)
    owner = None
    if base in entries and _is_file(single):
        try:
            owner = _names(single)[1]
        except FileNotFoundError:  # deleted since the listing
            owner = None
    return tpgts, owner


def _lstat_mode(path: str) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _node_record(target: str, portal: str, iface: str) -> str:
    """The one record of ``target`` at ``portal`` bound to ``iface``."""
    address, port, tpgt = split_portal(portal)
    target_dir = os.path.join(paths.PATHS.nodes(), target)
    base = "%s,%d" % (address, port)
    try:
        entries = sorted(os.listdir(target_dir))
    except OSError:
        entries = []
    found = []
    for entry in entries:
        if entry == base and tpgt is None:
            candidate = os.path.join(target_dir, entry)
        elif entry.startswith(base + ",") and (
                tpgt is None or entry == "%s,%d" % (base, tpgt)):
            candidate = os.path.join(target_dir, entry, iface)
        else:
            continue
        if _is_file(candidate) and _names(candidate) == (target, iface):
            found.append(candidate)
    if len(found) != 1:
        raise exception.NodeRecordNotFound(target, portal, iface) \
            if not found else validate.refuse(
                "write a node record's settings",
                "%d records match %s at %s through %s; give the portal "
                "with its ,tpgt" % (len(found), target, portal, iface))
    return found[0]


def _names(record: str) -> tuple[str | None, str]:
    """The ``node.name`` and iface a record file says it is for."""
    values = dict(_key_values(_read(record)))
    return (values.get("node.name"),
            values.get("iface.iscsi_ifacename", "default"))


def _lines(text: str) -> list[str]:
    """``text``'s lines as open-iscsi reads them (``fgets``: a line ends
    at ``\n`` only, not at the other breaks ``str.splitlines`` knows),
    each with its ``\n``."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + \
        ([lines[-1]] if lines[-1] else [])


def _key_values(text: str) -> Iterator[tuple[str, str]]:
    for line in _lines(text):
        stripped = line.strip(_SPACE)
        if stripped and not stripped.startswith("#") and "=" in stripped:
            key, _, value = stripped.partition("=")
            yield key.strip(_SPACE), value.strip(_SPACE)


def _read(path: str) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, encoding="utf-8", errors="surrogateescape") as file:
        return file.read()


def replace_auth(text: str, prefix: str, auth: Mapping[str, str]) -> str:
    """``text`` with its ``prefix`` auth lines replaced by ``auth``'s.

    The new lines go where the first old one was (open-iscsi always writes
    ``authmethod``), else before ``# END RECORD``.
    """
    managed = {prefix + field for field in validate.AUTH_FIELDS}
    kept: list[str] = []
    at: int | None = None
    for line in _lines(text):
        key = line.partition("=")[0].strip(_SPACE)
        if "=" in line and key in managed:
            at = len(kept) if at is None else at
            continue
        kept.append(line)
    if at is None:
        ends = [i for i, line in enumerate(kept) if line.strip(_SPACE) == _END]
        at = ends[-1] if ends else len(kept)
    new = ["%s = %s\n" % (prefix + field, auth[prefix + field])
           for field in validate.AUTH_FIELDS if prefix + field in auth]
    return "".join(kept[:at] + new + kept[at:])


def replace_values(text: str, settings: Mapping[str, str]) -> str:
    """``text`` with each key's line set to its value in ``settings``.

    A key's last line is the one iscsiadm's reader keeps, so every line of
    it becomes the new value; a key the record lacks (iscsiadm leaves unset
    values out) is added before ``# END RECORD``.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for line in _lines(text):
        key = line.partition("=")[0].strip(_SPACE)
        if "=" in line and key in settings:
            line = "%s = %s\n" % (key, settings[key])
            seen.add(key)
        lines.append(line)
    ends = [i for i, line in enumerate(lines) if line.strip(_SPACE) == _END]
    at = ends[-1] if ends else len(lines)
    new = ["%s = %s\n" % (key, value) for key, value in settings.items()
           if key not in seen]
    return "".join(lines[:at] + new + lines[at:])


def _checked(operation: str, record: str) -> str:
    """The text of ``record``, if it is a whole open-iscsi record."""
    text = _read(record)
    lines = [line.strip(_SPACE) for line in _lines(text.strip(_SPACE))]
    if not lines or not lines[0].startswith(_BEGIN) or lines[-1] != _END:
        raise exception.PrivilegedOperationFailed(
            operation, "%s is not a complete open-iscsi record" % record)
    return text


def _replace_file(operation: str, record: str, text: str) -> None:
    """Write ``text`` into a temporary file and rename it over ``record``,
    keeping the record's owner and mode; nothing is left on failure.

    The temporary file is a dot-name in the records directory itself
    (ISCSI_DB_ROOT), on the record's file system, so the rename is atomic:
    no open-iscsi code lists that directory (iscsiadm's ``idbm.c`` and
    libopeniscsiusr walk ``nodes``, ``ifaces``, ``send_targets`` and the
    like, never their parent), whereas libopeniscsiusr's node listing
    (``iscsiadm -m node``) reads every file of a target directory as a
    record, dot-names included.
    """
    info = os.lstat(record)
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tmp",
                                   dir=paths.PATHS.db_root())
        try:
            fileio.write_all(fd, text.encode("utf-8", "surrogateescape"))
            os.fchown(fd, info.st_uid, info.st_gid)
            os.fchmod(fd, stat.S_IMODE(info.st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, record)
        tmp = ""
        for directory in {paths.PATHS.db_root(), os.path.dirname(record)}:
            _fsync_dir(directory)
    except OSError as error:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise exception.PrivilegedOperationFailed(
            operation, "%s: %s" % (record, error.strerror)) from None


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as error:  # some file systems refuse fsync on a dir
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)
