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
from iscsi_transports.support import doctor


class HostData(fixtures.Fixture):
    """Temporary ``iface_dir``, ``proc_root``, ``network_file``,
    ``initiator_name_file`` and ``modules_dir``.

    The host starts with what software iSCSI needs (iscsid's socket held
    by systemd, iscsi_tcp installed, an initiator name); tests take parts
    away to see doctor notice.
    """

    INITIATOR_NAME = "iqn.2026-11.org.openstack.test:host-1"

    def _setUp(self) -> None:
        base = self.useFixture(fixtures.TempDir()).path
        self.iface_dir = os.path.join(base, "ifaces")
        self.proc_root = os.path.join(base, "proc")
        self.network_file = os.path.join(base, "network.json")
        self.initiator_name_file = os.path.join(base, "initiatorname.iscsi")
        self.modules_dir = os.path.join(base, "modules")
        os.makedirs(self.iface_dir)
        os.makedirs(os.path.join(self.proc_root, "net"))
        os.makedirs(self.modules_dir)
        self.set_network([], [])
        self.set_sockets(doctor.SOCKETS[doctor.ISCSID])
        self.set_initiator_name("InitiatorName=%s\n" % self.INITIATOR_NAME)
        self.set_modules_dep("kernel/drivers/scsi/iscsi_tcp.ko.xz: "
                             "kernel/drivers/scsi/libiscsi_tcp.ko.xz\n")

    def options(self) -> dict[str, str]:
        return {"iface_dir": self.iface_dir, "proc_root": self.proc_root,
                "network_file": self.network_file,
                "initiator_name_file": self.initiator_name_file,
                "modules_dir": self.modules_dir}

    def config_text(self) -> str:
        """An ``[iscsi_transports]`` section pointing at this host."""
        return "[iscsi_transports]\n" + "".join(
            "%s = %s\n" % item for item in self.options().items())

    def set_sockets(self, *names: str) -> None:
        """``proc/net/unix`` with these sockets listening."""
        with open(os.path.join(self.proc_root, "net", "unix"), "w",
                  encoding="utf-8") as table:
            table.write("Num       RefCount Protocol Flags    Type St Inode "
                        "Path\n")
            table.writelines("0000000000000000: 00000002 00000000 00010000 "
                             "0001 01 %d %s\n" % (20000 + number, name)
                             for number, name in enumerate(names))

    def set_initiator_name(self, text: str | None) -> None:
        """The initiator name file's text; None removes the file."""
        if text is None:
            os.unlink(self.initiator_name_file)
            return
        with open(self.initiator_name_file, "w", encoding="utf-8") as name:
            name.write(text)

    def set_modules_dep(self, text: str) -> None:
        with open(os.path.join(self.modules_dir, "modules.dep"), "w",
                  encoding="utf-8") as dep:
            dep.write(text)

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
