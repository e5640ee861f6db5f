"""Benchmark 5: 32 volumes on distinct targets attached at once.

32 threads each attach one volume (its own portal and IQN) through one
shared attacher, against the scripted iscsiadm taking 50 ms per call, as
nova-compute does when an instance boots with many volumes.  This
project locks per target, so unrelated attaches overlap; os-brick holds
one host-wide ``connect_volume`` lock.  Goal: at least 10x faster.

Two more baselines, measured in the same run: the limit the longest chain
of calls sets (3 calls x 50 ms, if starting 96 processes cost nothing),
and the spawn floor: the same 96 scripted iscsiadm calls, 3 in a row from
each of 32 threads, started by a bare ``subprocess.run`` and nothing else.
On 2 CPUs the spawn floor is far above the chain limit (each call is a
shell script starting), so it says how much of the wall time is ours.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
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


def spawn_floor(lab: _attach.Lab) -> float:
    """Wall seconds for the same iscsiadm calls without the library:
    ``-o new``, ``-o update``, ``--login`` per volume, 32 volumes at once,
    each started as cheaply as Python can (vfork, own session)."""
    fake = lab.path("bin", "iscsiadm")
    barrier = threading.Barrier(VOLUMES + 1)

    def one(number: int) -> None:
        data = _attach.props(200 + number)
        node = [fake, "-m", "node", "-T", data["target_iqn"], "-p",
                data["target_portal"], "-I", "default"]
        barrier.wait()
        for action in (["-o", "new"], ["-o", "update"], ["--login"]):
            subprocess.run(node + action, capture_output=True, check=True,
                           start_new_session=True)

    with concurrent.futures.ThreadPoolExecutor(VOLUMES) as pool:
        futures = [pool.submit(one, number) for number in range(VOLUMES)]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def main() -> dict:
    _common.quiet_logging()
    brick = _common.have_os_brick()
    lab = _attach.Lab.create(delay=DELAY)
    try:
        spawn_floor(lab)  # untimed, as ours has its warm-up attach
        lab.reset()
        floor = spawn_floor(lab)
        lab.reset()
        ours = attach_all(lab, lab.ours().connect_volume)
        ours_calls = len(lab.calls())
        theirs = theirs_calls = None
        if brick:
            theirs = attach_all(lab, lab.os_brick().connect_volume)
            theirs_calls = len(lab.calls())
    finally:
        lab.destroy()
    serial = VOLUMES * 3 * DELAY
    chain = 3 * DELAY
    rows = [["ours", "%.2f s" % ours, ours_calls,
             "%.1fx" % (theirs / ours) if theirs else "-",
             "%.2fx" % (ours / floor), "%.1fx" % (ours / chain)]]
    if theirs:
        rows.append(["os-brick", "%.2f s" % theirs, theirs_calls, "1.0x",
                     "%.2fx" % (theirs / floor), "%.1fx" % (theirs / chain)])
    rows.append(["spawn floor (no library)", "%.2f s" % floor,
                 VOLUMES * 3, "-", "1.00x", "%.1fx" % (floor / chain)])
    _common.report(
        "concurrency", "%d concurrent attaches, %d ms per iscsiadm call"
        % (VOLUMES, DELAY * 1000), ["attacher", "wall time", "iscsiadm calls",
                                    "speed-up vs os-brick",
                                    "vs spawn floor",
                                    "vs chain limit %.2f s" % chain], rows,
        {"ours_s": ours, "os_brick_s": theirs, "volumes": VOLUMES,
         "delay_s": DELAY, "ours_serial_floor_s": serial,
         "spawn_floor_s": floor, "chain_limit_s": chain,
         "ours_vs_spawn_floor": ours / floor,
         "ours_vs_chain_limit": ours / chain,
         "load_average": os.getloadavg(),
         "speedup": theirs / ours if theirs else None, "goal": GOAL,
         "goal_met": bool(theirs and theirs / ours >= GOAL)})
    return {"ours": ours, "os_brick": theirs}


if __name__ == "__main__":
    main()
