"""Builds sysfs trees shaped like the kernel's, symlinks included.

Detection is pointed at real hosts and at snapshots of them, so the trees
the tests build use the same layout: devices live under ``devices/``, and
``bus/pci/devices``, ``class/net``, ``class/iscsi_host`` and
``class/scsi_host`` hold relative symlinks into it, as on a real ``/sys``.
"""

from __future__ import annotations

import os

import fixtures


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
