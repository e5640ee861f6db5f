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

"""The VM as the kernel tests find it: set up once per run, then inspected.

:func:`get` starts what a host running nova has running (udevd with its
coldplug done, iscsid, the initiator and LIO target modules) once per test
process, and remembers a failure so that every test fails with the same
reason instead of some passing on a half-built machine.  The functions
below read the kernel's answer where the kernel keeps it (sysfs, the
by-path links udev made, open-iscsi's node database), never the library's
own view, so a test can catch the library being wrong.
"""

from __future__ import annotations

import functools
import glob
import mmap
import os
import subprocess
import time
from collections.abc import Callable

from iscsi_transports.tests import kernel

#: Where open-iscsi may keep its records (ISCSI_DB_ROOT, a build option):
#: /etc/iscsi in its default build (Debian 12), /var/lib/iscsi in Debian 13.
RECORD_DIRS = ("/etc/iscsi", "/var/lib/iscsi")
#: The iface record :func:`records_dir` has iscsiadm write and delete.
_PROBE_IFACE = "klab-records-probe"
BY_PATH = "/dev/disk/by-path"
INITIATOR_FILE = "/etc/iscsi/initiatorname.iscsi"
#: The VM's NIC, as tools/kernel-lab/vm.sh and guest.sh set it up.
NIC, NIC_MAC, NIC_IP = "eth0", "52:54:00:12:34:01", "10.0.2.15"
#: The Soft-RoCE device the iSER tests put on the NIC.
RXE = "rxe0"
BASE_MODULES = ("iscsi_tcp", "sd_mod", "sg", "target_core_mod",
                "target_core_file", "iscsi_target_mod")
_ISCSID_SOCKET = "@ISCSIADM_ABSTRACT_NAMESPACE"
_MULTIPATHD_SOCKET = "@/org/kernel/linux/storage/multipathd"
MULTIPATH_MODULES = ("dm_multipath", "dm_round_robin", "dm_service_time",
                     "scsi_dh_alua")
#: The VM's multipath.conf (in its tmpfs overlay): Debian's defaults, a
#: short path checker interval so that failover shows within the test.
#: find_multipaths stays "strict" (Debian's default), so multipathd makes
#: maps only for WWIDs in the wwids file: no other test's disk gets one,
#: and the library's "multipath -a" is what makes ours.
MULTIPATH_CONF = """defaults {
    user_friendly_names yes
    find_multipaths strict
    polling_interval 2
}
"""
_MACHINE: Machine | None = None
_FAILURE: MachineError | None = None


class MachineError(RuntimeError):
    """The VM could not be set up; every kernel test fails with this."""


def run(*argv: str, timeout: float = 120) -> str:
    """Run a set-up command; MachineError with its output if it fails."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True,
                                timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise MachineError("%s: %s" % (" ".join(argv), error)) from None
    if result.returncode != 0:
        raise MachineError("%s exited %d: %s" % (
            " ".join(argv), result.returncode,
            (result.stderr or result.stdout).strip()))
    return result.stdout


def wait_for(condition: Callable[[], bool], what: str,
             timeout: float = 30) -> None:
    """Poll ``condition()`` until true; MachineError naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise MachineError("timed out after %ss waiting for %s"
                               % (timeout, what))
        time.sleep(0.2)


