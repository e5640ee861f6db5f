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

"""A read-only view of one host's hardware, read from a sysfs root.

Everything the transport plugins detect comes from here, so that a test, a
snapshot of another host or a real ``/sys`` are interchangeable.  The kernel
ABI used (``Documentation/ABI``): PCI functions under ``bus/pci/devices``,
network interfaces under ``class/net``, iSCSI hosts under
``class/iscsi_host`` and ``class/scsi_host``, loaded iSCSI transports under
``class/iscsi_transport``, modules under ``module`` and RDMA devices under
``class/infiniband``.

A missing or unreadable file means "absent", never an error: a host is read
while drivers load and unload, and a snapshot may be partial.  Each part is
read once per :class:`Host` and cached, so one detection pass over every
plugin walks sysfs once.
"""

from __future__ import annotations

import functools
import os
import re
import typing

__all__ = ["Host", "IscsiHost", "NetDev", "PciFunction",
           "parse_initiator_name", "pci_address_of"]

_PCI_ADDRESS_RE = re.compile(
    r"^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
_HOST_RE = re.compile(r"^host(\d+)$")
_UNSET = ("", "<NULL>", "<null>", "(null)")


class PciFunction(typing.NamedTuple):
    address: str
    vendor: int | None
    device: int | None
    pci_class: int | None
    driver: str | None
    netdevs: tuple[str, ...] = ()

    @property
    def pci_id(self) -> str:
        """``vvvv:dddd`` as lspci -n prints it."""
        return "%04x:%04x" % (self.vendor or 0, self.device or 0)


class NetDev(typing.NamedTuple):
    name: str
    hwaddress: str | None
    pci_address: str | None
    driver: str | None


class IscsiHost(typing.NamedTuple):
    """One ``class/iscsi_host/hostN`` entry: an offload port as the kernel
    sees it."""

    name: str
    proc_name: str | None
    hwaddress: str | None
    ipaddress: str | None
    netdev: str | None
    initiatorname: str | None
    pci_address: str | None

    @property
    def number(self) -> int:
        match = _HOST_RE.match(self.name)
        return int(match.group(1)) if match else -1


def pci_address_of(path: str) -> str | None:
    """The nearest PCI function above ``path`` in a resolved device path."""
    for part in reversed(path.split(os.sep)):
        if _PCI_ADDRESS_RE.match(part):
            return part
    return None


class Host:
    """Hardware inventory read lazily from ``sysfs_root`` (``/sys``)."""

    def __init__(self, sysfs_root: str = "/sys") -> None:
        self.sysfs_root = sysfs_root

    def _path(self, *parts: str) -> str:
        # Parts are literal names or directory entries, never absolute, so
        # a plain join gives os.path.join's result at a fraction of its cost
        # (detection builds thousands of paths on a host with many ports).
        return "/".join((self.sysfs_root, *parts))

    def read(self, *parts: str) -> str | None:
        """The stripped content of a sysfs attribute, None if unset/absent."""
        try:
            # Unbuffered binary I/O: a sysfs attribute is one small read,
            # and a text wrapper would cost more than the read itself.
            with open(self._path(*parts), "rb", buffering=0) as handle:
                raw = handle.read(4096)
        except OSError:
            return None
        value = raw.decode("utf-8", "replace").strip()
        return None if value in _UNSET else value

    def _read_hex(self, *parts: str) -> int | None:
        value = self.read(*parts)
        try:
            return int(value, 16) if value else None
        except ValueError:
            return None

    def _listdir(self, *parts: str) -> list[str]:
        try:
            return sorted(os.listdir(self._path(*parts)))
        except OSError:
            return []

    def _link_name(self, *parts: str) -> str | None:
        """The last component of a symlink's target (a bound driver's name)."""
        try:
            return os.path.basename(os.readlink(self._path(*parts))) or None
        except OSError:
            return None

    def resolved(self, *parts: str) -> str:
        return os.path.realpath(self._path(*parts))

    def pci_address_for(self, *parts: str) -> str | None:
        """The PCI function above a ``class/...`` entry, or None.

        The kernel links class entries straight into ``devices/``, so the
        link text already names the PCI function: one readlink instead of
        a realpath that stats every component.  A link whose text names no
        PCI function (or no link at all) is fully resolved as before.
        """
        path = self._path(*parts)
        try:
            address = pci_address_of(os.path.normpath(os.readlink(path)))
        except OSError:
            address = None
        return address or pci_address_of(os.path.realpath(path))

    @functools.cached_property
    def pci_functions(self) -> dict[str, PciFunction]:
        functions = {}
        for address in self._listdir("bus", "pci", "devices"):
            base = ("bus", "pci", "devices", address)
            functions[address] = PciFunction(
                address=address,
                vendor=self._read_hex(*base, "vendor"),
                device=self._read_hex(*base, "device"),
                pci_class=self._read_hex(*base, "class"),
                driver=self._link_name(*base, "driver"),
                netdevs=tuple(self._listdir(*base, "net")))
        return functions

    @functools.cached_property
    def netdevs(self) -> dict[str, NetDev]:
        devices = {}
        for name in self._listdir("class", "net"):
            hwaddress = self.read("class", "net", name, "address")
            devices[name] = NetDev(
                name=name,
                hwaddress=hwaddress.lower() if hwaddress else None,
                pci_address=self.pci_address_for("class", "net", name),
                driver=self._link_name("class", "net", name, "device",
                                       "driver"))
        return devices

    @functools.cached_property
    def iscsi_hosts(self) -> tuple[IscsiHost, ...]:
        hosts = []
        for name in self._listdir("class", "iscsi_host"):
            base = ("class", "iscsi_host", name)
            hwaddress = self.read(*base, "hwaddress")
            hosts.append(IscsiHost(
                name=name,
                proc_name=self.read("class", "scsi_host", name, "proc_name"),
                hwaddress=hwaddress.lower() if hwaddress else None,
                ipaddress=self.read(*base, "ipaddress"),
                netdev=self.read(*base, "netdev"),
                initiatorname=self.read(*base, "initiatorname"),
                pci_address=self.pci_address_for(*base)))
        return tuple(sorted(hosts, key=lambda host: (host.number, host.name)))

    @functools.cached_property
    def iscsi_transports(self) -> frozenset[str]:
        """Transports registered with the kernel's iSCSI class."""
        return frozenset(self._listdir("class", "iscsi_transport"))

    @functools.cached_property
    def modules(self) -> frozenset[str]:
        return frozenset(self._listdir("module"))

    @functools.cached_property
    def rdma_devices(self) -> tuple[str, ...]:
        return tuple(self._listdir("class", "infiniband"))

    def module_loaded(self, name: str) -> bool:
        """Whether module ``name`` (or a transport it registers) is present.

        sysfs spells module names with ``_`` where modprobe accepts ``-``.
        """
        name = name.replace("-", "_")
        return name in self.modules or name in self.iscsi_transports


def parse_initiator_name(text: str) -> str | None:
    """``InitiatorName=`` of open-iscsi's ``initiatorname.iscsi``; None if
    the text has none (comments and other keys are skipped).  Here, low in
    the package, because the root daemon parses the file too (it returns
    only the name, not whatever else a file there holds)."""
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "InitiatorName" and value.strip():
            return value.strip()
    return None
