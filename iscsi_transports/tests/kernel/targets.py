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

"""Storage targets inside the VM: LIO (through configfs) and tgtd.

LIO is configured by writing its configfs tree directly, as rtslib does
underneath targetcli: one targetcli start costs 5-10 s of Python over 9p
under TCG, a configfs write a few milliseconds.  Each target gets its own
backing files in the VM's tmpfs and its own IQN, and :meth:`destroy`
removes exactly what :meth:`create` made, in reverse order.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from typing import Any

from iscsi_transports.tests.kernel import machine

CONFIGFS = "/sys/kernel/config/target"
IQN_PREFIX = "iqn.2026-11.org.openstack.kernel-lab:"
_COUNTER = iter(range(1, 1 << 30))


def _write(path: str, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def new_iqn(label: str) -> str:
    return "%s%s-%d-%d" % (IQN_PREFIX, label, os.getpid(), next(_COUNTER))


class Chap:
    """CHAP credentials of an ACL; ``mutual`` adds the target's own."""

    def __init__(self, username: str, password: str,
                 username_in: str | None = None,
                 password_in: str | None = None) -> None:
        self.username, self.password = username, password
        self.username_in, self.password_in = username_in, password_in

    def props(self, password: str | None = None,
              password_in: str | None = None) -> dict[str, str]:
        """The connection properties cinder would send (secrets
        overridable, to send wrong ones)."""
        props = {"auth_method": "CHAP", "auth_username": self.username,
                 "auth_password": password or self.password}
        if self.username_in:
            props["auth_username_in"] = self.username_in
            props["auth_password_in"] = password_in or self.password_in or ""
        return props


class LioTarget:
    """One LIO iSCSI target: fileio LUNs, one portal, an ACL for us."""

    def __init__(self, initiator: str, label: str = "lio",
                 portal_ip: str = machine.NIC_IP, port: int = 3260,
                 luns: int = 1, size_mib: int = 32, chap: Chap | None = None,
                 iser: bool = False, more_ips: tuple[str, ...] = ()) -> None:
        self.iqn = new_iqn(label)
        self.initiator = initiator
        self.portal = "%s:%d" % (portal_ip, port)
        #: Every portal of its one portal group: ``more_ips`` are more
        #: paths to the same LUNs (multipath).
        self.portals = [self.portal] + ["%s:%d" % (ip, port)
                                        for ip in more_ips]
        self.luns, self.size_mib = luns, size_mib
        self.chap, self.iser = chap, iser
        self.hba = "fileio_%d" % next(_COUNTER)
        self.tpg = os.path.join(CONFIGFS, "iscsi", self.iqn, "tpgt_1")
        self.made: list[str] = []  # what to undo, in creation order

    def props(self, lun: int = 0, **extra: Any) -> dict[str, Any]:
        return {"target_portal": self.portal, "target_iqn": self.iqn,
                "target_lun": lun, **extra}

    def _mkdir(self, path: str) -> None:
        os.mkdir(path)
        self.made.append(path)

    def _symlink(self, source: str, link: str) -> None:
        os.symlink(source, link)
        self.made.append(link)

    def create(self) -> LioTarget:
        os.makedirs(os.path.join(CONFIGFS, "core"), exist_ok=True)
        self._mkdir(os.path.join(CONFIGFS, "core", self.hba))
        os.makedirs(os.path.join(CONFIGFS, "iscsi"), exist_ok=True)
        self._mkdir(os.path.join(CONFIGFS, "iscsi", self.iqn))
        self._mkdir(self.tpg)
        for lun in range(self.luns):
            self._lun(lun)
        for portal in self.portals:
            self._mkdir(os.path.join(self.tpg, "np", portal))
        if self.iser:
            _write(os.path.join(self.tpg, "np", self.portal, "iser"), "1")
        self._acl()
        _write(os.path.join(self.tpg, "attrib", "authentication"),
               "1" if self.chap else "0")
        _write(os.path.join(self.tpg, "enable"), "1")
        return self

    def _lun(self, lun: int) -> None:
        image = "/tmp/%s-lun%d.img" % (self.hba, lun)
        with open(image, "wb") as handle:
            handle.truncate(self.size_mib << 20)
        self.made.append(image)
        store = os.path.join(CONFIGFS, "core", self.hba, "disk%d" % lun)
        self._mkdir(store)
        self._export(store, lun, "fd_dev_name=%s,fd_dev_size=%d"
                     % (image, self.size_mib << 20))

    def _export(self, store: str, lun: int, control: str) -> str:
        """Enable backstore ``store`` (with a fresh serial, so a fresh
        WWID) and export it as LUN ``lun`` of the TPG; its LUN dir."""
        _write(os.path.join(store, "control"), control)
        _write(os.path.join(store, "enable"), "1")
        _write(os.path.join(store, "wwn", "vpd_unit_serial"),
               str(uuid.uuid4()))
        lun_dir = os.path.join(self.tpg, "lun", "lun_%d" % lun)
        self._mkdir(lun_dir)
        self._symlink(store, os.path.join(lun_dir, "store"))
        return lun_dir

    def _acl(self) -> None:
        acl = os.path.join(self.tpg, "acls", self.initiator)
        self._mkdir(acl)
        for lun in range(self.luns):
            mapped = os.path.join(acl, "lun_%d" % lun)
            self._mkdir(mapped)
            self._symlink(os.path.join(self.tpg, "lun", "lun_%d" % lun),
                          os.path.join(mapped, "link"))
        if self.chap:
            auth = os.path.join(acl, "auth")
            _write(os.path.join(auth, "userid"), self.chap.username)
            _write(os.path.join(auth, "password"), self.chap.password)
            if self.chap.username_in:
                _write(os.path.join(auth, "userid_mutual"),
                       self.chap.username_in)
                _write(os.path.join(auth, "password_mutual"),
                       self.chap.password_in or "")

    def add_lun(self, lun: int, size_mib: int | None = None) -> str:
        """Export LUN ``lun`` (any number, 300 included) on the running
        target and map it to us, as an array does for a new volume: a
        block backstore on a loop device, so :meth:`grow` can resize it.
        Returns the loop device."""
        machine.modprobe("loop", "target_core_iblock")
        image = "/tmp/%s-lun%d.img" % (self.hba, lun)
        with open(image, "wb") as handle:
            handle.truncate((size_mib or self.size_mib) << 20)
        self.made.append(image)
        loop = machine.run("losetup", "-f", "--show", image).strip()
        self.made.append("loop:" + loop)
        store = os.path.join(CONFIGFS, "core",
                             self.hba.replace("fileio", "iblock"))
        if not os.path.isdir(store):
            self._mkdir(store)
        store = os.path.join(store, "disk%d" % lun)
        self._mkdir(store)
        lun_dir = self._export(store, lun, "udev_path=%s" % loop)
        mapped = os.path.join(self.tpg, "acls", self.initiator, "lun_%d" % lun)
        self._mkdir(mapped)
        self._symlink(lun_dir, os.path.join(mapped, "link"))
        return loop

    def unmap(self, lun: int) -> None:
        """Take LUN ``lun`` away from us while we are logged in, as an
        array does when a volume is unmapped: the session stays, the LUN
        answers no more."""
        mapped = os.path.join(self.tpg, "acls", self.initiator,
                              "lun_%d" % lun)
        for path in (os.path.join(mapped, "link"), mapped):
            if os.path.islink(path):
                os.unlink(path)
            else:
                os.rmdir(path)
            self.made.remove(path)

    def grow(self, lun: int, size_mib: int) -> None:
        """Grow an :meth:`add_lun` LUN's backing file and its loop device:
        the target reports the new capacity from then on."""
        image = "/tmp/%s-lun%d.img" % (self.hba, lun)
        with open(image, "r+b") as handle:
            handle.truncate(size_mib << 20)
        loops = machine.run("losetup", "-j", image).split(":", 1)[0]
        machine.run("losetup", "-c", loops)

    def destroy(self) -> None:
        if os.path.exists(os.path.join(self.tpg, "enable")):
            _write(os.path.join(self.tpg, "enable"), "0")
        for path in reversed(self.made):
            if path.startswith("loop:"):
                subprocess.run(["losetup", "-d", path[len("loop:"):]],
                               capture_output=True, timeout=60)
            elif os.path.islink(path) or path.startswith("/tmp/"):
                os.unlink(path)
            else:
                os.rmdir(path)
        self.made = []


