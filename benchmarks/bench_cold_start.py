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

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "21"))
GOAL = 1.2
OURS = "iscsi-transports list"
FLOOR = "floor: import oslo_config.cfg"


def console_script() -> list[str]:
    """The installed ``iscsi-transports`` script and the Python it runs on.

    The script is run through its own shebang interpreter, not a pyenv or
    venv shim, so the floor below is measured on the same interpreter.
    """
    base_bin = os.path.dirname(os.path.realpath(sys._base_executable))
    candidates = [
        os.path.join(sysconfig.get_path("scripts"), "iscsi-transports"),
        os.path.join(base_bin, "iscsi-transports"),
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


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run.

    CPU time (user + system of the child) is reported beside wall time:
    it leaves out the time spent waiting for a CPU on a shared machine.
    """
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit("%s failed (%d)" % (" ".join(argv), child.returncode))
    return wall, usage.ru_utime + usage.ru_stime


def commands() -> dict[str, list[str]]:
    interpreter, script = console_script()
    found = {OURS: [interpreter, script, "list"],
             FLOOR: [interpreter, "-c", "import oslo_config.cfg"]}
    if _common.have_os_brick():
        found["os-brick: import connector"] = [
            sys.executable, "-W", "ignore", "-c",
            "import os_brick.initiator.connector"]
    return found


def sample(cmds: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """RUNS interleaved (wall, CPU) samples of every command."""
    env = child_env()
    for argv in cmds.values():  # warm the page cache and .pyc files
        timed(argv, env)
    samples: dict[str, list[tuple]] = {name: [] for name in cmds}
    for _ in range(RUNS):
        for name, argv in cmds.items():
            samples[name].append(timed(argv, env))
    return samples


def main() -> dict:
    samples = sample(commands())
    wall = {n: _common.median([w for w, _ in v]) for n, v in samples.items()}
    cpu = {n: _common.median([c for _, c in v]) for n, v in samples.items()}
    rows = [[name, _common.ms(wall[name]), "%.2fx" % (wall[name] / wall[FLOOR]),
             _common.ms(cpu[name]), "%.2fx" % (cpu[name] / cpu[FLOOR])]
            for name in samples]
    ratio = wall[OURS] / wall[FLOOR]
    _common.report(
        "cold_start", "Cold start (median of %d interleaved runs)" % RUNS,
        ["command", "wall", "wall vs floor", "CPU", "CPU vs floor"], rows,
        {"wall_s": wall, "cpu_s": cpu, "samples_wall_cpu_s": samples,
         "ratio": ratio, "cpu_ratio": cpu[OURS] / cpu[FLOOR], "goal": GOAL,
         "goal_met": ratio <= GOAL})
    return wall


if __name__ == "__main__":
    main()
