"""Benchmark 4: iscsiadm processes per attach, this project vs os-brick.

Both attach through the same scripted iscsiadm (``fake_iscsiadm.sh``),
which appends every invocation to a log; the count is what a real host
would fork.  Goal: a fresh single-path attach without CHAP makes at most 3
processes (os-brick: 7 by its code).
"""

from __future__ import annotations

import _attach
import _common

GOAL_SINGLE = 3
SCENARIOS = {
    "single path": {"paths": 1},
    "single path + CHAP": {"paths": 1, "chap": True},
    "4-path multipath": {"paths": 4},
}


def count(lab: _attach.Lab, attach, data: dict) -> tuple[int, list[str]]:
    lab.reset()
    attach(data)
    return len(lab.calls()), lab.calls()


def main() -> dict:
    _common.quiet_logging()
    brick = _common.have_os_brick()
    lab = _attach.Lab.create()
    results: dict = {}
    try:
        for number, (name, shape) in enumerate(SCENARIOS.items(), 1):
            data = _attach.props(number, **shape)
            lab.add_devices(data)
            ours, ours_calls = count(lab, lab.ours().connect_volume, data)
            results[name] = {"ours": ours, "ours_calls": ours_calls}
            if brick:
                connector = lab.os_brick(multipath=shape["paths"] > 1)
                theirs, calls = count(lab, connector.connect_volume, data)
                results[name].update(
                    os_brick=theirs, os_brick_calls=calls,
                    os_brick_other_commands=connector.other_commands)
    finally:
        lab.destroy()
    rows = [[name, r["ours"], r.get("os_brick", "n/a"),
             "%.1fx fewer" % (r["os_brick"] / r["ours"]) if brick else "-"]
            for name, r in results.items()]
    _common.report(
        "processes", "iscsiadm processes per attach",
        ["attach", "ours", "os-brick", "ours vs os-brick"], rows,
        {"results": results, "goal_single": GOAL_SINGLE,
         "goal_met": results["single path"]["ours"] <= GOAL_SINGLE})
    return results


if __name__ == "__main__":
    main()
