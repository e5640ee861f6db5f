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

"""A checklist per transport that says what an operator must fix.

``iscsi-transports doctor`` answers "why is my offload card not used?"
one check at a time: hardware, kernel module, iSCSI host ports, the iface
records on disk, the helper daemon, the route to a portal, and finally
what the driver would use and why.  Everything is read, nothing is
changed: iface records are read from ``iface_dir`` directly (no iscsiadm,
so no root helper needed) and daemons are found through ``proc_root``.

The privileges section (asked for: it starts a daemon, and it describes
this host's setup, not a replayed snapshot's) says whether the service
user's way to root works:
the state directory (exists or can be created, owner, mode), lock files in
the lock path that another user left, and whether the library's privsep
daemon really starts and answers (started, asked for the initiator name
file, with a time limit).  Run as the service user (``sudo -u nova
iscsi-transports doctor --config-file /etc/nova/nova.conf``) it checks that
user's own setup; run as root, a daemon that cannot start is a warning,
since root runs the root operations in process.

The multipath section says whether multipathd runs and what it will do for
the arrays behind this host's iSCSI sessions (``find_multipaths``,
``no_path_retry``): it asks the daemon (``multipathd show config``, a
read-only command) through the root executor like every other command,
and only when the daemon's socket listens, so a host without multipath
runs no process for it.
"""

from __future__ import annotations

import glob
import os
import stat
import threading
import time
import typing
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from iscsi_transports import base
from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import multipathd as multipathd_mod
from iscsi_transports import openiscsi
from iscsi_transports import portal as portal_mod
from iscsi_transports import state
from iscsi_transports.attach import inventory
from iscsi_transports.iscsiadm import nodes
from iscsi_transports.iscsiadm import parse
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import network as network_mod

if typing.TYPE_CHECKING:
    from iscsi_transports.privileged import client

doctor_opts = [
    cfg.StrOpt(
        "iface_dir",
        help="Where open-iscsi keeps its iface records; unset means the "
             "ifaces directory of open-iscsi's records directory "
             "(iscsi_db_path, else the one the installed iscsiadm was "
             "built with: /etc/iscsi/ifaces on Debian 12, "
             "/var/lib/iscsi/ifaces on Debian 13). doctor and snapshot "
             "read them from here (read-only)."),
    cfg.StrOpt(
        "proc_root", default="/proc",
        help="Where procfs is mounted. doctor looks for daemons such as "
             "iscsid and iscsiuio in <proc_root>/<pid>/comm, and for the "
             "sockets systemd holds for them and multipathd's socket in "
             "<proc_root>/net/unix."),
    cfg.StrOpt(
        "initiator_name_file", default="/etc/iscsi/initiatorname.iscsi",
        help="The file in which open-iscsi keeps this host's initiator "
             "name. doctor checks that it holds a valid name (read-only)."),
    cfg.StrOpt(
        "modules_dir",
        help="The running kernel's module directory; unset means "
             "/lib/modules/<kernel release>. doctor looks for iscsi_tcp in "
             "its modules.dep and modules.builtin when it is not loaded."),
]

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "-"
#: Daemons, by process name, and the abstract sockets they listen on (which
#: systemd holds instead when they are socket-activated).
ISCSID = "iscsid"
ISCSIUIO = "iscsiuio"
SOCKETS = {ISCSID: "@ISCSIADM_ABSTRACT_NAMESPACE",
           ISCSIUIO: "@ISCSID_UIP_ABSTRACT_NAMESPACE"}
#: The kernel module every software iSCSI session over TCP needs.
ISCSI_TCP = "iscsi_tcp"
MULTIPATHD = "multipathd"
#: Seconds the privsep daemon may take to start and answer.
PRIVSEP_TIMEOUT = 30.0


class Check(typing.NamedTuple):
    """One line of the checklist."""

    check: str
    status: str
    detail: str


class RecordFile(typing.NamedTuple):
    """One file in ``iface_dir``: its record, or why it could not be read."""

    name: str
    record: iface_mod.Iface | None
    error: str | None = None


def iface_dir(conf: cfg.ConfigOpts) -> str:
    """``iface_dir`` as configured, else the one open-iscsi uses; "" when
    that is not known (:func:`open_iscsi_check` says why)."""
    config.register(conf, [*doctor_opts, *nodes.nodes_opts])
    options = conf.iscsi_transports
    if options.iface_dir:
        return str(options.iface_dir)
    try:
        return os.path.join(nodes.db_root(options.iscsi_db_path), "ifaces")
    except exception.OpenIscsiBuildUnknown:
        return ""


