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

"""Test fixtures for transport plugins: a built sysfs tree and a config.

A vendor tests a plugin the way this project tests its own: build the host
the card makes (:class:`SysfsTree`), point a configuration at it
(:class:`Config`) and ask the real
:class:`~iscsi_transports.selection.manager.TransportManager` what it
detects and chooses.  No hardware, root or iscsiadm is needed, because a
plugin only reads the host view (keystoneauth1's ``fixture`` package and
oslo.messaging's ``conffixture`` are the models).

The trees use the kernel's layout, symlinks included, because detection is
pointed at real hosts and at snapshots of them too: devices live under
``devices/``, and ``bus/pci/devices``, ``class/net``, ``class/iscsi_host``
and ``class/scsi_host`` hold relative symlinks into it, as on a real
``/sys``.  This module needs the ``fixtures`` package, which every
OpenStack test suite already installs.
"""

from __future__ import annotations

import os
import typing

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from iscsi_transports import config
from iscsi_transports.selection import manager

__all__ = ["CARDS", "CardModel", "CardPort", "Config", "SysfsTree"]


class CardModel(typing.NamedTuple):
    """How one vendor's offload card shows up in sysfs."""

    vendor: int
    device: int
    #: PCI driver its functions are bound to.
    driver: str
    #: PCI function number of the first port.
    function: int
    #: All ports on one PCI function (Chelsio) rather than one each.
    shared_function: bool
    #: Ports are NICs with netdevs that the iSCSI hosts name.
    nic: bool
    #: First three octets of its MAC addresses.
    oui: str
    #: The iSCSI MAC is not the NIC's (bnx2x has a separate iSCSI MAC).
    own_iscsi_mac: bool = False


#: A realistic card for each offload transport.
CARDS = {
    # Chelsio T3B20: two ports on function 0, cxgb3 NIC, cxgb3i hosts.
    "cxgb3i": CardModel(0x1425, 0x0031, "cxgb3", 0, True, True, "00:07:43"),
    # Chelsio T520-CR: cxgb4 drives physical function 4 for every port.
    "cxgb4i": CardModel(0x1425, 0x5401, "cxgb4", 4, True, True, "00:07:43"),
    # Broadcom 57810: a bnx2x function per port, iSCSI MAC of its own.
    "bnx2i": CardModel(0x14E4, 0x168E, "bnx2x", 0, False, True, "00:10:18",
                       own_iscsi_mac=True),
    # QLogic ISP8324 (QLE8342) iSCSI functions, no netdev, own IP.
    "qla4xxx": CardModel(0x1077, 0x8032, "qla4xxx", 4, False, False,
                         "00:0e:1e"),
    # Emulex OneConnect BE3 iSCSI functions beside the be2net ones.
    "be2iscsi": CardModel(0x19A2, 0x0712, "be2iscsi", 2, False, False,
                          "00:00:c9"),
    # Emulex OneConnect Skyhawk functions bound to the out-of-tree ocs.
    "ocs": CardModel(0x10DF, 0x0722, "ocs", 2, False, False, "00:90:fa"),
    # QLogic FastLinQ QL41000 iSCSI functions bound to qedi.
    "qedi": CardModel(0x1077, 0x8084, "qedi", 4, False, False, "00:0e:1e"),
}


class CardPort(typing.NamedTuple):
    """One port :meth:`SysfsTree.add_offload_card` built."""

    transport: str
    pci_address: str
    hwaddress: str
    ipaddress: str | None
    netdev: str | None
    host: str | None

    @property
    def iface_name(self) -> str:
        suffix = ".ipv6" if self.ipaddress and ":" in self.ipaddress else ""
        return "%s.%s%s" % (self.transport, self.hwaddress.lower(), suffix)


