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

"""The public plugin contract: what a transport is and what it can tell us.

Vendors subclass :class:`Transport` and register the class under the
``iscsi_transports.transports`` entry-point group; the entry-point name is
what an operator writes in ``[iscsi_transports] transport``.

Plugins *describe*, they never execute: ``detect`` reads a
:class:`~iscsi_transports.host.Host` and returns data, ``generate_iface``
returns an :class:`~iscsi_transports.iface.Iface` value, and
``iscsiadm_args`` returns argv fragments.  Running iscsiadm, locking and root
helpers are the library's job (:mod:`iscsi_transports.iscsiadm`), so a plugin
needs no process handling and is testable on a built sysfs tree.  A plugin
must import and construct without its hardware present.
"""

from __future__ import annotations

import abc
import inspect
import re
import typing
from typing import Any, ClassVar

from oslo_config import cfg

from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod

__all__ = ["ENTRY_POINT_GROUP", "Detection", "Hardware", "Port",
           "Transport", "iface_args", "malformed_pci_id_entries", "parse_pci_id_entries",
           "plugin_opts"]

#: The entry-point group a transport plugin registers in; its entry-point
#: name is its :attr:`Transport.name`.
ENTRY_POINT_GROUP = "iscsi_transports.transports"

plugin_opts = [
    cfg.ListOpt(
        "extra_pci_ids", default=[],
        help="PCI functions to recognise as a transport's hardware in "
             "addition to its built-in table, for card models newer than "
             "this release. Each entry is <transport>:<vendor>:<device> in "
             "hex, for example cxgb4i:1425:6420."),
]

_PCI_ID_ENTRY_RE = re.compile(
    r"^([A-Za-z0-9_]+):(?:0x)?([0-9A-Fa-f]{1,4}):(?:0x)?([0-9A-Fa-f]{1,4})$")


def parse_pci_id_entries(entries: list[str]) -> dict[str, set[tuple[int, int]]]:
    """``extra_pci_ids`` entries by transport name.

    Malformed entries are left out, so one typo does not hide the others'
    hardware; :func:`malformed_pci_id_entries` names them, for the
    warning the manager logs and the console script prints.
    """
    table: dict[str, set[tuple[int, int]]] = {}
    for entry in entries:
        match = _PCI_ID_ENTRY_RE.match(entry.strip())
        if match:
            name, vendor, device = match.groups()
            table.setdefault(name, set()).add((int(vendor, 16),
                                               int(device, 16)))
    return table


def malformed_pci_id_entries(entries: list[str]) -> list[str]:
    """The ``extra_pci_ids`` entries that are not <transport>:<vendor>:<device>."""
    return [entry for entry in entries
            if not _PCI_ID_ENTRY_RE.match(entry.strip())]


def iface_args(iface_name: str) -> list[str]:
    """``-I <iface_name>``: the iface arguments every transport starts from."""
    return ["-I", iface_mod.validate_name(iface_name)]


class Port(typing.NamedTuple):
    """One place a transport can send iSCSI traffic from.

    For an offload card this is one iSCSI host (one card port); for software
    transports it is a network interface or an RDMA device.
    """

    transport: str
    iface_name: str | None
    hwaddress: str | None = None
    ipaddress: str | None = None
    netdev: str | None = None
    pci_address: str | None = None
    host: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Hardware(typing.NamedTuple):
    """A device that a transport recognised as its own."""

    pci_address: str
    pci_id: str
    model: str | None = None
    driver: str | None = None

    def describe(self) -> str:
        return "%s at %s" % (self.model or "device %s" % self.pci_id,
                             self.pci_address)

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Detection(typing.NamedTuple):
    """What a transport found on a host and whether it can be used.

    ``reason`` is always set: why the transport is usable, or exactly what
    is missing, in words an operator can act on.
    """

    transport: str
    usable: bool
    reason: str
    hardware: tuple[Hardware, ...] = ()
    module_loaded: bool = False
    ports: tuple[Port, ...] = ()
    enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "transport": self.transport,
            "enabled": self.enabled,
            "usable": self.usable,
            "reason": self.reason,
            "module_loaded": self.module_loaded,
            "hardware": [item.as_dict() for item in self.hardware],
            "ports": [port.as_dict() for port in self.ports],
        }


