#!/bin/bash
# The project's single test command: installs what the tests need (Debian
# packages from bindep.txt, Python requirements, the package itself and the
# example vendor plugin), runs the tests, then every other check that must
# stay green.  CI (.ci/run) runs exactly this.
#
# Arguments go to "stestr run" (a test filter).  Every check runs even when
# an earlier one failed; the script exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

pip_install() { python3 -m pip install -q --disable-pip-version-check "$@"; }

python3 -m pip install -q --upgrade pip >/dev/null 2>&1 || true
pip_install bindep
missing=$(bindep -b test || true)
if [ -n "$missing" ]; then
    echo "Installing Debian packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq $missing >/dev/null 2>&1 || {
        apt-get update -qq && apt-get install -y -qq $missing >/dev/null; }
fi
pip_install -r requirements.txt -r test-requirements.txt \
    -r doc/requirements.txt -r lint-requirements.txt
pip_install -e .
# The example out-of-tree plugin, installed as a vendor's package would be:
# test_vendor_example finds it through its entry point.
pip_install ./examples/acme-iscsi-transport

failed=()
check() {
    local name=$1; shift
    echo "=== $name: $*"
    if ! "$@"; then
        echo "=== $name FAILED"
        failed+=("$name")
    fi
}

sample_up_to_date() {
    local generated
    generated=$(mktemp)
    oslo-config-generator --config-file etc/iscsi-transports-config-generator.conf \
        --output-file "$generated"
    if ! diff -u etc/iscsi-transports.conf.sample "$generated"; then
        echo "etc/iscsi-transports.conf.sample is out of date: run" \
             "'tox -e genconfig' (or oslo-config-generator --config-file" \
             "etc/iscsi-transports-config-generator.conf) and commit it"
        rm -f "$generated"
        return 1
    fi
    rm -f "$generated"
}

check tests python3 -m stestr run "$@"
# The kernel tests, in one boot of the kernel lab VM (about 10 minutes);
# their subunit stream is counted below with the others.
check kernel tools/kernel-lab/run-tests.sh
check ruff ruff check .
check mypy mypy
check imports lint-imports
check docs sphinx-build -W --keep-going -q -b html doc/source doc/build/html
check releasenotes sphinx-build -W --keep-going -q -b html \
    releasenotes/source releasenotes/build/html
check sample-config sample_up_to_date

# The test counts as the plain closing line CI and people read.
counts=$({ python3 -m stestr last --subunit 2>/dev/null
          cat .kernel-lab/kernel.subunit 2>/dev/null; } | subunit-stats 2>/dev/null \
    | awk '/^Passed tests:/ {p=$3} /^Failed tests:/ {f=$3} /^Skipped tests:/ {s=$3}
           END {if (p != "") printf "%d passed, %d failed, %d skipped", p, f, s}')
if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED checks: ${failed[*]}"
    echo "${counts:-no test results}"
    exit 1
fi
echo "All checks passed: tests, ruff, mypy, imports, docs, releasenotes, sample-config"
echo "${counts:-no test results}"
