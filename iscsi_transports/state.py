"""The library's own state on disk: one directory, and lock files.

The state directory holds the ownership markers of the iface records the
library created (``ifaces/``) and, unless ``[oslo_concurrency] lock_path``
is set, its lock files (``locks/``).  It belongs to the service user: under
nova it defaults to ``<nova's state_path>/iscsi-transports`` (nova's
``state_path`` is the ``nova`` user's), elsewhere to
``/var/lib/iscsi-transports``.  Nothing in it needs root.

Two users share it: nova-compute's service user and an operator running the
console script as root.  So :func:`ensure` checks it up front (one line
naming the directory and the fix, before any iscsiadm command runs), and
whatever root creates in it (subdirectories, lock files, markers) is handed
to the directory's owner with group access, so the service user can open it
afterwards.
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

__all__ = ["DEFAULT_DIR", "adopt", "directory", "ensure", "external_lock",
           "lock_path", "open_file", "prepare_lock_file",
           "register_service_opts", "service_opts", "state_opts"]

#: Where the state lives without nova (no ``[DEFAULT] state_path``).
DEFAULT_DIR = "/var/lib/iscsi-transports"
SUBDIRS = ("ifaces", "locks")
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
    cannot create it or write in it.  Called before anything is changed on
    the host, so a failure leaves nothing half-made; only what the caller
    is about to use is created.
    """
    path = directory(conf)
    _make_dir(path, path)
    for sub in subdirs:
        if sub not in SUBDIRS:
            raise ValueError("unknown state subdirectory %r" % sub)
        _make_dir(os.path.join(path, sub), path)
    return path


def _fix(path: str) -> str:
    return ("create it for the service user, e.g. 'install -d -o nova -g "
            "nova -m 0750 %s', or set [iscsi_transports] state_path" % path)


def _make_dir(path: str, top: str) -> None:
    try:
        os.makedirs(path, mode=0o750)
    except FileExistsError:
        pass
    except OSError as error:
        raise exception.StateDirUnusable(
            path=path, problem="cannot be created (%s)" % error.strerror,
            fix=_fix(top)) from None
    else:
        adopt(path)
    if not os.path.isdir(path):
        raise exception.StateDirUnusable(
            path=path, problem="is not a directory", fix=_fix(top))
    if not os.access(path, os.W_OK | os.X_OK):
        raise exception.StateDirUnusable(
            path=path, problem="is not writable by uid %d" % os.geteuid(),
            fix="chown the service user's user and group onto it, or %s"
                % _fix(top))


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


def adopt(path: str) -> None:
    """Give the directory root just made in the state to its parent's owner.

    The console script runs as root; nova-compute as its service user.  A
    directory root leaves behind is handed to the owner of the directory it
    is in, mode 0770, so either can use it next.  Opened without following
    a symbolic link (ELOOP if one was planted there).  Does nothing for
    anyone but root.
    """
    if os.geteuid() != 0:
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                 os.O_CLOEXEC)
    try:
        parent = os.stat(os.path.dirname(os.path.abspath(path)))
        _adopt_fd(fd, parent, 0o770)
    finally:
        os.close(fd)


def open_file(directory: str, name: str, flags: int) -> int:
    """Open (creating it, mode 0660) the file ``name`` in ``directory`` and
    give it to the directory's owner; the descriptor.

    Neither the directory nor the file is reached through a symbolic link
    (``O_NOFOLLOW`` on both; ELOOP otherwise): both live in the state the
    service user owns, and root, running the console script, must not
    truncate, chown or chmod whatever file a link planted there points
    to."""
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY |
                     os.O_NOFOLLOW | os.O_CLOEXEC)
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
        _make_dir(locks, locks)
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