class Machine:
    """What runs in the VM for the whole test run."""

    def __init__(self) -> None:
        self.work = os.environ.get(kernel.LAB_ENV, "")
        self.timings: dict[str, float] = {}
        self.initiator = ""
        self.iscsid: subprocess.Popen | None = None
        self.multipathd: subprocess.Popen | None = None

    def _step(self, name: str, *argv: str, timeout: float = 120) -> str:
        started = time.monotonic()
        output = run(*argv, timeout=timeout)
        self.timings[name] = time.monotonic() - started
        return output

    def start(self) -> None:
        if not kernel.in_lab():
            raise MachineError(
                "kernel tests run only inside the kernel lab VM: run "
                "tools/kernel-lab/run-tests.sh")
        self._step("modules", "modprobe", "-a", *BASE_MODULES)
        self._start_udev()
        self.initiator = read_initiator()
        self._start_iscsid()
        self._write_timings()

    def _start_udev(self) -> None:
        udevd = next((path for path in ("/lib/systemd/systemd-udevd",
                                        "/usr/lib/systemd/systemd-udevd")
                      if os.path.exists(path)), None)
        if udevd is None:
            raise MachineError("systemd-udevd not found: install udev "
                               "(bindep.txt, profile kernel-lab)")
        self._step("udevd", udevd, "--daemon")
        self._step("coldplug", "udevadm", "trigger", "--type=subsystems",
                   "--action=add")
        self._step("coldplug-devices", "udevadm", "trigger",
                   "--type=devices", "--action=add")
        self._step("settle", "udevadm", "settle", "--timeout=120",
                   timeout=150)

    def _start_iscsid(self) -> None:
        # In the foreground so that its log lands in the work dir: there is
        # no syslog in the VM.
        log = open(os.path.join(self.work, "iscsid.log"), "ab")
        started = time.monotonic()
        try:
            self.iscsid = subprocess.Popen(["iscsid", "-f"], stdout=log,
                                           stderr=log)
        except OSError as error:
            raise MachineError("iscsid: %s (install open-iscsi)"
                               % error) from None
        finally:
            log.close()
        wait_for(iscsid_listening, "iscsid's control socket", 30)
        self.timings["iscsid"] = time.monotonic() - started

    def start_multipathd(self) -> None:
        """dm-multipath's modules and multipathd (foreground, log in the
        work dir), once per run, for the tests that ask for it: the
        other tests run on a machine without it, as most hosts are."""
        if self.multipathd is not None:
            return
        os.makedirs("/etc/multipath", exist_ok=True)
        with open("/etc/multipath.conf", "w") as conf:
            conf.write(MULTIPATH_CONF)
        modprobe(*MULTIPATH_MODULES)
        log = open(os.path.join(self.work, "multipathd.log"), "ab")
        started = time.monotonic()
        try:
            self.multipathd = subprocess.Popen(["multipathd", "-d", "-s"],
                                               stdout=log, stderr=log)
        except OSError as error:
            raise MachineError("multipathd: %s (install multipath-tools)"
                               % error) from None
        finally:
            log.close()
        wait_for(lambda: unix_listening(_MULTIPATHD_SOCKET),
                 "multipathd's socket", 60)
        self.timings["multipathd"] = time.monotonic() - started
        self._write_timings()

    def _write_timings(self) -> None:
        with open(os.path.join(self.work, "setup-timings.txt"), "w") as out:
            for name, seconds in self.timings.items():
                out.write("%s %.1f\n" % (name, seconds))


def get() -> Machine:
    """The machine, set up on the first call of the run."""
    global _MACHINE, _FAILURE
    if _FAILURE is not None:
        raise _FAILURE
    if _MACHINE is None:
        machine = Machine()
        try:
            machine.start()
        except MachineError as error:
            _FAILURE = error
            raise
        _MACHINE = machine
    return _MACHINE


