"""Benchmark 1: cold start of ``iscsi-transports list`` against its floor.

The floor is ``python -c "import oslo_config.cfg"``: a mandated dependency
that every command pays for.  os-brick's ``import
os_brick.initiator.connector`` is measured in the same run for scale.  The
commands run interleaved (ours, floor, os-brick, ours, ...) so drift in the
machine's load hits all of them alike; the median of each is reported.
Goal: ours at most 1.2x the floor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time

import _common

ENV: dict[str, str] = {}
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "21"))
GOAL = 1.2
OURS = "iscsi-transports list"
FLOOR = "floor: import oslo_config.cfg"


def console_script() -> list[str]:
    """The installed ``iscsi-transports`` script and the Python it runs on.

    The script is run through its own shebang interpreter, not a pyenv or
    venv shim, so the floor below is measured on the same interpreter.
    """
    candidates = [os.path.join(sysconfig.get_path("scripts"), "iscsi-transports"),
                  os.path.join(os.path.dirname(os.path.realpath(sys._base_executable)),
                               "iscsi-transports"),
                  shutil.which("iscsi-transports") or ""]
    for path in candidates:
        if path and os.path.isfile(path):
            with open(path, "rb") as script:
                first = script.readline().decode().strip()
            if first.startswith("#!") and "python" in first:
                return [first[2:].strip(), path]
    raise SystemExit("iscsi-transports is not installed: pip install -e .")


def child_env() -> dict[str, str]:
    """The environment of a deployed host: bytecode compiled once, reused.

    pip compiles an installed package's bytecode; an editable checkout run
    with PYTHONDONTWRITEBYTECODE would recompile ours on every start and
    not the floor's.  A private pycache prefix gives every command the same
    treatment without writing into the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(_common.HERE, ".venv", "pycache")
    return env


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run.

    CPU time (user + system of the child) is reported beside wall time
    because it barely moves when other work shares the machine.
    """
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit("%s failed (%d)" % (" ".join(argv), child.returncode))
    return wall, usage.ru_utime + usage.ru_stime


def commands() -> dict[str, list[str]]:
    interpreter, script = console_script()
    found = {OURS: [interpreter, script, "list"],
             FLOOR: [
                 interpreter, "-c", "import oslo_config.cfg"]}
    if _common.have_os_brick():
        found["os-brick: import connector"] = [
            sys.executable, "-W", "ignore", "-c",
            "import os_brick.initiator.connector"]
    return found


def main() -> dict:
    global ENV
    ENV = child_env()
    cmds = commands()
    for argv in cmds.values():  # warm the page cache and .pyc files
        timed(argv)
    samples: dict[str, list[tuple[float, float]]] = {n: [] for n in cmds}
    for _ in range(RUNS):
        for name, argv in cmds.items():
            samples[name].append(timed(argv))
    wall = {n: _common.median([w for w, _ in v]) for n, v in samples.items()}
    cpu = {n: _common.median([c for _, c in v]) for n, v in samples.items()}
    floor_wall, floor_cpu = wall[FLOOR], cpu[FLOOR]
    rows = [[name, _common.ms(wall[name]), "%.2fx" % (wall[name] / floor_wall),
             _common.ms(cpu[name]), "%.2fx" % (cpu[name] / floor_cpu)]
            for name in cmds]
    ratio = wall[OURS] / floor_wall
    _common.report(
        "cold_start", "Cold start (median of %d interleaved runs)" % RUNS,
        ["command", "wall", "wall vs floor", "CPU", "CPU vs floor"], rows,
        {"wall_s": wall, "cpu_s": cpu, "samples_wall_cpu_s": samples,
         "ratio": ratio, "cpu_ratio": cpu[OURS] / floor_cpu, "goal": GOAL,
         "goal_met": ratio <= GOAL})
    return wall


if __name__ == "__main__":
    main()
