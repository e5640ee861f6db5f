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

# The project's single test command: installs what the tests need (Debian
# packages from bindep.txt, Python requirements, the package itself and the
# example vendor plugin), runs the tests, then every other check that must
# stay green.  CI (.ci/run) runs exactly this.
#
# It never changes a system Python: where python3 is externally managed
# (Debian 12+, Ubuntu 23.04+) the Python packages go into the venv .venv in
# this repository, created when missing; ISCSI_TRANSPORTS_VENV=DIR picks
# another venv (and uses one on any Python).
#
# Arguments go to "stestr run" (a test filter).  Every check runs even when
# an earlier one failed; the script exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y -qq "$@" >/dev/null 2>&1 || {
        apt-get update -qq && apt-get install -y -qq "$@" >/dev/null; }
}

# PEP 668: Debian 12+, Ubuntu 23.04+ mark their Python "externally managed"
# and pip refuses to install into it as root; it must not be changed anyway.
externally_managed() {
    command -v python3 >/dev/null || return 0   # Debian's will come
    python3 - <<'EOF' 2>/dev/null
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if sys.prefix == sys.base_prefix and os.path.exists(marker) else 1)
EOF
}

# A venv at $1, reused when it works; python3 -m venv needs Debian's
# python3-venv, which a fresh server lacks.
make_venv() {
    [ -x "$1/bin/python3" ] && "$1/bin/python3" -m pip --version \
        >/dev/null 2>&1 && return 0
    command -v python3 >/dev/null || apt_install python3-venv
    if ! python3 -m venv "$1" >/dev/null 2>&1; then
        echo "Installing Debian package python3-venv to create $1"
        apt_install python3-venv
        python3 -m venv "$1"
    fi
}

# Where the Python packages go: into a venv when ISCSI_TRANSPORTS_VENV names
# one, or into .venv here when python3 is externally managed (the venv the
# README's Quick start makes); otherwise into python3 itself (CI's pyenv
# Python, or a venv that is already active).
venv=${ISCSI_TRANSPORTS_VENV:-}
if [ -z "$venv" ] && externally_managed; then
    venv=$PWD/.venv
fi
if [ -n "$venv" ]; then
    make_venv "$venv"
    export VIRTUAL_ENV=$venv PATH=$venv/bin:$PATH
    hash -r
    echo "Using the venv $venv"
fi

pip_install() { python3 -m pip install -q --disable-pip-version-check "$@"; }

pip_install bindep
missing=$(bindep -b test || true)
if [ -n "$missing" ]; then
    echo "Installing Debian packages: $missing"
    apt_install $missing
fi
pip_install -r requirements.txt -r test-requirements.txt \
    -r doc/requirements.txt -r lint-requirements.txt
pip_install -e .
# The example out-of-tree plugin, installed as a vendor's package would be:
# test_vendor_example finds it through its entry point.
pip_install ./examples/acme-iscsi-transport

failed=() ran=()
check() {
    local name=$1; shift
    ran+=("$name")
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
# nova's own volume-driver tests against the library's classes, in a
# virtualenv of nova's own (built once, then cached); before the kernel
# tests, whose test_nova runs nova from that virtualenv.
check nova tools/nova-tests.sh
# The kernel tests, in one boot of the kernel lab VM per userland: every
# one on the host's own, then on the other supported Debian release's root
# file system with its own kernel (built once and cached: about 7 minutes
# the first time) those whose outcome depends on the userland: node and
# iface records, CHAP, the attach lifecycle, multipath, the service user.
# Each stream is counted below with the others, under its userland's name.
check kernel tools/kernel-lab/run-tests.sh
other_userland=$(. /etc/os-release
                 [ "${VERSION_CODENAME:-}" = trixie ] && echo bookworm || echo trixie)
check "kernel-$other_userland" env KLAB_USERLAND="$other_userland" \
    tools/kernel-lab/run-tests.sh \
    --exclude-list tools/kernel-lab/known-failures.txt \
    'test_(tcp|chap|lifecycle|multipath|multipath_attach|service_user)\.'
check ruff ruff check .
check mypy mypy
check imports lint-imports
check docs sphinx-build -W --keep-going -q -b html doc/source doc/build/html
check releasenotes sphinx-build -W --keep-going -q -b html \
    releasenotes/source releasenotes/build/html
check sample-config sample_up_to_date
# The sdist and the wheel in dist/, installed without git (0.1.0 exactly).
check dist tools/check-dist.sh

# The test counts as the plain closing line CI and people read: the total,
# then each stream's.  stestr last and subunit-stats exit non-zero when a
# test failed: that must not end the script before it reports (set -e,
# pipefail).
stats() {
    subunit-stats 2>/dev/null | awk '
        /^Passed tests:/ {p=$3} /^Failed tests:/ {f=$3} /^Skipped tests:/ {s=$3}
        END {if (p == "") printf "no results"
             else printf "%d passed, %d failed, %d skipped", p, f, s}' ||
        true
}
unit_stream() { python3 -m stestr last --subunit 2>/dev/null || true; }
streams() {
    unit_stream
    cat .nova-tests.subunit .kernel-lab/kernel.subunit \
        ".kernel-lab-$other_userland/kernel.subunit" 2>/dev/null || true
}
counts=$(streams | stats)
kernel_name() {  # the userland's name: the first part of its test ids
    { subunit-ls < "$1" 2>/dev/null || true; } | head -1 | cut -d. -f1
}
parts="unit and functional: $(unit_stream | stats)"
parts+="; nova: $({ cat .nova-tests.subunit 2>/dev/null || true; } | stats)"
for stream in .kernel-lab/kernel.subunit \
        ".kernel-lab-$other_userland/kernel.subunit"; do
    [ -s "$stream" ] || continue
    parts+="; kernel on $(kernel_name "$stream"): $(stats < "$stream")"
done
# The breakdown goes on its own line: the last line is the plain
# "N passed, N failed, N skipped" alone, as CI reads it.
echo "Tests by stream: $parts"
if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED checks: ${failed[*]}"
    echo "${counts:-no test results}"
    exit 1
fi
echo "All checks passed: ${ran[*]}"
echo "${counts:-no test results}"