class TgtdTarget:
    """A tgtd of its own on 127.0.0.1, with one target; LUN 1 is the disk
    (tgtd's LUN 0 is its controller)."""

    def __init__(self, portal_ip: str = "127.0.0.1", port: int = 3260,
                 size_mib: int = 32) -> None:
        self.iqn = new_iqn("tgt")
        self.portal = "%s:%d" % (portal_ip, port)
        self.size_mib = size_mib
        self.image = "/tmp/tgt-%d.img" % next(_COUNTER)
        self.process: subprocess.Popen | None = None

    def props(self, **extra: Any) -> dict[str, Any]:
        return {"target_portal": self.portal, "target_iqn": self.iqn,
                "target_lun": 1, **extra}

    def tgtadm(self, *args: str) -> str:
        return machine.run("tgtadm", "--lld", "iscsi", *args)

    def create(self) -> TgtdTarget:
        with open(self.image, "wb") as handle:
            handle.truncate(self.size_mib << 20)
        self.process = subprocess.Popen(
            ["tgtd", "-f", "--iscsi", "portal=%s" % self.portal],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        machine.wait_for(self._ready, "tgtd to accept commands", 30)
        self.tgtadm("--op", "new", "--mode", "target", "--tid", "1",
                    "-T", self.iqn)
        self.tgtadm("--op", "new", "--mode", "logicalunit", "--tid", "1",
                    "--lun", "1", "-b", self.image)
        self.tgtadm("--op", "bind", "--mode", "target", "--tid", "1",
                    "-I", "ALL")
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise machine.MachineError("tgtd exited with %s"
                                       % self.process.returncode)
        return subprocess.run(["tgtadm", "--op", "show", "--mode", "sys"],
                              capture_output=True).returncode == 0

    def destroy(self) -> None:
        if self.process is not None:
            subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "delete",
                            "--mode", "target", "--tid", "1", "--force"],
                           capture_output=True)
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
            time.sleep(0.2)
        if os.path.exists(self.image):
            os.unlink(self.image)
