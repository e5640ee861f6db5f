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

"""qedi: QLogic FastLinQ (QL41xxx/QL45xxx) iSCSI offload functions."""

from __future__ import annotations

from iscsi_transports import offload

QLOGIC = 0x1077


class QediTransport(offload.OffloadTransport):
    """QLogic FastLinQ iSCSI offload (qedi); needs iface.ipaddress and iscsiuio."""

    name = "qedi"
    kernel_modules = ("qedi",)
    vendor_family = "QLogic FastLinQ iSCSI"
    ipaddress_policy = offload.IP_REQUIRED
    needs_iscsiuio = True
    pci_drivers = ("qedi",)
    #: drivers/scsi/qedi/qedi_main.c qedi_pci_tbl.
    pci_ids = {
        (QLOGIC, 0x165E): "QLogic FastLinQ iSCSI",
        (QLOGIC, 0x8084): "QLogic FastLinQ iSCSI",
    }
