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

"""The library's own state on disk: one directory, and lock files.

The state directory holds the ownership markers of the iface records the
library created (``ifaces/``), what each attach used (``attachments/``,
see :mod:`iscsi_transports.attach.ledger`) and, unless ``[oslo_concurrency] lock_path``
is set, its lock files (``locks/``).  It belongs to the service user: under
nova it defaults to ``<nova's state_path>/iscsi-transports`` (nova's
``state_path`` is the ``nova`` user's), elsewhere to
``/var/lib/iscsi-transports``.  Nothing in it needs root.

Two users share it: nova-compute's service user and an operator running the
console script as root.  So :func:`ensure` checks it up front (one line
naming the directory and the fix, before any iscsiadm command runs), and
whatever root creates in it (subdirectories, lock files, markers) is handed
to the directory's owner with group access, so the service user can open it
afterwards.  Files in it are written whole or not at all
(:func:`write_file`), and a failed write or removal is one
StateWriteFailed line.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import fileio

__all__ = ["DEFAULT_DIR", "directory", "ensure", "external_lock",
           "lock_path", "open_directory", "open_file", "prepare_lock_file",
           "register_service_opts", "remove_file", "service_opts",
           "state_opts", "write_file"]

#: Where the state lives without nova (no ``[DEFAULT] state_path``).
DEFAULT_DIR = "/var/lib/iscsi-transports"
SUBDIRS = ("ifaces", "locks", "attachments")
LOCK_PREFIX = "iscsi_transports-"

state_opts = [
    cfg.StrOpt("state_path",
               help="Directory where the library records which iface "
                    "records it created (only those are ever updated or "
                    "deleted) and, unless [oslo_concurrency] lock_path is "
                    "set, keeps its lock files. It must be writable by the "
                    "service user. Unset: <[DEFAULT] state_path>/iscsi-"
                    "transports when the service has a state_path (nova), "
                    "else /var/lib/iscsi-transports."),
]


#: The host service's own options :func:`directory` and :func:`lock_path`
#: follow, by group, as nova and oslo.concurrency name them.  Registered
#: only by a tool that reads the service's configuration file without
#: being the service (the console script); a service registers its own.
service_opts: list[tuple[str | None, cfg.Opt]] = [
    (None, cfg.StrOpt("state_path",
                      help="The service's state directory (nova's "
                           "[DEFAULT] state_path).")),
    ("oslo_concurrency", cfg.StrOpt(
        "lock_path", default=os.environ.get("OSLO_LOCK_PATH"),
        help="The service's lock directory (oslo.concurrency's).")),
]


def register_service_opts(conf: cfg.ConfigOpts) -> None:
    """Register :data:`service_opts` on a tool's private ``conf``, so that
    given nova.conf it finds nova's state directory and locks."""
    for group, option in service_opts:
        conf.register_opt(option, group=group)


def _option(conf: cfg.ConfigOpts, group: str | None, name: str) -> str | None:
    try:
        value = conf[group][name] if group else conf[name]
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError):
        return None
    return str(value) if value else None


def directory(conf: cfg.ConfigOpts) -> str:
    """The state directory ``conf`` asks for (not created)."""
    config.register(conf, state_opts)
    configured = _option(conf, config.GROUP, "state_path")
    if configured:
        return configured
    service_state = _option(conf, None, "state_path")
    if service_state:
        return os.path.join(service_state, "iscsi-transports")
    return DEFAULT_DIR


def lock_path(conf: cfg.ConfigOpts) -> str:
    """``[oslo_concurrency] lock_path`` when set, else ``<state>/locks``."""
    return _option(conf, "oslo_concurrency", "lock_path") or \
        os.path.join(directory(conf), "locks")


def ensure(conf: cfg.ConfigOpts, *subdirs: str) -> str:
    """Create and check the state directory and ``subdirs`` of it (of
    :data:`SUBDIRS`); its path.

    Raises :class:`~iscsi_transports.exception.StateDirUnusable` (one line:
    the directory, what is wrong, the command that fixes it) when this user
    cannot create it or write in it, or when it is reached through a
    symbolic link root must not follow (see :func:`open_directory`).
    Called before anything is changed on the host, so a failure leaves
    nothing half-made; only what the caller is about to use is created.
    """
    path = directory(conf)
    fix = _fix(path)
    os.close(open_directory(path, fix, create=True))
    for sub in subdirs:
        if sub not in SUBDIRS:
            raise ValueError("unknown state subdirectory %r" % sub)
        os.close(open_directory(os.path.join(path, sub), fix, create=True))
    return path