def read_records(iface_dir: str) -> list[RecordFile]:
    """Every iface record file, parsed; unreadable ones keep their error."""
    try:
        names = sorted(name for name in os.listdir(iface_dir)
                       if not name.startswith("."))
    except OSError:
        return []
    files = []
    for name in names:
        path = os.path.join(iface_dir, name)
        try:
            # A FIFO (or device) would block the open forever.
            if not os.path.isfile(path):
                raise OSError("not a regular file: %s" % path)
            with open(path, encoding="utf-8") as fh:
                files.append(RecordFile(name, iface_mod.parse_record(
                    fh.read(), name=name)))
        except (OSError, UnicodeDecodeError,
                exception.IscsiTransportsError) as error:
            files.append(RecordFile(name, None, str(error)))
    return files


def running(proc_root: str, comm: str) -> list[int]:
    """Process ids whose ``comm`` is ``comm``, lowest first."""
    try:
        pids = sorted(int(name) for name in os.listdir(proc_root)
                      if name.isdigit())
    except OSError:
        return []
    found = []
    for pid in pids:
        try:
            with open(os.path.join(proc_root, str(pid), "comm"),
                      encoding="utf-8") as handle:
                if handle.read().strip() == comm:
                    found.append(pid)
        except OSError:
            continue  # the process exited while we looked
    return found


def listening(proc_root: str, socket_name: str) -> bool:
    """Whether a unix socket named ``socket_name`` is bound (any state)."""
    try:
        with open(os.path.join(proc_root, "net", "unix"),
                  encoding="utf-8") as table:
            return any(line.split()[-1:] == [socket_name] for line in table)
    except OSError:
        return False


def daemon_status(proc_root: str, comm: str) -> str | None:
    """How ``comm`` serves requests: running, socket-activated, or None."""
    pids = running(proc_root, comm)
    if pids:
        return "%s running (pid %s)" % (comm, pids[0])
    if listening(proc_root, SOCKETS[comm]):
        return ("%s.socket listening: systemd starts %s on first use"
                % (comm, comm))
    return None


def modules_dir() -> str:
    """The running kernel's module directory, as modprobe finds it."""
    return os.path.join("/lib/modules", os.uname().release)


def module_available(modules_dir: str, name: str) -> bool:
    """Whether ``modules.dep`` or ``modules.builtin`` in ``modules_dir``
    lists module ``name`` (modprobe spells ``-`` and ``_`` alike)."""
    wanted = name.replace("-", "_")
    for index in ("modules.dep", "modules.builtin"):
        try:
            with open(os.path.join(modules_dir, index),
                      encoding="utf-8") as lines:
                for line in lines:
                    path = line.split(":", 1)[0].strip()
                    module = os.path.basename(path).split(".ko", 1)[0]
                    if module.replace("-", "_") == wanted:
                        return True
        except OSError:
            continue
    return False


def initiator_name(path: str) -> tuple[str | None, str]:
    """The ``InitiatorName=`` value in ``path`` and why it is unusable.

    Messages name the file, not its directory, so that a replayed snapshot
    says exactly what the host said.
    """
    shown = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except (OSError, UnicodeDecodeError) as error:
        return None, "%s cannot be read (%s): install open-iscsi" % (
            shown, getattr(error, "strerror", None) or error)
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "InitiatorName":
            value = value.strip()
            if portal_mod.is_target_name(value):
                return value, ""
            return None, ("%s: InitiatorName %r is not an iqn., eui. or naa. "
                          "name" % (shown, value))
    if any(line.replace(" ", "") == "GenerateName=yes" for line in lines):
        return None, ("%s has no name yet (GenerateName=yes): iscsid writes "
                      "one when it starts: systemctl restart iscsid" % shown)
    return None, "%s has no InitiatorName= line" % shown


def _mode(info: os.stat_result) -> str:
    return "%04o" % stat.S_IMODE(info.st_mode)


