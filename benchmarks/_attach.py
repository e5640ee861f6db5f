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

"""Attach harness shared by the process-count and concurrency benchmarks.

Both sides run the same scripted iscsiadm (``fake_iscsiadm.sh``): it is
first on PATH (os-brick runs ``iscsiadm`` by name through its execute) and
the root operations find it first on their own PATH
(:meth:`Lab.use_privileged`).  The kernel side of an attach --
SCSI scans, sysfs and udev -- has no process to count, so it is stood in
for on both sides: this project reads a built sysfs tree where a login
adds the session and a LUN scan adds the disk (the unit tests' kernel
stand-in, ``FakeKernel``), and os-brick's ``LinuxSCSI`` answers from
memory.  multipathd is stood in for the same way: on this side by the unit
tests' ``FakeMultipathd`` (maps on the built tree, every ``multipath`` and
``multipathd`` command recorded), on os-brick's by stubs that record the
command its ``LinuxSCSI`` would run.  ``alone`` says whether multipathd
builds the map of new paths by itself (``find_multipaths`` off/greedy, or
the WWID known) or only once told (``find_multipaths strict``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import _common
from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import fixture
from iscsi_transports import opts
from iscsi_transports.attach import driver as driver_mod
from iscsi_transports.attach import multipath
from iscsi_transports.attach import sysfs
from iscsi_transports.privileged import client
from iscsi_transports.privileged import commands
from iscsi_transports.privileged import paths
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import fake_kernel
from iscsi_transports.tests.unit.attach import kernel_tree

FAKE = os.path.join(_common.HERE, "fake_iscsiadm.sh")
IQN = "iqn.2010-10.org.openstack:volume-%d"
CHAP_VALUE = "bench-chap-value"
#: A tmpfs; directories in it come from mkdtemp (private, random names).
SHM = "/dev/shm"  # noqa: S108


def props(volume: int = 1, paths: int = 1, chap: bool = False
          ) -> dict[str, Any]:
    """cinder-style connection properties for one volume."""
    portals = ["10.%d.0.%d:3260" % (volume // 200, volume % 200 + i + 1)
               for i in range(paths)]
    data: dict[str, Any] = {"target_portal": portals[0],
                            "target_iqn": IQN % volume, "target_lun": 1}
    if paths > 1:
        data.update(target_portals=portals, target_iqns=[IQN % volume] * paths,
                    target_luns=[1] * paths)
    if chap:
        data.update(auth_method="CHAP", auth_username="user",
                    auth_password=CHAP_VALUE)
    return data


@dataclasses.dataclass
class Lab:
    """A temporary world: iscsiadm state, device links, locks, PATH."""

    root: str
    kernel: fake_kernel.FakeKernel
    multipathd: fake_kernel.FakeMultipathd
    delay: float = 0.0

    @classmethod
    def create(cls, delay: float = 0.0) -> Lab:
        root = tempfile.mkdtemp(prefix="iscsi-bench.")
        # sysfs and /dev live in memory: so do their stand-ins, or the
        # stand-in kernel's file work on a disk-backed /tmp (20x slower
        # here) would be charged to the attacher.
        saved, tempfile.tempdir = tempfile.tempdir, (
            SHM if os.path.isdir(SHM) else None)
        try:
            sysfs = fixture.SysfsTree()
            sysfs.setUp()
            dev = tempfile.mkdtemp(prefix="iscsi-bench-dev.")
        finally:
            tempfile.tempdir = saved
        # The stand-in kernel's own iscsiadm is never asked: the root
        # operations run the scripted one (KernelExecutor).
        kernel = fake_kernel.FakeKernel(kernel_tree.IscsiTree(sysfs, dev),
                                        fake_executor.ScriptedExecutor())
        lab = cls(root, kernel, fake_kernel.FakeMultipathd(
            kernel, os.path.join(root, "proc")), delay)
        for sub in ("state", "dev", "bin", "locks", "sysfs", "lib"):
            os.makedirs(lab.path(sub))
        os.symlink(FAKE, lab.path("bin", "iscsiadm"))
        os.environ.update(
            FAKE_ISCSIADM_STATE=lab.path("state"),
            FAKE_ISCSIADM_DELAY=str(delay) if delay else "",
            OSLO_LOCK_PATH=lab.path("locks"),
            PATH=lab.path("bin") + os.pathsep + os.environ["PATH"])
        return lab

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def destroy(self) -> None:
        os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
        shutil.rmtree(self.root, ignore_errors=True)
        self.kernel.tree.tree.cleanUp()
        shutil.rmtree(self.kernel.tree.dev_root, ignore_errors=True)

    def calls(self) -> list[str]:
        try:
            with open(self.path("state", "calls")) as log:
                return log.read().splitlines()
        except FileNotFoundError:
            return []

    def multipath_calls(self) -> list[str]:
        """The ``multipath``/``multipathd`` commands this project ran."""
        return self.multipathd.commands()

    def reset(self) -> None:
        """Forget every call, node, session and map (a fresh host)."""
        shutil.rmtree(self.path("state"))
        os.makedirs(self.path("state"))
        for wwid in list(self.multipathd.maps):
            self.multipathd.remove(wwid)
        self.multipathd.calls.clear()
        for sid in list(self.kernel.tree.sessions):
            if os.path.lexists(os.path.join(
                    self.kernel.tree.root,
                    "class/iscsi_session/session%d" % sid)):
                self.kernel.logout(sid)

    def forget_calls(self) -> None:
        """Start counting again, keeping nodes and sessions."""
        self.multipathd.calls.clear()
        try:
            os.unlink(self.path("state", "calls"))
        except FileNotFoundError:
            pass

    def add_devices(self, data: dict[str, Any]) -> None:
        """Map the volume's LUN on the stand-in target, with the by-path
        link udev would create for its first path."""
        portal = (data.get("target_portals") or [data["target_portal"]])[0]
        self.kernel.map(data["target_iqn"], 1, self.kernel._free_name(),
                        links=("disk/by-path/ip-%s-iscsi-%s-lun-1"
                               % (portal, data["target_iqn"]),))

    # -- the two attachers ----------------------------------------------------

    def ours(self, privileged: client.Executor) -> driver_mod.ISCSIDriver:
        """This project's driver on ``privileged``, a root executor (in
        process or the daemon, started after :meth:`use_privileged`):
        every iscsiadm call and LUN scan goes through it."""
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        conf([], project="bench")
        for key, value in {"state_path": self.path("lib"),
                           "sysfs_root": self.kernel.tree.root,
                           "device_dir": self.path("dev"),
                           "device_scan_attempts": 1,
                           "device_scan_interval": 0,
                           "iscsi_db_path": self.path("state")}.items():
            conf.set_override(key, value, group=config.GROUP)
        driver = driver_mod.ISCSIDriver(
            conf, executor=KernelExecutor(privileged, self.kernel),  # type: ignore[arg-type]
            dev_root=self.kernel.tree.dev_root,
            maps=multipath.Multipath(
                conf, sysfs.Sysfs(self.kernel.tree.root,
                                  self.kernel.tree.dev_root),
                self.multipathd, proc_root=self.multipathd.proc_root))
        return driver

    def use_privileged(self) -> None:
        """Point the root operations' fixed paths and command lookup at
        this lab, as the privileged unit tests and bench_privilege do
        (module attributes, never options: production cannot move them).
        Before the daemon forks, so that it inherits them.

        The daemon gives its commands a fixed environment (PATH, LC_ALL),
        so the scripted iscsiadm it finds has the lab's state directory and
        delay written in rather than read from the environment.  Its ``-o
        new`` also writes the node record in open-iscsi's format, as a
        real one does: the daemon writes the node settings (and CHAP) into
        it.
        """
        bin_dir = self.path("privileged-bin")
        os.makedirs(bin_dir, exist_ok=True)
        with open(FAKE) as source:
            body = source.read()
        script = os.path.join(bin_dir, "iscsiadm")
        with open(script, "w") as handle:
            handle.write(body.replace(
                "\nstate=", "\nFAKE_ISCSIADM_STATE=%s\n"
                "FAKE_ISCSIADM_DELAY=%s\nFAKE_ISCSIADM_DB=%s\nstate=" % (
                    self.path("state"),
                    str(self.delay) if self.delay else "",
                    self.path("state", "db")), 1))
        os.chmod(script, 0o700)
        self._saved = (commands.SECURE_PATH, paths.PATHS)
        # First on the daemon's path; the system's after it, for the
        # script's own sleep and mkdir.
        commands.SECURE_PATH = bin_dir + os.pathsep + commands.SECURE_PATH
        paths.PATHS = paths.Paths(
            sysfs=self.kernel.tree.root, dev=self.kernel.tree.dev_root,
            iscsi_db=self.path("state", "db"),
            iscsi_lock_dir=self.path("locks"))

    def restore_privileged(self) -> None:
        commands.SECURE_PATH, paths.PATHS = self._saved

    def os_brick(self, multipath: bool = False, alone: bool = True) -> Any:
        import os_brick
        from os_brick.initiator.connectors import iscsi
        from oslo_concurrency import lockutils
        os_brick.setup(cfg.CONF)
        lockutils.set_defaults(self.path("locks"))
        others: list[list[str]] = []
        connector = iscsi.ISCSIConnector(
            "sudo", execute=_brick_execute(others), use_multipath=multipath,
            device_scan_attempts=1)
        _stub_kernel(connector._linuxscsi, others, alone)
        connector.other_commands = others
        return connector


class KernelExecutor:
    """A real root executor with the kernel stood in, for the default path.

    Every call crosses ``real`` (in process or the daemon's socket) and
    runs the scripted iscsiadm or writes the built tree's ``scan``,
    ``rescan`` or ``delete`` file exactly as it would in production; then
    the stand-in kernel does what the real one would on a login (a session
    appears), a LUN scan (the disk appears) or a delete, as
    :class:`fake_kernel.FakeKernel` does for the unit tests.  A flush is the
    stand-in's alone (see :meth:`flush_disk`).
    """

    def __init__(self, real: client.Executor,
                 kernel: fake_kernel.FakeKernel) -> None:
        self.real = real
        self.kernel = kernel

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> client.CommandResult:
        result = self.real.iscsiadm(args, timeout)
        argv = list(args)
        if result.exit_code != 0:
            return result
        node = [argv[argv.index(flag) + 1] for flag in ("-T", "-p", "-I")
                if flag in argv]
        if "--login" in argv:
            self.kernel.login(*node)
        elif "--logout" in argv:
            for sid in self.kernel.sessions_of(*node):
                self.kernel.logout(sid)
        return result

    def scan_host(self, host: int, hctl: str) -> None:
        self.real.scan_host(host, hctl)
        self.kernel.scan_host(host, hctl)

    def rescan_disk(self, name: str) -> None:
        self.real.rescan_disk(name)
        self.kernel.rescan_disk(name)

    def delete_disk(self, name: str) -> bool:
        deleted = self.real.delete_disk(name)
        self.kernel.delete_disk(name)
        return deleted

    def flush_disk(self, name: str) -> bool:
        """The stand-in's only: the built tree has no block device for the
        real ``BLKFLSBUF`` (an ioctl, no process either way)."""
        return self.kernel.flush_disk(name)


def _brick_execute(others: list[list[str]]) -> Callable[..., Any]:
    """os-brick's execute: iscsiadm is run for real, anything else noted."""
    from oslo_concurrency import processutils

    def execute(*cmd: str, **kwargs: Any) -> tuple[str, str]:
        if cmd[0] != "iscsiadm":
            others.append(list(cmd))
            return "", ""
        kwargs.pop("root_helper", None)
        kwargs.pop("run_as_root", None)
        return processutils.execute(*cmd, **kwargs)
    return execute


def _stub_kernel(linuxscsi: Any, others: list[list[str]],
                 alone: bool = True) -> None:
    """Answer os-brick's sysfs/udev questions as a healthy host would; its
    multipath commands are recorded in ``others`` (argv as its LinuxSCSI
    builds them) and answered as multipathd would."""
    told: list[str] = []

    def run(*cmd: str) -> Any:
        others.append(list(cmd))
        return True

    linuxscsi.get_hctl = lambda session, lun: ("2", "0", "0", str(lun))
    linuxscsi.scan_iscsi = lambda *args, **kwargs: None
    linuxscsi.device_name_by_hctl = lambda session, hctl: "sd" + session[-2:]
    linuxscsi.get_sysfs_wwn = lambda devices, mpath=None: "3600a0b80001"
    linuxscsi.find_sysfs_multipath_dm = \
        lambda devices: "dm-0" if alone or told else None
    linuxscsi.multipath_add_wwid = lambda wwn: run("multipath", "-a", wwn)
    linuxscsi.multipath_add_path = lambda path: (
        told.append(path), run("multipathd", "add", "path", path))
    linuxscsi.wait_for_mpath_device = lambda mpath: run(
        "multipath", "-C", mpath)
    linuxscsi.is_multipath_running = lambda *args, **kwargs: run(
        "multipathd", "show", "status")