class SysfsTree(fixtures.Fixture):
    """A fake sysfs root in a temporary directory (``self.root``)."""

    def _setUp(self) -> None:
        self.root = self.useFixture(fixtures.TempDir()).path
        for part in ("devices/pci0000:00", "bus/pci/devices", "bus/pci/drivers",
                     "class/net", "class/iscsi_host", "class/scsi_host",
                     "class/iscsi_transport", "module"):
            os.makedirs(os.path.join(self.root, part), exist_ok=True)

    def _write(self, relpath: str, value: str) -> None:
        path = os.path.join(self.root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")

    def _link(self, relpath: str, target_relpath: str) -> None:
        path = os.path.join(self.root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        target = os.path.relpath(os.path.join(self.root, target_relpath),
                                 os.path.dirname(path))
        os.symlink(target, path)

    def pci_path(self, address: str) -> str:
        return "devices/pci0000:00/%s" % address

    def add_pci(self, address: str, vendor: int, device: int,
                driver: str | None = None,
                pci_class: int = 0x020000) -> str:
        """A PCI function, bound to ``driver`` when given."""
        dev = self.pci_path(address)
        self._write(dev + "/vendor", "0x%04x" % vendor)
        self._write(dev + "/device", "0x%04x" % device)
        self._write(dev + "/class", "0x%06x" % pci_class)
        self._link("bus/pci/devices/" + address, dev)
        if driver:
            os.makedirs(os.path.join(self.root, "bus/pci/drivers", driver),
                        exist_ok=True)
            self._link(dev + "/driver", "bus/pci/drivers/" + driver)
        return dev

    def add_netdev(self, name: str, hwaddress: str,
                   pci_address: str | None = None) -> None:
        """A network interface, on a PCI function or virtual."""
        parent = (self.pci_path(pci_address) if pci_address
                  else "devices/virtual")
        dev = "%s/net/%s" % (parent, name)
        self._write(dev + "/address", hwaddress)
        if pci_address:
            self._link(dev + "/device", parent)
        self._link("class/net/" + name, dev)

    def add_iscsi_host(self, number: int, proc_name: str,
                       pci_address: str | None, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       netdev: str | None = None,
                       initiatorname: str | None = None) -> str:
        """An offload port: ``hostN`` with its iscsi_host and scsi_host."""
        name = "host%d" % number
        parent = (self.pci_path(pci_address) if pci_address
                  else "devices/virtual")
        dev = "%s/%s" % (parent, name)
        iscsi = "%s/iscsi_host/%s" % (dev, name)
        for attr, value in (("hwaddress", hwaddress), ("ipaddress", ipaddress),
                            ("netdev", netdev),
                            ("initiatorname", initiatorname)):
            self._write("%s/%s" % (iscsi, attr),
                        value if value is not None else "<NULL>")
        self._write("%s/scsi_host/%s/proc_name" % (dev, name), proc_name)
        self._link("class/iscsi_host/" + name, iscsi)
        self._link("class/scsi_host/" + name,
                   "%s/scsi_host/%s" % (dev, name))
        return name

    def add_module(self, name: str) -> None:
        os.makedirs(os.path.join(self.root, "module", name), exist_ok=True)

    def add_iscsi_transport(self, name: str) -> None:
        self._write("class/iscsi_transport/%s/handle" % name, "1")

    def add_rdma(self, name: str, pci_address: str | None = None) -> None:
        parent = (self.pci_path(pci_address) if pci_address
                  else "devices/virtual")
        dev = "%s/infiniband/%s" % (parent, name)
        self._write(dev + "/node_type", "1: CA")
        self._link("class/infiniband/" + name, dev)

    def add_scsi_disk(self, name: str, hctl: str = "2:0:0:1",
                      holders: tuple[str, ...] = ()) -> str:
        """A SCSI disk ``name`` (``sdb``) at ``hctl``, as an iSCSI session
        creates it: ``block/<name>`` links to the disk, whose ``device``
        links to the SCSI device with its ``delete`` file; ``holders``
        (``dm-0``) link to virtual block devices.  Returns the path of
        ``delete``."""
        host, _channel, target, _lun = hctl.split(":")
        scsi_dev = "devices/platform/host%s/session%s/target%s:0:%s/%s" % (
            host, host, host, target, hctl)
        disk = "%s/block/%s" % (scsi_dev, name)
        self._write(scsi_dev + "/delete", "")
        self._link(disk + "/device", scsi_dev)
        os.makedirs(os.path.join(self.root, disk, "holders"), exist_ok=True)
        for holder in holders:
            self._write("devices/virtual/block/%s/dev" % holder, "253:0")
            self._link("%s/holders/%s" % (disk, holder),
                       "devices/virtual/block/" + holder)
        self._link("block/" + name, disk)
        return os.path.join(self.root, scsi_dev, "delete")

    def _next_host_number(self) -> int:
        numbers = [int(name[4:]) for name in os.listdir(
            os.path.join(self.root, "class/iscsi_host"))]
        return max(numbers, default=1) + 1

    def add_offload_card(self, transport: str, ports: int = 1, bus: int = 5,
                         module: bool = True,
                         ipaddresses: list[str | None] | None = None,
                         device: int | None = None,
                         driver: str | None = "") -> list[CardPort]:
        """A card of ``transport``'s kind (see :data:`CARDS`) with ``ports``.

        With ``module`` the transport's module is loaded, so each port has
        its iSCSI host; without it only the PCI functions (and NICs) exist,
        as after boot before ``modprobe``.  ``device`` and ``driver``
        override the model's PCI device id and bound driver ("": the
        model's, None: unbound).
        """
        model = CARDS[transport]
        built = []
        for index in range(ports):
            function = model.function + (0 if model.shared_function
                                         else index)
            address = "0000:%02x:00.%d" % (bus, function)
            if index == 0 or not model.shared_function:
                self.add_pci(address, model.vendor, device or model.device,
                             self._card_driver(model, module, driver))
            built.append(self._add_card_port(
                transport, model, address, bus, index, module,
                ipaddresses[index] if ipaddresses is not None
                else "192.0.2.%d" % (bus * 10 + index + 1)))
        if module:
            self.add_module(transport)
            self.add_iscsi_transport(transport)
        return built

    @staticmethod
    def _card_driver(model: CardModel, module: bool,
                     driver: str | None) -> str | None:
        # An HBA's PCI driver is the transport module itself: unbound until
        # it is loaded.  A NIC stays bound to its own driver.
        if driver != "":
            return driver
        return model.driver if module or model.nic else None

    def _add_card_port(self, transport: str, model: CardModel, address: str,
                       bus: int, index: int, module: bool,
                       ipaddress: str | None) -> CardPort:
        function = int(address[-1])
        mac = "%s:%02x:%02x:%02x" % (model.oui, bus, function, index)
        netdev = None
        if model.nic:
            netdev = "enp%ds0f%d" % (bus, function)
            if model.shared_function and index:
                netdev += "d%d" % index
            self.add_netdev(netdev, mac, address)
        if model.own_iscsi_mac:
            mac = mac[:-2] + "%02x" % (0x80 + index)
        host = None
        if module:
            host = self.add_iscsi_host(
                self._next_host_number(), transport, address, hwaddress=mac,
                ipaddress=ipaddress, netdev=netdev)
        return CardPort(transport, address, mac, ipaddress, netdev, host)


class Config(fixtures.Fixture):
    """A private :class:`~oslo_config.cfg.ConfigOpts` with the options the
    manager and the plugins read registered, reset after the test.

    ``sysfs_root`` points detection at a :class:`SysfsTree`; more options
    of the ``[iscsi_transports]`` group are set with :meth:`flags`.
    """

    def __init__(self, conf: cfg.ConfigOpts | None = None,
                 sysfs_root: str | None = None) -> None:
        super().__init__()
        self.conf = conf if conf is not None else cfg.ConfigOpts()
        self._sysfs_root = sysfs_root

    def _setUp(self) -> None:
        manager.register_opts(self.conf)
        self._config = self.useFixture(config_fixture.Config(self.conf))
        if self._sysfs_root is not None:
            self.flags(sysfs_root=self._sysfs_root)

    def flags(self, **kwargs: object) -> None:
        """Override options of the ``[iscsi_transports]`` group."""
        self._config.config(group=config.GROUP, **kwargs)
