"""The one module that runs iscsiadm.

It builds argv lists (never shell strings), prepends the configured root
helper, runs them through ``oslo_concurrency.processutils`` with a timeout,
kills a hung iscsiadm, and turns open-iscsi's exit codes
(``include/iscsi_err.h``) into the typed errors of
:mod:`iscsi_transports.exception`.  Every command line that leaves this
module (logs, exceptions) has its CHAP secrets masked.  Output parsing lives
in :mod:`iscsi_transports.iscsiadm_parse`, exit codes and masking in
:mod:`iscsi_transports.iscsiadm_errors`, iface record management in
:mod:`iscsi_transports.iscsiadm_ifaces`.  The few other root commands
the library needs (``blockdev --flushbufs`` before a disk is deleted, see
:mod:`iscsi_transports.scsi`) go through :meth:`Iscsiadm.run_command`, the
same root helper and timeout.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import iscsiadm_errors as errors
from iscsi_transports import iscsiadm_parse as parse
from iscsi_transports import state

LOG = logging.getLogger(__name__)
#: A level no logger enables (logging.disable's floor is 0), given to
#: processutils so that it never logs a command line itself: level 1 still
#: showed mutual CHAP secrets wherever logging was fully enabled.
NEVER_LOGGED = -1

iscsiadm_opts = [
    cfg.StrOpt("iscsiadm_path", default="iscsiadm",
               help="The iscsiadm binary to run, as a name looked up on PATH "
                    "or an absolute path."),
    cfg.StrOpt("root_helper", default="",
               help="Command prepended to every iscsiadm command line, for "
                    "example 'sudo iscsi-transports-rootwrap /etc/iscsi-"
                    "transports/rootwrap.conf'. Split like a shell would, "
                    "never run through a shell. Empty runs iscsiadm "
                    "directly."),
    cfg.IntOpt("iscsiadm_timeout", default=120, min=1,
               help="Seconds an iscsiadm command may run before it is "
                    "killed and reported as timed out."),
    *state.state_opts,
]

# The exit-code table and secret masking live in iscsiadm_errors; they are
# part of this module's API too.
EXIT_CODES = errors.EXIT_CODES
mask_argv = errors.mask_argv
secrets_of = errors.secrets_of
error_for = errors.error_for


def _default_execute(*cmd: str, **kwargs: Any) -> tuple[str, str]:
    # Imported lazily: processutils pulls in eventlet checks and i18n that
    # the console script's cold start should not pay for until it runs
    # something.
    from oslo_concurrency import processutils
    return processutils.execute(*cmd, **kwargs)


class Iscsiadm:
    """Runs iscsiadm commands built from typed arguments."""

    def __init__(self, conf: cfg.ConfigOpts,
                 execute: Callable[..., tuple[str, str]] | None = None) -> None:
        from iscsi_transports import opts
        opts.register(conf, iscsiadm_opts)
        self.conf = conf
        self._execute = execute or _default_execute
        #: Every secret passed on a command line so far, scrubbed from
        #: the output of all later errors.
        self._secrets: set[str] = set()

    @property
    def options(self) -> Any:
        return self.conf.iscsi_transports

    def argv(self, args: Sequence[str]) -> list[str]:
        """The full command line: root helper, iscsiadm, ``args``."""
        helper = shlex.split(self.options.root_helper or "")
        return [*helper, self.options.iscsiadm_path, *args]

    def run(self, args: Sequence[str], ok_codes: Iterable[int] = (0,),
            ) -> str:
        """Run iscsiadm with ``args``; return stdout or raise a typed error.

        An exit code in ``ok_codes`` other than 0 (21 "no objects found"
        for listings) returns the output as success.
        """
        argv = self.argv(args)
        self._secrets.update(secrets_of(argv))
        shown = " ".join(mask_argv(argv))
        LOG.debug("Running %s", shown)
        started = time.monotonic()
        stdout, _stderr = self._run(argv, list(ok_codes))
        LOG.debug("%s succeeded in %.3fs", shown, time.monotonic() - started)
        return stdout

    def run_command(self, args: Sequence[str]) -> str:
        """Run another root command (``blockdev``) the way iscsiadm runs:
        root helper, timeout, masked logging; CommandFailed if it fails."""
        argv = [*shlex.split(self.options.root_helper or ""), *args]
        shown = " ".join(mask_argv(argv))
        LOG.debug("Running %s", shown)
        try:
            return self._run(argv, [0])[0]
        except exception.IscsiadmTimeout:
            reason = "killed after %s seconds" % self.options.iscsiadm_timeout
        except exception.IscsiadmError as error:
            reason = ("exit code %s: %s" % (error.exit_code, error.stderr)
                      if error.exit_code is not None else error.stderr)
        raise exception.CommandFailed(cmd=shown, reason=reason)

    def _run(self, argv: list[str], ok_codes: list[int]) -> tuple[str, str]:
        import subprocess

        from oslo_concurrency import processutils
        timeout = self.options.iscsiadm_timeout
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
            raise exception.IscsiadmTimeout(mask_argv(argv), timeout) from None
        except OSError as error:
            if error.errno not in (errno.ENOENT, errno.EACCES):
                raise
            raise exception.IscsiadmNotFound(mask_argv(argv), None,
                                             error.strerror or "") from None

    def _failed(self, argv: list[str], exit_code: int | None, stderr: str,
                stdout: str) -> exception.IscsiadmError:
        error = error_for(argv, exit_code, stderr, stdout, self._secrets)
        LOG.debug("%s", error.message)
        return error

    # -- locks and ifaces -----------------------------------------------------

    def lock_path(self) -> str:
        """[oslo_concurrency] lock_path when set, else <state_path>/locks."""
        return state.lock_path(self.conf)

    def external_lock(self, name: str) -> Any:
        """A lock held across processes (nova-compute, the console script),
        its file usable by both; see :func:`iscsi_transports.state.external_lock`."""
        return state.external_lock(self.conf, name)

    def ensure_iface(self, iface: iface_mod.Iface) -> str:
        """Make the iface record on disk match ``iface``; see
        :meth:`iscsi_transports.iscsiadm_ifaces.IfaceRecords.ensure`."""
        from iscsi_transports import iscsiadm_ifaces
        return iscsiadm_ifaces.IfaceRecords(self).ensure(iface)

    # -- listings -------------------------------------------------------------

    def sessions(self) -> list[parse.Session]:
        """Active sessions of every transport; none is an empty list."""
        return parse.parse_sessions(self.run(["-m", "session"], (0, 21)))

    def nodes(self) -> list[parse.Target]:
        return parse.parse_targets(self.run(["-m", "node"], (0, 21)))

    # -- discovery -----------------------------------------------------------

    def discover(self, portal: str, iface_name: str,
                 auth: dict[str, str] | None = None) -> list[parse.Target]:
        """SendTargets discovery through ``iface_name``.

        Without CHAP this is one process (``-m discovery``).  With
        discovery CHAP the settings go into a discoverydb record first
        (``-o new``, one ``-o update`` carrying every ``-n/-v`` pair) and
        ``--discover`` uses it: three processes.
        """
        db = ["-t", "sendtargets", "-p", portal, "-I", iface_name]
        if not auth:
            return parse.parse_discovery(self.run(["-m", "discovery", *db]))
        self.run(["-m", "discoverydb", *db, "-o", "new"])
        self.run(["-m", "discoverydb", *db, "-o", "update",
                  *_name_values(auth)])
        return parse.parse_discovery(
            self.run(["-m", "discoverydb", *db, "--discover"]))

    # -- nodes ---------------------------------------------------------------

    @staticmethod
    def node_args(target: str, portal: str, iface_name: str) -> list[str]:
        return ["-m", "node", "-T", target, "-p", portal, "-I", iface_name]

    def node_new(self, target: str, portal: str, iface_name: str) -> None:
        """A static node record bound to the iface (no discovery needed)."""
        self.run([*self.node_args(target, portal, iface_name), "-o", "new"])

    def node_update(self, target: str, portal: str, iface_name: str,
                    settings: dict[str, str]) -> None:
        """Set node fields, every pair in one ``-o update`` process."""
        if settings:
            self.run([*self.node_args(target, portal, iface_name),
                      "-o", "update", *_name_values(settings)])

    def login(self, target: str, portal: str, iface_name: str) -> None:
        """Log in; an existing session (exit 15) counts as success."""
        self.run([*self.node_args(target, portal, iface_name), "--login"],
                 (0, 15))

    def logout(self, target: str, portal: str, iface_name: str) -> None:
        """Log out of this iface's session only; none (21) is fine."""
        self.run([*self.node_args(target, portal, iface_name), "--logout"],
                 (0, 21))

    def node_delete(self, target: str, portal: str, iface_name: str) -> None:
        self.run([*self.node_args(target, portal, iface_name),
                  "-o", "delete"], (0, 21))


def _name_values(settings: dict[str, str]) -> list[str]:
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
    import signal
    import subprocess
    for process in started:
        try:
            if isinstance(process, subprocess.Popen):
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
            process.wait(timeout=5)
        except Exception:  # already gone: nothing left to stop
            LOG.debug("iscsiadm process %s already gone",
                      getattr(process, "pid", "?"))
