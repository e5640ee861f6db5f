"""A checklist per transport that says what an operator must fix.

``iscsi-transports doctor`` answers "why is my offload card not used?"
one check at a time: hardware, kernel module, iSCSI host ports, the iface
records on disk, the helper daemon, the route to a portal, and finally
what the driver would use and why.  Everything is read, nothing is
changed: iface records are read from ``iface_dir`` directly (no iscsiadm,
so no root helper needed) and daemons are found through ``proc_root``.
"""

from __future__ import annotations

import os
import typing
from typing import Any

from oslo_config import cfg

from iscsi_transports import base
from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import iface as iface_mod
from iscsi_transports import portal as portal_mod
from iscsi_transports.iscsiadm import parse
from iscsi_transports.selection import manager as manager_mod
from iscsi_transports.selection import network as network_mod

doctor_opts = [
    cfg.StrOpt(
        "iface_dir", default="/etc/iscsi/ifaces",
        help="Where open-iscsi keeps its iface records. doctor and snapshot "
             "read them from here (read-only)."),
    cfg.StrOpt(
        "proc_root", default="/proc",
        help="Where procfs is mounted. doctor looks for helper daemons such "
             "as iscsiuio in <proc_root>/<pid>/comm."),
]

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "-"
#: Helper daemons a transport may need, by process name.
ISCSIUIO = "iscsiuio"


class Check(typing.NamedTuple):
    """One line of the checklist."""

    check: str
    status: str
    detail: str


class RecordFile(typing.NamedTuple):
    """One file in ``iface_dir``: its record, or why it could not be read."""

    name: str
    record: iface_mod.Iface | None
    error: str | None = None


def read_records(iface_dir: str) -> list[RecordFile]:
    """Every iface record file, parsed; unreadable ones keep their error."""
    try:
        names = sorted(name for name in os.listdir(iface_dir)
                       if not name.startswith("."))
    except OSError:
        return []
    files = []
    for name in names:
        path = os.path.join(iface_dir, name)
        try:
            # A FIFO (or device) would block the open forever.
            if not os.path.isfile(path):
                raise OSError("not a regular file: %s" % path)
            with open(path, encoding="utf-8") as fh:
                files.append(RecordFile(name, iface_mod.parse_record(
                    fh.read(), name=name)))
        except (OSError, UnicodeDecodeError,
                exception.IscsiTransportsError) as error:
            files.append(RecordFile(name, None, str(error)))
    return files


