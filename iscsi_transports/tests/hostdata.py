"""What a host has besides sysfs: iface records, processes, addresses.

The doctor and snapshot tests build these next to a
:class:`~iscsi_transports.fixture.SysfsTree` and point the options
``iface_dir``, ``proc_root`` and ``network_file`` at them.
"""

from __future__ import annotations

import json
import os

import fixtures

from iscsi_transports import iface as iface_mod
from iscsi_transports.selection import network


class HostData(fixtures.Fixture):
    """Temporary ``iface_dir``, ``proc_root`` and ``network_file``."""

    def _setUp(self) -> None:
        base = self.useFixture(fixtures.TempDir()).path
        self.iface_dir = os.path.join(base, "ifaces")
        self.proc_root = os.path.join(base, "proc")
        self.network_file = os.path.join(base, "network.json")
        os.makedirs(self.iface_dir)
        os.makedirs(self.proc_root)
        self.set_network([], [])

    def options(self) -> dict[str, str]:
        return {"iface_dir": self.iface_dir, "proc_root": self.proc_root,
                "network_file": self.network_file}

    def add_record(self, record: iface_mod.Iface, extra: str = "") -> str:
        """Write an iface record file as iscsiadm stores it."""
        path = os.path.join(self.iface_dir, record.name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(iface_mod.format_record(record) + extra)
        return path

    def add_process(self, pid: int, comm: str) -> None:
        os.makedirs(os.path.join(self.proc_root, str(pid)))
        with open(os.path.join(self.proc_root, str(pid), "comm"), "w",
                  encoding="utf-8") as handle:
            handle.write(comm + "\n")

    def set_network(self, addresses: list[network.Address],
                    routes: list[network.Route]) -> None:
        with open(self.network_file, "w", encoding="utf-8") as handle:
            json.dump(network.StaticNetwork(addresses, routes).as_dict(),
                      handle)
