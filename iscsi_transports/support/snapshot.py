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

"""Host snapshots: what detection reads, in one archive, replayable anywhere.

A support engineer reproduces an operator's host from one file: the sysfs
entries detection touched (files, directories and the kernel's symlinks,
recorded while every plugin detects), the iface records, the helper daemons
running, and the addresses and routes.  Recording what is read, rather than
copying a fixed list, keeps the archive small and exactly sufficient: a
plugin that reads one more attribute gets it captured without a change
here.

Nothing secret goes in: no node records, and any iface record line whose
key mentions authentication or a password is dropped.  Replaying extracts
to a temporary directory after refusing members that could escape it.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import time
import weakref
from typing import Any

from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import portal as portal_mod
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import network as network_mod
from iscsi_transports.support import doctor

FORMAT = 1
SYSFS, IFACES, PROC = "sysfs", "ifaces", "proc"
NETWORK, META = "network.json", "snapshot.json"
INITIATORNAME, MODULES = "initiatorname.iscsi", "modules"
_TOP = (SYSFS, IFACES, PROC, NETWORK, META, INITIATORNAME, MODULES)
#: Daemons whose presence doctor reports.
HELPERS = (doctor.ISCSIUIO, doctor.ISCSID)
#: The module indexes doctor reads, reduced to the modules it asks about.
MODULE_INDEXES = ("modules.dep", "modules.builtin")
_SECRET_WORDS = ("auth", "password", "chap", "secret")
_MAX_BYTES = 64 << 20


class RecordingHost(host_mod.Host):
    """A :class:`~iscsi_transports.host.Host` that notes every path asked
    for, so that exactly those entries can be captured afterwards."""

    def __init__(self, sysfs_root: str = "/sys") -> None:
        super().__init__(sysfs_root)
        self.touched: set[str] = set()
        self.listed: set[str] = set()

    def _path(self, *parts: str) -> str:
        self.touched.add("/".join(parts))
        return super()._path(*parts)

    def _listdir(self, *parts: str) -> list[str]:
        self.listed.add("/".join(parts))
        return super()._listdir(*parts)


class Collector:
    """Sysfs entries to archive: files with content, directories, links."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        self.links: dict[str, str] = {}

    def walk(self, rel: str, depth: int = 0) -> str | None:
        """``rel`` resolved inside the root, recording every link on the
        way; None when a link leaves the root (never captured)."""
        resolved = ""
        for part in [part for part in rel.split("/") if part]:
            candidate = posixpath.join(resolved, part)
            full = os.path.join(self.root, candidate)
            if not os.path.islink(full):
                resolved = candidate
                continue
            target = os.readlink(full)
            inside = posixpath.normpath(posixpath.join(
                posixpath.dirname(candidate), target))
            if os.path.isabs(target) or inside.startswith("..") or depth > 40:
                return None
            self.links[candidate] = target
            followed = self.walk(inside, depth + 1)
            if followed is None:
                return None
            resolved = followed
        return resolved

    def add(self, rel: str, listed: bool = False) -> None:
        """Capture one path detection asked for (and its entries if it was
        listed)."""
        resolved = self.walk(rel)
        if resolved is None or not resolved:
            return
        full = os.path.join(self.root, resolved)
        if os.path.isdir(full):
            self.dirs.add(resolved)
            if listed:
                for entry in sorted(os.listdir(full)):
                    self._add_entry(posixpath.join(resolved, entry))
        elif os.path.isfile(full):
            self.files[resolved] = _read_attribute(full)

    def _add_entry(self, rel: str) -> None:
        resolved = self.walk(rel)
        full = os.path.join(self.root, resolved or "")
        if resolved and os.path.isdir(full):
            self.dirs.add(resolved)
        elif resolved and os.path.isfile(full):
            self.files.setdefault(resolved, b"")


