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

"""ocs: Emulex OneConnect iSCSI through Emulex's out-of-tree ocs driver."""

from __future__ import annotations

from iscsi_transports import offload

EMULEX = 0x10DF


class OcsTransport(offload.OffloadTransport):
    """Emulex OneConnect iSCSI via the out-of-tree ocs driver; the HBA carries its own IP.

    The driver is not in the kernel tree, so there is no id table to follow:
    functions bound to it are its hardware, and so is the Skyhawk iSCSI
    function, which in-tree be2iscsi drives too -- with neither module
    loaded both transports report the card and name their own module.
    """

    name = "ocs"
    kernel_modules = ("ocs",)
    vendor_family = "Emulex OneConnect (ocs driver)"
    ipaddress_policy = offload.IP_HBA
    pci_drivers = ("ocs",)
    #: The Skyhawk id of drivers/scsi/be2iscsi/be_main.h (OC_SKH_ID1).
    pci_ids = {(EMULEX, 0x0722): "Emulex OneConnect (Skyhawk)"}
