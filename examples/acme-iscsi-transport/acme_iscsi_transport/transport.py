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

"""The fictional ACME A100 iSCSI offload card as an iscsi-transports plugin.

A plugin only *describes*: it reads the host view it is given and returns
data.  iscsi-transports runs iscsiadm, holds the locks and applies the root
helper, so this module needs none of that, and it imports cleanly on a host
without the card.

The A100 is an iSCSI HBA like the in-tree ones: its driver registers one
iSCSI host per card port.  So the plugin is built on the public
:class:`~iscsi_transports.offload.OffloadTransport` and only says which
hardware is its own: detection, iface records and port choice come with the
base class.
"""

from __future__ import annotations

from iscsi_transports import offload

ACME = 0x1D0F


class AcmeTransport(offload.OffloadTransport):
    """ACME A100 iSCSI offload card (example out-of-tree plugin)."""

    #: The open-iscsi transport name, which is also the ``proc_name`` of
    #: the card's iSCSI hosts and the entry-point name.
    name = "acme"
    kernel_modules = ("acme_iscsi",)
    vendor_family = "ACME A100"
    #: The card keeps its own IP address, set with the vendor's tool.
    ipaddress_policy = offload.IP_HBA
    #: Newer models: ``[iscsi_transports] extra_pci_ids = acme:1d0f:a101``.
    pci_ids = {(ACME, 0xA100): "ACME A100"}
