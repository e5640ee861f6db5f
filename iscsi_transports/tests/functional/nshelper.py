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

"""The functional lab's namespace helper: runs INSIDE ``unshare -m -n``.

Started by :mod:`iscsi_transports.tests.functional.lab` as
``unshare -m -n --propagation private -- python3 nshelper.py WORKDIR CTL
PORT INITIATORNAME``.  In its private mount and network namespace it

* bind-mounts ``WORKDIR/etc-iscsi`` over ``/etc/iscsi``, and over
  ``/var/lib/iscsi`` where that exists (iscsiadm's paths are compiled in,
  so this is the only way to keep the host's records untouched),
* puts a tmpfs over ``/sys/class`` with the real class directories bound
  back plus a fake ``iscsi_transport/tcp``, so iscsiadm accepts tcp ifaces
  (offload transports are deliberately NOT faked),
* bind-mounts ``WORKDIR/run-lock`` over ``/run/lock``, where iscsiadm's
  compiled-in lock (``/run/lock/iscsi/lock.write``) lives, so the lab's
  iscsiadm never waits on, nor leaves a stale lock for, the host's,
* gives tgtd a private ``/run/tgtd``, brings ``lo`` up and starts ``tgtd``
  on 127.0.0.1:PORT (the namespace is new, so the port is free by
  construction),
* answers iscsiadm's requests on the abstract socket as an iscsid stand-in
  (:class:`IscsidStandin`),

prints ``READY <tgtd pid>`` and waits for stdin to close: a test process
that dies closes the pipe, so the lab never outlives it.  This file is a
standalone script (no package imports): it runs before anything else in
the namespace.
"""

import os
import socket
import struct
import subprocess
import sys
import threading
import time

ABSTRACT_NAME = b"\0ISCSIADM_ABSTRACT_NAMESPACE"
# open-iscsi 2.1.8 (usr/mgmt_ipc.h): iscsiadm_req_t is 16104 bytes and
# iscsiadm_rsp_t 2464 bytes on x86-64.  iscsiadm writes the request in one
# write() and reads the reply with recv(MSG_WAITALL) in a loop that never
# ends on a short reply, so replies are padded well beyond sizeof(rsp): the
# extra bytes are discarded when iscsiadm closes the socket.
REQ_SIZE = 16104
RSP_PAD = 16384
MGMT_IPC_CONFIG_INAME = 8
MGMT_IPC_CONFIG_IALIAS = 9
MGMT_IPC_CONFIG_FILE = 10
# What iscsid itself answers when the kernel has no transport to log in
# with (usr/mgmt_ipc.h MGMT_IPC_ERR_TRANS_NOT_FOUND).
MGMT_IPC_ERR_TRANS_NOT_FOUND = 12