def read_initiator_name(path: str) -> str | None:
    """``InitiatorName=`` of open-iscsi's initiator name file, or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    return parse.parse_initiator_name(text)


def running(proc_root: str, comm: str) -> list[int]:
    """Process ids whose ``comm`` is ``comm``, lowest first."""
    try:
        pids = sorted(int(name) for name in os.listdir(proc_root)
                      if name.isdigit())
    except OSError:
        return []
    found = []
    for pid in pids:
        try:
            with open(os.path.join(proc_root, str(pid), "comm"),
                      encoding="utf-8") as handle:
                if handle.read().strip() == comm:
                    found.append(pid)
        except OSError:
            continue  # the process exited while we looked
    return found


class Doctor:
    """Builds the checklist for every transport the manager loaded."""

    def __init__(self, manager: manager_mod.TransportManager,
                 portal: str | None = None) -> None:
        self.manager = manager
        self.portal = portal
        config.register(manager.conf, doctor_opts)
        options = manager.conf.iscsi_transports
        self.proc_root = options.proc_root
        self.records = read_records(options.iface_dir)
        #: open-iscsi keeps the host's initiator name beside the ifaces.
        self.initiator_file = os.path.join(
            os.path.dirname(os.path.normpath(options.iface_dir)),
            "initiatorname.iscsi")
        self.route = self._route() if portal else None

    def _route(self) -> network_mod.Route | None:
        host = portal_mod.parse_portal(self.portal or "").host
        try:
            return self.manager.network.route_to(host)
        except ValueError:  # a host name: the kernel routes addresses
            return None

    def report(self) -> dict[str, Any]:
        """The whole checklist, the driver's choice and whether it is
        healthy (the configured transport is used, no fallback)."""
        transports = [self.transport_report(name)
                      for name in self.manager.transports]
        verdict, healthy = self._verdict()
        return {"portal": self.portal,
                "route": self.route.as_dict() if self.route else None,
                "transports": transports,
                "unreadable_records": [
                    {"name": item.name, "error": item.error}
                    for item in self.records if item.record is None],
                "load_failures": [failure.as_dict() for failure
                                  in self.manager.load_failures],
                "active": verdict, "healthy": healthy}

    def _verdict(self) -> tuple[dict[str, Any], bool]:
        try:
            selection = self.manager.active(portal=self.portal)
        except exception.TransportUnusable as error:
            return {"transport": None, "iface": None, "fallback": False,
                    "reason": str(error)}, False
        return selection.as_dict(), not selection.fallback

    def transport_report(self, name: str) -> dict[str, Any]:
        transport = self.manager.get(name)
        detection = self.manager.detect(name)
        checks = [self._enabled(name), *self._hardware(transport, detection)]
        records = self._records(transport, detection)
        if detection.hardware or detection.ports or detection.usable:
            checks += [self._module(transport, detection),
                       *self._ports(transport, detection), *records,
                       *self._initiators(transport, detection),
                       self._helper(transport, detection)]
            if self.portal:
                checks.append(self._route_check(transport, detection))
        elif records[0].status != SKIP:
            checks += records  # records left behind by a removed card
        return {"name": name, "offload": transport.offload,
                "enabled": detection.enabled, "usable": detection.usable,
                "reason": detection.reason,
                "checks": [check._asdict() for check in checks]}

    def _enabled(self, name: str) -> Check:
        if self.manager.is_enabled(name):
            return Check("enabled", OK, "enabled")
        return Check("enabled", SKIP, "disabled: add %s to [iscsi_transports]"
                     " enabled_transports to use it" % name)

    def _hardware(self, transport: base.Transport,
                  detection: base.Detection) -> list[Check]:
        if transport.offload:
            return [Check("hardware", OK, "%s (%s) at %s, driver %s" % (
                item.model or "unknown model", item.pci_id, item.pci_address,
                item.driver or "none")) for item in detection.hardware] or \
                [Check("hardware", SKIP, "none found")]
        found = [port.netdev or port.host or "?" for port in detection.ports]
        if found:
            return [Check("hardware", OK, ", ".join(found))]
        return [Check("hardware", OK if detection.usable else SKIP,
                      "none needed" if detection.usable else "none found")]

    def _module(self, transport: base.Transport,
                detection: base.Detection) -> Check:
        modules = " ".join(transport.kernel_modules) or "none"
        if detection.module_loaded:
            return Check("module", OK, "%s loaded" % modules)
        if detection.hardware and transport.offload:
            return Check("module", FAIL, "%s not loaded: modprobe %s"
                         % (modules, modules))
        return Check("module", SKIP if not detection.usable else OK,
                     "%s not loaded" % modules +
                     (" (loaded on first login)" if detection.usable else ""))

    def _ports(self, transport: base.Transport,
               detection: base.Detection) -> list[Check]:
        if not transport.offload:
            return [Check("ports", OK if detection.usable else SKIP,
                          "built-in iface %s" % transport.builtin_iface)]
        if not detection.ports:
            status = FAIL if detection.hardware else SKIP
            return [Check("ports", status, "no iSCSI host ports")]
        return [Check("ports", OK if port.iface_name else FAIL, "%s %s %s%s"
                      % (port.host, port.netdev or "-", port.hwaddress or
                         "no hwaddress", " ip %s" % port.ipaddress
                         if port.ipaddress else ""))
                for port in detection.ports]

    def _records(self, transport: base.Transport,
                 detection: base.Detection) -> list[Check]:
        mine = {item.name: item.record for item in self.records
                if item.record and item.record.transport_name ==
                transport.name}
        checks = [self._record_check(transport, detection, port,
                                     mine.pop(port.iface_name, None))
                  for port in detection.ports
                  if transport.offload and port.iface_name]
        checks += [self._stale_check(transport, record)
                   for record in mine.values()]
        return checks or [Check("iface record", SKIP, "none on disk")]

    def _initiators(self, transport: base.Transport,
                    detection: base.Detection) -> list[Check]:
        """Which initiator name each offload port logs in with: its iface
        record's ``iface.initiatorname``, else its iSCSI host's own.  A
        name other than the host's file means cinder must export the
        volumes to that name, or the login is refused."""
        if not transport.offload:
            return []
        hosts = {host.name: host.initiatorname
                 for host in self.manager.host.iscsi_hosts}
        records = {item.name: item.record for item in self.records
                   if item.record}
        host_name = read_initiator_name(self.initiator_file)
        checks = []
        for port in detection.ports:
            record = records.get(port.iface_name or "")
            used = (record.initiatorname if record else None) or \
                hosts.get(port.host or "")
            if used is None or used == host_name:
                checks.append(Check("initiator", OK, "%s logs in as %s" % (
                    port.iface_name, used or host_name or "the host's "
                    "initiator name")))
            else:
                checks.append(Check(
                    "initiator", WARN, "%s logs in as %s, not %s (%s): "
                    "cinder must export volumes to %s" % (
                        port.iface_name, used, host_name or "unset",
                        self.initiator_file, used)))
        return checks

    def _record_check(self, transport: base.Transport,
                      detection: base.Detection, port: base.Port,
                      record: iface_mod.Iface | None) -> Check:
        if record is None:
            return Check("iface record", WARN, "%s: not on disk (the driver "
                         "creates it on first attach)" % port.iface_name)
        problems = transport.validate_iface(record, detection)
        try:
            wanted = transport.iface_for_port(port)
            problems += ["%s is %s, expected %s" % (key, have, want) for
                         key, (have, want) in iface_mod.differences(
                             record, wanted).items()]
        except exception.InvalidInput as error:
            problems.append(str(error))
        if problems:
            return Check("iface record", FAIL, "%s: %s" % (
                record.name, "; ".join(problems)))
        return Check("iface record", OK, "%s present and matches the "
                     "hardware" % record.name)

    def _stale_check(self, transport: base.Transport,
                     record: iface_mod.Iface) -> Check:
        macs = {dev.hwaddress for dev in self.manager.host.netdevs.values()}
        macs |= {host.hwaddress for host in self.manager.host.iscsi_hosts}
        if record.hwaddress and record.hwaddress not in macs:
            return Check("iface record", FAIL, "%s is stale: hwaddress %s no "
                         "longer exists on this host (iscsiadm -m iface -I %s"
                         " -o delete)" % (record.name, record.hwaddress,
                                          record.name))
        return Check("iface record", OK if not transport.offload else WARN,
                     "%s present%s" % (record.name, "" if not transport.offload
                                       else ", but no usable port matches it"))

    def _helper(self, transport: base.Transport,
                detection: base.Detection) -> Check:
        if not transport.needs_iscsiuio:
            return Check("helper daemon", SKIP, "none needed")
        pids = running(self.proc_root, ISCSIUIO)
        if pids:
            return Check("helper daemon", OK, "%s running (pid %s)"
                         % (ISCSIUIO, pids[0]))
        return Check("helper daemon", FAIL if detection.hardware else SKIP,
                     "%s is not running: systemctl enable --now iscsiuio"
                     % ISCSIUIO)

    def _route_check(self, transport: base.Transport,
                     detection: base.Detection) -> Check:
        if self.route is None:
            return Check("route", FAIL, "no route to %s" % self.portal)
        text = "%s goes out %s" % (self.portal, self.route.describe())
        if not transport.offload:
            return Check("route", OK, text)
        if detection.ports and not any(port.netdev
                                       for port in detection.ports):
            return Check("route", SKIP, "%s ports route on their own IP "
                         "stack: not checked" % transport.name)
        on_route = [port.host for port in detection.ports
                    if port.netdev == self.route.netdev]
        if on_route:
            return Check("route", OK, "%s, port %s" % (text, on_route[0]))
        return Check("route", SKIP, "%s, not through any %s port"
                     % (text, transport.name))
