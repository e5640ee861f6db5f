"""Benchmark 6: what the privilege path costs per attach.

The root work of one single-path CHAP attach, done three ways in the same
run, each against the same scripted ``iscsiadm`` (it exits 0 at once, so
what is measured is the privilege path, not iscsiadm):

* **privsep**: the library's daemon (``iscsi_transports.privileged``),
  already running, as nova's are after their first use: ``-m session``,
  ``-o new``, the CHAP lines written into the node record by the daemon
  (a record iscsiadm's format, under open-iscsi's lock), ``--login``;
* **rootwrap**: the same through ``oslo-rootwrap <conf> iscsiadm ...`` per
  command with the project's filters (nova's ``root_helper`` without the
  ``sudo`` in front, which only adds to it), CHAP as ``-o update`` arguments;
* **direct**: the same four iscsiadm processes with no helper: the floor.

Needs root (the daemon keeps CAP_SYS_ADMIN) and oslo.rootwrap
(``benchmarks/requirements.txt``).  Goal: privsep costs less per attach
than per-command rootwrap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import _common

TARGET = "iqn.2026-11.org.openstack.test:volume-1"
PORTAL = "192.0.2.10:3260"
NODE = ["-m", "node", "-T", TARGET, "-p", PORTAL, "-I", "default"]
CHAP = {"node.session.auth.authmethod": "CHAP",
        "node.session.auth.username": "user",
        "node.session.auth.password": "bench-secret-1"}
RECORD = ("# BEGIN RECORD 2.1.8\nnode.name = %s\nnode.tpgt = -1\n"
          "iface.iscsi_ifacename = default\n"
          "node.session.auth.authmethod = None\n"
          "node.conn[0].address = 192.0.2.10\nnode.conn[0].port = 3260\n"
          "# END RECORD\n" % TARGET)
ROOTWRAP_CONF = """[DEFAULT]
filters_path = %(filters)s
exec_dirs = %(bin)s
use_syslog = False
"""


def commands_with_update() -> list[list[str]]:
    update = [*NODE, "-o", "update"]
    for key, value in CHAP.items():
        update += ["-n", key, "-v", value]
    return [["-m", "session"], [*NODE, "-o", "new"], update,
            [*NODE, "--login"]]


class Workspace:
    """A scripted iscsiadm, a node record, a lock dir, rootwrap's config."""

    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="bench-privilege.")
        self.bin = os.path.join(self.root, "bin")
        os.makedirs(self.bin)
        iscsiadm = os.path.join(self.bin, "iscsiadm")
        with open(iscsiadm, "w") as script:
            script.write("#!/bin/sh\nexit 0\n")
        os.chmod(iscsiadm, 0o700)
        target_dir = os.path.join(self.root, "etc-iscsi", "nodes", TARGET)
        os.makedirs(target_dir)
        with open(os.path.join(target_dir, "192.0.2.10,3260"), "w") as rec:
            rec.write(RECORD)
        self.conf = os.path.join(self.root, "rootwrap.conf")
        with open(self.conf, "w") as conf:
            conf.write(ROOTWRAP_CONF % {
                "filters": os.path.join(_common.REPO, "etc", "rootwrap.d"),
                "bin": self.bin})

    def destroy(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def run_all(prefix: list[str], commands: list[list[str]]) -> None:
    for args in commands:
        subprocess.run([*prefix, *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def privsep_attach(workspace: Workspace) -> tuple[object, object]:
    """One attach through a running daemon; returns (attach, stop)."""
    from oslo_privsep import priv_context

    from iscsi_transports import privileged
    from iscsi_transports.privileged import commands
    from iscsi_transports.privileged import paths
    commands.SECURE_PATH = workspace.bin
    paths.PATHS = paths.Paths(
        iscsi_db=os.path.join(workspace.root, "etc-iscsi"),
        iscsi_lock_dir=os.path.join(workspace.root, "lock"))
    privileged.context.start(priv_context.Method.FORK)
    executor = privileged.executor(in_process=False)

    def attach() -> None:
        executor.iscsiadm(["-m", "session"], 30)
        executor.iscsiadm([*NODE, "-o", "new"], 30)
        executor.write_node_auth(TARGET, PORTAL, "default", CHAP)
        executor.iscsiadm([*NODE, "--login"], 30)

    return attach, privileged.context.stop


def main() -> dict:
    _common.quiet_logging()
    if os.geteuid() != 0:
        raise SystemExit("bench_privilege needs root: the daemon keeps "
                         "CAP_SYS_ADMIN and rootwrap runs as root")
    rootwrap = shutil.which("oslo-rootwrap") or os.path.join(
        os.path.dirname(sys.executable), "oslo-rootwrap")
    have_rootwrap = os.path.exists(rootwrap)
    if not have_rootwrap:
        print("!!! oslo.rootwrap is NOT installed: only privsep and the floor "
              "are measured. Install benchmarks/requirements.txt.",
              file=sys.stderr)
    workspace = Workspace()
    try:
        attach, stop = privsep_attach(workspace)
        try:
            attach()  # the record and lock exist from here on
            privsep = _common.best_of(attach, repeat=5, number=5)
        finally:
            stop()  # type: ignore[operator]
        cmds = commands_with_update()
        direct = _common.best_of(
            lambda: run_all([os.path.join(workspace.bin, "iscsiadm")], cmds),
            repeat=5, number=5)
        wrapped = _common.best_of(
            lambda: run_all([rootwrap, workspace.conf, "iscsiadm"], cmds),
            repeat=3, number=2) if have_rootwrap else None
    finally:
        workspace.destroy()
    rows = [["privsep daemon", _common.ms(privsep), "1.0x"],
            ["rootwrap per command",
             _common.ms(wrapped) if wrapped else "n/a",
             "%.1fx" % (wrapped / privsep) if wrapped else "-"],
            ["direct (floor)", _common.ms(direct),
             "%.1fx" % (direct / privsep)]]
    _common.report(
        "privilege", "root work of one single-path CHAP attach",
        ["privilege path", "per attach", "vs privsep"], rows,
        {"privsep_s": privsep, "rootwrap_s": wrapped, "direct_s": direct,
         "goal_met": wrapped is not None and privsep < wrapped})
    return {"privsep": privsep, "rootwrap": wrapped, "direct": direct}


if __name__ == "__main__":
    main()
