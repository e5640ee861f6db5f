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

This project is measured three ways, each a separate driver on the same
lab: the default path (``use_privsep``) as root, where the checked root
operations run in this process; the default path as a service user,
through the real privsep daemon (started here with ``Method.FORK``, as
root, already running when timing starts, as nova's is after its first
use); and the legacy path (``use_privsep = false``, an injected
``execute``).  The privileged ones need root.
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
#: Interleaved rounds of the floor and this project's paths (medians).
ROUNDS = 3
FLOOR = "spawn floor"
IN_PROCESS = "privsep in process"
DAEMON = "privsep daemon"
LEGACY = "legacy execute"


def attach_all(lab: _attach.Lab, attach, first: int) -> float:
    """Wall seconds for VOLUMES concurrent attaches; each must succeed.

    Volumes ``first`` to ``first + VOLUMES - 1`` (``first - 1`` warms up):
    each attacher gets its own, as the disks of one stay in the lab.

    One attach runs first, untimed: nova-compute is a long-running service,
    so one-time set-up (loading plugins, imports) is not part of the
    steady-state cost measured here, on either side.
    """
    warm_up = _attach.props(first - 1)
    lab.add_devices(warm_up)
    attach(warm_up)
    lab.reset()
    volumes = [_attach.props(first + number) for number in range(VOLUMES)]
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


def spawn_floor(lab: _attach.Lab, first: int) -> float:
    """Wall seconds for the same iscsiadm calls without the library:
    ``-o new``, ``-o update``, ``--login`` per volume, 32 volumes at once,
    each started as cheaply as Python can (vfork, own session)."""
    fake = lab.path("bin", "iscsiadm")
    barrier = threading.Barrier(VOLUMES + 1)

    def one(number: int) -> None:
        data = _attach.props(first + number)
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


def rounds(lab: _attach.Lab) -> tuple[dict[str, float], dict[str, int]]:
    """Median wall seconds (and iscsiadm calls of one round) of the spawn
    floor and the three paths of this project, interleaved ROUNDS times so
    that the shared machine's load falls on each alike."""
    from oslo_privsep import priv_context

    from iscsi_transports import privileged
    lab.use_privileged()
    privileged.context.start(priv_context.Method.FORK)
    try:
        attachers = {
            IN_PROCESS: lab.ours(privileged.executor(in_process=True)),
            DAEMON: lab.ours(privileged.executor(in_process=False)),
            LEGACY: lab.ours()}
        lab.reset()
        spawn_floor(lab, 100)  # untimed, as each attacher's warm-up attach
        walls: dict[str, list[float]] = {name: [] for name in
                                         (FLOOR, *attachers)}
        calls: dict[str, int] = {}
        first = 200
        for _ in range(ROUNDS):
            lab.reset()
            walls[FLOOR].append(spawn_floor(lab, first))
            calls[FLOOR] = len(lab.calls())
            first += 100
            for name, driver in attachers.items():
                lab.reset()
                walls[name].append(attach_all(lab, driver.connect_volume,
                                              first))
                calls[name] = len(lab.calls())
                first += 100
    finally:
        privileged.context.stop()
        lab.restore_privileged()
    return {name: _common.median(values)
            for name, values in walls.items()}, calls


def main() -> dict:
    _common.quiet_logging()
    if os.geteuid() != 0:
        raise SystemExit("bench_concurrency needs root: the default path "
                         "runs the root operations (and starts the daemon)")
    brick = _common.have_os_brick()
    lab = _attach.Lab.create(delay=DELAY)
    try:
        wall, calls = rounds(lab)
        floor, ours = wall[FLOOR], wall[LEGACY]
        in_process, daemon = wall[IN_PROCESS], wall[DAEMON]
        theirs = theirs_calls = None
        if brick:
            # Once: at 30-50 times the others, the load moves it little.
            lab.reset()
            theirs = attach_all(lab, lab.os_brick().connect_volume, 5000)
            theirs_calls = len(lab.calls())
    finally:
        lab.destroy()
    serial = VOLUMES * 3 * DELAY
    chain = 3 * DELAY

    def row(name: str, wall: float, calls: int) -> list:
        return [name, "%.2f s" % wall, calls,
                "%.1fx" % (theirs / wall) if theirs else "-",
                "%.2fx" % (wall / floor), "%.1fx" % (wall / chain)]

    rows = [row("ours, privsep in process (root, default)", in_process,
                calls[IN_PROCESS]),
            row("ours, privsep daemon (service user, default)", daemon,
                calls[DAEMON]),
            row("ours, legacy execute (use_privsep = false)", ours,
                calls[LEGACY])]
    if theirs:
        rows.append(["os-brick", "%.2f s" % theirs, theirs_calls, "1.0x",
                     "%.2fx" % (theirs / floor), "%.1fx" % (theirs / chain)])
    rows.append(["spawn floor (no library)", "%.2f s" % floor,
                 calls[FLOOR], "-", "1.00x", "%.1fx" % (floor / chain)])
    _common.report(
        "concurrency", "%d concurrent attaches, %d ms per iscsiadm call "
        "(median of %d rounds)" % (VOLUMES, DELAY * 1000, ROUNDS),
        ["attacher", "wall time", "iscsiadm calls",
                                    "speed-up vs os-brick",
                                    "vs spawn floor",
                                    "vs chain limit %.2f s" % chain], rows,
        {"ours_s": ours, "os_brick_s": theirs,
         "privsep_in_process_s": in_process, "privsep_daemon_s": daemon,
         "privsep_in_process_vs_spawn_floor": in_process / floor,
         "privsep_daemon_vs_spawn_floor": daemon / floor,
         "privsep_daemon_speedup": theirs / daemon if theirs else None,
         "volumes": VOLUMES,
         "delay_s": DELAY, "rounds": ROUNDS, "ours_serial_floor_s": serial,
         "spawn_floor_s": floor, "chain_limit_s": chain,
         "ours_vs_spawn_floor": ours / floor,
         "ours_vs_chain_limit": ours / chain,
         "load_average": os.getloadavg(),
         "speedup": theirs / ours if theirs else None, "goal": GOAL,
         "goal_met": bool(theirs and min(theirs / ours, theirs / daemon,
                                         theirs / in_process) >= GOAL)})
    return {"ours": ours, "os_brick": theirs, "privsep_in_process": in_process,
            "privsep_daemon": daemon}


if __name__ == "__main__":
    main()