def _fix(path: str) -> str:
    return ("create it for the service user, e.g. 'install -d -o nova -g "
            "nova -m 0750 %s', or set [iscsi_transports] state_path" % path)


def open_directory(path: str, fix: str, create: bool = False) -> int:
    """A descriptor of the directory ``path`` (made, mode 0750, and given
    to its parent's owner when ``create`` and missing), checked writable.

    ``path`` itself is never reached through a symbolic link (it is in a
    directory the service user owns, which could swap it for a link to
    ``/etc/iscsi``); as root, neither is any directory above it that a user
    other than root can change (:func:`_walk`).  Everything the library
    creates in its state is then opened relative to this descriptor.  Any
    problem is one StateDirUnusable line ending in ``fix``.
    """
    path = os.path.abspath(path)
    parent, name = os.path.split(path)
    parent_fd = _open_parent(path, parent, fix, create)
    try:
        return _open_child(parent_fd, name, path, fix, create)
    finally:
        os.close(parent_fd)


def _open_parent(path: str, parent: str, fix: str, create: bool) -> int:
    """A descriptor of ``parent``, made (as ``os.makedirs`` would) when
    ``create``; root reaches it through :func:`_walk`."""
    try:
        if os.geteuid() == 0:
            return _walk(parent, create)
        try:
            return os.open(parent, _PATH_FLAGS)
        except FileNotFoundError:
            if not create:
                raise
            os.makedirs(parent, exist_ok=True)
            return os.open(parent, _PATH_FLAGS)
    except OSError as error:
        raise exception.StateDirUnusable(
            path=path, problem="cannot be %s (%s)" % (
                "created" if create else "opened", error.strerror),
            fix=fix) from None
    except _UntrustedLink as link:
        raise exception.StateDirUnusable(
            path=path, problem="is reached through the symbolic link %s in "
            "%s, which a user other than root can replace" % (
                link.path, os.path.dirname(link.path)),
            fix="set the option to the directory's real path, without such "
                "a link, or %s" % fix) from None


#: Opens a directory only to use it as ``dir_fd`` (no read permission
#: needed, as a path walk needs none).
_PATH_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Links followed in one walk at most, as the kernel's MAXSYMLINKS.
_MAX_LINKS = 40


class _UntrustedLink(Exception):
    """A symbolic link on the way to the state that root must not follow."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _only_root_writes(info: os.stat_result) -> bool:
    """Whether only root can change the names in this directory (a sticky,
    world-writable /tmp does not count: anyone can plant a link in it)."""
    return info.st_uid == 0 and not info.st_mode & 0o022


def _walk(path: str, create: bool) -> int:
    """A descriptor of the absolute directory ``path``, for root, reached
    one component at a time from ``/`` (each opened ``O_NOFOLLOW`` relative
    to the last) and made (mode 0777 less the umask, root's, as
    ``os.makedirs`` does) where missing when ``create``.

    A symbolic link is followed (its target walked the same way) only when
    it is in a directory only root can write: one an operator made, such
    as ``/var/run``.  Any other is :class:`_UntrustedLink`, as a service
    user who owns ``/var/lib/nova`` could have put it there.
    """
    fd = os.open("/", _DIR_FLAGS)
    pending = list(reversed(path.split("/")))
    walked, links = "/", 0
    try:
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            info = _lstat_or_make(fd, name, create)
            if info is not None and stat.S_ISLNK(info.st_mode):
                walked = os.path.join(walked, name)
                if not _only_root_writes(os.fstat(fd)):
                    raise _UntrustedLink(os.path.normpath(walked))
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
                target = os.readlink(name, dir_fd=fd)
                walked = os.path.dirname(walked)
                if target.startswith("/"):
                    os.close(fd)
                    fd, walked = os.open("/", _DIR_FLAGS), "/"
                pending.extend(reversed(target.split("/")))
                continue
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd, walked = child, os.path.join(walked, name)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _lstat_or_make(fd: int, name: str,
                   create: bool) -> os.stat_result | None:
    """``name`` in ``fd`` not following a link; made as a directory when
    missing and ``create`` (None then: what is there is opened next)."""
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        if not create:
            raise
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=fd)
    return None


def _open_child(parent_fd: int, name: str, path: str, fix: str,
                create: bool) -> int:
    """The directory ``name`` in ``parent_fd`` open without following a
    link (made and adopted first when ``create`` and missing)."""
    made = False
    if create:
        try:
            os.mkdir(name, 0o750, dir_fd=parent_fd)
            made = True
        except FileExistsError:
            pass
        except OSError as error:
            raise exception.StateDirUnusable(
                path=path, problem="cannot be created (%s)" % error.strerror,
                fix=fix) from None
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as error:
        raise _unusable(error, _is_link(parent_fd, name), path,
                        fix) from None
    try:
        if made:
            _adopt_fd(fd, os.fstat(parent_fd), 0o770)
        if not os.access(name, os.W_OK | os.X_OK, dir_fd=parent_fd):
            raise exception.StateDirUnusable(
                path=path, problem="is not writable by uid %d" % os.geteuid(),
                fix="chown the service user's user and group onto it, or %s"
                    % fix)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(dir_fd: int, name: str) -> bool:
    """Whether ``name`` in ``dir_fd`` is a symbolic link (which
    ``O_DIRECTORY | O_NOFOLLOW`` reports as ENOTDIR, not ELOOP)."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISLNK(info.st_mode)