def _read_attribute(path: str) -> bytes:
    try:
        with open(path, "rb", buffering=0) as handle:
            return handle.read(4096)
    except OSError:
        return b""  # write-only or vanished: absent, as Host would see it


def _record(manager: manager_mod.TransportManager,
            host: RecordingHost) -> None:
    """Run every detection on the recording host, as list, doctor and the
    driver would."""
    manager.detect_all()
    for name in ("pci_functions", "netdevs", "iscsi_hosts",
                 "iscsi_transports", "modules", "rdma_devices"):
        getattr(host, name)


def _iface_text(path: str) -> bytes:
    """An iface record file without any key about authentication."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line for line in handle.read().splitlines()
                 if not any(word in line.partition("=")[0].lower()
                            for word in _SECRET_WORDS)]
    return ("\n".join(lines) + "\n").encode()


def _iface_members(iface_dir: str) -> dict[str, bytes]:
    try:
        names = sorted(os.listdir(iface_dir))
    except OSError:
        return {}
    return {posixpath.join(IFACES, name): _iface_text(
        os.path.join(iface_dir, name)) for name in names
        if not name.startswith(".") and "/" not in name
        and os.path.isfile(os.path.join(iface_dir, name))}


def _proc_members(proc_root: str) -> dict[str, bytes]:
    members = {"%s/%d/comm" % (PROC, pid): (comm + "\n").encode()
               for comm in HELPERS for pid in doctor.running(proc_root, comm)}
    sockets = ["Num RefCount Protocol Flags Type St Inode Path\n"]
    sockets += ["0: 2 0 10000 1 1 0 %s\n" % doctor.SOCKETS[comm]
                for comm in HELPERS
                if doctor.listening(proc_root, doctor.SOCKETS[comm])]
    members[PROC + "/net/unix"] = "".join(sockets).encode()
    return members


def _basics_members(options: Any) -> dict[str, bytes]:
    """The initiator name file and the module index lines doctor reads."""
    members = {}
    try:
        with open(options.initiator_name_file, "rb") as name_file:
            members[INITIATORNAME] = name_file.read(4096)
    except OSError:
        pass  # absent on the host: absent in the replay
    source = options.modules_dir or doctor.modules_dir()
    for index in MODULE_INDEXES:
        members["%s/%s" % (MODULES, index)] = b"".join(
            line for line in _index_lines(os.path.join(source, index))
            if doctor.ISCSI_TCP.encode() in line)
    return members


def _index_lines(path: str) -> list[bytes]:
    try:
        with open(path, "rb") as index:
            return index.readlines()
    except OSError:
        return []


def _network_data(network: network_mod.Network,
                  portals: list[str]) -> dict[str, Any]:
    data = network.as_dict()
    lookups = {}
    for portal in portals:
        ip = portal_mod.parse_portal(portal).host
        route = network.route_to(ip)
        lookups[ip] = route.as_dict() if route else None
    data["lookups"] = {**data.get("lookups", {}), **lookups}
    return data


def capture(conf: cfg.ConfigOpts, path: str,
            portals: list[str] | None = None) -> dict[str, int]:
    """Write the snapshot of the host ``conf`` points at to ``path``.

    ``portals`` get the kernel's own route answer recorded (policy routing
    included), which replay prefers to its longest-prefix match.
    """
    _register_opts(conf)
    options = conf.iscsi_transports
    host = RecordingHost(options.sysfs_root)
    manager = manager_mod.TransportManager(conf, host=host)
    _record(manager, host)
    collector = Collector(options.sysfs_root)
    for rel in sorted(host.touched):
        collector.add(rel, listed=rel in host.listed)
    network_data = _network_data(manager.network, list(portals or []))
    extra = {**_iface_members(doctor.iface_dir(conf)),
             **_proc_members(options.proc_root),
             **_basics_members(options),
             NETWORK: _json(network_data),
             META: _json({"format": FORMAT, "created": int(time.time()),
                          "portals": list(portals or [])})}
    _write(path, collector, extra)
    return {"sysfs_files": len(collector.files),
            "sysfs_links": len(collector.links),
            "iface_records": sum(name.startswith(IFACES + "/")
                                 for name in extra),
            "addresses": len(network_data["addresses"]),
            "routes": len(network_data["routes"])}


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _write(path: str, collector: Collector, extra: dict[str, bytes]) -> None:
    mtime = int(time.time())
    with tarfile.open(path, "w:gz") as archive:
        for name in sorted({SYSFS, IFACES, PROC} | {
                posixpath.join(SYSFS, rel) for rel in collector.dirs}):
            archive.addfile(_info(name, tarfile.DIRTYPE, mtime, 0o755))
        files = {posixpath.join(SYSFS, rel): data
                 for rel, data in collector.files.items()}
        for name, data in sorted({**files, **extra}.items()):
            archive.addfile(_info(name, tarfile.REGTYPE, mtime, 0o644,
                                  size=len(data)), io.BytesIO(data))
        for rel, target in sorted(collector.links.items()):
            info = _info(posixpath.join(SYSFS, rel), tarfile.SYMTYPE, mtime,
                         0o777)
            info.linkname = target
            archive.addfile(info)


def _info(name: str, kind: bytes, mtime: int, mode: int,
          size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mtime, info.mode, info.size = kind, mtime, mode, size
    return info


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse anything that could write outside the replay directory."""
    name = member.name
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or parts[0] not in _TOP:
        raise _unsafe(member, "path outside the snapshot layout")
    if member.issym():
        inside = posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                                   member.linkname))
        if parts[0] != SYSFS or member.linkname.startswith("/") or \
                inside.split("/")[0] != SYSFS:
            raise _unsafe(member, "link to %s leaves the snapshot's sysfs"
                          % member.linkname)
    elif not (member.isdir() or member.isfile()):
        raise _unsafe(member, "only files, directories and links allowed")


