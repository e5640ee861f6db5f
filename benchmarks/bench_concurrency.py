"""Benchmark 5: 32 volumes on distinct targets attached at once.

32 threads each attach one volume (its own portal and IQN) through one
shared attacher, against the scripted iscsiadm taking 50 ms per call, as
nova-compute does when an instance boots with many volumes.  This
project locks per target, so unrelated attaches overlap; os-brick holds
one host-wide ``connect_volume`` lock.  Goal: at least 10x faster.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time

import _attach
import _common

VOLUMES = 32
DELAY = 0.05
GOAL = 10.0


def attach_all(lab: _attach.Lab, attach) -> float:
    """Wall seconds for VOLUMES concurrent attaches; each must succeed.

    One attach runs first, untimed: nova-compute is a long-running service,
    so one-time set-up (loading plugins, imports) is not part of the
    steady-state cost measured here, on either side.
    """
    warm_up = _attach.props(99)
    lab.add_devices(warm_up)
    attach(warm_up)
    lab.reset()
    volumes = [_attach.props(100 + number) for number in range(VOLUMES)]
    for data in volumes:
        lab.add_devices(data)
    barrier = threading.Barrier(VOLUMES + 1)

    def one(data: dict) -> dict:
        barrier.wait()
        return attach(data)

    with concurrent.futures.ThreadPoolExecutor(VOLUMES) as pool:
        futures = [pool.submit(one, data) for data in volumes]
        barrier.wait()
        started = time.perf_counter()
        results = [future.result() for future in futures]
        elapsed = time.perf_counter() - started
    if len(results) != VOLUMES or not all(r.get("path") for r in results):
        raise SystemExit("an attach returned no device")
    return elapsed


def main() -> dict:
    _common.quiet_logging()
    brick = _common.have_os_brick()
    lab = _attach.Lab.create(delay=DELAY)
    try:
        ours = attach_all(lab, lab.ours().connect_volume)
        ours_calls = len(lab.calls())
        theirs = theirs_calls = None
        if brick:
            theirs = attach_all(lab, lab.os_brick().connect_volume)
            theirs_calls = len(lab.calls())
    finally:
        lab.destroy()
    serial = VOLUMES * 3 * DELAY
    rows = [["ours", "%.2f s" % ours, ours_calls,
             "%.1fx" % (theirs / ours) if theirs else "-"]]
    if theirs:
        rows.append(["os-brick", "%.2f s" % theirs, theirs_calls, "1.0x"])
    _common.report(
        "concurrency", "%d concurrent attaches, %d ms per iscsiadm call"
        % (VOLUMES, DELAY * 1000), ["attacher", "wall time", "iscsiadm calls",
                                    "speed-up vs os-brick"], rows,
        {"ours_s": ours, "os_brick_s": theirs, "volumes": VOLUMES,
         "delay_s": DELAY, "ours_serial_floor_s": serial,
         "speedup": theirs / ours if theirs else None, "goal": GOAL,
         "goal_met": bool(theirs and theirs / ours >= GOAL)})
    return {"ours": ours, "os_brick": theirs}


if __name__ == "__main__":
    main()
