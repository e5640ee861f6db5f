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

# nova's own tests for its libvirt iSCSI and iSER volume drivers
# (nova/tests/unit/virt/libvirt/volume/test_iscsi.py, test_iser.py,
# test_volume.py), run unchanged under "iscsi-transports run", so that
# nova's own, unmodified drivers get the library's connector from os-brick,
# plus tools/nova_tests/test_in_nova.py (nova's LibvirtDriver volume path
# and get_volume_connector through it).  See tools/nova_tests/run.py.
#
# nova gets a virtualenv of its own, so its requirements never touch the
# project's: nova from PyPI, the packages its test modules import, then
# this checkout with the os-brick extra.  Nothing of nova or os-brick is
# changed.  The virtualenv is cached under $NOVA_TESTS_CACHE (default
# ~/.cache/iscsi-transports), keyed by the nova version, the Python version
# and the project's requirements; a warm run installs nothing (the project
# is an editable install of this checkout).
#
# Usage: tools/nova-tests.sh            build or reuse the virtualenv, run
#        tools/nova-tests.sh --python   build or reuse it, print its python
# The second is how tools/kernel-lab/run-tests.sh finds nova for the kernel
# lab's test_nova (the VM sees the host's root, so the cache must not be
# under /tmp: the VM's /tmp is its own).
#
# Environment: NOVA_VERSION (default below: the current nova release; the
# library supports nova 30.0.0 to 34.0.0),
# NOVA_TESTS_CACHE, NOVA_TESTS_STREAM (the subunit v2 stream, default
# .nova-tests.subunit in the checkout).  Exit status: 0 when every test
# passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
print_python=false
case ${1:-} in
    --python) print_python=true ;;
    "") ;;
    *) echo "usage: $0 [--python]" >&2; exit 2 ;;
esac

nova_version=${NOVA_VERSION:-34.0.0}
stream=${NOVA_TESTS_STREAM:-$root/.nova-tests.subunit}
cache=${NOVA_TESTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iscsi-transports}
# A stream left by an earlier run must never be counted for this one.
$print_python || rm -f "$stream"
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# Anything that changes what the virtualenv must hold makes a new one.
key=$(cat requirements.txt setup.cfg tools/nova-tests.sh \
      | sha256sum | cut -c1-12)
venv=$cache/nova-$nova_version-py$py-$key
# What nova's three test modules import beyond nova's own requirements
# (from nova's test-requirements.txt), the subunit writer run.py uses, and
# what installing this checkout without build isolation needs.
test_deps=(ddt oslotest wsgi-intercept testtools python-subunit
           setuptools pbr wheel)

pip_q() {
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
}

mkdir -p "$cache"
# One build at a time (two checkouts may share the cache).
exec 9>"$cache/.lock"
flock 9
if [ ! -e "$venv/.ready" ]; then
    echo "Building the nova $nova_version test virtualenv in $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    # venv's bundled pip predates PEP 685: it would not match the
    # project's os-brick extra (the metadata names it os_brick).
    pip_q --upgrade pip
    pip_q "nova==$nova_version" "${test_deps[@]}"
    # This checkout, as an operator installs the library next to nova.
    pip_q --no-build-isolation -e "$root[os-brick]"
    echo "$root" > "$venv/.project"
    touch "$venv/.ready"
    # Older keys (another nova or requirements) are not needed.
    for old in "$cache"/nova-*; do
        [ "$old" = "$venv" ] || rm -rf "$old"
    done
elif [ "$(cat "$venv/.project")" != "$root" ]; then
    # Same requirements, another checkout: point the editable install here.
    pip_q --no-build-isolation --no-deps -e "$root"
    echo "$root" > "$venv/.project"
fi

flock -u 9

if $print_python; then
    echo "$venv/bin/python"
    exit 0
fi
cd "$root/tools/nova_tests"
# As a deployment runs nova-compute: under the library's run command.
OS_STDOUT_CAPTURE=1 OS_STDERR_CAPTURE=1 OS_LOG_CAPTURE=1 \
    "$venv/bin/python" -m iscsi_transports.cmd.main run -- \
    "$venv/bin/python" run.py --output "$stream"