def _unsafe(member: tarfile.TarInfo, why: str) -> exception.InvalidInput:
    return exception.InvalidInput(
        reason="snapshot member %r refused: %s" % (member.name, why))


def extract(path: str, destination: str) -> None:
    """Extract a snapshot into ``destination`` after checking every member."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                check_member(member)
            if sum(member.size for member in members) > _MAX_BYTES:
                raise exception.InvalidInput(
                    reason="snapshot %s is larger than a host's "
                           "snapshot can be" % path)
            if hasattr(tarfile, "data_filter"):  # the stdlib's guard too
                archive.extractall(destination, members=members,
                                   filter="data")
            else:  # Python < 3.10.12: check_member is the guard
                archive.extractall(  # noqa: S202
                    destination, members=members)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise exception.InvalidInput(
            reason="%s is not a readable snapshot: %s" % (path, error)
        ) from None


def _register_opts(conf: cfg.ConfigOpts) -> None:
    """What a snapshot reads and replays: the host, iface records, daemons
    and network, whichever command runs it."""
    manager_mod.register_opts(conf)
    config.register(conf, [*doctor.doctor_opts, *network_mod.network_opts])


def replay(conf: cfg.ConfigOpts, path: str) -> str:
    """Point ``conf`` at a snapshot: sysfs, iface records, daemons and
    network all come from it.  The extracted copy is removed when ``conf``
    goes away; its directory is returned."""
    root = tempfile.mkdtemp(prefix="iscsi-transports-snapshot-")
    weakref.finalize(conf, shutil.rmtree, root, True)
    extract(path, root)
    _register_opts(conf)
    for name, value in (("sysfs_root", SYSFS), ("iface_dir", IFACES),
                        ("proc_root", PROC), ("network_file", NETWORK),
                        ("initiator_name_file", INITIATORNAME),
                        ("modules_dir", MODULES)):
        conf.set_override(name, os.path.join(root, value), group=config.GROUP)
    return root
