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

"""be2iscsi: Emulex OneConnect (BladeEngine 2/3, Skyhawk) iSCSI functions."""

from __future__ import annotations

from iscsi_transports import offload

SERVERENGINES = 0x19A2
EMULEX = 0x10DF


class Be2iscsiTransport(offload.OffloadTransport):
    """Emulex OneConnect iSCSI HBA (be2iscsi); the HBA carries its own IP address."""

    name = "be2iscsi"
    kernel_modules = ("be2iscsi",)
    vendor_family = "Emulex OneConnect iSCSI"
    ipaddress_policy = offload.IP_HBA
    pci_drivers = ("be2iscsi",)
    #: drivers/scsi/be2iscsi/be_main.c beiscsi_pci_id_table, ids from
    #: be_main.h.
    pci_ids = {
        (SERVERENGINES, 0x0212): "ServerEngines BladeEngine 2",
        (SERVERENGINES, 0x0222): "ServerEngines BladeEngine 3",
        (SERVERENGINES, 0x0702): "Emulex OneConnect (BE2)",
        (SERVERENGINES, 0x0703): "Emulex OneConnect (BE2)",
        (SERVERENGINES, 0x0712): "Emulex OneConnect (BE3)",
        (EMULEX, 0x0722): "Emulex OneConnect (Skyhawk)",
    }
