"""Benchmark 4: iscsiadm processes per attach and detach, vs os-brick.

Both attach through the same scripted iscsiadm (``fake_iscsiadm.sh``),
which appends every invocation to a log; the count is what a real host
would fork.  Goal: a fresh single-path attach makes at most 3 processes,
with or without CHAP (os-brick: 7 and more by its code); the full
lifecycle (node record with manual scans and startup, login window and
CHAP in one update, login) is counted.  A detach of the last volume of a
target is counted too (``node.startup = manual``, logout, delete).
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


def count_detach(lab: _attach.Lab, detach, data: dict,
                 info: object) -> tuple[int | str, list[str]]:
    """Processes of a detach right after the attach; os-brick's detach
    reads the kernel through LinuxSCSI helpers this harness does not
    stand in for, so a failure is reported, not hidden."""
    lab.forget_calls()
    try:
        detach(data, info)
    except Exception as error:  # reported in the results
        return "n/a (%s)" % type(error).__name__, lab.calls()
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
            driver = lab.ours()
            lab.reset()
            info = driver.connect_volume(data)
            ours, ours_calls = len(lab.calls()), lab.calls()
            detach, detach_calls = count_detach(
                lab, driver.disconnect_volume, data, info)
            results[name] = {"ours": ours, "ours_calls": ours_calls,
                             "ours_detach": detach,
                             "ours_detach_calls": detach_calls}
            if brick:
                connector = lab.os_brick(multipath=shape["paths"] > 1)
                theirs, calls = count(lab, connector.connect_volume, data)
                their_detach, their_detach_calls = count_detach(
                    lab, connector.disconnect_volume, data, {})
                results[name].update(
                    os_brick=theirs, os_brick_calls=calls,
                    os_brick_detach=their_detach,
                    os_brick_detach_calls=their_detach_calls,
                    os_brick_other_commands=connector.other_commands)
    finally:
        lab.destroy()
    rows = [[name, r["ours"], r.get("os_brick", "n/a"),
             "%.1fx fewer" % (r["os_brick"] / r["ours"]) if brick else "-",
             r["ours_detach"], r.get("os_brick_detach", "n/a")]
            for name, r in results.items()]
    _common.report(
        "processes", "iscsiadm processes per attach and detach",
        ["volume", "attach: ours", "os-brick", "ours vs os-brick",
         "detach: ours", "os-brick"], rows,
        {"results": results, "goal_single": GOAL_SINGLE,
         "goal_met": max(results["single path"]["ours"],
                         results["single path + CHAP"]["ours"])
         <= GOAL_SINGLE})
    return results


if __name__ == "__main__":
    main()
