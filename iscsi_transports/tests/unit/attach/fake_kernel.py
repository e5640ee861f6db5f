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

"""The kernel and iscsid as driver unit tests see them, on a built tree.

:class:`FakeKernel` is the driver's root executor: it wraps the scripted
iscsiadm (:class:`~iscsi_transports.tests.unit.fake_executor.
ScriptedExecutor`, which also answers the record operations): a
``--login`` that the script lets succeed adds the session to the sysfs
tree, a ``--logout`` removes it with its disks, as iscsid and the kernel
do.  A scan of a LUN the test mapped adds that disk (with the udev links
the test spelled), a delete removes it, a rescan re-reads the size the
test set.  Every root write is recorded.
"""

from __future__ import annotations

import itertools
import os
import shutil
import string
import threading
from collections.abc import Callable, Sequence
from typing import Any

import fixtures
from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import fixture
from iscsi_transports.attach import multipath
from iscsi_transports.attach import sysfs
from iscsi_transports.privileged import client
from iscsi_transports.tests.unit import fake_executor
from iscsi_transports.tests.unit.attach import kernel_tree


class Lun:
    def __init__(self, name: str, links: tuple[str, ...],
                 sectors: int) -> None:
        self.name = name
        self.links = links
        self.sectors = sectors


class FakeKernel(client.Executor):
    """The driver's root executor on the tree; see the module docstring."""

    def __init__(self, tree: kernel_tree.IscsiTree,
                 scripted: fake_executor.ScriptedExecutor) -> None:
        super().__init__(in_process=True)
        self.tree = tree
        self.scripted = scripted
        #: target -> kernel LUN -> what a scan finds.
        self.luns: dict[str, dict[int, Lun]] = {}
        self.writes: list[tuple[str, Any]] = []
        self.next_sid = 1
        #: disk name -> exception its flush raises.
        self.flush_errors: dict[str, Exception] = {}
        #: Threads attach at once in the concurrency benchmark.
        self._lock = threading.RLock()
        #: Called with each disk a scan adds (multipathd's uevents).
        self.disk_added: list[Callable[[str], None]] = []

    # -- the target's side -----------------------------------------------------

    def map(self, target: str, lun: int, name: str,
            links: tuple[str, ...] = (), sectors: int = 2097152) -> None:
        """Export kernel LUN ``lun`` of ``target``; a scan makes it
        ``name`` with udev ``links`` (paths under /dev)."""
        self.luns.setdefault(target, {})[lun] = Lun(name, links, sectors)

    # -- iscsiadm and iscsid ---------------------------------------------------

    def call(self, operation: Callable[..., Any], *args: Any,
             **kwargs: Any) -> Any:
        """The operations not stood in here: the script's answer."""
        return self.scripted.call(operation, *args, **kwargs)

    def iscsiadm(self, args: Sequence[str],
                 timeout: int) -> client.CommandResult:
        result = self.scripted.iscsiadm(args, timeout)
        if result.exit_code != 0:
            return result
        argv = list(args)
        if "--login" in argv:
            self.login(_arg(argv, "-T"), _arg(argv, "-p"), _arg(argv, "-I"))
        elif "--logout" in argv:
            for sid in self.sessions_of(_arg(argv, "-T"), _arg(argv, "-p"),
                                        _arg(argv, "-I")):
                self.logout(sid)
        return result

    def login(self, target: str, portal: str, iface: str,
              host: int | None = None) -> int:
        address, _, port = portal.rpartition(":")
        with self._lock:
            sid = self.next_sid
            self.next_sid += 1
        # Sessions of distinct sids touch distinct files: no lock, so
        # concurrent logins overlap as they do in the kernel.
        self.tree.add_session(sid, target, address.strip("[]"), port, iface,
                              host=host)
        return sid

    def sessions_of(self, target: str, portal: str, iface: str) -> list[int]:
        """What ``--logout -T -p -I`` logs out (portal as iscsiadm was
        given it, the tree's connection address compared)."""
        address = portal.rpartition(":")[0].strip("[]")
        found = []
        for sid, built in self.tree.sessions.items():
            base = os.path.join(self.tree.root, built.device, "iscsi_session",
                                "session%d" % sid)
            if not os.path.isdir(base):
                continue
            with open(os.path.join(base, "targetname")) as handle:
                name = handle.read().strip()
            with open(os.path.join(base, "ifacename")) as handle:
                used = handle.read().strip()
            connection = os.path.join(self.tree.root, "class",
                                      "iscsi_connection",
                                      "connection%d:0" % sid,
                                      "persistent_address")
            with open(connection) as handle:
                at = handle.read().strip()
            if (name, used, at) == (target, iface, address):
                found.append(sid)
        return found

    def logout(self, sid: int) -> None:
        built = self.tree.sessions[sid]
        for link in ("class/iscsi_session/session%d" % sid,
                     "class/iscsi_connection/connection%d:0" % sid):
            os.unlink(os.path.join(self.tree.root, link))
        shutil.rmtree(os.path.join(self.tree.root, built.device))

    # -- the kernel writer ---------------------------------------------------

    def scan_host(self, host: int, hctl: str) -> None:
        self.writes.append(("scan", (host, hctl)))
        _channel, target_id, lun = hctl.split()
        for sid, built in list(self.tree.sessions.items()):
            if built.host != host or not self._alive(sid):
                continue
            if target_id not in ("-", str(built.target_id)):
                continue
            name = self._target_of(sid)
            mapped = self.luns.get(name, {}).get(int(lun))
            device = os.path.join(self.tree.root, built.device,
                                  "target%d:0:%d" % (host, built.target_id),
                                  "%d:0:%d:%s" % (host, built.target_id, lun))
            if mapped is None or os.path.isdir(device):
                continue
            with self._lock:
                if os.path.lexists(os.path.join(self.tree.root, "block",
                                                mapped.name)):
                    # Another path of the same LUN: the next free name,
                    # and no by-path link (the test spelled the first).
                    added = self._free_name()
                    self.tree.add_disk(sid, int(lun), added,
                                       sectors=mapped.sectors)
                else:
                    added = mapped.name
                    self.tree.add_disk(sid, int(lun), mapped.name,
                                       sectors=mapped.sectors,
                                       links=mapped.links)
            for react in self.disk_added:
                react(added)

    def rescan_disk(self, name: str) -> None:
        self.writes.append(("rescan", name))
        for luns in self.luns.values():
            for lun in luns.values():
                if lun.name == name:
                    self.tree.write(os.path.relpath(os.path.realpath(
                        os.path.join(self.tree.root, "block", name, "size")),
                        self.tree.root), str(lun.sectors))

    def flush_disk(self, name: str) -> bool:
        self.writes.append(("flush", name))
        if name in self.flush_errors:
            raise self.flush_errors[name]
        return True

    def delete_disk(self, name: str) -> bool:
        self.writes.append(("delete", name))
        device = os.path.realpath(os.path.join(self.tree.root, "block", name,
                                               "device"))
        if not os.path.isdir(device):
            return False
        shutil.rmtree(device)
        for link in ("block", "class/block"):
            if os.path.lexists(os.path.join(self.tree.root, link, name)):
                os.unlink(os.path.join(self.tree.root, link, name))
        return True

    # -- helpers ---------------------------------------------------------------

    def _free_name(self) -> str:
        """The first ``sdX`` name neither in the tree nor mapped."""
        mapped = {lun.name for luns in self.luns.values()
                  for lun in luns.values()}
        for size in (1, 2):
            for letters in itertools.product(string.ascii_lowercase,
                                             repeat=size):
                name = "sd" + "".join(letters)
                if name != "sda" and name not in mapped and \
                        not os.path.lexists(os.path.join(
                            self.tree.root, "block", name)):
                    return name
        raise AssertionError("out of disk names")

    def _alive(self, sid: int) -> bool:
        return os.path.lexists(os.path.join(
            self.tree.root, "class/iscsi_session/session%d" % sid))

    def _target_of(self, sid: int) -> str:
        with open(os.path.join(self.tree.root, "class/iscsi_session",
                               "session%d" % sid, "targetname")) as handle:
            return handle.read().strip()

    def written(self, kind: str) -> list[Any]:
        return [value for what, value in self.writes if what == kind]


