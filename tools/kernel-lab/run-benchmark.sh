#!/bin/bash
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

# Run one kernel-lab benchmark (a plain script under benchmarks/) in one
# boot of the kernel lab VM and copy its result into benchmarks/results/.
#
# Usage: tools/kernel-lab/run-benchmark.sh SCRIPT [ARG...]
#   e.g. tools/kernel-lab/run-benchmark.sh benchmarks/bench_attach_latency.py
#
# The script runs as root inside the VM with --results WORKDIR (the
# checkout is read-only there); every *.json it leaves in WORKDIR is copied
# to benchmarks/results/.  Environment: PYTHON (the interpreter with
# iscsi-transports installed, default python3), KLAB_TIMEOUT (default
# 1500) and the KLAB_* variables of vm.sh.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# Not under .kernel-lab, which run-tests.sh empties before it boots.
WORK=$REPO/.kernel-lab-bench
[ $# -ge 1 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
cd "$REPO" || exit 2
python=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)') ||
    { echo "kernel-lab: no Python interpreter" >&2; exit 2; }
rm -rf "$WORK" && mkdir -p "$WORK"
script=$1
shift
"$HERE/vm.sh" -t "${KLAB_TIMEOUT:-1500}" -w "$WORK" -C "$REPO" -- \
    "$python" "$script" --results "$WORK" "$@"
rc=$?
for result in "$WORK"/*.json; do
    [ -e "$result" ] && cp "$result" "$REPO/benchmarks/results/" &&
        echo "kernel-lab: $(basename "$result") -> benchmarks/results/"
done
exit "$rc"