def _unusable(error: OSError, link: bool, path: str,
              fix: str) -> exception.StateDirUnusable:
    """What an ``O_NOFOLLOW`` directory open that failed means."""
    if link or error.errno == errno.ELOOP:
        return exception.StateDirUnusable(
            path=path, problem="is a symbolic link", fix="replace it with a "
            "directory (the service user's), or set the option to the "
            "directory it points to")
    if error.errno == errno.ENOTDIR:
        return exception.StateDirUnusable(
            path=path, problem="is not a directory", fix=fix)
    if error.errno == errno.EACCES:
        return exception.StateDirUnusable(
            path=path, problem="is not writable by uid %d" % os.geteuid(),
            fix="chown the service user's user and group onto it, or %s"
                % fix)
    return exception.StateDirUnusable(
        path=path, problem="cannot be opened (%s)" % error.strerror, fix=fix)


def _adopt_fd(fd: int, parent: os.stat_result, mode: int) -> None:
    """Hand the file or directory open on ``fd`` to ``parent``'s owner with
    exactly ``mode``.  On the descriptor, not a name: a name the service
    user can replace (with a symbolic link to a root-only file) between a
    check and a chown/chmod would be followed; a descriptor cannot be.
    Does nothing for anyone but root."""
    if os.geteuid() != 0:
        return
    info = os.fstat(fd)
    if (info.st_uid, info.st_gid) != (parent.st_uid, parent.st_gid):
        os.fchown(fd, parent.st_uid, parent.st_gid)
    if stat.S_IMODE(info.st_mode) != mode:
        os.fchmod(fd, mode)


def open_file(directory: str, name: str, flags: int) -> int:
    """Open (creating it, mode 0660) the file ``name`` in ``directory`` and
    give it to the directory's owner; the descriptor.

    Neither the directory (:func:`open_directory`, StateDirUnusable) nor
    the file (``O_NOFOLLOW`` relative to it; ELOOP) is reached through a
    symbolic link the service user could plant: root, running the console
    script, must not create, truncate, chown or chmod a file elsewhere."""
    dir_fd = open_directory(directory, _fix(directory))
    try:
        fd = os.open(name, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o660, dir_fd=dir_fd)
        try:
            _adopt_fd(fd, os.fstat(dir_fd), 0o660)
        except BaseException:
            os.close(fd)
            raise
        return fd
    finally:
        os.close(dir_fd)


