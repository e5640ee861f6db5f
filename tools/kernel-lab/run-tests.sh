#!/bin/bash
# Run the kernel tests (iscsi_transports/tests/kernel) in ONE boot of the
# kernel lab VM and leave their subunit v2 stream in .kernel-lab/kernel.subunit.
#
# Usage: tools/kernel-lab/run-tests.sh [FILTER...]
#
# FILTERs are stestr regexes (e.g. test_iser, TestWrongSecret).  Without
# one, every kernel test runs except those listed in known-failures.txt
# (real driver bugs waiting for their fix); a FILTER runs what it matches,
# known failures included.  Exit status: non-zero when a test failed, when
# no test ran, or when the VM did not boot or finish (then the stream holds
# one failed test, kernel-lab.vm, with the VM's console attached, so the
# counts of tools/run-tests.sh show it).
#
# test_nova runs nova in the virtualenv tools/nova-tests.sh builds (nova is
# never installed with the library): it is built or reused first, and its
# python is passed into the VM as ISCSI_TRANSPORTS_NOVA_PYTHON.
#
# Environment: PYTHON, the interpreter with iscsi-transports installed
# (default python3); KLAB_TIMEOUT, the VM's hard limit in seconds (default
# 1500); the NOVA_* variables of tools/nova-tests.sh; and the KLAB_*
# variables of vm.sh.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RESULTS=$REPO/.kernel-lab
STREAM=$RESULTS/kernel.subunit
cd "$REPO" || exit 2

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
    subunit-output --fail kernel-lab.vm --attach-file "$details" \
        --file-name console.log >> "$STREAM"
}

main() {
    local python nova filters=() rc total started=$SECONDS
    install_packages || { echo "kernel-lab: apt-get install failed" >&2; }
    python=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)') ||
        { echo "kernel-lab: no Python interpreter" >&2; return 2; }
    # Without it test_nova fails, saying so; the other tests still run.
    nova=$("$REPO/tools/nova-tests.sh" --python) ||
        { echo "kernel-lab: nova's virtualenv could not be built" >&2; nova=; }
    if [ $# -gt 0 ]; then
        filters=("$@")
    else
        filters=(--exclude-list "$HERE/known-failures.txt")
    fi
    rm -rf "$RESULTS" && mkdir -p "$RESULTS"
    : > "$STREAM"
    "$HERE/vm.sh" -t "${KLAB_TIMEOUT:-1500}" -w "$RESULTS" -C "$REPO" -- \
        env ISCSI_TRANSPORTS_NOVA_PYTHON="$nova" \
        "$HERE/in-vm-tests.sh" "$python" "$STREAM" "${filters[@]}"
    rc=$?
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
    echo "kernel-lab: $(subunit-stats < "$STREAM" | awk 'NR <= 4' | tr -s ' \n' ' ')"
    echo "kernel-lab: whole run $((SECONDS - started))s; stream $STREAM"
    return "$rc"
}

main "$@"
