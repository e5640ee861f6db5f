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

"""Benchmark 6: what the privilege path costs per attach.

The root work of one single-path CHAP attach, done by the library's own
code (the iscsiadm runner and the root-write seam, with the driver's node
settings) two ways in the same run, each against the same scripted
``iscsiadm`` (it exits 0 at once, so what is measured is the privilege path,
not iscsiadm): ``-o new``, the node settings with CHAP, ``--login``, and
the LUN scan.

* **privsep** (the default): the library's daemon
  (``iscsi_transports.privileged``), already running, as nova's are after
  their first use; the settings and CHAP lines are written into the node
  record by the daemon (a record in iscsiadm's format, under open-iscsi's
  lock: no ``-o update`` process), the scan is the daemon's write;
* **in process**: the same operations run by a caller that is root
  already (the console script run by an operator), no daemon.

The library has no per-command root-helper path any more (every root
operation goes through these operations), so rootwrap per command is not
measured.

The daemon's own start, once per service start, is measured apart: the
``privsep-helper`` process started, connected and stopped (through the
service's root helper it costs one rootwrap run more).

Needs root (the daemon keeps CAP_SYS_ADMIN).  Goal: the daemon costs at
most twice the in-process operations per attach.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable

import _common
from oslo_config import cfg

TARGET = "iqn.2026-11.org.openstack.test:volume-1"
PORTAL = "192.0.2.10:3260"
IFACE_ARGS = ["-I", "default"]
HOST = 7
CHAP = {"node.session.auth.authmethod": "CHAP",
        "node.session.auth.username": "user",
        "node.session.auth.password": "bench-secret-1"}
RECORD = ("# BEGIN RECORD 2.1.8\nnode.name = %s\nnode.tpgt = -1\n"
          "iface.iscsi_ifacename = default\n"
          "node.session.auth.authmethod = None\n"
          "node.conn[0].address = 192.0.2.10\nnode.conn[0].port = 3260\n"
          "# END RECORD\n" % TARGET)


class Workspace:
    """A scripted iscsiadm, a node record, a SCSI host's scan file, a lock
    dir."""

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
        self.sysfs = os.path.join(self.root, "sys")
        host = os.path.join(self.sysfs, "class", "scsi_host", "host%d" % HOST)
        os.makedirs(host)
        with open(os.path.join(host, "scan"), "w"):
            pass

    def destroy(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def library_conf(**options: object) -> cfg.ConfigOpts:
    from iscsi_transports import opts
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([])
    for name, value in options.items():
        conf.set_override(name, value, group="iscsi_transports")
    return conf


def attach_with(conf: cfg.ConfigOpts, executor: object = None
                ) -> Callable[[], None]:
    """The root work of ``ISCSIDriver._login`` and the LUN scan, through
    the runner built on ``conf`` and ``executor``."""
    from iscsi_transports.attach import driver as driver_mod
    from iscsi_transports.iscsiadm import runner
    iscsiadm = runner.Iscsiadm(conf, executor=executor)  # type: ignore[arg-type]
    writer = iscsiadm.privileged
    settings = {**driver_mod.ISCSIDriver(conf).node_settings(), **CHAP}

    def attach() -> None:
        iscsiadm.node_new(TARGET, PORTAL, IFACE_ARGS)
        iscsiadm.node_update(TARGET, PORTAL, IFACE_ARGS, settings)
        iscsiadm.login(TARGET, PORTAL, IFACE_ARGS)
        writer.scan_host(HOST, "0 0 1")

    return attach


def use_workspace(workspace: Workspace) -> None:
    """The daemon's fixed paths and command lookup, pointed at the
    workspace before it forks."""
    from iscsi_transports.privileged import commands
    from iscsi_transports.privileged import paths
    commands.SECURE_PATH = workspace.bin
    paths.PATHS = paths.Paths(
        sysfs=workspace.sysfs,
        iscsi_db=os.path.join(workspace.root, "etc-iscsi"),
        iscsi_lock_dir=os.path.join(workspace.root, "lock"))


def privsep_per_attach(workspace: Workspace) -> float:
    from oslo_privsep import priv_context

    from iscsi_transports import privileged
    from iscsi_transports.privileged import client
    privileged.context.start(priv_context.Method.FORK)
    try:
        attach = attach_with(library_conf(sysfs_root=workspace.sysfs),
                             client.executor(in_process=False))
        attach()  # the record and lock exist from here on
        return _common.best_of(attach, repeat=5, number=5)
    finally:
        privileged.context.stop()


def daemon_start(helper: str) -> float:
    """``privsep-helper`` started through the ROOTWRAP method (as nova
    starts it, minus the root helper in front), connected, stopped."""
    from iscsi_transports import privileged
    cfg.CONF.set_override("helper_command", helper,
                          group=privileged.CFG_SECTION)
    try:
        def start_stop() -> None:
            privileged.context.start()
            privileged.context.stop()
        return _common.best_of(start_stop, repeat=3, number=1)
    finally:
        cfg.CONF.clear_override("helper_command",
                                group=privileged.CFG_SECTION)


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (the one that
    imports this checkout), else the first on PATH."""
    mine = os.path.join(os.path.dirname(sys.executable), name)
    return mine if os.path.exists(mine) else shutil.which(name) or mine


def main() -> dict:
    _common.quiet_logging()
    if os.geteuid() != 0:
        raise SystemExit("bench_privilege needs root: the daemon keeps "
                         "CAP_SYS_ADMIN")
    from iscsi_transports.privileged import client
    helper = _tool("privsep-helper")
    workspace = Workspace()
    try:
        use_workspace(workspace)
        privsep = privsep_per_attach(workspace)
        start = daemon_start(helper)
        direct = _common.best_of(attach_with(
            library_conf(sysfs_root=workspace.sysfs),
            client.executor(in_process=True)), repeat=5, number=5)
    finally:
        workspace.destroy()
    rows = [["privsep daemon", _common.ms(privsep), "1.0x"],
            ["in process (root)", _common.ms(direct),
             "%.1fx" % (direct / privsep)],
            ["privsep daemon start (once per service start)",
             _common.ms(start), "-"]]
    _common.report(
        "privilege", "root work of one single-path CHAP attach",
        ["privilege path", "per attach", "vs privsep"], rows,
        {"privsep_s": privsep, "direct_s": direct,
         "daemon_start_s": start,
         "goal_met": privsep <= 2 * direct})
    return {"privsep": privsep, "direct": direct,
            "daemon_start": start}


if __name__ == "__main__":
    main()