def write_file(conf: cfg.ConfigOpts, subdir: str, name: str,
               data: bytes) -> None:
    """Make ``<state>/<subdir>/<name>`` hold ``data``, all or nothing.

    A temporary dot-name in the same directory (no iface name starts with
    a dot, and open-iscsi never reads the state directory) is written in
    full, synced and renamed over ``name``: a full disk or an I/O error
    leaves no empty or cut file (an empty ownership marker would make a
    later operator's iface of that name the library's).  Anything but a
    plain file at ``name`` (a link the service user planted) is refused,
    not followed nor replaced.  Errors are StateDirUnusable (the
    directory, what is in it) or StateWriteFailed (the write).
    """
    directory = os.path.join(ensure(conf, subdir), subdir)
    dir_fd = open_directory(directory, _fix(directory))
    tmp = ".%s.%s.tmp" % (name, os.urandom(4).hex())
    try:
        _check_plain(dir_fd, directory, name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW | os.O_CLOEXEC, 0o660, dir_fd=dir_fd)
        try:
            _adopt_fd(fd, os.fstat(dir_fd), 0o660)
            fileio.write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.fsync(dir_fd)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise _write_failed("write", os.path.join(directory, name),
                            error) from None
    finally:
        os.close(dir_fd)


def _check_plain(dir_fd: int, directory: str, name: str) -> None:
    """StateDirUnusable when ``name`` in ``dir_fd`` is there and is not a
    plain file."""
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        path = os.path.join(directory, name)
        raise exception.StateDirUnusable(
            path=directory, problem="has %s, which is %s" % (
                path, "a symbolic link" if stat.S_ISLNK(mode) else
                "not a plain file"),
            fix="remove %s" % path)


def remove_file(conf: cfg.ConfigOpts, subdir: str, name: str) -> None:
    """Remove ``<state>/<subdir>/<name>`` if it is there (StateWriteFailed
    when it cannot be)."""
    path = os.path.join(directory(conf), subdir, name)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise _write_failed("remove", path, error) from None


def _write_failed(action: str, path: str,
                  error: OSError) -> exception.StateWriteFailed:
    fix = ("free space on its file system, then retry"
           if error.errno in (errno.ENOSPC, errno.EDQUOT) else
           "fix the cause, then retry")
    return exception.StateWriteFailed(action=action, path=path,
                                      reason=error.strerror or str(error),
                                      fix=fix)


def _open_lock_file(path: str) -> int:
    """The lock file ``path`` open for writing (what ``lockf`` needs), usable
    by root and the service user alike, or LockFileUnusable saying why."""
    try:
        return open_file(os.path.dirname(path), os.path.basename(path),
                         os.O_WRONLY | os.O_APPEND)
    except OSError as error:
        owner = os.path.dirname(path)
        raise exception.LockFileUnusable(
            path=path, problem="cannot be opened by uid %d (%s)"
            % (os.geteuid(), error.strerror),
            fix="give it to the service user (chown --reference=%s %s) or "
                "remove it while nothing runs" % (owner, path)) from None


def prepare_lock_file(path: str) -> None:
    """Make sure the lock file ``path`` can be opened by root and the
    service user alike, or say why not (LockFileUnusable)."""
    os.close(_open_lock_file(path))


@contextlib.contextmanager
def external_lock(conf: cfg.ConfigOpts, name: str) -> Iterator[None]:
    """A lock held across processes (nova-compute, the console script),
    whose file both root and the service user can open.

    The file is the one ``oslo_concurrency.lockutils.lock(name,
    lock_file_prefix=LOCK_PREFIX, external=True)`` uses and the lock the
    same POSIX record lock (``fcntl.lockf``, as fasteners takes it), so a
    process of an older release locking through lockutils still excludes
    this one.  It is taken on the descriptor opened without following a
    symbolic link: lockutils would reopen the file by name after any
    check.  Threads of this process are kept apart by lockutils' internal
    lock of the same name first.
    """
    # Lazy: lockutils costs list and show start-up time they never use.
    from oslo_concurrency import lockutils
    locks = lock_path(conf)
    if _option(conf, "oslo_concurrency", "lock_path"):
        os.close(open_directory(locks, _fix(locks), create=True))
    else:  # <state>/locks: the state directory itself is checked first
        ensure(conf, "locks")
    path = os.path.join(locks, LOCK_PREFIX + name.replace(os.sep, "_"))
    with lockutils.lock(name, lock_file_prefix=LOCK_PREFIX, external=False):
        fd = _open_lock_file(path)
        try:
            _lockf(fd)
            try:
                yield
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _lockf(fd: int) -> None:
    """Take the exclusive lock on ``fd``, waiting for it as fasteners does:
    polling without blocking, so an eventlet hub keeps running."""
    delay = 0.01
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN):
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
