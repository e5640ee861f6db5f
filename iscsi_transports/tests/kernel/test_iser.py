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
        # nova's iSER volume driver builds its connector with
        # transport="iser": the volume is an iSER volume.
        target = self.lio(label="iser", iser=True)
        connector = self.connector(transport="iser")
        info = connector.connect_volume(target.props())
        self.assertEqual(("iser", "iser", False),
                         (info["transport"], info["iface"], info["fallback"]))
        (session,) = machine.sessions(target.iqn)
        self.assertEqual("iser", machine.session_transport(session))
        disk = self.assert_attached(target.iqn, info["path"])
        self.assert_pattern_io(info["path"])
        connector.disconnect_volume(target.props(), None)
        self.assert_clean(target.iqn, [disk])
