"""Scenario 4: iSER over Soft-RoCE (rdma_rxe on the VM's virtio NIC).

The RDMA device is emulated in software, but everything above it is the
real thing: ib_iser in the initiator, ib_isert in LIO, RDMA connection
management, the SCSI disk and its udev link.
"""

from __future__ import annotations

from iscsi_transports.tests.kernel import base
from iscsi_transports.tests.kernel import machine


class TestIserSoftRoce(base.KernelTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.soft_roce()
        self.flags(enabled_transports=["iser"])

    def test_iser_volume_attaches_over_iser(self) -> None:
        target = self.lio(label="iser", iser=True)
        volume = self.nova_driver()
        connection_info = {"driver_volume_type": "iser",
                           "data": target.props()}
        volume.connect_volume(connection_info, instance=None)
        data = connection_info["data"]
        chosen = data["iscsi_transports"]
        self.assertEqual(("iser", "iser", False),
                         (chosen["transport"], chosen["iface"],
                          chosen["fallback"]))
        (session,) = machine.sessions(target.iqn)
        self.assertEqual("iser", machine.session_transport(session))
        disk = self.assert_attached(target.iqn, data["device_path"])
        self.assert_pattern_io(data["device_path"])
        volume.disconnect_volume(connection_info, instance=None)
        self.assert_clean(target.iqn, [disk])