def state_dir_check(path: str) -> Check:
    """The state directory: there (owner, mode, writable here, reached
    through no link the library refuses) or who can create it.  Nothing
    is created."""
    name = "state dir"
    fix = "install -d -o nova -g nova -m 0750 %s" % path
    try:
        info = os.stat(path)
    except FileNotFoundError:
        parent = os.path.dirname(os.path.normpath(path))
        try:
            owner = os.stat(parent)
        except OSError:
            return Check(name, FAIL, "%s and its parent %s do not exist: %s"
                         % (path, parent, fix))
        if owner.st_uid == 0 and not owner.st_mode & 0o022:
            return Check(name, WARN, "%s does not exist and only root may "
                         "create it in %s: %s" % (path, parent, fix))
        # Whoever runs doctor (the service user, in the guide) is who will
        # create it: the parent's owner may be someone else.
        if not os.access(parent, os.W_OK | os.X_OK):
            return Check(name, FAIL, "%s does not exist and uid %d cannot "
                         "create it in %s: %s" % (path, os.geteuid(), parent,
                                                  fix))
        return Check(name, OK, "%s does not exist yet; uid %d creates it in "
                     "%s on first use" % (path, os.geteuid(), parent))
    except OSError as error:
        return Check(name, FAIL, "%s cannot be examined (%s): %s"
                     % (path, error.strerror, fix))
    if not stat.S_ISDIR(info.st_mode):
        return Check(name, FAIL, "%s is not a directory: %s" % (path, fix))
    detail = "%s (uid %d, gid %d, mode %s)" % (path, info.st_uid,
                                              info.st_gid, _mode(info))
    if not os.access(path, os.W_OK | os.X_OK):
        return Check(name, FAIL, "%s is not writable by uid %d: chown the "
                     "service user onto it" % (detail, os.geteuid()))
    # os.stat followed any link: open it (and what is in it) the way the
    # library will, which refuses the links another user could swap.
    for sub in ("", *state.SUBDIRS):
        target = os.path.join(path, sub)
        if sub and not os.path.lexists(target):
            continue
        try:
            os.close(state.open_directory(target, fix))
        except exception.StateDirUnusable as error:
            return Check(name, FAIL, str(error))
    if info.st_uid == 0 and not info.st_mode & 0o020:
        return Check(name, WARN, "%s: only root can write in it, a service "
                     "user cannot (chown nova:nova %s)" % (detail, path))
    return Check(name, OK, detail)


def lock_files_check(path: str) -> Check:
    """Lock files of the library in ``path`` whose owner is not the
    directory's: the service user may be unable to open them."""
    name = "lock files"
    try:
        owner = os.stat(path).st_uid
        names = sorted(entry for entry in os.listdir(path)
                       if entry.startswith(state.LOCK_PREFIX))
    except FileNotFoundError:
        return Check(name, OK, "%s does not exist yet (created on first "
                     "use)" % path)
    except OSError as error:
        return Check(name, FAIL, "%s cannot be read (%s)" % (path,
                                                              error.strerror))
    foreign = []
    for entry in names:
        try:
            if os.lstat(os.path.join(path, entry)).st_uid != owner:
                foreign.append(entry)
        except FileNotFoundError:
            continue  # removed meanwhile
    if foreign:
        return Check(name, FAIL, "%d in %s not owned by its owner (uid %d), "
                     "e.g. %s: chown --reference=%s %s/%s*" % (
                         len(foreign), path, owner, foreign[0], path, path,
                         state.LOCK_PREFIX))
    return Check(name, OK, "%d in %s, all owned by uid %d"
                 % (len(names), path, owner))


def leftovers_check(conf: cfg.ConfigOpts, sysfs_root: str) -> Check:
    """Volumes left failed on the host: sessions not logged in, disks
    whose LUN the target no longer reports, maps with no live path (what
    ``iscsi-transports volumes`` shows as ``failed`` or ``lun-gone``).
    A warning: they cost kernel errors and retries, not attaches."""
    name = "leftovers"
    found = inventory.read(conf, sysfs_root=sysfs_root,
                           processes=False).leftovers
    if not found:
        return Check(name, OK, "no failed session, gone LUN or map without "
                     "a live path")
    shown = ["%s (%s)" % (volume.device, volume.state) for volume in found]
    return Check(name, WARN, "%d volume%s left failed: %s; see "
                 "iscsi-transports volumes" % (
                     len(found), "" if len(found) == 1 else "s",
                     ", ".join(shown[:5]) + (", ..." if len(shown) > 5
                                             else "")))


def open_iscsi_check() -> tuple[Check, openiscsi.Build | None]:
    """Where the installed iscsiadm keeps its records and its lock (read
    from the binary, as the root daemon reads them), and its version."""
    name = "open-iscsi"
    try:
        build = openiscsi.installed()
    except exception.OpenIscsiBuildUnknown as error:
        return Check(name, FAIL, str(error)), None
    return Check(name, OK, "iscsiadm %s (%s): records in %s, lock in %s"
                 % (build.version_text, build.binary, build.db_root,
                    build.lock_dir)), build