def _arg(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def flush_failure(name: str) -> exception.PrivilegedOperationFailed:
    return exception.PrivilegedOperationFailed(
        "flush a SCSI disk", "/dev/%s: Input/output error" % name)


class Clock:
    """A monotonic clock that sleeping advances, recording each pause."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Kernel(fixtures.Fixture):
    """A :class:`FakeKernel` on ``sysfs`` with its own /dev and clock;
    :meth:`driver_kwargs` wires an ISCSIDriver to it."""

    def __init__(self, sysfs: fixture.SysfsTree,
                 scripted: fake_executor.ScriptedExecutor) -> None:
        super().__init__()
        self.sysfs = sysfs
        self.scripted = scripted

    def _setUp(self) -> None:
        self.dev = self.useFixture(fixtures.TempDir()).path
        self.tree = kernel_tree.IscsiTree(self.sysfs, self.dev)
        self.kernel = FakeKernel(self.tree, self.scripted)
        self.clock = Clock()
        self.multipathd = FakeMultipathd(
            self.kernel, self.useFixture(fixtures.TempDir()).path,
            auto=False)

    def map(self, target: str, lun: int, name: str, link: str) -> str:
        """Export a LUN with udev's ``link`` (under /dev); its path."""
        self.kernel.map(target, lun, name, links=(link,))
        return os.path.join(self.dev, link)

    def driver_kwargs(self) -> dict[str, Any]:
        return {"executor": self.kernel,
                "sleep": self.clock.sleep, "clock": self.clock.time,
                "dev_root": self.dev,
                # Its own options (defaults): the driver's conf is the
                # caller's, not known here.
                "maps": multipath.Multipath(
                    cfg.ConfigOpts(), sysfs.Sysfs(self.sysfs.root, self.dev),
                    self.multipathd, proc_root=self.multipathd.proc_root,
                    clock=self.clock.time, sleep=self.clock.sleep)}


LISTENING = ("Num       RefCount Protocol Flags    Type St Inode Path\n"
             "0000000000000000: 00000002 00000000 00010000 0001 01 21 "
             "@/org/kernel/linux/storage/multipathd\n")


class FakeMultipathd(fake_executor.RecordingExecutor):
    """multipathd and ``multipath`` on the tree, as the root executor.

    ``auto``: a disk a scan adds joins its WWID's map at once (multipathd
    acting on the uevent); else only ``multipathd add path`` assembles a
    map (``find_multipaths strict`` with an unknown WWID), with every
    disk of that WWID in it, as multipathd adopts the orphan paths it
    knows.  ``multipath
    -f`` removes a map unless its kernel name is in ``busy``; ``running`` is
    multipathd's socket in ``proc_root``'s ``net/unix``.
    """

    def __init__(self, kernel: FakeKernel, proc_root: str,
                 auto: bool = True) -> None:
        super().__init__()
        self.kernel = kernel
        self.tree = kernel.tree
        self.proc_root = proc_root
        self.auto = auto
        self.busy: set[str] = set()
        #: True: ``add path`` is answered but does nothing (a blacklisted
        #: WWID).
        self.deaf = False
        #: WWID -> kernel name (``dm-0``), device-mapper name (``mpatha``).
        self.maps: dict[str, tuple[str, str]] = {}
        self._made = 0
        self.running = True
        kernel.disk_added.append(self.uevent)

    @property
    def running(self) -> bool:
        return self._running

    @running.setter
    def running(self, value: bool) -> None:
        self._running = value
        os.makedirs(os.path.join(self.proc_root, "net"), exist_ok=True)
        with open(os.path.join(self.proc_root, "net", "unix"), "w",
                  encoding="ascii") as handle:
            handle.write(LISTENING if value else LISTENING.splitlines()[0])

    def uevent(self, disk: str) -> None:
        if self.auto and self.running:
            self.assemble(disk)

    def wwid_of(self, disk: str) -> str:
        with open(os.path.join(self.tree.root, "block", disk, "device",
                               "wwid")) as handle:
            return "3" + handle.read().strip().split(".", 1)[1]

    def assemble(self, disk: str) -> str:
        """Add ``disk`` to its WWID's map (made if needed); the map."""
        wwid = self.wwid_of(disk)
        with self.kernel._lock:
            if wwid not in self.maps:
                self.maps[wwid] = ("dm-%d" % self._made, "mpath" +
                                   string.ascii_lowercase[self._made])
                self._made += 1
                self.tree.add_dm(*self.maps[wwid], "mpath-" + wwid,
                                 links=("disk/by-id/dm-uuid-mpath-" + wwid,))
            name = self.maps[wwid][0]
            block = os.path.relpath(os.path.realpath(os.path.join(
                self.tree.root, "block", disk)), self.tree.root)
            if not os.path.lexists(os.path.join(self.tree.root, block,
                                                "holders", name)):
                self.tree.link("%s/holders/%s" % (block, name),
                               "devices/virtual/block/" + name)
                self.tree.link("devices/virtual/block/%s/slaves/%s"
                               % (name, disk), block)
        return name

    def remove(self, wwid: str) -> None:
        name = self.maps.pop(wwid)[0]
        device = os.path.join(self.tree.root, "devices/virtual/block", name)
        for disk in os.listdir(os.path.join(device, "slaves")):
            holder = os.path.join(os.path.realpath(os.path.join(
                device, "slaves", disk)), "holders", name)
            if os.path.lexists(holder):
                os.unlink(holder)
        shutil.rmtree(device)
        for link in ("block/" + name, "class/block/" + name):
            os.unlink(os.path.join(self.tree.root, link))
        os.unlink(os.path.join(self.tree.dev_root, "disk", "by-id",
                               "dm-uuid-mpath-" + wwid))

    def multipath(self, args: Sequence[str],
                  timeout: int) -> client.CommandResult:
        super().multipath(args, timeout)
        if args[0] == "-f":
            wwid = next((w for w, (_n, dm) in self.maps.items()
                         if dm == args[1]), None)
            if wwid is None:
                return client.CommandResult(1, "", "no such map")
            if self.maps[wwid][0] in self.busy:
                return client.CommandResult(
                    1, "", "%s: map in use" % args[1])
            self.remove(wwid)
        return self.answer

    def multipathd(self, args: Sequence[str],
                   timeout: int) -> client.CommandResult:
        super().multipathd(args, timeout)
        if list(args[:2]) == ["resize", "map"]:
            (name, _dm) = next(value for value in self.maps.values()
                               if value[1] == args[2])
            device = os.path.join(self.tree.root, "devices/virtual/block",
                                  name)
            slave = sorted(os.listdir(os.path.join(device, "slaves")))[0]
            with open(os.path.join(device, "slaves", slave, "size")) as size:
                self.tree.write("devices/virtual/block/%s/size" % name,
                                size.read().strip())
        if list(args[:2]) == ["add", "path"] and self.running and \
                not self.deaf:
            # The new map adopts every path of the WWID multipathd knows.
            wwid = self.wwid_of(args[2])
            for name in sorted(os.listdir(os.path.join(self.tree.root,
                                                       "block"))):
                if name.startswith("sd") and self.wwid_of(name) == wwid:
                    self.assemble(name)
        return self.answer

    def commands(self) -> list[str]:
        return [" ".join([str(call[0]), *call[1]])  # type: ignore[misc]
                for call in self.calls if call[0] in ("multipath",
                                                      "multipathd")]

