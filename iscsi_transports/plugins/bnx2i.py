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

"""bnx2i: iSCSI offload on Broadcom/QLogic NetXtreme II (bnx2, bnx2x) NICs."""

from __future__ import annotations

from iscsi_transports import offload

BROADCOM = 0x14E4
QLOGIC = 0x1077


class Bnx2iTransport(offload.OffloadTransport):
    """Broadcom/QLogic NetXtreme II iSCSI offload (bnx2i); needs iface.ipaddress and iscsiuio."""

    name = "bnx2i"
    kernel_modules = ("bnx2i",)
    vendor_family = "Broadcom/QLogic NetXtreme II (bnx2/bnx2x)"
    ipaddress_policy = offload.IP_REQUIRED
    needs_iscsiuio = True
    pci_drivers = ("bnx2", "bnx2x")
    #: Physical functions of drivers/net/ethernet/broadcom/bnx2.c bnx2_pci_tbl
    #: and bnx2x/bnx2x_main.c bnx2x_pci_tbl (cnic offers no iSCSI on VFs).
    pci_ids = {
        (BROADCOM, 0x164A): "Broadcom BCM5706",
        (BROADCOM, 0x16AA): "Broadcom BCM5706S",
        (BROADCOM, 0x164C): "Broadcom BCM5708",
        (BROADCOM, 0x16AC): "Broadcom BCM5708S",
        (BROADCOM, 0x1639): "Broadcom BCM5709",
        (BROADCOM, 0x163A): "Broadcom BCM5709S",
        (BROADCOM, 0x163B): "Broadcom BCM5716",
        (BROADCOM, 0x163C): "Broadcom BCM5716S",
        (BROADCOM, 0x164E): "Broadcom BCM57710",
        (BROADCOM, 0x164F): "Broadcom BCM57711",
        (BROADCOM, 0x1650): "Broadcom BCM57711E",
        (BROADCOM, 0x1662): "Broadcom BCM57712",
        (BROADCOM, 0x1663): "Broadcom BCM57712 (multi-function)",
        (BROADCOM, 0x168A): "Broadcom BCM57800",
        (BROADCOM, 0x16A5): "Broadcom BCM57800 (multi-function)",
        (BROADCOM, 0x168E): "Broadcom BCM57810",
        (BROADCOM, 0x16AE): "Broadcom BCM57810 (multi-function)",
        (BROADCOM, 0x163D): "Broadcom BCM57811",
        (BROADCOM, 0x163E): "Broadcom BCM57811 (multi-function)",
        (BROADCOM, 0x168D): "Broadcom BCM57840",
        (BROADCOM, 0x16A1): "Broadcom BCM57840 4x10G",
        (QLOGIC, 0x16A1): "QLogic 57840 4x10G",
        (BROADCOM, 0x16A2): "Broadcom BCM57840 2x20G",
        (BROADCOM, 0x16AB): "Broadcom BCM57840 (multi-function)",
        (BROADCOM, 0x16A4): "Broadcom BCM57840 (multi-function)",
        (QLOGIC, 0x16A4): "QLogic 57840 (multi-function)",
    }
