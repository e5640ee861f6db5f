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

"""Summarise benchmarks/results/*.json as a markdown table and a PNG chart.

The chart (this project vs os-brick) is also copied next to the
contributor docs page that shows it, so the docs build needs no path
outside ``doc/source``.
"""

from __future__ import annotations

import json
import os
import shutil

import _common

CHART = os.path.join(_common.RESULTS, "ours-vs-os-brick.png")
DOC_DIR = os.path.join(_common.REPO, "doc", "source", "contributor")
DOC_CHART = os.path.join(DOC_DIR, "benchmarks-ours-vs-os-brick.png")
#: Included by benchmarks.rst; not a document of its own (no .rst suffix).
DOC_TABLES = os.path.join(DOC_DIR, "benchmarks-results.inc")
ORDER = ("cold_start", "detection", "processes", "concurrency",
         "privilege", "multipath_map", "attach_latency")


def load() -> dict[str, dict]:
    results = {}
    for name in ORDER:
        path = os.path.join(_common.RESULTS, name + ".json")
        if os.path.exists(path):
            with open(path) as data:
                results[name] = json.load(data)
    return results


def markdown(results: dict[str, dict]) -> str:
    machine = next(iter(results.values()))["machine"]
    lines = ["# Benchmark results", "",
             "Machine: %(nproc)s CPUs, Python %(python)s, %(platform)s; "
             "measured %(date)s." % machine, "",
             "Run `python benchmarks/run_all.py` to reproduce; every ratio "
             "is against a baseline measured in the same run.", ""]
    for result in results.values():
        goal = ("goal met" if result.get("goal_met") else "goal NOT met")
        lines += ["## %s (%s)" % (result["title"], goal), "",
                  _common.table(result["headers"], result["rows"]), ""]
    return "\n".join(lines)


def rest(results: dict[str, dict]) -> str:
    """The same tables as reST list-tables, for the contributor docs."""
    machine = next(iter(results.values()))["machine"]
    lines = ["Measured %(date)s on %(nproc)s CPUs, Python %(python)s "
             "(%(platform)s)." % machine, ""]
    for result in results.values():
        goal = "goal met" if result.get("goal_met") else "goal not met"
        lines += [".. list-table:: %s (%s)" % (result["title"], goal),
                  "   :header-rows: 1", ""]
        for row in [result["headers"], *result["rows"]]:
            lines.append("   * - %s" % row[0])
            lines += ["     - %s" % cell for cell in row[1:]]
        lines.append("")
    return "\n".join(lines)


def _bars(axis, title: str, unit: str, labels: list[str],
          ours: list[float], theirs: list[float]) -> None:
    width = 0.38
    positions = range(len(labels))
    axis.bar([p - width / 2 for p in positions], ours, width,
             label="iscsi-transports", color="#2a7ab0")
    axis.bar([p + width / 2 for p in positions], theirs, width,
             label="os-brick", color="#c8553d")
    axis.set_xticks(list(positions), labels, fontsize=8)
    axis.set_title(title, fontsize=10)
    axis.set_ylabel(unit, fontsize=8)


def chart(results: dict[str, dict]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 3, figsize=(11, 3.6))
    cold = results["cold_start"]["wall_s"]
    brick_cold = [v for k, v in cold.items() if k.startswith("os-brick")]
    _bars(axes[0], "Cold start", "ms", ["start-up"],
          [cold["iscsi-transports list"] * 1000],
          [brick_cold[0] * 1000 if brick_cold else 0])
    procs = results["processes"]["results"]
    _bars(axes[1], "processes per attach", "processes",
          [name.replace(" + ", "\n+ ").replace(", ", "\n") for name in procs],
          [r["ours"] for r in procs.values()],
          [r.get("os_brick", 0) for r in procs.values()])
    conc = results["concurrency"]
    # The default path as nova runs it (a service user: the daemon).
    _bars(axes[2], "%d concurrent attaches" % conc["volumes"], "seconds",
          ["wall time"], [conc["privsep_daemon_s"]],
          [conc["os_brick_s"] or 0])
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(CHART, dpi=100)
    shutil.copyfile(CHART, DOC_CHART)


def main() -> None:
    results = load()
    with open(os.path.join(_common.RESULTS, "README.md"), "w") as out:
        out.write(markdown(results))
    with open(DOC_TABLES, "w") as out:
        out.write(rest(results))
    chart(results)
    print("\nWrote %s, %s and %s" % (
        os.path.relpath(os.path.join(_common.RESULTS, "README.md")),
        os.path.relpath(CHART), os.path.relpath(DOC_CHART)))


if __name__ == "__main__":
    main()
