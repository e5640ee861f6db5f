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

"""cxgb3i: iSCSI offload on Chelsio T3 adapters, riding on the cxgb3 NIC driver."""

from __future__ import annotations

from iscsi_transports import offload

CHELSIO = 0x1425


class Cxgb3iTransport(offload.OffloadTransport):
    """Chelsio T3 iSCSI offload (cxgb3i) on the cxgb3 NIC; iface.ipaddress optional."""

    name = "cxgb3i"
    kernel_modules = ("cxgb3i",)
    vendor_family = "Chelsio T3"
    ipaddress_policy = offload.IP_OPTIONAL
    pci_drivers = ("cxgb3",)
    #: drivers/net/ethernet/chelsio/cxgb3/cxgb3_main.c, cxgb3_pci_tbl.
    pci_ids = {
        (CHELSIO, 0x0020): "Chelsio PE9000",
        (CHELSIO, 0x0021): "Chelsio T302E",
        (CHELSIO, 0x0022): "Chelsio T310E",
        (CHELSIO, 0x0023): "Chelsio T320X",
        (CHELSIO, 0x0024): "Chelsio T302X",
        (CHELSIO, 0x0025): "Chelsio T320E",
        (CHELSIO, 0x0026): "Chelsio T310X",
        (CHELSIO, 0x0030): "Chelsio T3B10",
        (CHELSIO, 0x0031): "Chelsio T3B20",
        (CHELSIO, 0x0032): "Chelsio T3B02",
        (CHELSIO, 0x0033): "Chelsio T3B04",
        (CHELSIO, 0x0035): "Chelsio T3C10",
        (CHELSIO, 0x0036): "Chelsio S320E-CR",
        (CHELSIO, 0x0037): "Chelsio N320E-G2",
    }
