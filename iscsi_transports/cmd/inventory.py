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

"""``list``, ``show NAME`` and ``active``: what is installed, found and used."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, TextIO

from oslo_config import cfg

from iscsi_transports.cmd import output
from iscsi_transports.selection import manager as manager_mod

WIDTH = 80


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list", parents=[common], help="list every transport plugin")
    parser.set_defaults(func=run_list)
    parser = subparsers.add_parser(
        "show", parents=[common], help="show one transport in detail")
    parser.add_argument("name", help="transport plugin name, e.g. cxgb4i")
    parser.set_defaults(func=run_show)
    parser = subparsers.add_parser(
        "active", parents=[common],
        help="show the transport and iface the driver would use now")
    parser.set_defaults(func=run_active)


def transport_dict(manager: manager_mod.TransportManager,
                   name: str) -> dict[str, Any]:
    transport = manager.get(name)
    detection = manager.detect(name)
    data = {"name": name, "summary": transport.summary(),
            "source": manager.source(name),
            "offload": transport.offload,
            "kernel_modules": list(transport.kernel_modules),
            "needs_target_support": transport.needs_target_support,
            "requires_ipaddress": transport.requires_ipaddress,
            "needs_iscsiuio": transport.needs_iscsiuio}
    data.update(detection.as_dict())
    del data["transport"]
    return data


def inventory(manager: manager_mod.TransportManager) -> dict[str, Any]:
    return {"transports": [transport_dict(manager, name)
                           for name in manager.transports],
            "load_failures": [failure.as_dict()
                              for failure in manager.load_failures]}


def run_list(conf: cfg.ConfigOpts, args: argparse.Namespace,
             out: TextIO) -> int:
    manager = manager_mod.TransportManager(conf)
    output.emit(args, inventory(manager), render_list, out)
    return 0


def run_show(conf: cfg.ConfigOpts, args: argparse.Namespace,
             out: TextIO) -> int:
    manager = manager_mod.TransportManager(conf)
    output.emit(args, transport_dict(manager, args.name), render_show, out)
    return 0


def run_active(conf: cfg.ConfigOpts, args: argparse.Namespace,
               out: TextIO) -> int:
    selection = manager_mod.TransportManager(conf).active()
    output.emit(args, selection.as_dict(), render_active, out)
    return 0


def _wrap(text: str, indent: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent,
                         subsequent_indent=indent) or [indent.rstrip()]


def _status(data: dict[str, Any]) -> str:
    return "%-10s %-9s %-9s %s" % (
        data["name"], "enabled" if data["enabled"] else "disabled",
        "offload" if data["offload"] else "software",
        "usable" if data["usable"] else "NOT USABLE")


def _port_lines(data: dict[str, Any]) -> list[str]:
    return [("    port %s  %s %s %s" % (
        port["iface_name"], port["netdev"] or "-", port["pci_address"] or "-",
        port["ipaddress"] or "")).rstrip() for port in data["ports"]]


def render_list(data: dict[str, Any]) -> str:
    lines = ["%-10s %-9s %-9s %s" % ("NAME", "ENABLED", "KIND", "STATUS")]
    for item in data["transports"]:
        lines.append(_status(item))
        lines += _wrap(item["reason"])
        lines += _port_lines(item)
    if data["load_failures"]:
        lines.append("")
        lines.append("Plugins that failed to load:")
        for failure in data["load_failures"]:
            lines += _wrap("%s: %s [%s]" % (failure["name"], failure["error"],
                                            failure["source"]), "  ")
    return "\n".join(lines) + "\n"


def render_show(data: dict[str, Any]) -> str:
    lines = [_status(data)]
    lines += _wrap(data["summary"])
    lines += _wrap("reason: " + data["reason"])
    lines += _wrap("source: %s" % data["source"])
    lines += _wrap("kernel modules: %s (%s)" % (
        ", ".join(data["kernel_modules"]) or "none",
        "loaded" if data["module_loaded"] else "not loaded"))
    for hardware in data["hardware"]:
        lines += _wrap("hardware: %s %s at %s (driver %s)" % (
            hardware["model"] or "", hardware["pci_id"],
            hardware["pci_address"], hardware["driver"] or "none"))
    lines += _port_lines(data)
    return "\n".join(lines) + "\n"


def render_active(data: dict[str, Any]) -> str:
    lines = ["transport: %s" % data["transport"],
             "iface:     %s" % data["iface"],
             "fallback:  %s" % ("yes" if data["fallback"] else "no")]
    lines += _wrap("reason:    %s" % data["reason"], "")
    return "\n".join(lines) + "\n"
