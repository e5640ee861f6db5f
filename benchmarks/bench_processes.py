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

"""Benchmark 4: iscsiadm and multipath processes per attach and detach,
vs os-brick.

Both attach through the same scripted iscsiadm (``fake_iscsiadm.sh``),
which appends every invocation to a log; the count is what a real host
would fork.  ``multipath``/``multipathd`` commands are counted too: this
project's through the recording fake multipathd of the unit tests,
os-brick's through stubs of its ``LinuxSCSI`` that record the argv it
would run (``multipathd show status`` on every attach, ``multipath -a``,
``multipathd add path``, ``multipath -C``).  Goals: a fresh single-path
attach makes at most 3 processes, with or without CHAP (os-brick: 7 and
more by its code), the limit being 2 (``-o new`` and ``--login``: the
root daemon writes the settings into the record); a 4-path
multipath attach at most 14 (os-brick: 28 iscsiadm alone).  The full
lifecycle (node record with manual scans and startup, login window, CHAP
and multipath timeouts, login; the map) is counted, for multipathd
building the map alone and for ``find_multipaths strict``, where it has to
be told.  A detach of the last volume of a target is counted too (the
map's flush, ``node.startup = manual`` written into the record, logout,
delete).
"""

from __future__ import annotations

import _attach
import _common

GOAL_SINGLE = 3
LIMIT_SINGLE = 2
GOAL_MULTIPATH = 14
SCENARIOS = {
    "single path": {"paths": 1},
    "single path + CHAP": {"paths": 1, "chap": True},
    "4-path multipath, multipathd maps alone": {
        "paths": 4, "multipath": True, "alone": True},
    "4-path multipath, find_multipaths strict": {
        "paths": 4, "multipath": True, "alone": False},
}


def processes(lab: _attach.Lab, others: list[list[str]] | None = None
              ) -> list[str]:
    """iscsiadm, then multipath commands, since the last reset."""
    extra = lab.multipath_calls() if others is None else [
        " ".join(cmd) for cmd in others]
    return lab.calls() + extra


def count_detach(lab: _attach.Lab, detach, data: dict, info: object,
                 others: list[list[str]] | None = None
                 ) -> tuple[int | str, list[str]]:
    """Processes of a detach right after the attach; os-brick's detach
    reads the kernel through LinuxSCSI helpers this harness does not
    stand in for, so a failure is reported, not hidden."""
    lab.forget_calls()
    if others is not None:
        others.clear()
    try:
        detach(data, info)
    except Exception as error:  # reported in the results
        return "n/a (%s)" % type(error).__name__, processes(lab, others)
    calls = processes(lab, others)
    return len(calls), calls


def run_ours(lab: _attach.Lab, data: dict, shape: dict,
             privileged: object, key: str = "ours") -> dict:
    """Counts of this project's driver on ``privileged``, a root executor
    (the operations the daemon runs, here in process: the counts do not
    depend on which)."""
    driver = lab.ours(privileged)  # type: ignore[arg-type]
    # Single path: multipathd as Debian runs it (find_multipaths strict).
    lab.multipathd.auto = shape.get("alone", False)
    lab.reset()
    info = driver.connect_volume(data, multipath=shape.get("multipath",
                                                           False))
    calls = processes(lab)
    iscsiadm = len(lab.calls())
    detach, detach_calls = count_detach(lab, driver.disconnect_volume, data,
                                        info)
    return {key: len(calls), key + "_iscsiadm": iscsiadm,
            key + "_calls": calls, key + "_map": info.get("map"),
            key + "_detach": detach, key + "_detach_calls": detach_calls}


def run_brick(lab: _attach.Lab, data: dict, shape: dict) -> dict:
    connector = lab.os_brick(multipath=shape.get("multipath", False),
                             alone=shape.get("alone", True))
    others = connector.other_commands
    lab.reset()
    connector.connect_volume(data)
    calls = processes(lab, others)
    iscsiadm = len(lab.calls())
    detach, detach_calls = count_detach(lab, connector.disconnect_volume,
                                        data, {}, others)
    return {"os_brick": len(calls), "os_brick_iscsiadm": iscsiadm,
            "os_brick_calls": calls, "os_brick_detach": detach,
            "os_brick_detach_calls": detach_calls}


def main() -> dict:
    from iscsi_transports.privileged import client
    _common.quiet_logging()
    brick = _common.have_os_brick()
    lab = _attach.Lab.create()
    results: dict = {}
    try:
        for number, (name, shape) in enumerate(SCENARIOS.items(), 1):
            data = _attach.props(number, paths=shape["paths"],
                                 chap=shape.get("chap", False))
            lab.add_devices(data)
            lab.use_privileged()
            try:
                results[name] = run_ours(lab, data, shape,
                                         client.executor(in_process=True))
            finally:
                lab.restore_privileged()
            if brick:
                results[name].update(run_brick(lab, data, shape))
    finally:
        lab.destroy()
    rows = [[name, "%d (%d)" % (r["ours"], r["ours_iscsiadm"]),
             "%d (%d)" % (r["os_brick"], r["os_brick_iscsiadm"])
             if brick else "n/a",
             "%.1fx fewer" % (r["os_brick"] / r["ours"]) if brick
             else "-",
             r["ours_detach"], r.get("os_brick_detach", "n/a")]
            for name, r in results.items()]
    multipath = [r["ours"] for name, r in results.items()
                 if "4-path" in name]
    _common.report(
        "processes", "processes per attach and detach (iscsiadm in brackets;"
        " the rest multipath/multipathd)",
        ["volume", "attach: ours", "os-brick", "ours vs os-brick",
         "detach: ours", "os-brick"], rows,
        {"results": results, "goal_single": GOAL_SINGLE,
         "limit_single": LIMIT_SINGLE,
         "default_path_at_limit": max(
             results[single]["ours"]
             for single in ("single path", "single path + CHAP"))
         <= LIMIT_SINGLE,
         "goal_multipath": GOAL_MULTIPATH,
         "goal_met": max(results[single]["ours"]
                         for single in ("single path", "single path + CHAP"))
         <= GOAL_SINGLE and max(multipath) <= GOAL_MULTIPATH})
    return results


if __name__ == "__main__":
    main()
