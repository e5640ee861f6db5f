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

# Build once, then reuse, a Debian root file system for the kernel lab's
# guest, with the kernel of the same release beside it: the second userland
# the kernel tests run on (the first is the host's own root).
#
# Usage: tools/kernel-lab/userland.sh SUITE
#
# Prints three lines: the root directory (vm.sh -r), the kernel version
# (KLAB_KVER) and the kernel .deb (KLAB_DEB).  In the root: what bindep.txt's
# kernel-lab profile installs on a host, from SUITE's archive, and a venv at
# /opt/iscsi-transports-klab with requirements.txt and test-requirements.txt
# (the package itself is installed by the guest from the checkout under test,
# see in-vm-tests.sh, so one root serves every checkout).
#
# Cached in $KLAB_CACHE/userland (default
# /var/cache/iscsi-transports-kernel-lab/userland): SUITE/ is the root,
# SUITE.kernel/ the kernel .deb.  The venv is brought up to date when the
# requirements files change; delete SUITE/ to rebuild everything.  Needs
# root, debootstrap (installed with apt-get when missing) and the network
# (DEBIAN_MIRROR, default http://deb.debian.org/debian, and PyPI; PIP_CERT
# is passed on for a network whose HTTPS goes through an inspecting proxy).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${KLAB_CACHE:-/var/cache/iscsi-transports-kernel-lab}/userland
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
VENV=/opt/iscsi-transports-klab
# bindep.txt's kernel-lab profile, less what only the host uses (QEMU,
# cpio, busybox: the initramfs), plus what the host's root has anyway and
# the guest runs: python3 for the tests, git for pbr, hostname and procps.
PACKAGES=open-iscsi,tgt,iproute2,kmod,udev,sudo,util-linux,multipath-tools
PACKAGES+=,nftables,python3,python3-venv,git,hostname,procps,ca-certificates

say() { echo "[kernel-lab $(date +%T)] $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 1 ] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
SUITE=$1
ROOT=$CACHE/$SUITE
[ "$(id -u)" -eq 0 ] || die "userland.sh: run as root (debootstrap, chroot)"

# COMMAND in the root as root, in a private mount namespace (its /proc and
# /dev vanish with it), with a clean environment.
in_root() {
    local cert=
    if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
        cp "$PIP_CERT" "$ROOT/etc/klab-pip-cert.pem"
        cert=/etc/klab-pip-cert.pem
    fi
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    unshare --mount --propagation private -- /bin/sh -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount --bind /dev "$root/dev" &&
        exec chroot "$root" "$@"' sh "$ROOT" /usr/bin/env -i \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        ${cert:+PIP_CERT=$cert} "$@"
}

debootstrap_root() {
    local build=$ROOT.build
    command -v debootstrap > /dev/null || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
    }
    rm -rf --one-file-system "$build" && mkdir -p "$CACHE"
    say "debootstrap $SUITE into $build (log $build.log)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$build" \
        "$MIRROR" > "$build.log" 2>&1 ||
        { tail -n 20 "$build.log" >&2; die "debootstrap $SUITE failed"; }
    # A server's / is 0755 (a temporary directory's 0700 would keep the
    # service user of the tests out of everything).
    chmod 0755 "$build"
    mv "$build" "$ROOT" && rm -f "$build.log"
}

# The requirements as of this checkout, installed into the root's venv.
update_venv() {
    local stamp=$ROOT$VENV/requirements.sha256 sum
    sum=$(cat "$REPO/requirements.txt" "$REPO/test-requirements.txt" |
        sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2> /dev/null)" = "$sum" ]; then return 0; fi
    say "installing the requirements into $SUITE's $VENV"
    mkdir -p "$ROOT/tmp/klab-requirements"
    cp "$REPO/requirements.txt" "$REPO/test-requirements.txt" \
        "$ROOT/tmp/klab-requirements/"
    [ -x "$ROOT$VENV/bin/python" ] || in_root python3 -m venv "$VENV"
    in_root "$VENV/bin/pip" install -q --disable-pip-version-check \
        setuptools wheel -r /tmp/klab-requirements/requirements.txt \
        -r /tmp/klab-requirements/test-requirements.txt ||
        die "pip install into $SUITE's venv failed"
    rm -rf "$ROOT/tmp/klab-requirements"
    echo "$sum" > "$stamp"
}

# The kernel linux-image-amd64 depends on in SUITE, fetched by the root's
# own apt (so from SUITE's archive), never installed.
download_kernel() {
    local dir=$CACHE/$SUITE.kernel kver
    if ls "$dir"/linux-image-*.deb > /dev/null 2>&1; then return 0; fi
    say "downloading $SUITE's kernel"
    in_root apt-get update -qq || die "apt-get update in $SUITE failed"
    kver=$(in_root apt-cache depends linux-image-amd64 |
        sed -n 's/.*Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -1)
    [ -n "$kver" ] || die "$SUITE has no linux-image-amd64"
    rm -rf "$ROOT/tmp/klab-kernel" && mkdir -p "$ROOT/tmp/klab-kernel"
    in_root sh -c "cd /tmp/klab-kernel && apt-get -o APT::Sandbox::User=root \
        download linux-image-$kver" || die "cannot download linux-image-$kver"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" &&
        mv "$ROOT"/tmp/klab-kernel/*.deb "$dir.tmp/" &&
        rm -rf "$dir" "$ROOT/tmp/klab-kernel" && mv "$dir.tmp" "$dir"
}

main() {
    mkdir -p "$CACHE"
    exec 7> "$CACHE/.$SUITE.lock"
    flock 7
    [ -x "$ROOT/usr/bin/python3" ] || debootstrap_root
    update_venv
    download_kernel
    local deb kver
    deb=$(ls "$CACHE/$SUITE.kernel"/linux-image-*.deb | head -1)
    kver=$(dpkg-deb -f "$deb" Package)
    echo "$ROOT"
    echo "${kver#linux-image-}"
    echo "$deb"
}

main
