"""The one module that runs iscsiadm.

It builds argv lists (never shell strings) and runs them in one of two
ways.  Through the library's root daemon (:mod:`iscsi_transports.privileged`,
the default, ``use_privsep``): the daemon checks the argv and runs
iscsiadm, and node settings (CHAP included) and discovery CHAP are written
into the record by the daemon instead of passed as ``-n``/``-v`` pairs, so
no secret is ever in a process's argv and no ``-o update`` process runs.
Or, the legacy way (``use_privsep = false``), with the configured
``root_helper`` prepended (or an injected ``execute``, as the
unit tests do, called the way ``oslo_concurrency.processutils.execute``
is), with a timeout, where CHAP values are ``-o update`` arguments.  Either
way it kills a hung iscsiadm and turns open-iscsi's exit codes
(``include/iscsi_err.h``) into the typed errors of
:mod:`iscsi_transports.exception`.  Every command line that leaves this
module (logs, exceptions) has its CHAP secrets masked.  Output parsing lives
in :mod:`iscsi_transports.iscsiadm.parse`, exit codes and masking in
:mod:`iscsi_transports.iscsiadm.errors`, iface record management in
:mod:`iscsi_transports.iscsiadm.ifaces` (which uses this module; this module
never uses it).  The attach wing's root writes (LUN scans, rescans, disk
flushes and deletes, :mod:`iscsi_transports.attach.writer`) go through
:attr:`Iscsiadm.privileged` too, or on the legacy path as direct sysfs
writes and :meth:`Iscsiadm.run_command` (``blockdev --flushbufs``, same
root helper and timeout).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import state
from iscsi_transports.iscsiadm import errors
from iscsi_transports.iscsiadm import nodes
from iscsi_transports.iscsiadm import parse

if TYPE_CHECKING:
    from iscsi_transports.privileged import client

LOG = logging.getLogger(__name__)
#: Named here: in the class, ``nodes`` is the listing method.
RecordLayout = nodes.RecordLayout
#: A level no logger enables (logging.disable's floor is 0), given to
#: processutils so that it never logs a command line itself: level 1 still
#: showed mutual CHAP secrets wherever logging was fully enabled.
NEVER_LOGGED = -1
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

iscsiadm_opts = [
    cfg.StrOpt("iscsiadm_path", default="iscsiadm",
               help="The iscsiadm binary to run, as a name looked up on PATH "
                    "or an absolute path."),
    cfg.BoolOpt("use_privsep", default=True,
                help="Run every root operation (iscsiadm, LUN scans, disk "
                     "flush, delete and read, CHAP settings) through the "
                     "library's oslo.privsep daemon, started through the "
                     "service's root helper, or in process when already "
                     "root: no CHAP secret is then on any command line. "
                     "iscsiadm_path and root_helper are not used then (the "
                     "daemon runs iscsiadm from its own PATH). False is the "
                     "legacy path: every command under root_helper."),
    cfg.StrOpt("root_helper", default="",
               deprecated_for_removal=True,
               deprecated_reason="Root operations go through the library's "
                                 "privsep daemon (use_privsep, the default); "
                                 "root_helper serves only the legacy "
                                 "use_privsep = false path.",
               help="Command prepended to every root command line when "
                    "use_privsep is false, for example 'sudo "
                    "nova-rootwrap /etc/nova/rootwrap.conf'. Split like a "
                    "shell would, never run through a shell. Empty runs "
                    "the commands directly."),
    cfg.IntOpt("iscsiadm_timeout", default=120, min=1,
               help="Seconds an iscsiadm command may run before it is "
                    "killed and reported as timed out."),
    *nodes.nodes_opts,
    *state.state_opts,
]

def _default_execute(*cmd: str, check_exit_code: Iterable[int] = (0,),
                     timeout: float | None = None,
                     on_execute: Callable[[Any], None] | None = None,
                     preexec_fn: Callable[[], Any] | None = None,
                     loglevel: int = NEVER_LOGGED) -> tuple[str, str]:
    """Run ``cmd`` as :meth:`Iscsiadm._run` asks processutils to; stdout
    and stderr, processutils' ProcessExecutionError on another exit code.

    Not ``processutils.execute``: it always gives Popen a ``preexec_fn``
    (its SIGPIPE reset, or ours), and with one Python forks the whole
    interpreter instead of using vfork.  With 32 attaches in threads that
    fork was where they queued (benchmarks/bench_concurrency.py).  Popen
    restores SIGPIPE itself, and ``preexec_fn=os.setsid`` (a process
    group to kill on a timeout) is ``start_new_session``, done in the
    child without Python code.  Nothing is logged here (the runner logs
    the masked command line).
    """
    if preexec_fn not in (None, os.setsid):
        raise ValueError("only os.setsid is supported as preexec_fn")
    # An argv list built by this module (checked words, no shell).
    process = subprocess.Popen(  # noqa: S603
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
        start_new_session=preexec_fn is os.setsid)
    if on_execute is not None:
        on_execute(process)
    stdout, stderr = process.communicate(timeout=timeout)
    if process.returncode not in list(check_exit_code):
        # Imported lazily: processutils costs the console script's cold
        # start; its error is what callers of an execute catch.
        from oslo_concurrency import processutils
        raise processutils.ProcessExecutionError(
            stdout=stdout, stderr=stderr, exit_code=process.returncode,
            cmd=" ".join(errors.mask_argv(cmd)))
    return stdout, stderr


class Iscsiadm:
    """Runs iscsiadm commands built from typed arguments."""

    def __init__(self, conf: cfg.ConfigOpts,
                 execute: Callable[..., tuple[str, str]] | None = None,
                 executor: client.Executor | None = None) -> None:
        config.register(conf, iscsiadm_opts)
        self.conf = conf
        self._execute = execute or _default_execute
        self._executor = executor
        #: The legacy path: root_helper / execute, unless ``use_privsep``
        #: is set or an executor is given.
        self._legacy = executor is None and (
            execute is not None or not self.options.use_privsep)
        #: Every secret passed on a command line so far, scrubbed from
        #: the output of all later errors.
        self._secrets: set[str] = set()

    @property
    def privileged(self) -> client.Executor | None:
        """The root operations (daemon or in process), None on the legacy
        ``root_helper`` / ``execute`` path."""
        if self._legacy:
            return None
        if self._executor is None:
            # Lazy: oslo.privsep is not loaded until something runs as root.
            from iscsi_transports.privileged import client
            self._executor = client.executor()
        return self._executor

    @property
    def options(self) -> Any:
        return self.conf.iscsi_transports

    def argv(self, args: Sequence[str]) -> list[str]:
        """The full command line: root helper, iscsiadm, ``args``."""
        helper = shlex.split(self.options.root_helper or "")
        return [*helper, self.options.iscsiadm_path, *args]

    def run(self, args: Sequence[str], ok_codes: Iterable[int] = (0,),
            timeout: float | None = None) -> str:
        """Run iscsiadm with ``args``; return stdout or raise a typed error.

        An exit code in ``ok_codes`` other than 0 (21 "no objects found"
        for listings) returns the output as success.  ``timeout`` replaces
        ``iscsiadm_timeout`` for this command when longer (a login).
        """
        executor = self.privileged
        argv = self.argv(args) if executor is None else ["iscsiadm", *args]
        self._secrets.update(errors.secrets_of(argv))
        shown = " ".join(errors.mask_argv(argv))
        LOG.debug("Running %s", shown)
        started = time.monotonic()
        if executor is None:
            stdout, _stderr = self._run(argv, list(ok_codes), timeout)
        else:
            stdout = self._run_privileged(executor, argv, list(ok_codes),
                                          timeout)
        LOG.debug("%s succeeded in %.3fs", shown, time.monotonic() - started)
        return stdout

    def _run_privileged(self, executor: client.Executor, argv: list[str],
                        ok_codes: list[int],
                        timeout: float | None = None) -> str:
        """iscsiadm through the root daemon; the same typed errors."""
        timeout = int(max(timeout or 0, self.options.iscsiadm_timeout))
        try:
            result = executor.iscsiadm(argv[1:], timeout)
        except exception.PrivilegedCommandTimeout:
            raise exception.IscsiadmTimeout(errors.mask_argv(argv),
                                            timeout) from None
        except exception.PrivilegedOperationFailed as error:
            raise exception.IscsiadmNotFound(errors.mask_argv(argv), None,
                                             error.reason) from None
        if result.exit_code not in ok_codes:
            raise self._failed(argv, result.exit_code, result.stderr,
                               result.stdout)
        return result.stdout

    def run_command(self, args: Sequence[str]) -> str:
        """Run another root command (``blockdev``) the way iscsiadm runs:
        root helper, timeout, masked logging; CommandFailed if it fails."""
        argv = [*shlex.split(self.options.root_helper or ""), *args]
        shown = " ".join(errors.mask_argv(argv))
        LOG.debug("Running %s", shown)
        try:
            return self._run(argv, [0])[0]
        except exception.IscsiadmTimeout:
            reason = "killed after %s seconds" % self.options.iscsiadm_timeout
        except exception.IscsiadmError as error:
            reason = ("exit code %s: %s" % (error.exit_code, error.stderr)
                      if error.exit_code is not None else error.stderr)
        raise exception.CommandFailed(cmd=shown, reason=reason)

    def _run(self, argv: list[str], ok_codes: list[int],
             timeout: float | None = None) -> tuple[str, str]:
        # Lazy, as in _default_execute: list and show never run a command.
        from oslo_concurrency import processutils
        timeout = max(timeout or 0, self.options.iscsiadm_timeout)
        started: list[Any] = []
        try:
            # processutils logs the command with oslo's own masking, which
            # misses *.password_in (mutual CHAP), at the level given; run()
            # logs it masked instead.
            return self._execute(*argv, check_exit_code=ok_codes,
                                 timeout=timeout, loglevel=NEVER_LOGGED,
                                 on_execute=started.append,
                                 preexec_fn=os.setsid)
        except processutils.ProcessExecutionError as error:
            exit_code = error.exit_code
            raise self._failed(
                argv, exit_code if isinstance(exit_code, int) else None,
                error.stderr or "", error.stdout or "") from None
        except subprocess.TimeoutExpired:
            _kill(started)
            raise exception.IscsiadmTimeout(errors.mask_argv(argv), timeout) from None
        except OSError as error:
            if error.errno not in (errno.ENOENT, errno.EACCES):
                raise
            raise exception.IscsiadmNotFound(errors.mask_argv(argv), None,
                                             error.strerror or "") from None

    def _failed(self, argv: list[str], exit_code: int | None, stderr: str,
                stdout: str) -> exception.IscsiadmError:
        error = errors.error_for(argv, exit_code, stderr, stdout, self._secrets)
        LOG.debug("%s", error.message)
        return error

    # -- locks -----------------------------------------------------

    def lock_path(self) -> str:
        """[oslo_concurrency] lock_path when set, else <state_path>/locks."""
        return state.lock_path(self.conf)

    def external_lock(self, name: str) -> Any:
        """A lock held across processes (nova-compute, the console script),
        its file usable by both; see :func:`iscsi_transports.state.external_lock`."""
        return state.external_lock(self.conf, name)

    @property
    def db_root(self) -> str:
        """open-iscsi's records directory (see :func:`nodes.db_root`)."""
        return nodes.db_root(self.options.iscsi_db_path)

    # -- listings -------------------------------------------------------------

    def nodes(self) -> list[parse.Target]:
        return parse.parse_targets(self.run(["-m", "node"], (0, 21)))

    def node_layout(self, target: str, portal: str) -> RecordLayout:
        """Which records ``target`` has at ``portal`` (see
        :mod:`iscsi_transports.iscsiadm.nodes`): asked of the root daemon
        when there is one, else read from open-iscsi's records directory,
        else (a caller that cannot read it) from ``iscsiadm -o show``, one
        process more."""
        root = self.db_root
        single = nodes.single_file(root, target, portal)
        executor = self.privileged
        if executor is not None:
            tpgts, owner = executor.read_node_layout(target, portal)
            return nodes.RecordLayout(single if owner else None, owner,
                                      tuple(tpgts))
        try:
            return nodes.read_layout(root, target, portal)
        except OSError as error:
            LOG.debug("Asking iscsiadm for the records of %s: %s",
                      target, error)
            return nodes.layout_of(self.node_records(target, portal), single)

    def node_records(self, target: str,
                     portal: str) -> list[parse.NodeRecord]:
        """Every iface's record of ``target`` at ``portal`` (portal group
        and iface), through iscsiadm: for a caller that cannot read
        open-iscsi's records directory."""
        return parse.parse_node_records(self.run(
            ["-m", "node", "-T", target, "-p", portal, "-o", "show"],
            (0, 21)))

    # -- discovery -----------------------------------------------------------

    def discover(self, portal: str, iface_args: Sequence[str],
                 auth: dict[str, str] | None = None) -> list[parse.Target]:
        """SendTargets discovery through the iface ``iface_args`` names
        (the transport's :meth:`~iscsi_transports.base.Transport.
        iscsiadm_args`).

        ``-o nonpersistent``: the targets are listed, no node record is
        written or rewritten (iscsiadm's default would create, update and
        delete records, other volumes' included).  Without CHAP this is
        one process (``-m discovery``).  With discovery CHAP the settings
        go into a discoverydb record first (``-o new``, one ``-o update``
        carrying every ``-n/-v`` pair) and ``--discover`` uses it: three
        processes.
        """
        db = ["-t", "sendtargets", "-p", portal,
              *checked_iface_args(iface_args)]
        if not auth:
            return parse.parse_discovery(self.run(
                ["-m", "discovery", *db, "-o", "nonpersistent"]))
        self.run(["-m", "discoverydb", *db, "-o", "new"])
        executor = self.privileged
        if executor is None:
            self.run(["-m", "discoverydb", *db, "-o", "update",
                      *_name_values(auth)])
        else:
            executor.write_discovery_auth(portal, auth)
        return parse.parse_discovery(self.run(
            ["-m", "discoverydb", *db, "--discover", "-o", "nonpersistent"]))

    # -- nodes ---------------------------------------------------------------

    @staticmethod
    def node_args(target: str, portal: str,
                  iface_args: Sequence[str]) -> list[str]:
        return ["-m", "node", "-T", target, "-p", portal,
                *checked_iface_args(iface_args)]

    def node_new(self, target: str, portal: str,
                 iface_args: Sequence[str]) -> None:
        """A static node record bound to the iface (no discovery needed)."""
        self.run([*self.node_args(target, portal, iface_args), "-o", "new"])

    def node_update(self, target: str, portal: str, iface_args: Sequence[str],
                    settings: dict[str, str]) -> None:
        """Set node fields: through the root daemon, written into the
        record in one call (no process, no secret on a command line);
        otherwise every pair in one ``-o update`` process."""
        executor = self.privileged
        if executor is not None:
            executor.write_node_settings(target, portal,
                                         _iface_name(iface_args), settings)
        else:
            self.run([*self.node_args(target, portal, iface_args),
                      "-o", "update", *_name_values(settings)])

    def login(self, target: str, portal: str, iface_args: Sequence[str],
              timeout: float | None = None) -> bool:
        """Log in; False when the session already existed (exit 15).

        ``timeout`` should exceed the login window the node record sets
        (iscsid's own retries), so that iscsiadm reports why the login
        failed instead of being killed.
        """
        try:
            self.run([*self.node_args(target, portal, iface_args),
                      "--login"], timeout=timeout)
        except exception.SessionExists:
            return False
        return True

    def logout(self, target: str, portal: str,
               iface_args: Sequence[str]) -> None:
        """Log out of this iface's session only; none (21) is fine."""
        self.run([*self.node_args(target, portal, iface_args), "--logout"],
                 (0, 21))

    def node_delete(self, target: str, portal: str,
                    iface_args: Sequence[str]) -> None:
        self.run([*self.node_args(target, portal, iface_args),
                  "-o", "delete"], (0, 21))


