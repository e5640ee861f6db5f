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

"""cxgb4i: iSCSI offload on Chelsio T4, T5 and T6 adapters, riding on cxgb4.

Chelsio numbers its T4-and-later PCI devices ``0xVFPP`` (chip generation,
physical function, product; ``t4_pci_id_tbl.h``) and lists hundreds of
products.  cxgb4, and so cxgb4i, drives physical function 4, so every
``0x[456]4PP`` device is matched; a few common products get their names,
the rest are named by generation.
"""

from __future__ import annotations

from iscsi_transports import offload

CHELSIO = 0x1425
#: Product codes (``PP``) with a name, from t4_pci_id_tbl.h.
_PRODUCTS = {
    0x4001: "T420-CR", 0x4003: "T440-CR", 0x400d: "T480-CR",
    0x5001: "T520-CR", 0x5002: "T522-CR", 0x5003: "T540-CR",
    0x500d: "T580-CR", 0x5011: "T520-LL-CR",
    0x6001: "T6225-CR", 0x6007: "T62100-LP-CR", 0x600d: "T62100-CR",
}


def _pf4_ids() -> dict[tuple[int, int], str]:
    """Every T4/T5/T6 physical-function-4 device id with its name."""
    ids = {}
    for chip in (4, 5, 6):
        for product in range(0x100):
            pf0 = chip << 12 | product
            ids[(CHELSIO, pf0 | 0x400)] = "Chelsio " + _PRODUCTS.get(
                pf0, "T%d" % chip)
    return ids


class Cxgb4iTransport(offload.OffloadTransport):
    """Chelsio T4/T5/T6 iSCSI offload (cxgb4i) on the cxgb4 NIC; uses the NIC's IP address."""

    name = "cxgb4i"
    kernel_modules = ("cxgb4i",)
    vendor_family = "Chelsio T4/T5/T6"
    ipaddress_policy = offload.IP_IGNORED
    pci_drivers = ("cxgb4",)
    pci_ids = _pf4_ids()
