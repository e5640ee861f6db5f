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

"""Loads the transport plugins and decides which one the driver uses now.

:class:`TransportManager` wraps a stevedore ``ExtensionManager`` over the
``iscsi_transports.transports`` entry-point group.  Loading is defensive: a
plugin that fails to import or construct, that is not a
:class:`~iscsi_transports.base.Transport`, or that tries to take the name of
an in-tree plugin is recorded as a :class:`LoadFailure` and never takes the
others down.  :meth:`TransportManager.active` turns configuration plus what
was detected (and, for ``source_ip`` and ``auto``, the host's addresses and
routes) into a :class:`~iscsi_transports.selection.rules.Selection`,
falling back to software TCP (the
``default`` iface) with the reason when the configured transport cannot be
used.
"""

from __future__ import annotations

import logging
import typing

from oslo_config import cfg
from stevedore import extension

from iscsi_transports import base
from iscsi_transports import config
from iscsi_transports import exception
from iscsi_transports import host as host_mod
from iscsi_transports import iface as iface_mod
from iscsi_transports.plugins import tcp
from iscsi_transports.selection import rules
from iscsi_transports.selection import sources

if typing.TYPE_CHECKING:
    from iscsi_transports.selection import network as network_mod

LOG = logging.getLogger(__name__)
#: Configuration problems go to their own logger, so that the console
#: script can show them as one-line warnings and keep the rest of the log
#: for ``--debug``.
CONFIG_LOG = logging.getLogger(__name__ + ".config")

__all__ = ["LoadFailure", "TransportManager", "manager_opts",
           "register_opts"]

