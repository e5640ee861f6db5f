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

"""Shared helpers for the benchmark scripts: timing, tables, JSON results.

Every benchmark compares against a baseline measured in the same run (a
floor, or os-brick), so the ratios mean something on any machine; the
absolute numbers only describe the machine noted in the results.
"""

from __future__ import annotations

import datetime
import gc
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")


def machine() -> dict[str, Any]:
    """What the numbers were measured on, stored with every result."""
    return {"nproc": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(),
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC")}


def best_of(func: Callable[[], Any], repeat: int = 5, number: int = 1) -> float:
    """Seconds per call, the minimum over ``repeat`` batches.

    The minimum is the least disturbed run; in-process work has no
    interesting upper noise.
    """
    timings = []
    for _ in range(repeat):
        gc.collect()  # start each batch from the same clean heap
        started = time.perf_counter()
        for _ in range(number):
            func()
        timings.append((time.perf_counter() - started) / number)
    return min(timings)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table that also reads as markdown."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
             for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(name: str, title: str, headers: Sequence[str],
           rows: Sequence[Sequence[Any]], data: dict[str, Any]) -> str:
    """Print the table, write ``results/<name>.json``; return the table."""
    text = table(headers, rows)
    print("\n## %s\n\n%s" % (title, text))
    os.makedirs(RESULTS, exist_ok=True)
    payload = {"benchmark": name, "title": title, "machine": machine(),
               "headers": list(headers), "rows": [list(r) for r in rows],
               **data}
    with open(os.path.join(RESULTS, name + ".json"), "w") as out:
        json.dump(payload, out, indent=2)
        out.write("\n")
    return text


def ms(seconds: float) -> str:
    return "%.2f ms" % (seconds * 1000)


def quiet_logging() -> None:
    """Only errors: os-brick warns on every attach in this set-up."""
    logging.basicConfig(level=logging.ERROR)


def have_os_brick() -> bool:
    try:
        import os_brick  # noqa: F401
    except ImportError:
        print("!!! os-brick is NOT installed: only this project is measured. "
              "Install benchmarks/requirements.txt for the comparison.",
              file=sys.stderr)
        return False
    return True
