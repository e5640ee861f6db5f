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

"""qla4xxx: QLogic iSCSI HBAs (ISP4xxx and ISP8xxx iSCSI functions)."""

from __future__ import annotations

from iscsi_transports import offload

QLOGIC = 0x1077


class Qla4xxxTransport(offload.OffloadTransport):
    """QLogic ISP4xxx/ISP8xxx iSCSI HBA (qla4xxx); the HBA carries its own IP address."""

    name = "qla4xxx"
    kernel_modules = ("qla4xxx",)
    vendor_family = "QLogic ISP4xxx/ISP8xxx iSCSI"
    ipaddress_policy = offload.IP_HBA
    pci_drivers = ("qla4xxx",)
    #: drivers/scsi/qla4xxx/ql4_os.c qla4xxx_pci_tbl, ids from ql4_def.h.
    pci_ids = {
        (QLOGIC, 0x4010): "QLogic ISP4010",
        (QLOGIC, 0x4022): "QLogic ISP4022",
        (QLOGIC, 0x4032): "QLogic ISP4032",
        (QLOGIC, 0x8022): "QLogic ISP8022",
        (QLOGIC, 0x8032): "QLogic ISP8324",
        (QLOGIC, 0x8042): "QLogic ISP8042",
    }