class Transport(abc.ABC):
    """Base class of every iSCSI transport plugin.

    Subclasses set the class attributes and implement :meth:`detect` and
    :meth:`generate_iface`.  The first line of the class docstring is the
    one-line summary shown by ``iscsi-transports show``, ``list --format
    json`` and the transport catalogue.
    """

    #: The open-iscsi transport name (``iface.transport_name``).
    name: ClassVar[str]
    #: True for hardware that runs the iSCSI data path itself.
    offload: ClassVar[bool] = False
    #: Kernel modules the transport needs loaded, most specific first.
    kernel_modules: ClassVar[tuple[str, ...]] = ()
    #: True when the target must support it too (iSER); such transports
    #: start disabled.
    needs_target_support: ClassVar[bool] = False
    #: True when open-iscsi needs ``iface.ipaddress`` set (bnx2i, qedi).
    requires_ipaddress: ClassVar[bool] = False
    #: True when the userspace helper ``iscsiuio`` must run (bnx2i, qedi).
    needs_iscsiuio: ClassVar[bool] = False
    #: A built-in iface used instead of per-port records (``default``,
    #: ``iser``), or None.
    builtin_iface: ClassVar[str | None] = None

    def __init_subclass__(cls, abstract: bool = False,
                          **kwargs: Any) -> None:
        """Refuse a concrete transport class without a ``name``.

        ``abstract=True`` in the class statement marks a shared base
        (:class:`~iscsi_transports.offload.OffloadTransport`) that has no
        name of its own; a class that still lacks ``detect`` or
        ``generate_iface`` is abstract too.  Everything else must say which
        open-iscsi transport it is, or the manager could never load it.
        """
        super().__init_subclass__(**kwargs)
        if abstract or _still_abstract(cls):
            return
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError("%s must set 'name', the open-iscsi transport "
                            "name" % cls.__name__)

    def __init__(self, conf: Any = None) -> None:
        self.conf = conf

    def configured_pci_ids(self) -> frozenset[tuple[int, int]]:
        """(vendor, device) pairs the operator added for this transport."""
        group = getattr(self.conf, "iscsi_transports", None)
        entries = getattr(group, "extra_pci_ids", None) or []
        return frozenset(parse_pci_id_entries(entries).get(self.name, ()))

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring."""
        doc = inspect.getdoc(cls) or ""
        return doc.strip().splitlines()[0] if doc.strip() else cls.name

    @abc.abstractmethod
    def detect(self, host: host_mod.Host) -> Detection:
        """Report this transport's hardware, module and ports on ``host``.

        Must not raise for a host without the hardware: report it instead.
        """

    @abc.abstractmethod
    def generate_iface(self, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       name: str | None = None) -> iface_mod.Iface:
        """The iface record for one port, following open-iscsi's rules."""

    def iface_for_port(self, port: Port) -> iface_mod.Iface:
        """The iface record for a port this transport detected."""
        return self.generate_iface(hwaddress=port.hwaddress,
                                   ipaddress=port.ipaddress,
                                   name=port.iface_name)

    def iface_from_tuple(self, ipaddress: str | None, hwaddress: str | None,
                         transport_name: str) -> iface_mod.Iface:
        """The iface for the (ip address, hw address, transport) 3-tuple an
        operator gives (``iscsi-transports iface``), checked against this
        transport."""
        if transport_name != self.name:
            raise exception.InvalidInput(
                reason="transport %s cannot build an iface for transport %s"
                       % (self.name, transport_name))
        return self.generate_iface(hwaddress=hwaddress, ipaddress=ipaddress)

    def validate_iface(self, record: iface_mod.Iface,
                       detection: Detection) -> list[str]:
        """Correctness problems of an existing record; empty when it is fine.

        These are the checks a record auto-created by ``iscsiadm -m iface``
        needs before we trust it: the transport matches, the hardware
        address is well formed and belongs to a port of this transport on
        this host, and the fields open-iscsi requires are set.
        """
        if record.builtin:
            return ([] if record.name == self.builtin_iface else
                    ["built-in iface %s does not belong to transport %s"
                     % (record.name, self.name)])
        problems = []
        if record.transport_name != self.name:
            problems.append("iface.transport_name is %s, expected %s"
                            % (record.transport_name, self.name))
        problems += self._hwaddress_problems(record, detection)
        if self.requires_ipaddress and not record.ipaddress:
            problems.append("iface.ipaddress must be set for %s" % self.name)
        if record.ipaddress and iface_mod.is_ipv6(record.ipaddress) \
                and "ipv6" not in record.name:
            problems.append("an IPv6 iface must have 'ipv6' in its name")
        return problems

    def _hwaddress_problems(self, record: iface_mod.Iface,
                            detection: Detection) -> list[str]:
        if not self.offload:
            return []
        if not record.hwaddress:
            return ["iface.hwaddress is not set"]
        known = {port.hwaddress for port in detection.ports}
        if record.hwaddress not in known:
            return ["no %s port with hwaddress %s on this host (found: %s)"
                    % (self.name, record.hwaddress,
                       ", ".join(sorted(filter(None, known))) or "none")]
        return []

    def iscsiadm_args(self, iface_name: str) -> list[str]:
        """The iscsiadm arguments of every command that goes through the
        iface: discovery, node creation and update, login, logout and
        node deletion.

        The default is ``-I <iface_name>``.  A plugin whose hardware needs
        more flags on those commands returns them here, keeping the
        ``-I <iface_name>`` (the iscsiadm layer refuses arguments without
        exactly one): the library never adds iface arguments of its own.
        """
        return iface_args(iface_name)

    def choose_port(self, detection: Detection,
                    iface_name: str | None = None) -> Port | None:
        """The port to use: the one named, else the first in host order.

        A transport with a built-in iface uses it unless a port's own iface
        is asked for by name.
        """
        if iface_name is None and self.builtin_iface:
            return Port(transport=self.name, iface_name=self.builtin_iface)
        ports = [port for port in detection.ports
                 if port.iface_name and (port.hwaddress or not self.offload)]
        if iface_name is not None:
            ports = [port for port in ports if port.iface_name == iface_name]
        return ports[0] if ports else None


def _still_abstract(cls: type) -> bool:
    """Whether ``cls`` leaves an abstract method of :class:`Transport`
    unimplemented (``__abstractmethods__`` is not set yet while
    ``__init_subclass__`` runs)."""
    return any(getattr(getattr(cls, method, None), "__isabstractmethod__",
                       False) for method in ("detect", "generate_iface"))
