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

"""Run every benchmark and write benchmarks/results/ (JSON, table, chart).

    python benchmarks/run_all.py

The first run creates ``benchmarks/.venv`` (with the system's site
packages, so the installed library and its requirements are used as they
are) and installs ``benchmarks/requirements.txt`` into it -- os-brick
therefore never enters the project's own environment -- then re-runs
itself there.  ``--no-venv`` runs in the current interpreter instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv")
BENCHMARKS = ("bench_cold_start", "bench_detection",
              "bench_processes", "bench_concurrency", "bench_privilege")


def ensure_venv() -> str:
    """The benchmark interpreter, created and provisioned on first use."""
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        venv.EnvBuilder(system_site_packages=True, with_pip=True).create(VENV)
    subprocess.run([python, "-m", "pip", "install", "-q", "-r",
                    os.path.join(HERE, "requirements.txt")], check=True)
    return python


def require_installed_library() -> None:
    """The plugins are found through installed entry points."""
    import importlib.metadata
    try:
        importlib.metadata.distribution("iscsi-transports")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit("iscsi-transports is not installed; run "
                         "'pip install -e .' first (README, Quick start)"
                         ) from None


def main() -> None:
    if "--no-venv" not in sys.argv and \
            os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        python = ensure_venv()
        sys.exit(subprocess.run([python, __file__, "--no-venv",
                                 *sys.argv[1:]]).returncode)
    sys.path[:0] = [HERE, os.path.dirname(HERE)]
    require_installed_library()
    import importlib
    import warnings
    warnings.simplefilter("ignore")
    for name in BENCHMARKS:
        importlib.import_module(name).main()
    import report
    report.main()


if __name__ == "__main__":
    main()
