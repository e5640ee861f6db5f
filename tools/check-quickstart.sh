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

# Runs the two Quick start commands of README.md, exactly as written there,
# as root in fresh Debian root filesystems made with debootstrap, from a
# clean clone of this repository's HEAD.  Fails if either command fails in
# any of them, or if they left anything in the system Python.
#
# Usage: tools/check-quickstart.sh [--install-only] [SUITE...]
#   SUITE is a Debian suite name (default: bookworm trixie, i.e. Debian 12
#   and 13).  --install-only runs only the first command (install + list).
#
# Needs root, debootstrap (installed with apt-get when missing) and network
# access to the Debian archive and PyPI.  Each pristine root filesystem is
# cached as a tarball in $ISCSI_TRANSPORTS_ROOTFS_CACHE (default
# /var/cache/iscsi-transports/rootfs); delete a tarball to rebuild it.  Every
# run unpacks a new copy, so the commands always start from a fresh system.
# Only committed work is checked: the clone is made from HEAD.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
VM_LOCK=/tmp/iscsi-transports-vm.lock   # as tools/kernel-lab/vm.sh
cache=${ISCSI_TRANSPORTS_ROOTFS_CACHE:-/var/cache/iscsi-transports/rootfs}
run_tests=yes
suites=()
for arg in "$@"; do
    case $arg in
        --install-only) run_tests=no ;;
        -*) echo "usage: $0 [--install-only] [SUITE...]" >&2; exit 2 ;;
        *) suites+=("$arg") ;;
    esac
done
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)

if [ "$(id -u)" -ne 0 ]; then
    echo "check-quickstart: run as root (debootstrap, mount and pivot_root need it)" >&2
    exit 2
fi

# The README's Quick start shell blocks, in order: what a reader copies.
quickstart_command() {
    awk -v want="$1" '
        /^## / { inqs = ($0 == "## Quick start") }
        inqs && /^```sh$/ { n++; inblock = 1; next }
        inblock && /^```$/ { inblock = 0; next }
        inblock && n == want { print }' README.md
}
install_cmd=$(quickstart_command 1)
tests_cmd=$(quickstart_command 2)
if [ -z "$install_cmd" ] || [ -z "$tests_cmd" ]; then
    echo "check-quickstart: README.md has no two sh blocks under" \
         "'## Quick start'" >&2
    exit 2
fi

pristine_rootfs() {
    local suite=$1 tarball=$cache/$1.tar build
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null || {
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
        }
        mkdir -p "$cache"
        build=$(mktemp -d "$cache/build.$suite.XXXXXX")
        echo "--- debootstrap $suite (cached in $tarball afterwards)" >&2
        chmod 0755 "$build"   # a server's /, not mktemp's 0700
        if ! debootstrap "$suite" "$build" "$mirror" >"$build.log" 2>&1; then
            tail -n 20 "$build.log" >&2
            echo "check-quickstart: debootstrap $suite failed (log:" \
                 "$build.log)" >&2
            return 1
        fi
        tar -C "$build" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$build" "$build.log"
    fi
    echo "$tarball"
}

# Runs a command line in the fresh system as a root login shell would, with
# a clean environment (nothing of this host's PATH, venv or pyenv leaks in).
# The system becomes the root of a private mount namespace (pivot_root), not
# just a chroot: the functional tests enter their lab with nsenter -m, which
# lands at the namespace's root and would leave a chroot for this host's /.
# Only the certificate bundle of a network whose HTTPS goes through an
# inspecting proxy is passed on: PIP_CERT, when this host's pip uses one.
in_system() {
    local root=$1; shift
    unshare --mount --propagation private -- /bin/sh -c '
        cd "$1" && mkdir -p .old-root && pivot_root . .old-root && cd / &&
        umount -l /.old-root && rmdir /.old-root && shift && exec "$@"' \
        sh "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive ${chroot_ca:+PIP_CERT=$chroot_ca} \
        /bin/bash -c "$1"
}
chroot_ca=