manager_opts = [
    cfg.StrOpt(
        "transport", default=rules.DEFAULT_IFACE,
        help="The iSCSI transport to attach volumes with: 'default' for "
             "software iSCSI over TCP, a transport plugin name such as "
             "'cxgb4i' or 'iser' (the first usable port is used), an "
             "iface name such as 'cxgb4i.00:07:43:05:97:07' to pin one port, "
             "as nova's [libvirt] iscsi_iface does, or 'auto': per portal, "
             "a usable offload port on the interface the routing table "
             "reaches the portal through, else software TCP."),
    cfg.ListOpt(
        "enabled_transports",
        default=[name for name in sources.IN_TREE if name != "iser"],
        help="Transports that may be used. iser is left out by default "
             "because it needs iSER support on the storage target too; "
             "out-of-tree plugins must be added here to be used."),
    cfg.BoolOpt(
        "fallback_to_tcp", default=True,
        help="When the configured transport cannot be used (no hardware, "
             "module not loaded, bad iface, failed discovery or login), use "
             "software iSCSI over TCP instead and log why. When false, the "
             "attach fails with the reason instead."),
    cfg.StrOpt(
        "sysfs_root", default="/sys",
        help="Where sysfs is mounted. Point it at a copy of another host's "
             "sysfs to see what would be detected there."),
    cfg.IPOpt(
        "source_ip",
        help="Local IP address to send iSCSI traffic from. When set, the "
             "offload transport and port are derived from it (interface, "
             "MAC, PCI function, transport) instead of from 'transport'; if "
             "the address is not on a usable offload port, software iSCSI "
             "over TCP is used as for any unusable transport."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register what the manager and the plugins read (idempotent)."""
    config.register(conf, [*manager_opts, *base.plugin_opts])


class LoadFailure(typing.NamedTuple):
    """A plugin that could not be used, and why."""

    name: str
    error: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return self._asdict()


class TransportManager:
    """The loaded transport plugins and the choice between them."""

    def __init__(self, conf: cfg.ConfigOpts,
                 host: host_mod.Host | None = None,
                 network: network_mod.Network | None = None) -> None:
        register_opts(conf)
        self.conf = conf
        self._host = host
        self._network = network
        self._network_injected = network is not None
        self._detections: dict[str, base.Detection] = {}
        self.load_failures: list[LoadFailure] = []
        self._entry_points: dict[str, typing.Any] = {}
        self._transports = self._load()
        for problem in self.config_problems():
            CONFIG_LOG.warning("%s", problem)

    @property
    def options(self) -> typing.Any:
        return self.conf.iscsi_transports

    # -- loading -------------------------------------------------------------

    def _load(self) -> dict[str, base.Transport]:
        extensions = extension.ExtensionManager(
            sources.NAMESPACE, invoke_on_load=True, invoke_kwds={"conf": self.conf},
            on_load_failure_callback=self._record_load_failure)
        ordered = sorted(extensions, key=lambda ext: not sources.is_in_tree(ext))
        transports: dict[str, base.Transport] = {}
        for ext in ordered:
            problem = self._check(ext, transports)
            if problem:
                self._fail(ext.name, problem, sources.describe(ext))
                continue
            transports[ext.name] = typing.cast(base.Transport, ext.obj)
            self._entry_points[ext.name] = ext.entry_point
        return dict(sorted(transports.items(), key=lambda item: sources.order(item[0])))

    def _check(self, ext: extension.Extension,
               loaded: dict[str, base.Transport]) -> str | None:
        if ext.name in loaded:
            return ("Transport plugin %s from %s is refused: the name "
                    "belongs to the in-tree plugin %s."
                    % (ext.name, sources.describe(ext),
                       self.source(ext.name)))
        if not isinstance(ext.obj, base.Transport):
            return ("%r is not a subclass of iscsi_transports.base.Transport"
                    % (ext.plugin,))
        if getattr(ext.obj, "name", None) != ext.name:
            return ("its transport name %r differs from its entry-point name"
                    % (getattr(ext.obj, "name", None),))
        return None

    def _record_load_failure(self, _manager: typing.Any, entry_point: typing.Any,
                             error: BaseException) -> None:
        self._fail(entry_point.name, "%s: %s" % (type(error).__name__, error),
                   sources.describe(entry_point))

    def _fail(self, name: str, error: str, source: str) -> None:
        LOG.error("Transport plugin %s from %s was not loaded: %s",
                  name, source, error)
        self.load_failures.append(LoadFailure(name, error, source))

    def config_problems(self) -> list[str]:
        """What is wrong with the option values, one sentence each.

        Unknown names in ``enabled_transports`` and ``extra_pci_ids``, and
        malformed ``extra_pci_ids`` entries; each bad entry is ignored and
        the rest used.  A plugin that failed to load is not unknown: its
        load failure is reported instead.
        """
        known = set(self._transports) | {f.name for f in self.load_failures}
        installed = ", ".join(self._transports)
        problems = ["[%s] enabled_transports names %s, which is not an "
                    "installed transport plugin (installed: %s)"
                    % (config.GROUP, name, installed)
                    for name in self.options.enabled_transports
                    if name not in known]
        entries = list(self.options.extra_pci_ids)
        problems += ["[%s] extra_pci_ids entry %r is not <transport>:<vendor>"
                     ":<device> in hex, for example cxgb4i:1425:6420; it is "
                     "ignored" % (config.GROUP, entry)
                     for entry in base.malformed_pci_id_entries(entries)]
        problems += ["[%s] extra_pci_ids names %s, which is not an installed "
                     "transport plugin (installed: %s); its entries are "
                     "ignored" % (config.GROUP, name, installed)
                     for name in base.parse_pci_id_entries(entries)
                     if name not in known]
        return problems

    # -- queries -------------------------------------------------------------

    @property
    def transports(self) -> dict[str, base.Transport]:
        """Loaded plugins by name: in-tree ones first, then the others."""
        return dict(self._transports)

    def source(self, name: str) -> str:
        """Where plugin ``name`` comes from: distribution and entry point."""
        return sources.describe(self._entry_points[name])

    def get(self, name: str) -> base.Transport:
        try:
            return self._transports[name]
        except KeyError:
            raise exception.TransportNotFound(name=name) from None

    def is_enabled(self, name: str) -> bool:
        return name == rules.TCP or name in self.options.enabled_transports

    @property
    def host(self) -> host_mod.Host:
        if self._host is None:
            self._host = host_mod.Host(self.options.sysfs_root)
        return self._host

    @property
    def network(self) -> network_mod.Network:
        """Addresses and routes: ``network_file`` if set, else netlink
        (connected on first use only)."""
        if self._network is None:
            # Lazy: only source_ip, auto and doctor need it (cold start).
            from iscsi_transports.selection import network as network_mod
            self._network = network_mod.from_conf(self.conf)
        return self._network

    def refresh(self) -> None:
        """Forget what was detected, so the next query reads the host again.

        Only a host or network the manager created itself is re-read; an
        injected one (a snapshot) is kept.
        """
        self._detections.clear()
        if not self._network_injected:
            self._network = None
        if self._host is not None and \
                self._host.sysfs_root == self.options.sysfs_root:
            self._host = host_mod.Host(self._host.sysfs_root)

    def detect(self, name: str) -> base.Detection:
        """What transport ``name`` finds on the host, with enablement applied.

        A plugin whose detection raises is reported as unusable with the
        error, so one vendor bug cannot break the listing or the driver.
        """
        if name not in self._detections:
            self._detections[name] = self._apply_enabled(
                name, self._safe_detect(self.get(name)))
        return self._detections[name]

    def detect_all(self) -> dict[str, base.Detection]:
        return {name: self.detect(name) for name in self._transports}

    def _safe_detect(self, transport: base.Transport) -> base.Detection:
        try:
            return transport.detect(self.host)
        except Exception as error:  # a plugin bug must stay contained
            LOG.exception("Detection by transport plugin %s failed",
                          transport.name)
            return base.Detection(
                transport=transport.name, usable=False,
                reason="detection failed: %s: %s"
                       % (type(error).__name__, error))

    def _apply_enabled(self, name: str,
                       detection: base.Detection) -> base.Detection:
        if self.is_enabled(name):
            return detection
        transport = self.get(name)
        reason = ("disabled: add %s to [iscsi_transports] enabled_transports"
                  " to use it" % name)
        if transport.needs_target_support:
            reason += " (the storage target must support %s too)" % name
        if detection.usable:
            reason += "; otherwise ready: %s" % detection.reason
        else:
            reason += "; also %s" % detection.reason
        return detection._replace(enabled=False, usable=False,
                                   reason=reason)

    # -- the choice ------------------------------------------------------------

    def active(self, portal: str | None = None) -> rules.Selection:
        """The transport and iface to use now, honouring configuration.

        ``portal`` (``ip[:port]``) lets ``transport = auto`` pick the port
        the routing table reaches it through; different portals of one
        volume may get different ifaces.  ``source_ip``, when set, wins over
        ``transport``.  Falls back to software TCP with the reason when the
        configured transport is unknown, disabled or unusable; raises
        :class:`~iscsi_transports.exception.TransportUnusable` instead when
        ``fallback_to_tcp`` is off.
        """
        try:
            return rules.active(self, self.options.transport, portal,
                                    self.options.source_ip)
        except exception.TransportUnusable as error:
            if not self.options.fallback_to_tcp:
                raise
            # error.name is what was asked for: a transport, an iface or
            # source_ip=<address>.
            LOG.warning("Using software iSCSI (tcp, iface default) instead of "
                        "%s: %s", error.name, error.reason)
            return self.fallback_selection(error.reason, error.name)

    def select(self, requested: str) -> rules.Selection:
        """The selection for a transport or iface name; never falls back."""
        return rules.select(self, requested)

    def fallback_selection(self, reason: str,
                           requested: str | None = None) -> rules.Selection:
        """Software TCP over the ``default`` iface, explaining why."""
        transport = self._transports.get(rules.TCP)
        if transport is None:
            transport = tcp.TcpTransport(self.conf)
        return rules.Selection(
            transport=transport,
            iface=iface_mod.Iface(name=rules.DEFAULT_IFACE,
                                  transport_name=rules.TCP),
            fallback=True, reason=reason,
            requested=requested or self.options.transport)

    def unknown_reason(self, name: str) -> str:
        """Why ``name`` is not among the loaded transports."""
        for failure in self.load_failures:
            if failure.name == name:
                return "transport plugin %s failed to load: %s" % (
                    name, failure.error)
        return "no transport plugin named %s is installed (installed: %s)" % (
            name, ", ".join(self._transports) or "none")
