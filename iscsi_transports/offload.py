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

"""What every offload transport shares: finding its cards, ports and ifaces.

An offload transport (cxgb4i, qla4xxx, bnx2i, ...) is a kernel module that
registers one iSCSI host (``/sys/class/iscsi_host/hostN``) per card port it
drives.  The plugins differ only in data -- which PCI functions are their
hardware, which ``scsi_host`` ``proc_name`` their hosts carry and how
open-iscsi treats ``iface.ipaddress`` -- so each plugin is a subclass of
:class:`OffloadTransport` that sets class attributes, and the logic lives
here once.

The ``iface.ipaddress`` rules are open-iscsi's (``set_host_ip`` in
``usr/transport.c``, applied by ``iscsi_host_set_net_params``):

``required``
    iscsid refuses to log in without it and pushes it to the card (bnx2i,
    qedi; both also need the ``iscsiuio`` daemon).
``optional``
    pushed to the card when set, otherwise the NIC's address is used
    (cxgb3i).
``hba``
    the card keeps its own address, configured on the HBA; iscsid does not
    send it at login.  We record the address the card reports, as the
    records ``iscsiadm -m iface`` creates from the kernel do (qla4xxx,
    be2iscsi, ocs).
``ignored``
    the kernel uses the NIC's own address and iscsid never sends
    ``iface.ipaddress`` (cxgb4i), so it is not written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from iscsi_transports import base
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod

__all__ = ["IP_HBA", "IP_IGNORED", "IP_OPTIONAL", "IP_POLICIES", "IP_REQUIRED",
           "OffloadTransport", "usable_hwaddress"]

IP_REQUIRED = "required"
IP_OPTIONAL = "optional"
IP_HBA = "hba"
IP_IGNORED = "ignored"
IP_POLICIES = (IP_REQUIRED, IP_OPTIONAL, IP_HBA, IP_IGNORED)


def usable_hwaddress(value: str | None) -> str | None:
    """``value`` as a lower-case MAC, or None when unset, malformed or zero."""
    try:
        return iface_mod.normalize_hwaddress(value) if value else None
    except exception.InvalidHwAddress:
        return None


class OffloadTransport(base.Transport, abstract=True):
    """Base class of the offload transports (iSCSI HBAs and offload NICs).

    Subclasses set :attr:`name`, :attr:`kernel_modules`, :attr:`pci_ids`
    and/or :attr:`pci_drivers`, :attr:`vendor_family` and
    :attr:`ipaddress_policy`; :meth:`detect`, :meth:`generate_iface` and
    :meth:`choose_port` need no overriding.
    """

    offload = True
    #: (PCI vendor, device) -> model name of the functions that are this
    #: transport's hardware.  Operators add ids with ``extra_pci_ids``.
    pci_ids: ClassVar[Mapping[tuple[int, int], str]] = {}
    #: PCI drivers whose functions are this transport's hardware: the NIC
    #: driver the offload rides on (cxgb4 for cxgb4i) or the HBA driver
    #: itself (qla4xxx).  Catches models newer than :attr:`pci_ids`.
    pci_drivers: ClassVar[tuple[str, ...]] = ()
    #: ``scsi_host`` ``proc_name`` values of this transport's iSCSI hosts;
    #: empty means just :attr:`name`.
    proc_names: ClassVar[tuple[str, ...]] = ()
    #: The hardware family as an operator knows it, for messages.
    vendor_family: ClassVar[str] = "offload adapter"
    #: How open-iscsi treats ``iface.ipaddress``: one of
    #: :data:`IP_POLICIES` (see the module docstring).
    ipaddress_policy: ClassVar[str] = IP_HBA

    def __init_subclass__(cls, abstract: bool = False,
                          **kwargs: Any) -> None:
        # requires_ipaddress is what the inventory shows; derive it so the
        # two can never disagree.
        super().__init_subclass__(abstract=abstract, **kwargs)
        if cls.ipaddress_policy not in IP_POLICIES:
            raise TypeError("%s.ipaddress_policy must be one of %s"
                            % (cls.__name__, ", ".join(IP_POLICIES)))
        cls.requires_ipaddress = cls.ipaddress_policy == IP_REQUIRED

    # -- detection -------------------------------------------------------------

    def detect(self, host: host_mod.Host) -> base.Detection:
        """Hardware, module and ports of this transport on ``host``."""
        ports = tuple(self._ports(host))
        hardware = tuple(self._hardware(host, ports))
        missing = [module for module in self.kernel_modules
                   if not host.module_loaded(module)]
        ready = [port for port in ports if self._port_ready(port)]
        usable = bool(hardware) and not missing and bool(ready)
        return base.Detection(
            transport=self.name, usable=usable,
            reason=self._reason(hardware, missing, ports, ready),
            hardware=hardware, module_loaded=not missing, ports=ports)

    def _ports(self, host: host_mod.Host) -> Iterable[base.Port]:
        """One port per iSCSI host of ours, in host-number order."""
        proc_names = self.proc_names or (self.name,)
        for scsi_host in host.iscsi_hosts:
            if scsi_host.proc_name in proc_names:
                yield self._port(host, scsi_host)

    def _port(self, host: host_mod.Host,
              scsi_host: host_mod.IscsiHost) -> base.Port:
        hwaddress = usable_hwaddress(scsi_host.hwaddress)
        ipaddress = _valid_ip(scsi_host.ipaddress)
        return base.Port(
            transport=self.name, hwaddress=hwaddress, ipaddress=ipaddress,
            netdev=scsi_host.netdev or _netdev_with_mac(host, hwaddress),
            pci_address=scsi_host.pci_address, host=scsi_host.name,
            iface_name=(self._iface_name(hwaddress, ipaddress)
                        if hwaddress else None))

    def _hardware(self, host: host_mod.Host,
                  ports: tuple[base.Port, ...]) -> Iterable[base.Hardware]:
        """PCI functions that are ours: bound to our drivers, hosting our
        ports (a model too new for the table still counts), or in our id
        table and not claimed by another driver (vfio-pci, another
        transport's HBA driver)."""
        ids = frozenset(self.pci_ids) | self.configured_pci_ids()
        drivers = frozenset(self.pci_drivers)
        addresses = {port.pci_address for port in ports}
        for address, function in sorted(host.pci_functions.items()):
            if (function.driver in drivers or address in addresses or (
                    (function.vendor, function.device) in ids
                    and function.driver is None)):
                yield base.Hardware(
                    pci_address=address, pci_id=function.pci_id,
                    model=self.pci_ids.get((function.vendor or 0,
                                            function.device or 0)),
                    driver=function.driver)

    def _port_ready(self, port: base.Port) -> bool:
        """Whether an iface can be generated for ``port`` without input."""
        return bool(port.iface_name) and not (
            self.requires_ipaddress and not port.ipaddress)

    def _reason(self, hardware: tuple[base.Hardware, ...], missing: list[str],
                ports: tuple[base.Port, ...],
                ready: list[base.Port]) -> str:
        """What is there and what is missing, in an operator's words."""
        if not hardware:
            return self._no_hardware_reason()
        found = _describe(hardware)
        if missing:
            return ("%s found, but kernel module %s is not loaded "
                    "(modprobe %s)" % (found, " and ".join(missing),
                                       " ".join(missing)))
        if not any(port.iface_name for port in ports):
            return ("%s found and module %s loaded, but no iSCSI host "
                    "ports with a hardware address%s"
                    % (found, self.kernel_modules[0] if self.kernel_modules
                       else self.name, self._no_ports_hint()))
        if not ready:
            return ("%s found, but no %s port has an IP address: %s needs "
                    "iface.ipaddress (ports: %s)"
                    % (found, self.name, self.name, _iface_names(ports)))
        reason = "%s ready: %d port%s (%s)" % (
            found, len(ready), "" if len(ready) == 1 else "s",
            _iface_names(ready))
        if self.needs_iscsiuio:
            reason += "; the iscsiuio service must be running"
        return reason

    def _no_hardware_reason(self) -> str:
        return ("no %s adapter found (for a model newer than this release, "
                "add %s:<vendor>:<device> to [iscsi_transports] "
                "extra_pci_ids)" % (self.vendor_family, self.name))

    def _no_ports_hint(self) -> str:
        # An offload that rides on a NIC driver (cxgb4 for cxgb4i) has no
        # ports while that NIC is unbound or down; an HBA needs firmware.
        nic_drivers = [driver for driver in self.pci_drivers
                       if driver not in self.kernel_modules]
        if nic_drivers:
            return (" (is the %s network driver bound and the link up?)"
                    % "/".join(nic_drivers))
        return " (check the adapter's firmware and link)"

    # -- iface records ---------------------------------------------------------

    def _recorded_ip(self, ipaddress: str | None) -> str | None:
        """The ``iface.ipaddress`` open-iscsi would use for this transport."""
        return None if self.ipaddress_policy == IP_IGNORED else ipaddress

    def _iface_name(self, hwaddress: str, ipaddress: str | None) -> str:
        return iface_mod.offload_name(self.name, hwaddress,
                                      self._recorded_ip(ipaddress))

    def generate_iface(self, hwaddress: str | None = None,
                       ipaddress: str | None = None,
                       name: str | None = None) -> iface_mod.Iface:
        """The ``<transport>.<hwaddress>`` record for one port.

        Raises :class:`~iscsi_transports.exception.InvalidInput` when the
        hardware address is missing, or the IP address is missing for a
        transport that requires it (open-iscsi would refuse the login).
        """
        if not hwaddress:
            raise exception.InvalidInput(
                reason="an offload iface needs iface.hwaddress (the %s "
                       "port's MAC)" % self.name)
        if self.requires_ipaddress and not ipaddress:
            raise exception.InvalidInput(
                reason="%s needs iface.ipaddress: open-iscsi will not log "
                       "in through it without one" % self.name)
        recorded = self._recorded_ip(ipaddress)
        return iface_mod.Iface(
            name=name or self._iface_name(hwaddress, ipaddress),
            transport_name=self.name, hwaddress=hwaddress, ipaddress=recorded)

    def choose_port(self, detection: base.Detection,
                    iface_name: str | None = None) -> base.Port | None:
        """The named port, else the first in host order, that can be used.

        Ports an iface cannot be generated for (no hardware address, or no
        IP address where one is required) are never chosen.
        """
        ports = [port for port in detection.ports if self._port_ready(port)]
        if iface_name is not None:
            ports = [port for port in ports if port.iface_name == iface_name]
        return ports[0] if ports else None


def _valid_ip(value: str | None) -> str | None:
    try:
        return iface_mod.validate_ipaddress(value) if value else None
    except exception.InvalidIPAddress:
        return None


def _netdev_with_mac(host: host_mod.Host, hwaddress: str | None) -> str | None:
    if not hwaddress:
        return None
    return next((dev.name for dev in host.netdevs.values()
                 if dev.hwaddress == hwaddress), None)


def _describe(hardware: tuple[base.Hardware, ...]) -> str:
    text = hardware[0].describe()
    if len(hardware) > 1:
        text += " (and %d more function%s)" % (
            len(hardware) - 1, "" if len(hardware) == 2 else "s")
    return text


def _iface_names(ports: Iterable[base.Port]) -> str:
    return ", ".join(port.iface_name or port.host or "?" for port in ports)