def stale_lock_check(build: openiscsi.Build, proc_root: str,
                     now: Callable[[], float] = time.time) -> Check:
    """Whether open-iscsi's ``lock.write`` stays taken by a holder that is
    gone (killed between its ``link`` and ``unlink``): older than the 30 s
    anyone waits for it while no iscsiadm runs.  What that does depends on
    the version (:func:`openiscsi.takes_over_stale_lock`)."""
    name = "record lock"
    path = os.path.join(build.lock_dir, "lock.write")
    try:
        taken = os.lstat(path).st_ctime  # link() sets it, not mtime
    except FileNotFoundError:
        return Check(name, OK, "%s is not taken" % path)
    except OSError as error:
        return Check(name, WARN, "%s cannot be examined by uid %d (%s): run "
                     "doctor as root to look for a stale lock"
                     % (path, os.geteuid(), error.strerror))
    age = max(0, int(now() - taken))
    holders = running(proc_root, "iscsiadm")
    if holders or age <= openiscsi.LOCK_WAIT:
        return Check(name, OK, "%s taken %d s ago%s" % (
            path, age, " (iscsiadm runs: pid %s)" % ", ".join(
                map(str, holders)) if holders else ""))
    if openiscsi.takes_over_stale_lock(build.version):
        effect = (WARN, "iscsiadm %s waits 30 s for it on every record "
                  "access, then goes on and removes it"
                  % build.version_text)
    else:
        effect = (FAIL, "iscsiadm %s fails with exit 6 on every record "
                  "access, and the library's record writes are refused, "
                  "until it is removed" % build.version_text)
    return Check(name, effect[0], "stale lock %s: taken %d s ago and no "
                 "iscsiadm runs (its holder is gone); %s: check that no "
                 "iscsiadm runs (pgrep -x iscsiadm), then rm %s"
                 % (path, age, effect[1], path))


def probe_privsep(timeout: float) -> str:
    """Start the library's privsep daemon and ask it for the initiator name
    file; what it answered, or PrivsepUnavailable (also when it takes more
    than ``timeout`` seconds: the start command may be stuck)."""
    from iscsi_transports.privileged import client
    outcome: list[BaseException | str] = []

    def run() -> None:
        try:
            name = client.executor(in_process=False).read_initiator_file()
            outcome.append("started; it read the initiator name file (%s)"
                           % (name or "no name in it"))
        except BaseException as error:  # reported by the caller's thread
            outcome.append(error)

    thread = threading.Thread(target=run, name="privsep-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise exception.PrivsepUnavailable(
            reason="no answer within %g seconds" % timeout)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def privsep_check(probe: Callable[[float], str]) -> Check:
    """Whether the daemon starts and answers; a failure is fatal only to a
    service user (root runs the root operations in process)."""
    name = "privsep"
    try:
        return Check(name, OK, probe(PRIVSEP_TIMEOUT))
    except exception.IscsiTransportsError as error:
        if os.geteuid() == 0:
            return Check(name, WARN, "root runs the root operations in "
                         "process, but a service user's daemon would not "
                         "start: %s" % error)
        return Check(name, FAIL, str(error))