class IscsidStandin(threading.Thread):
    """Answers the initiator-name request; refuses everything else.

    Enough for ``-I default`` discovery; logins get the error a real
    iscsid returns on a kernel without iSCSI transports.  The size of every
    request seen is appended to ``sizes_file`` so the harness can check it
    against the installed open-iscsi's ``sizeof(iscsiadm_req_t)``.
    """

    def __init__(self, initiatorname: str, sizes_file: str) -> None:
        super().__init__(daemon=True)
        self.iname = initiatorname.encode()
        self.sizes_file = sizes_file
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(ABSTRACT_NAME)
        self.sock.listen(64)

    def run(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            try:
                self.serve(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def serve(self, conn: socket.socket) -> None:
        request = self.read_request(conn)
        with open(self.sizes_file, "a") as sizes:
            sizes.write("%d\n" % len(request))
        if len(request) < 4:
            return
        command = struct.unpack_from("<i", request)[0]
        err, var = 0, b""
        if command == MGMT_IPC_CONFIG_INAME:
            var = self.iname
        elif command not in (MGMT_IPC_CONFIG_IALIAS, MGMT_IPC_CONFIG_FILE):
            err = MGMT_IPC_ERR_TRANS_NOT_FOUND
        reply = struct.pack("<ii", command, err) + var
        conn.sendall(reply + b"\0" * (RSP_PAD - len(reply)))

    @staticmethod
    def read_request(conn: socket.socket) -> bytes:
        conn.settimeout(0.5)
        data = b""
        try:
            while len(data) < REQ_SIZE:
                chunk = conn.recv(REQ_SIZE - len(data))
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
        return data


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def fake_sys_class(workdir: str) -> None:
    real = os.path.join(workdir, "sysclass")
    os.mkdir(real)
    run("mount", "--bind", "/sys/class", real)
    run("mount", "-t", "tmpfs", "tmpfs", "/sys/class")
    for name in sorted(os.listdir(real)):
        os.mkdir(os.path.join("/sys/class", name))
        run("mount", "--bind", os.path.join(real, name),
            os.path.join("/sys/class", name))
    tcp = "/sys/class/iscsi_transport/tcp"
    os.makedirs(tcp, exist_ok=True)
    for name, value in (("handle", "1"), ("caps", "0")):
        with open(os.path.join(tcp, name), "w") as handle:
            handle.write(value + "\n")


def start_tgtd(workdir: str, ctl: str, port: str) -> subprocess.Popen:
    log = open(os.path.join(workdir, "tgtd.log"), "w")
    tgtd = subprocess.Popen(
        ["tgtd", "-f", "-C", ctl, "--iscsi", "portal=127.0.0.1:%s" % port],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    for _ in range(200):
        if tgtd.poll() is not None:
            with open(os.path.join(workdir, "tgtd.log")) as output:
                raise RuntimeError("tgtd exited with %s: %s" % (
                    tgtd.returncode, output.read().strip() or "no output"))
        probe = subprocess.run(["tgtadm", "-C", ctl, "--op", "show",
                                "--mode", "sys"], capture_output=True)
        if probe.returncode == 0:
            return tgtd
        time.sleep(0.05)
    tgtd.kill()
    raise RuntimeError("tgtd did not answer tgtadm within 10 s")


def stop_tgtd(ctl: str, tgtd: subprocess.Popen) -> None:
    """tgtd ignores SIGTERM: take it offline, delete, then SIGKILL by pid."""
    base = ["tgtadm", "-C", ctl]
    steps = [["--op", "update", "--mode", "sys", "--name", "State",
              "-v", "offline"],
             ["--lld", "iscsi", "--op", "delete", "--mode", "target",
              "--tid", "1", "--force"],
             ["--op", "delete", "--mode", "system"]]
    for step in steps:
        subprocess.run(base + step, capture_output=True)
    try:
        tgtd.wait(timeout=5)
    except subprocess.TimeoutExpired:
        tgtd.kill()
        tgtd.wait()


def private_tgtd_run_dir(workdir: str) -> None:
    """tgtd keeps its control socket and lock in /run/tgtd and leaves them
    behind when killed: each lab gets its own, so labs of parallel test
    workers never meet there and the host's /run stays clean."""
    private = os.path.join(workdir, "run-tgtd")
    os.mkdir(private)
    os.makedirs("/run/tgtd", exist_ok=True)
    run("mount", "--bind", private, "/run/tgtd")


def private_lock_dir(workdir: str) -> None:
    """open-iscsi's LOCK_DIR (meson's lockdir, /run/lock/iscsi) is below
    /run/lock: the whole of it is the lab's own, so nothing is created on
    the host to mount over."""
    private = os.path.join(workdir, "run-lock")
    os.mkdir(private)
    run("mount", "--bind", private, "/run/lock")


#: Where open-iscsi 2.1.9 and later, as Debian 13 builds it, keep the node,
#: iface and discovery records that 2.1.8 kept in /etc/iscsi.
RECORD_DIR = "/var/lib/iscsi"


def main(workdir: str, ctl: str, port: str, initiatorname: str) -> int:
    run("mount", "--bind", os.path.join(workdir, "etc-iscsi"), "/etc/iscsi")
    if os.path.isdir(RECORD_DIR):
        # The same private copy, so that records land where the lab
        # resets them and the host's stay untouched.
        run("mount", "--bind", os.path.join(workdir, "etc-iscsi"),
            RECORD_DIR)
    private_lock_dir(workdir)
    private_tgtd_run_dir(workdir)
    fake_sys_class(workdir)
    run("ip", "link", "set", "lo", "up")
    IscsidStandin(initiatorname,
                  os.path.join(workdir, "request-sizes")).start()
    tgtd = start_tgtd(workdir, ctl, port)
    try:
        sys.stdout.write("READY %d\n" % tgtd.pid)
        sys.stdout.flush()
        sys.stdin.read()
    finally:
        stop_tgtd(ctl, tgtd)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