def checked_iface_args(iface_args: Sequence[str]) -> list[str]:
    """A transport's iface arguments, refused unless they bind the command
    to one valid iface (``-I <name>``) and are plain argv words.

    The ``-I`` is what keeps a logout or a node delete away from the
    sessions and records of other ifaces, so a plugin may add arguments
    but never drop it.
    """
    if isinstance(iface_args, str):
        raise exception.InvalidInput(
            reason="iscsiadm iface arguments must be a list, not the "
                   "string %r" % iface_args)
    args = list(iface_args)
    if not all(isinstance(arg, str) and arg and not _CONTROL_RE.search(arg)
               for arg in args):
        raise exception.InvalidInput(
            reason="iscsiadm iface arguments must be non-empty text "
                   "without control characters: %r" % (args,))
    names = [args[index + 1] for index, arg in enumerate(args[:-1])
             if arg == "-I"]
    if len(names) != 1:
        raise exception.InvalidInput(
            reason="iscsiadm iface arguments must name exactly one iface "
                   "with -I: %r" % (args,))
    iface_mod.validate_name(names[0])
    return args


def _iface_name(iface_args: Sequence[str]) -> str:
    """The iface a checked ``iface_args`` names (the word after ``-I``)."""
    args = checked_iface_args(iface_args)
    return args[args.index("-I") + 1]


def _name_values(settings: Mapping[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in settings.items():
        args += ["-n", key, "-v", value]
    return args


def _kill(started: list[Any]) -> None:
    """Kill the hung iscsiadm processutils started (it does not).

    The whole process group goes: a root helper (sudo, rootwrap, nsenter)
    that forked iscsiadm would otherwise leave it running.  Each command
    starts its own session (``preexec_fn=os.setsid``), so the group is
    exactly that command's processes.
    """
    for process in started:
        try:
            if isinstance(process, subprocess.Popen):
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
            process.wait(timeout=5)
        except Exception:  # already gone: nothing left to stop
            LOG.debug("iscsiadm process %s already gone",
                      getattr(process, "pid", "?"))
