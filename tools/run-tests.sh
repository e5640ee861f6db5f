#!/bin/bash
# The project's single test command: installs what the tests need (Debian
# packages from bindep.txt, Python requirements, the package itself), then
# runs every check that must stay green. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q --upgrade pip >/dev/null 2>&1 || true
python3 -m pip install -q bindep
missing=$(bindep -b test || true)
if [ -n "$missing" ]; then
    echo "Installing Debian packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq $missing >/dev/null 2>&1 || {
        apt-get update -qq && apt-get install -y -qq $missing >/dev/null; }
fi
python3 -m pip install -q -r requirements.txt -r test-requirements.txt
python3 -m pip install -q -e .

python3 -m stestr run "$@"