mounted=()
cleanup_root() {
    local root=$1 m
    for ((m = ${#mounted[@]} - 1; m >= 0; m--)); do
        umount -l "${mounted[$m]}" 2>/dev/null || true
    done
    mounted=()
    rm -rf --one-file-system "$root"
}

mount_into() {
    mount "$@"
    mounted+=("${*: -1}")
}

# Nothing pip-installed into the system Python: the Quick start promises it.
# (Debian's python3 makes an empty /usr/local/lib/python3.X/dist-packages.)
system_python_untouched() {
    local root=$1 found
    found=$(find "$root"/usr/local/lib/python3*/*-packages \
        "$root/usr/local/bin" -mindepth 1 2>/dev/null || true)
    if [ -n "$found" ]; then
        echo "the system Python was changed:" $found
        return 1
    fi
}

# The Quick start, as root, in the fresh system unpacked at $1.
quickstart_in() {
    local root=$1 suite=$2
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
        cp "$PIP_CERT" "$root/etc/pip-cert.pem"
        chroot_ca=/etc/pip-cert.pem
    fi
    # "/" is a mount point on a real server, and pivot_root needs one.
    mount_into --bind "$root" "$root"
    mount_into -t proc proc "$root/proc"
    mount_into -t sysfs sysfs "$root/sys"
    mount_into --bind /dev "$root/dev"
    mount_into -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666
    # One QEMU VM at a time on this machine: the kernel lab inside takes
    # this host's VM lock, not a lock of its own.
    touch "$VM_LOCK" "$root$VM_LOCK"
    mount_into --bind "$VM_LOCK" "$root$VM_LOCK"
    # A clean clone of HEAD, made inside the fresh system with the git the
    # README's prerequisites tell the reader to install.
    git -C "$repo" bundle create -q "$root/root/repo.bundle" HEAD
    echo "=== $suite: prerequisites: apt-get install git"
    in_system "$root" 'apt-get update -qq && apt-get install -y -qq git \
        >/dev/null && git clone -q /root/repo.bundle /root/iscsi-transports' \
        || { echo "=== $suite: could not install git and clone"; return 1; }
    echo "=== $suite: $install_cmd"
    if ! in_system "$root" "cd /root/iscsi-transports && $install_cmd"; then
        echo "=== $suite: the install command FAILED"
        return 1
    fi
    if [ $run_tests = yes ]; then
        echo "=== $suite: $tests_cmd"
        if ! in_system "$root" "cd /root/iscsi-transports && $tests_cmd"
        then
            echo "=== $suite: the test command FAILED"
            return 1
        fi
    fi
    system_python_untouched "$root" || return 1
    echo "=== $suite: Quick start OK"
}

current_root=
trap '[ -z "$current_root" ] || cleanup_root "$current_root"' EXIT

check_suite() {
    local suite=$1 tarball rc=0
    tarball=$(pristine_rootfs "$suite") || return 1
    current_root=$(mktemp -d "/var/tmp/quickstart-$suite.XXXXXX")
    tar -C "$current_root" -xf "$tarball"
    # A server's / is 0755; mktemp -d made this one 0700 (and so did it the
    # build directory of tarballs cached before this line): uid 65534, the
    # service user of the state-directory and doctor tests, could then
    # reach nothing under /tmp, and 7 of them failed for that alone.
    chmod 0755 "$current_root"
    quickstart_in "$current_root" "$suite" || rc=$?
    cleanup_root "$current_root"
    current_root=
    return $rc
}

failed=()
for suite in "${suites[@]}"; do
    check_suite "$suite" || failed+=("$suite")
done
if [ ${#failed[@]} -ne 0 ]; then
    echo "Quick start FAILED on: ${failed[*]}"
    exit 1
fi
echo "Quick start works on: ${suites[*]}"
