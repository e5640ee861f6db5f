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

"""Benchmark 2: manager load + detection on hosts with many offload ports.

Trees are built by the test suite's :class:`SysfsTree` (the kernel's
layout, symlinks included) with two-port cards of every offload transport
in turn.  Each measurement builds a new :class:`TransportManager` and
detects every transport on a fresh, uncached host view.  The baseline is
the same on a host without offload ports, so ``per port`` is the cost each
port adds.  Goal: 64 ports under 20 ms, and a flat per-port cost (linear).
"""

from __future__ import annotations

import itertools

import _common
from oslo_config import cfg

from iscsi_transports import config
from iscsi_transports import fixture
from iscsi_transports import opts
from iscsi_transports.selection import manager as manager_mod

SIZES = (0, 1, 16, 64, 256)
GOAL_64_S = 0.020
TRANSPORTS = ("cxgb4i", "qla4xxx", "bnx2i", "be2iscsi", "qedi", "cxgb3i",
              "ocs")


def build(tree: fixture.SysfsTree, ports: int) -> None:
    """``ports`` offload ports on two-port cards, transports in turn."""
    kinds = itertools.cycle(TRANSPORTS)
    bus = 1
    while ports > 0:
        count = min(2, ports)
        tree.add_offload_card(next(kinds), ports=count, bus=bus,
                              ipaddresses=["10.%d.%d.1" % (bus, i)
                                           for i in range(count)])
        ports -= count
        bus += 1


def detect_once(root: str) -> int:
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], project="bench")
    conf.set_override("sysfs_root", root, group=config.GROUP)
    detections = manager_mod.TransportManager(conf).detect_all()
    return sum(len(d.ports) for d in detections.values())


def measure(ports: int) -> float:
    tree = fixture.SysfsTree()
    tree.setUp()
    try:
        build(tree, ports)
        found = detect_once(tree.root)
        if found < ports:
            raise SystemExit("only %d of %d ports detected" % (found, ports))
        return _common.best_of(lambda: detect_once(tree.root), repeat=7)
    finally:
        tree.cleanUp()


def main() -> dict:
    timings = {ports: measure(ports) for ports in SIZES}
    base = timings[0]
    per_port = {p: (t - base) / p for p, t in timings.items() if p}
    rows = [[p, _common.ms(t), "%.1f us" % (per_port[p] * 1e6) if p else "-",
             "%.2fx" % (t / base)] for p, t in timings.items()]
    _common.report(
        "detection", "Detection scale (manager load + detect_all)",
        ["offload ports", "time", "per port", "vs no ports"], rows,
        {"seconds": timings, "per_port_s": per_port,
         "goal_64_s": GOAL_64_S, "goal_met": timings[64] < GOAL_64_S})
    return timings


if __name__ == "__main__":
    main()
