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

# Run the kernel tests (iscsi_transports/tests/kernel) in ONE boot of the
# kernel lab VM, on one userland, and leave their subunit v2 stream in
# .kernel-lab/kernel.subunit (the host's userland) or
# .kernel-lab-SUITE/kernel.subunit (another one).
#
# Usage: tools/kernel-lab/run-tests.sh [FILTER...]
#
# FILTERs are stestr regexes (e.g. test_iser, TestWrongSecret).  Without
# one, every kernel test runs except those listed in known-failures.txt
# (real driver bugs waiting for their fix); a FILTER runs what it matches,
# known failures included.  Exit status: non-zero when a test failed, when
# no test ran, or when the VM did not boot or finish (then the stream holds
# one failed test, kernel-lab.vm, with the VM's console attached, so the
# counts of tools/run-tests.sh show it).  Every test id in the stream
# starts with the userland's name (bookworm.iscsi_transports.tests...), so
# that counts and failures combined with another userland's say which.
#
# KLAB_USERLAND picks the userland: "host" (default) boots the host's own
# root with the kernel of the host's release; a Debian suite name (trixie)
# boots that release's root file system with that release's kernel, both
# built once and cached by userland.sh, with the checkout under test
# installed into the root's venv at boot.  On another userland test_nova
# does not run unless a FILTER names it: nova's virtualenv is the host
# Python's.
#
# test_nova runs nova in the virtualenv tools/nova-tests.sh builds (nova is
# never installed with the library): it is built or reused first, and its
# python is passed into the VM as ISCSI_TRANSPORTS_NOVA_PYTHON.
#
# Environment: PYTHON, the interpreter with iscsi-transports installed
# (default python3); KLAB_TIMEOUT, the VM's hard limit in seconds (default
# 2400); the NOVA_* variables of tools/nova-tests.sh; and the KLAB_*
# variables of vm.sh.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
cd "$REPO" || exit 2
USERLAND=${KLAB_USERLAND:-host}
case $USERLAND in
    host) RESULTS=$REPO/.kernel-lab ;;
    *[!a-z0-9-]* | "") echo "kernel-lab: bad KLAB_USERLAND" >&2; exit 2 ;;
    *) RESULTS=$REPO/.kernel-lab-$USERLAND ;;
esac
STREAM=$RESULTS/kernel.subunit
#: The venv userland.sh makes in another userland's root.
GUEST_VENV=/opt/iscsi-transports-klab
NAME=$USERLAND

install_packages() {
    local missing
    if command -v bindep > /dev/null; then
        missing=$(bindep -b kernel-lab || true)
    else
        missing=$(sed -n 's/^\([a-z0-9.+-]*\) .*kernel-lab.*/\1/p' bindep.txt |
            while read -r pkg; do
                dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null |
                    grep -q "install ok installed" || echo "$pkg"
            done)
    fi
    [ -z "$missing" ] && return 0
    echo "Installing Debian packages for the kernel lab: $missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing > /dev/null ||
        { apt-get update -qq &&
          apt-get install -y -qq --no-install-recommends $missing > /dev/null; }
}

vm_failed() {  # vm_failed REASON: the stream says so as a failed test
    echo "kernel-lab: $1" >&2
    local details=$RESULTS/vm-failure.txt
    { echo "$1"; tail -n 60 "$RESULTS/.vm/console.log" 2> /dev/null; } \
        > "$details"
    # subunit-output reads the attachment from a file (it cannot take '-').
    subunit-output --fail "$NAME.kernel-lab.vm" --attach-file "$details" \
        --file-name console.log >> "$STREAM"
}

# The userland's name in test ids: the root's Debian codename.
codename() {  # codename ROOT
    (. "$1/etc/os-release" && echo "${VERSION_CODENAME:-$ID}")
}

main() {
    local python host_python nova= filters=() rc total started=$SECONDS
    local root=/ version= userland=()
    install_packages || { echo "kernel-lab: apt-get install failed" >&2; }
    host_python=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)') ||
        { echo "kernel-lab: no Python interpreter" >&2; return 2; }
    rm -rf "$RESULTS" && mkdir -p "$RESULTS"
    if [ "$USERLAND" = host ]; then
        python=$host_python
        # Without it test_nova fails, saying so; the other tests still run.
        nova=$("$REPO/tools/nova-tests.sh" --python) ||
            { echo "kernel-lab: nova's virtualenv could not be built" >&2; }
    else
        mapfile -t userland < <("$HERE/userland.sh" "$USERLAND")
        if [ ${#userland[@]} -ne 3 ]; then
            echo "kernel-lab: the $USERLAND userland could not be built" >&2
            NAME=$USERLAND
            vm_failed "userland.sh $USERLAND failed"
            return 1
        fi
        root=${userland[0]} python=$GUEST_VENV/bin/python
        export KLAB_KVER=${userland[1]} KLAB_DEB=${userland[2]}
        # pbr asks git for the version, which the guest cannot: the .git
        # of a worktree points outside the checkout.
        version=$(cd "$REPO" && "$host_python" -c \
            'from pbr import packaging; print(packaging.get_version("iscsi-transports"))') ||
            { echo "kernel-lab: no version for the checkout" >&2; return 2; }
    fi
    NAME=$(codename "$root")
    if [ $# -gt 0 ]; then
        filters=("$@")
    else
        filters=(--exclude-list "$HERE/known-failures.txt")
        [ "$USERLAND" = host ] || filters+=(--exclude-regex test_nova)
    fi
    : > "$RESULTS/raw.subunit"
    "$HERE/vm.sh" -t "${KLAB_TIMEOUT:-2400}" -w "$RESULTS" -C "$REPO" \
        -r "$root" -- \
        env ISCSI_TRANSPORTS_NOVA_PYTHON="$nova" KLAB_PBR_VERSION="$version" \
        "$HERE/in-vm-tests.sh" "$python" "$RESULTS/raw.subunit" "${filters[@]}"
    rc=$?
    "$host_python" "$HERE/prefix-ids.py" "$NAME" < "$RESULTS/raw.subunit" \
        > "$STREAM" || rc=1
    case $rc in
        124) vm_failed "the VM was killed at its time limit" ;;
        125) vm_failed "the VM did not boot or ended without an exit status" ;;
    esac
    total=$(subunit-stats < "$STREAM" 2> /dev/null |
        awk '/^Total tests:/ {print $3}')
    if [ "${total:-0}" -eq 0 ]; then
        vm_failed "no test results came back from the VM (exit $rc)"
        [ "$rc" -ne 0 ] || rc=1
    fi
    echo "kernel-lab ($NAME): $(subunit-stats < "$STREAM" | awk 'NR <= 4' | tr -s ' \n' ' ')"
    echo "kernel-lab: whole run $((SECONDS - started))s; stream $STREAM"
    return "$rc"
}

main "$@"
