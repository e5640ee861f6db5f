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

"""nova's own volume path on the real kernel (issues 15 and 23).

nova's ``LibvirtDriver`` -- ``_connect_volume``, ``_get_volume_config``,
``_disconnect_volume`` with ``force``, ``get_volume_connector`` -- runs in
nova's virtualenv under ``iscsi-transports run``
(:class:`~iscsi_transports.tests.kernel.base.NovaCompute`), picks nova's
own, unmodified iSCSI volume driver from ``VOLUME_DRIVERS``, whose
connector os-brick's factory makes the library's, and so attaches through
the library's driver.  The tests look at what the kernel did: sessions,
disks, by-path links, node records, and data written and read back through
the disk nova hands to libvirt.

With ``[libvirt] volume_use_multipath = True`` (a nova of its own) and
multipathd running, nova attaches a volume cinder sends with two portals,
gets the dm-multipath map of its two paths, hands that to libvirt, and a
plain detach leaves nothing of the target behind.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any

import fixtures

from iscsi_transports.tests import kernel
from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine
from iscsi_transports.tests.kernel import test_multipath as mp

DISK_INFO = {"bus": "virtio", "dev": "vdb", "type": "disk"}
#: The initiator name of an iface record of its own, as an offload card's
#: port often has; the host's file says another.
OWN_INITIATOR = "iqn.2026-12.org.iscsi-transports.lab:port-0"


class NovaTestCase(base.KernelTestCase):
    """One nova compute process serves the tests of a class, as it serves
    every volume of a host; loading nova is slow under the lab's emulated
    CPU."""

    nova: base.NovaCompute
    #: nova.conf sections beside the ones every class gets, and the log.
    nova_conf: dict[str, dict[str, str]] = {}
    nova_log = "nova-compute.log"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.workdir = fixtures.TempDir()
        cls.workdir.setUp()
        cls.addClassCleanup(cls.workdir.cleanUp)
        work = cls.workdir.path
        lab = os.environ.get(kernel.LAB_ENV) or work
        # nova-compute runs as root here: no root helper for the library
        # (nova's own, sudo nova-rootwrap, is not set up).  Its state
        # directory is nova's default, under [DEFAULT] state_path; the
        # disk wait as in the other kernel tests.
        library = {"iscsiadm_timeout": "90",
                   "device_scan_attempts": "60",
                   "device_scan_interval": "0.5"}
        conf = {"DEFAULT": {"state_path": os.path.join(work, "nova")},
                "oslo_concurrency": {"lock_path": os.path.join(work,
                                                               "locks")},
                **cls.nova_conf}
        conf["iscsi_transports"] = {**library,
                                    **conf.get("iscsi_transports", {})}
        cls.nova = base.NovaCompute(work, conf,
                                    os.path.join(lab, cls.nova_log))
        cls.addClassCleanup(cls.nova.close)

    def connect(self, props: dict[str, Any]) -> dict[str, Any]:
        """Attach through nova; the connection info nova keeps."""
        volume_id = str(uuid.uuid4())
        info = {"driver_volume_type": "iscsi", "serial": volume_id,
                "data": dict(props, volume_id=volume_id)}
        reply = self.nova.request("connect", connection_info=info)
        self.assertEqual(
            ("nova.virt.libvirt.volume.iscsi.LibvirtISCSIVolumeDriver",
             "iscsi_transports.brick.ISCSIConnector"),
            (reply["volume_driver"], reply["connector"]))
        connection_info: dict[str, Any] = reply["connection_info"]
        return connection_info

    def disconnect(self, info: dict[str, Any], force: bool) -> None:
        self.nova.request("disconnect", connection_info=info, force=force)

    def assert_block_config(self, info: dict[str, Any]) -> str:
        """nova's libvirt disk config of the attached volume is the block
        device nova was handed; that path."""
        path: str = info["data"]["device_path"]
        config = self.nova.request("config", connection_info=info,
                                   disk_info=DISK_INFO)
        self.assertEqual(("block", path),
                         (config["source_type"], config["source_path"]))
        self.assertIn('<source dev="%s"/>' % path, config["xml"])
        return path


class TestNovaLibvirtDriver(NovaTestCase):

    def test_attach_config_io_forced_detach(self) -> None:
        target = self.lio(label="nova")
        info = self.connect(target.props())
        path = info["data"]["device_path"]
        disk = self.assert_attached(target.iqn, path)
        self.assert_block_config(info)
        self.assert_pattern_io(path)
        self.disconnect(info, force=True)
        self.assert_clean(target.iqn, [disk])

    def test_shared_target_detach_keeps_the_other_volume(self) -> None:
        # Two volumes behind one target (one session): detaching one,
        # even forced, must leave the other's session and disk working.
        target = self.lio(label="nova-shared", luns=2)
        first = self.connect(target.props(lun=0))
        second = self.connect(target.props(lun=1))
        (session,) = machine.sessions(target.iqn)
        first_disk = self.assert_attached(
            target.iqn, first["data"]["device_path"])
        second_disk = self.assert_attached(
            target.iqn, second["data"]["device_path"])
        self.assertNotEqual(first_disk, second_disk)
        self.disconnect(first, force=True)
        machine.settle()
        self.assertEqual([session], machine.sessions(target.iqn))
        self.assertEqual([second_disk], machine.disks(target.iqn))
        self.assert_pattern_io(second["data"]["device_path"])
        self.disconnect(second, force=False)
        self.assert_clean(target.iqn, [first_disk, second_disk])


class TestNovaMultipath(NovaTestCase):
    """nova with ``[libvirt] volume_use_multipath = True``: the volume
    driver nova builds at start-up hands that to the connector, so an
    attach logs in to every portal cinder sends and nova keeps, and gives
    libvirt, the dm-multipath map.  One LIO target serves its LUN on
    127.0.0.1:3260 and 127.0.0.2:3260 and multipathd runs in the VM, as in
    :mod:`.test_multipath_attach`, which proves the driver's side."""

    # As TestNovaLibvirtDriver, with the multipath timeouts of
    # test_multipath_attach: a cut path fails within seconds.
    nova_conf = {
        "libvirt": {"volume_use_multipath": "True"},
        "iscsi_transports": {"multipath_replacement_timeout": "5",
                             "multipath_map_wait": "90",
                             "multipath_path_wait": "30",
                             "multipath_flush_attempts": "3",
                             "multipath_flush_interval": "1"}}
    nova_log = "nova-compute-multipath.log"

    def setUp(self) -> None:
        super().setUp()
        self.machine.start_multipathd()
        self.target = self.lio(label="nova-mp", portal_ip="127.0.0.1",
                               more_ips=(mp.SECOND_IP,))
        self.addCleanup(self.drop_maps)

    def drop_maps(self) -> None:
        mp.drop_maps_of(self.target.iqn)

    def props(self) -> dict[str, Any]:
        """What cinder sends for a multipath attach: the single-path keys
        and every portal's."""
        portals = self.target.portals
        return self.target.props(
            target_portals=portals,
            target_iqns=[self.target.iqn] * len(portals),
            target_luns=[0] * len(portals))

    def assert_map(self, path: str) -> tuple[str, list[str]]:
        """``path`` is the dm-multipath map of the LUN (keyed by the WWID
        udev reads from its disks) over both iSCSI disks of the target,
        one session per portal; the map's and the disks' kernel names."""
        disks = sorted(machine.disks(self.target.iqn))
        self.assertEqual(2, len(disks), disks)
        (wwid,) = {mp.udev_serial(disk) for disk in disks}
        self.assertEqual("/dev/disk/by-id/dm-uuid-mpath-" + wwid, path)
        name = os.path.basename(os.path.realpath(path))
        self.assertEqual("mpath-" + wwid, mp.dm_uuids().get(name))
        self.assertEqual(disks,
                         sorted(os.listdir("/sys/block/%s/slaves" % name)))
        self.assertEqual(2, len(machine.sessions(self.target.iqn)))
        self.assertEqual(
            sorted(portal.split(":")[0] for portal in self.target.portals),
            sorted(mp.disk_portal_ip(disk) for disk in disks))
        return name, disks

    def test_attach_map_config_io_cut_path_and_detach(self) -> None:
        info = self.connect(self.props())
        path = info["data"]["device_path"]
        name, disks = self.assert_map(path)
        # nova's [iscsi_transports] multipath settings went into the
        # records: each session's recovery_tmo is the replacement_timeout.
        for session in machine.sessions(self.target.iqn):
            self.assertEqual("5", mp._read(
                "/sys/class/iscsi_session/%s/recovery_tmo" % session))

        self.assert_block_config(info)
        self.assert_pattern_io(path)
        self.cut_and_restore(path, disks)

        self.disconnect(info, force=False)
        self.assertNotIn(name, mp.dm_uuids())
        self.assert_clean(self.target.iqn, disks)

    def cut_and_restore(self, path: str, disks: list[str]) -> None:
        (cut,) = [disk for disk in disks
                  if mp.disk_portal_ip(disk) == mp.SECOND_IP]
        mp.cut_and_restore(self, path, cut)


