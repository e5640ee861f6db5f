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

"""A real iSCSI lab for the functional tests: real iscsiadm, real tgtd.

One :class:`Lab` per test process (stestr runs several workers; each has
its own), built on first use and cached in this module.  The lab lives in a
private mount + network namespace held by ``nshelper.py``; commands reach
it through ``nsenter -t <pid> -m -n --`` (:attr:`Lab.root_helper`), which
the tests put in front of ``privsep-helper``, so the library's root daemon
runs in the lab as it runs on a host.

Nothing is skipped: if a tool is missing or the lab cannot start, the
:class:`LabError` raised here fails the test with the reason.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

PORT = 3260
TARGET_IQN = "iqn.2026-11.org.openstack.test:volume-1"
INITIATOR_NAME = "iqn.2026-11.org.openstack.test:initiator"
REQUIRED_TOOLS = ("iscsiadm", "tgtd", "tgtadm", "unshare", "nsenter", "ip",
                  "mount")
_HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "nshelper.py")
_LAB: Lab | None = None


class LabError(RuntimeError):
    """The lab could not be built; the message says what is missing."""


def get_lab() -> Lab:
    """The process-wide lab, started on first call (about 0.3 s)."""
    global _LAB
    if _LAB is None:
        lab = Lab()
        lab.start()
        atexit.register(lab.stop)
        _LAB = lab
    return _LAB


def _check_tools() -> None:
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise LabError(
            "functional tests need %s on PATH; install the packages in "
            "bindep.txt (apt-get install -y open-iscsi tgt util-linux "
            "iproute2)" % ", ".join(missing))
    if os.geteuid() != 0:
        raise LabError("functional tests must run as root (they create "
                       "mount and network namespaces)")


class Lab:
    """tgtd + isolated iscsiadm state in a namespace this process owns."""

    def __init__(self) -> None:
        self.workdir = ""
        # tgtd 1.0.85+ (Debian 13) takes control ports up to 32767 only.
        self.ctl = str(1000 + os.getpid() % 30000)
        self.helper: subprocess.Popen | None = None
        self.tgtd_pid: int | None = None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        _check_tools()
        self.workdir = tempfile.mkdtemp(prefix="iscsi-transports-lab.")
        self._write_etc_iscsi()
        try:
            self._start_helper()
            self._create_target()
        except Exception:
            self.stop()
            raise

    def _write_etc_iscsi(self) -> None:
        etc = os.path.join(self.workdir, "etc-iscsi")
        os.makedirs(os.path.join(etc, "ifaces"))
        with open("/etc/iscsi/iscsid.conf") as source:
            lines = [line for line in source
                     if not line.startswith("iscsid.startup")]
        lines.append("iscsid.startup = /bin/true\n")
        with open(os.path.join(etc, "iscsid.conf"), "w") as conf:
            conf.writelines(lines)
        with open(os.path.join(etc, "initiatorname.iscsi"), "w") as iname:
            iname.write("InitiatorName=%s\n" % INITIATOR_NAME)

    def _start_helper(self) -> None:
        log = open(os.path.join(self.workdir, "helper.log"), "w")
        self.helper = subprocess.Popen(
            ["unshare", "-m", "-n", "--propagation", "private", "--",
             sys.executable, _HELPER, self.workdir, self.ctl, str(PORT),
             INITIATOR_NAME],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            text=True)
        ready, _, _ = select.select([self.helper.stdout], [], [], 20)
        line = self.helper.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            raise LabError("the lab namespace did not start: %s" %
                           (self._read("helper.log") or "no output").strip())
        self.tgtd_pid = int(line.split()[1])

    def _create_target(self) -> None:
        disk = os.path.join(self.workdir, "disk.img")
        with open(disk, "wb") as image:
            image.truncate(16 * 1024 * 1024)
        self.tgtadm("--lld", "iscsi", "--op", "new", "--mode", "target",
                    "--tid", "1", "-T", TARGET_IQN)
        self.tgtadm("--lld", "iscsi", "--op", "new", "--mode", "logicalunit",
                    "--tid", "1", "--lun", "1", "-b", disk)
        self.tgtadm("--lld", "iscsi", "--op", "bind", "--mode", "target",
                    "--tid", "1", "-I", "ALL")

    def stop(self) -> None:
        """Stop only what this lab started: the helper stops its tgtd."""
        if self.helper is not None and self.helper.poll() is None:
            self.helper.stdin.close()
            try:
                self.helper.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.helper.kill()
                self.helper.wait()
        self.helper = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = ""

    # -- helpers for tests --------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.helper is not None
        return self.helper.pid

    @property
    def root_helper(self) -> str:
        return "nsenter -t %d -m -n --" % self.pid

    @property
    def portal(self) -> str:
        return "127.0.0.1:%d" % PORT

    @property
    def etc_iscsi(self) -> str:
        return os.path.join(self.workdir, "etc-iscsi")

    @property
    def lock_dir(self) -> str:
        """The lab's open-iscsi lock directory, seen from outside (its
        iscsiadm sees it as /run/lock/iscsi)."""
        return os.path.join(self.workdir, "run-lock", "iscsi")

    def _read(self, name: str) -> str:
        try:
            with open(os.path.join(self.workdir, name)) as handle:
                return handle.read()
        except OSError:
            return ""

    def request_sizes(self) -> set[int]:
        """Sizes of the requests iscsiadm sent to the iscsid stand-in."""
        return {int(size) for size in self._read("request-sizes").split()}

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        """Run a command inside the lab namespace (for test set-up only)."""
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-n",
                               "--", *argv], capture_output=True, text=True,
                              timeout=60)

    def tgtadm(self, *args: str) -> str:
        result = self.run("tgtadm", "-C", self.ctl, *args)
        if result.returncode != 0:
            raise LabError("tgtadm %s failed: %s" % (" ".join(args),
                                                      result.stderr))
        return result.stdout

    @contextlib.contextmanager
    def silent_listener(self, port: int) -> Iterator[None]:
        """A TCP listener on 127.0.0.1:``port`` in the lab that accepts
        connections and never says a word, as a wrong service would."""
        code = ("import socket, sys\n"
                "s = socket.socket()\n"
                "s.bind(('127.0.0.1', %d))\n"
                "s.listen(8)\n"
                "print('LISTENING', flush=True)\n"
                "held = []\n"
                "while True:\n"
                "    held.append(s.accept())\n" % port)
        listener = subprocess.Popen(
            ["nsenter", "-t", str(self.pid), "-m", "-n", "--",
             sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        try:
            assert listener.stdout is not None
            if listener.stdout.readline().strip() != "LISTENING":
                raise LabError("the silent listener on port %d did not "
                               "start" % port)
            yield
        finally:
            listener.kill()
            listener.wait()

    def add_discovery_chap(self, user: str, password: str) -> None:
        self.tgtadm("--op", "new", "--mode", "account", "--user", user,
                    "--password", password)
        self.tgtadm("--op", "bind", "--mode", "account", "--user", user)

    def remove_discovery_chap(self, user: str) -> None:
        self.run("tgtadm", "-C", self.ctl, "--op", "unbind", "--mode",
                 "account", "--user", user)
        self.run("tgtadm", "-C", self.ctl, "--op", "delete", "--mode",
                 "account", "--user", user)

    def reset_records(self) -> None:
        """Forget every iface, node and discovery record between tests."""
        for sub in ("ifaces", "nodes", "send_targets", "isns", "static",
                    "fw", "slp"):
            path = os.path.join(self.etc_iscsi, sub)
            if os.path.isdir(path):
                shutil.rmtree(path)
        os.makedirs(os.path.join(self.etc_iscsi, "ifaces"))