def read_initiator() -> str:
    try:
        with open(INITIATOR_FILE) as handle:
            for line in handle:
                if line.startswith("InitiatorName="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    raise MachineError("no InitiatorName in %s (reinstall open-iscsi)"
                       % INITIATOR_FILE)


def unix_listening(name: str) -> bool:
    """Whether a unix socket named ``name`` (``@...``: abstract) exists."""
    with open("/proc/net/unix") as table:
        return any(line.split()[-1] == name
                   for line in table if len(line.split()) > 7)


def iscsid_listening() -> bool:
    return unix_listening(_ISCSID_SOCKET)


def modprobe(*modules: str) -> None:
    run("modprobe", "-a", *modules)


def settle() -> None:
    """Let udev finish what the kernel announced (links made or removed)."""
    run("udevadm", "settle", "--timeout=60", timeout=90)


# -- what the kernel says ----------------------------------------------------

def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def sessions(iqn: str) -> list[str]:
    """The kernel's iSCSI sessions to target ``iqn`` (``sessionN``)."""
    return sorted(
        os.path.basename(path)
        for path in glob.glob("/sys/class/iscsi_session/session*")
        if _read(os.path.join(path, "targetname")) == iqn)


def session_iface(session: str) -> str:
    return _read("/sys/class/iscsi_session/%s/ifacename" % session)


def session_transport(session: str) -> str:
    """The transport of the session's iSCSI host, from the host's
    ``proc_name`` (``iscsi_tcp``, ``iscsi_iser``)."""
    device = os.path.realpath("/sys/class/iscsi_session/%s/device" % session)
    host = os.path.basename(os.path.dirname(device))
    proc_name = _read("/sys/class/scsi_host/%s/proc_name" % host)
    return proc_name.removeprefix("iscsi_")


def disks(iqn: str) -> list[str]:
    """SCSI disks (``sdX``) the kernel attached under ``iqn``'s sessions."""
    found = []
    for session in sessions(iqn):
        device = os.path.realpath("/sys/class/iscsi_session/%s/device"
                                  % session)
        found += [os.path.basename(path) for path in glob.glob(
            os.path.join(device, "target*", "*", "block", "*"))]
    return sorted(found)


def local_disks() -> list[str]:
    """SCSI disks that are no iSCSI LUN: the VM's virtio-scsi disk
    (tools/kernel-lab/vm.sh)."""
    return sorted(
        os.path.basename(path) for path in glob.glob("/sys/class/block/sd*")
        if os.path.exists(os.path.join(path, "device")) and
        "/session" not in os.path.realpath(os.path.join(path, "device")))


def device_number(name: str) -> str:
    """``major:minor`` of block device ``name``."""
    return _read("/sys/class/block/%s/dev" % name)


def disk_exists(name: str) -> bool:
    return os.path.exists("/sys/block/%s" % name)


def by_path_links(iqn: str) -> list[str]:
    return sorted(path for path in glob.glob(os.path.join(BY_PATH, "*"))
                  if "-iscsi-%s-lun-" % iqn in os.path.basename(path))


@functools.cache
def records_dir() -> str:
    """open-iscsi's records directory as the installed iscsiadm has it.

    No iscsiadm command prints it, and guessing it from what exists would
    make every "no record left" check pass vacuously on a userland that
    keeps its records elsewhere: so iscsiadm itself writes a probe iface
    record, once per run, and the directory it landed in is the answer.
    """
    argv = ("iscsiadm", "-m", "iface", "-I", _PROBE_IFACE)
    ifaces = [os.path.join(root, "ifaces") for root in RECORD_DIRS]
    made = [path for path in ifaces if not os.path.isdir(path)]
    run(*argv, "-o", "new")
    try:
        found = [root for root, path in zip(RECORD_DIRS, ifaces)
                 if os.path.isfile(os.path.join(path, _PROBE_IFACE))]
    finally:
        run(*argv, "-o", "delete")
        # The machine as found: a records directory the library detects
        # by its contents must not be made to look used by the probe.
        for path in made:
            if os.path.isdir(path) and not os.listdir(path):
                os.rmdir(path)
    if len(found) != 1:
        raise MachineError("iscsiadm's probe iface record %s is in %s of %s"
                           % (_PROBE_IFACE, found or "none",
                              ", ".join(RECORD_DIRS)))
    return found[0]


def node_records(iqn: str) -> list[str]:
    """open-iscsi's node records for ``iqn``, as paths under its node
    directory.

    A discovered record is a file ``<ip>,<port>,<tpgt>/<iface>``; a static
    one made with ``-o new`` (no target portal group known) is the single
    file ``<ip>,<port>``, whatever its iface: every file counts.
    """
    base = os.path.join(records_dir(), "nodes", iqn)
    return sorted(os.path.relpath(os.path.join(top, name), base)
                  for top, _dirs, files in os.walk(base) for name in files)


# -- data through a disk -----------------------------------------------------

def _aligned(size: int) -> mmap.mmap:
    """A page-aligned buffer, as O_DIRECT needs."""
    return mmap.mmap(-1, size)


def pattern_io(device: str, mib: int = 4) -> tuple[bytes, bytes]:
    """Write ``mib`` MiB of random data with O_DIRECT, drop the page cache,
    read it back with O_DIRECT; (written, read)."""
    size = mib << 20
    data = os.urandom(size)
    out = _aligned(size)
    out.write(data)
    fd = os.open(device, os.O_WRONLY | os.O_DIRECT)
    try:
        done = 0
        while done < size:
            done += os.pwrite(fd, memoryview(out)[done:], done)
        os.fsync(fd)
    finally:
        os.close(fd)
    with open("/proc/sys/vm/drop_caches", "w") as caches:
        caches.write("3\n")
    back = _aligned(size)
    fd = os.open(device, os.O_RDONLY | os.O_DIRECT)
    try:
        done = 0
        while done < size:
            got = os.preadv(fd, [memoryview(back)[done:]], done)
            if got == 0:
                break
            done += got
    finally:
        os.close(fd)
    return data, bytes(back[:done])