class Doctor:
    """Builds the checklist for every transport the manager loaded.

    ``privileges`` adds the privileges section; ``privsep_probe`` starts
    the privsep daemon for it and returns what it answered
    (:func:`probe_privsep`, the default).
    """

    def __init__(self, manager: manager_mod.TransportManager,
                 portal: str | None = None,
                 config_problems: typing.Sequence[str] = (),
                 executor: client.Executor | None = None,
                 privsep_probe: Callable[[float], str] | None = None,
                 privileges: bool = False) -> None:
        self.manager = manager
        self.portal = portal
        self.executor = executor
        self.check_privileges = privileges
        self.privsep_probe = privsep_probe
        #: Problems the caller found in the configuration files; the
        #: manager adds what it finds in the values.
        self.config_problems = [*config_problems,
                                *manager.config_problems()]
        config.register(manager.conf, doctor_opts)
        options = manager.conf.iscsi_transports
        self.proc_root = options.proc_root
        self.modules_dir = options.modules_dir or modules_dir()
        self.initiator_name_file = options.initiator_name_file
        self.iface_dir = iface_dir(manager.conf)
        self.records = read_records(self.iface_dir)
        self.route = self._route() if portal else None

    def _route(self) -> network_mod.Route | None:
        host = portal_mod.parse_portal(self.portal or "").host
        try:
            return self.manager.network.route_to(host)
        except ValueError:  # a host name: the kernel routes addresses
            return None

    def report(self) -> dict[str, Any]:
        """The whole checklist, the driver's choice and whether it is
        healthy (the configured transport is used, no fallback)."""
        transports = [self.transport_report(name)
                      for name in self.manager.transports]
        verdict, healthy = self._verdict()
        basics = self.basics()
        privileges = self.privileges()
        healthy = healthy and not self.config_problems and all(
            check.status != FAIL for check in [*basics, *privileges])
        return {"portal": self.portal,
                "route": self.route.as_dict() if self.route else None,
                "config_problems": list(self.config_problems),
                "basics": [check._asdict() for check in basics],
                "privileges": [check._asdict() for check in privileges],
                "transports": transports,
                "unreadable_records": [
                    {"name": item.name, "error": item.error}
                    for item in self.records if item.record is None],
                "load_failures": [failure.as_dict() for failure
                                  in self.manager.load_failures],
                "multipath": self.multipath_report(),
                "active": verdict, "healthy": healthy}

    def basics(self) -> list[Check]:
        """What software iSCSI needs before any transport matters: iscsid,
        the iscsi_tcp module and the initiator name.  Every transport,
        offload ones too, goes through iscsid."""
        return [self._iscsid(), self._iscsi_tcp(), self._initiator_name(),
                *self._connector_initiator(), *self._iface_dir(),
                leftovers_check(self.manager.conf,
                                self.manager.host.sysfs_root)]

    def privileges(self) -> list[Check]:
        """What the service user needs to reach root and share state:
        the state directory, the lock files, the privsep daemon (none
        unless asked for)."""
        if not self.check_privileges:
            return []
        conf = self.manager.conf
        return [state_dir_check(state.directory(conf)),
                lock_files_check(state.lock_path(conf)),
                *self._open_iscsi(),
                privsep_check(self.privsep_probe or probe_privsep)]

    def _open_iscsi(self) -> list[Check]:
        """The installed open-iscsi's records and lock directories, and a
        stale lock in the latter."""
        check, build = open_iscsi_check()
        if build is None:
            return [check]
        return [check, stale_lock_check(build, self.proc_root)]

    def _iscsid(self) -> Check:
        status = daemon_status(self.proc_root, ISCSID)
        if status:
            return Check(ISCSID, OK, status)
        return Check(ISCSID, FAIL, "iscsid is not running and no socket "
                     "listens for it: systemctl enable --now iscsid.socket "
                     "(or start iscsid)")

    def _iscsi_tcp(self) -> Check:
        if self.manager.host.module_loaded(ISCSI_TCP):
            return Check(ISCSI_TCP, OK, "%s loaded" % ISCSI_TCP)
        if module_available(self.modules_dir, ISCSI_TCP):
            return Check(ISCSI_TCP, OK, "%s installed for this kernel "
                         "(loaded on first login)" % ISCSI_TCP)
        return Check(ISCSI_TCP, FAIL, "%s is neither loaded nor installed "
                     "for this kernel (modules.dep): install the kernel's "
                     "modules package (on Ubuntu linux-modules-extra-"
                     "$(uname -r))" % ISCSI_TCP)

    def _iface_dir(self) -> list[Check]:
        """A warning when this user cannot list the iface records (open-
        iscsi's directory is 0700 root's on some distributions): the
        record checks below would otherwise say nothing of them."""
        path = self.iface_dir
        if not os.path.isdir(path) or os.access(path, os.R_OK | os.X_OK):
            return []
        return [Check("iface records", WARN, "%s is not readable by uid %d: "
                      "no iface record is checked (run doctor as root to "
                      "check them)" % (path, os.geteuid()))]

    def _initiator_name(self) -> Check:
        path = self.initiator_name_file
        if os.path.isfile(path) and not os.access(path, os.R_OK):
            # Debian's is root's alone (0600): a service user's doctor.
            return Check("initiatorname", WARN, "%s is not readable by uid "
                         "%d: the library reads it through its privsep "
                         "daemon (doctor --privileges checks that it starts)"
                         % (os.path.basename(path), os.geteuid()))
        name, problem = initiator_name(path)
        if name:
            return Check("initiatorname", OK, name)
        return Check("initiatorname", FAIL, problem)

    def _connector_initiator(self) -> list[Check]:
        """A warning when the iface attaches would use logs in with a name
        other than the host's file's (its record's ``iface.initiatorname``
        or its card port's own): under ``iscsi-transports run`` nova and
        cinder report that name (os-brick's ``get_connector_properties``),
        so the array must export volumes to it."""
        try:
            selection = self.manager.active(portal=self.portal)
        except exception.TransportUnusable:
            return []
        records = {item.name: item.record for item in self.records
                   if item.record}
        record = records.get(selection.iface.name)
        hosts = {host.name: host.initiatorname
                 for host in self.manager.host.iscsi_hosts}
        port_host = selection.port.host if selection.port else None
        used = (selection.iface.initiatorname or
                (record.initiatorname if record else None) or
                hosts.get(port_host or ""))
        host_name = parse.read_initiator_name(self.initiator_name_file)
        if used is None or used == host_name:
            return []
        return [Check("connector initiator", WARN, "%s (the iface attaches "
                      "use) logs in as %s, not %s (%s): nova and cinder run "
                      "under iscsi-transports run report %s to the array; "
                      "without run they report the file's name and the "
                      "array refuses the login" % (
                          selection.iface.name, used, host_name or "unset",
                          os.path.basename(self.initiator_name_file), used))]

    def _verdict(self) -> tuple[dict[str, Any], bool]:
        try:
            selection = self.manager.active(portal=self.portal)
        except exception.TransportUnusable as error:
            return {"transport": None, "iface": None, "fallback": False,
                    "reason": str(error)}, False
        return selection.as_dict(), not selection.fallback

    def transport_report(self, name: str) -> dict[str, Any]:
        transport = self.manager.get(name)
        detection = self.manager.detect(name)
        checks = [self._enabled(name), *self._hardware(transport, detection)]
        records = self._records(transport, detection)
        if detection.hardware or detection.ports or detection.usable:
            checks += [self._module(transport, detection),
                       *self._ports(transport, detection), *records,
                       *self._initiators(transport, detection),
                       self._helper(transport, detection)]
            if self.portal:
                checks.append(self._route_check(transport, detection))
        elif records[0].status != SKIP:
            checks += records  # records left behind by a removed card
        return {"name": name, "offload": transport.offload,
                "enabled": detection.enabled, "usable": detection.usable,
                "reason": detection.reason,
                "checks": [check._asdict() for check in checks]}

    def _enabled(self, name: str) -> Check:
        if self.manager.is_enabled(name):
            return Check("enabled", OK, "enabled")
        return Check("enabled", SKIP, "disabled: add %s to [iscsi_transports]"
                     " enabled_transports to use it" % name)

    def _hardware(self, transport: base.Transport,
                  detection: base.Detection) -> list[Check]:
        if transport.offload:
            return [Check("hardware", OK, "%s (%s) at %s, driver %s" % (
                item.model or "unknown model", item.pci_id, item.pci_address,
                item.driver or "none")) for item in detection.hardware] or \
                [Check("hardware", SKIP, "none found")]
        found = [port.netdev or port.host or "?" for port in detection.ports]
        if found:
            return [Check("hardware", OK, ", ".join(found))]
        return [Check("hardware", OK if detection.usable else SKIP,
                      "none needed" if detection.usable else "none found")]

    def _module(self, transport: base.Transport,
                detection: base.Detection) -> Check:
        modules = " ".join(transport.kernel_modules) or "none"
        if detection.module_loaded:
            return Check("module", OK, "%s loaded" % modules)
        if detection.hardware and transport.offload:
            return Check("module", FAIL, "%s not loaded: modprobe %s"
                         % (modules, modules))
        return Check("module", SKIP if not detection.usable else OK,
                     "%s not loaded" % modules +
                     (" (loaded on first login)" if detection.usable else ""))

    def _ports(self, transport: base.Transport,
               detection: base.Detection) -> list[Check]:
        if not transport.offload:
            return [Check("ports", OK if detection.usable else SKIP,
                          "built-in iface %s" % transport.builtin_iface)]
        if not detection.ports:
            status = FAIL if detection.hardware else SKIP
            return [Check("ports", status, "no iSCSI host ports")]
        return [Check("ports", OK if port.iface_name else FAIL, "%s %s %s%s"
                      % (port.host, port.netdev or "-", port.hwaddress or
                         "no hwaddress", " ip %s" % port.ipaddress
                         if port.ipaddress else ""))
                for port in detection.ports]

    def _records(self, transport: base.Transport,
                 detection: base.Detection) -> list[Check]:
        mine = {item.name: item.record for item in self.records
                if item.record and item.record.transport_name ==
                transport.name}
        checks = [self._record_check(transport, detection, port,
                                     mine.pop(port.iface_name, None))
                  for port in detection.ports
                  if transport.offload and port.iface_name]
        checks += [self._stale_check(transport, record)
                   for record in mine.values()]
        return checks or [Check("iface record", SKIP, "none on disk")]

    def _initiators(self, transport: base.Transport,
                    detection: base.Detection) -> list[Check]:
        """Which initiator name each offload port logs in with: its iface
        record's ``iface.initiatorname``, else its iSCSI host's own.  A
        name other than the host's file means cinder must export the
        volumes to that name, or the login is refused."""
        if not transport.offload:
            return []
        hosts = {host.name: host.initiatorname
                 for host in self.manager.host.iscsi_hosts}
        records = {item.name: item.record for item in self.records
                   if item.record}
        host_name = parse.read_initiator_name(self.initiator_name_file)
        checks = []
        for port in detection.ports:
            record = records.get(port.iface_name or "")
            used = (record.initiatorname if record else None) or \
                hosts.get(port.host or "")
            if used is None or used == host_name:
                checks.append(Check("initiator", OK, "%s logs in as %s" % (
                    port.iface_name, used or host_name or "the host's "
                    "initiator name")))
            else:
                checks.append(Check(
                    "initiator", WARN, "%s logs in as %s, not %s (%s): "
                    "cinder must export volumes to %s" % (
                        port.iface_name, used, host_name or "unset",
                        self.initiator_name_file, used)))
        return checks

    def _record_check(self, transport: base.Transport,
                      detection: base.Detection, port: base.Port,
                      record: iface_mod.Iface | None) -> Check:
        if record is None:
            return Check("iface record", WARN, "%s: not on disk (the driver "
                         "creates it on first attach)" % port.iface_name)
        problems = transport.validate_iface(record, detection)
        try:
            wanted = transport.iface_for_port(port)
            problems += ["%s is %s, expected %s" % (key, have, want) for
                         key, (have, want) in iface_mod.differences(
                             record, wanted).items()]
        except exception.InvalidInput as error:
            problems.append(str(error))
        if problems:
            return Check("iface record", FAIL, "%s: %s" % (
                record.name, "; ".join(problems)))
        return Check("iface record", OK, "%s present and matches the "
                     "hardware" % record.name)

    def _stale_check(self, transport: base.Transport,
                     record: iface_mod.Iface) -> Check:
        macs = {dev.hwaddress for dev in self.manager.host.netdevs.values()}
        macs |= {host.hwaddress for host in self.manager.host.iscsi_hosts}
        if record.hwaddress and record.hwaddress not in macs:
            return Check("iface record", FAIL, "%s is stale: hwaddress %s no "
                         "longer exists on this host (iscsiadm -m iface -I %s"
                         " -o delete)" % (record.name, record.hwaddress,
                                          record.name))
        return Check("iface record", OK if not transport.offload else WARN,
                     "%s present%s" % (record.name, "" if not transport.offload
                                       else ", but no usable port matches it"))

    def _helper(self, transport: base.Transport,
                detection: base.Detection) -> Check:
        if not transport.needs_iscsiuio:
            return Check("helper daemon", SKIP, "none needed")
        status = daemon_status(self.proc_root, ISCSIUIO)
        if status:
            return Check("helper daemon", OK, status)
        return Check("helper daemon", FAIL if detection.hardware else SKIP,
                     "%s is not running and no socket listens for it: "
                     "systemctl enable --now iscsiuio.socket" % ISCSIUIO)

    def _route_check(self, transport: base.Transport,
                     detection: base.Detection) -> Check:
        if self.route is None:
            return Check("route", FAIL, "no route to %s" % self.portal)
        text = "%s goes out %s" % (self.portal, self.route.describe())
        if not transport.offload:
            return Check("route", OK, text)
        if detection.ports and not any(port.netdev
                                       for port in detection.ports):
            return Check("route", SKIP, "%s ports route on their own IP "
                         "stack: not checked" % transport.name)
        on_route = [port.host for port in detection.ports
                    if port.netdev == self.route.netdev]
        if on_route:
            return Check("route", OK, "%s, port %s" % (text, on_route[0]))
        return Check("route", SKIP, "%s, not through any %s port"
                     % (text, transport.name))

    # -- multipath -----------------------------------------------------------

    def multipath_report(self) -> dict[str, Any]:
        """multipathd's state and its settings for the arrays this host
        has iSCSI disks from.  Informational: it never makes the report
        unhealthy, since volumes attach without multipath unless asked."""
        pids = running(self.proc_root, MULTIPATHD)
        daemon = multipathd_mod.Multipathd(self.manager.conf,
                                           self._executor(), self.proc_root)
        listening = daemon.listening()
        checks = [self._daemon_check(pids, listening)]
        arrays: list[dict[str, Any]] = []
        if not listening:
            checks.append(Check("configuration", SKIP, "not read: "
                                "multipathd does not answer"))
            return self._multipath_dict(pids, listening, arrays, checks)
        try:
            conf = daemon.config()
        except exception.IscsiTransportsError as error:
            checks.append(Check("configuration", WARN, "could not be read: "
                                "%s" % error))
        else:
            found = [multipathd_mod.settings_for(conf, vendor, product)
                     for vendor, product in iscsi_arrays(
                         self.manager.host.sysfs_root)]
            checks.append(self._find_multipaths_check(
                multipathd_mod.settings_for(conf, "", "")))
            checks += [self._array_check(item) for item in found]
            arrays = [dict(item._asdict(), queueing=item.queueing)
                      for item in found]
        return self._multipath_dict(pids, listening, arrays, checks)

    @staticmethod
    def _multipath_dict(pids: list[int], listening: bool,
                        arrays: list[dict[str, Any]],
                        checks: list[Check]) -> dict[str, Any]:
        return {"running": listening, "pid": pids[0] if pids else None,
                "socket": listening, "arrays": arrays,
                "checks": [check._asdict() for check in checks]}

    def _executor(self) -> client.Executor:
        if self.executor is None:
            # oslo.privsep is imported only when a command is run.
            from iscsi_transports.privileged import client
            self.executor = client.executor()
        return self.executor

    @staticmethod
    def _daemon_check(pids: list[int], listening: bool) -> Check:
        if listening:
            return Check(MULTIPATHD, OK, "%s, socket %s listening" % (
                "running (pid %d)" % pids[0] if pids else
                "socket-activated", multipathd_mod.SOCKET))
        if pids:
            return Check(MULTIPATHD, WARN, "pid %d runs but its socket %s "
                         "does not listen" % (pids[0], multipathd_mod.SOCKET))
        return Check(MULTIPATHD, WARN, "not running: multipath volumes "
                     "cannot attach (systemctl enable --now multipathd)")

    @staticmethod
    def _find_multipaths_check(
            settings: multipathd_mod.ArraySettings) -> Check:
        value = settings.find_multipaths
        meaning = {
            "strict": "maps only for WWIDs in the wwids file: the library "
                      "adds each multipath volume's WWID (multipath -a)",
            "yes": "maps for WWIDs with two paths or in the wwids file",
            "on": "maps for WWIDs with two paths or in the wwids file",
            "greedy": "maps for every WWID not blacklisted",
            "no": "maps for every WWID not blacklisted",
            "off": "maps for every WWID not blacklisted",
            "smart": "waits find_multipaths_timeout for a second path",
        }.get(value, "unknown value")
        return Check("find_multipaths", OK, "%s: %s" % (value, meaning))

    @staticmethod
    def _array_check(settings: multipathd_mod.ArraySettings) -> Check:
        status = WARN if settings.queues_forever else OK
        return Check("no_path_retry", status, "%s %s: %s (from %s); I/O "
                     "with no path left is %s" % (
                         settings.vendor, settings.product,
                         settings.no_path_retry or "not set",
                         settings.no_path_retry_from, settings.queueing))


def iscsi_arrays(sysfs_root: str) -> list[tuple[str, str]]:
    """(vendor, model) of the SCSI devices under iSCSI sessions, each
    pair once, as INQUIRY reports them (blanks stripped)."""
    found: set[tuple[str, str]] = set()
    pattern = os.path.join(sysfs_root, "class", "iscsi_session", "session*",
                           "device", "target*", "*:*:*:*")
    for device in glob.glob(pattern):
        try:
            with open(os.path.join(device, "vendor"), encoding="ascii",
                      errors="replace") as vendor, \
                    open(os.path.join(device, "model"), encoding="ascii",
                         errors="replace") as model:
                found.add((vendor.read().strip(), model.read().strip()))
        except OSError:
            continue  # the device went away while we looked
    return sorted(found)