class TestNovaIfaceInitiator(NovaTestCase):
    """nova with ``[libvirt] iscsi_iface`` naming an iface whose record
    carries its own ``iface.initiatorname``, against a LIO ACL that admits
    only that name: ``get_volume_connector`` (what cinder exports to)
    reports it, nova's attach logs in with it, and the host's own name is
    refused."""

    nova_conf = {"libvirt": {"iscsi_iface": base.NIC_IFACE}}
    nova_log = "nova-compute-iface.log"

    def make_iface_record(self) -> None:
        """eth0's iface, with a name of its own, as an operator makes it."""
        def iscsiadm(*argv: str) -> None:
            subprocess.run(["iscsiadm", "-m", "iface", "-I", base.NIC_IFACE,
                            *argv], check=True, capture_output=True,
                           timeout=60)
        iscsiadm("-o", "new")
        self.addCleanup(subprocess.run, ["iscsiadm", "-m", "iface", "-I",
                                         base.NIC_IFACE, "-o", "delete"],
                        capture_output=True, timeout=60)
        for key, value in (("iface.transport_name", "tcp"),
                           ("iface.hwaddress", machine.NIC_MAC),
                           ("iface.initiatorname", OWN_INITIATOR)):
            iscsiadm("-o", "update", "-n", key, "-v", value)

    def test_connector_initiator_attach_io_and_host_name_refused(self) -> None:
        self.make_iface_record()
        self.assertNotEqual(OWN_INITIATOR, self.machine.initiator)
        # An iface bound to eth0 reaches eth0's address, not 127.0.0.1.
        target = self.lio(label="nova-own", initiator=OWN_INITIATOR,
                          portal_ip=machine.NIC_IP)
        connector = self.nova.request("connector")["connector"]
        self.assertEqual(OWN_INITIATOR, connector["initiator"])

        # The host's name (the default iface) is not in the ACL: LIO
        # answers "forbidden", iscsiadm exit 24 (or 19 on other versions).
        self.assertRaises(base.exception.TargetError,
                          self.driver().connect_volume, target.props())
        self.assertEqual([], machine.sessions(target.iqn))

        info = self.connect(target.props())
        path = info["data"]["device_path"]
        disk = self.assert_attached(target.iqn, path)
        (session,) = machine.sessions(target.iqn)
        self.assertEqual(base.NIC_IFACE, machine.session_iface(session))
        self.assert_block_config(info)
        self.assert_pattern_io(path)
        self.disconnect(info, force=False)
        self.assert_clean(target.iqn, [disk])
