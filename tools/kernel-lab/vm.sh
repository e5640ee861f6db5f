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

# Boot Debian's kernel under QEMU and run one command in it as root.
#
# Usage: tools/kernel-lab/vm.sh [-t SECS] [-m MiB] [-w WORKDIR] [-C DIR] [-r ROOT]
#                                -- COMMAND [ARG...]
#
#   -t SECS    hard wall-clock limit for the whole VM (default 1500)
#   -m MiB     guest memory (default 1024)
#   -w DIR     work dir shared read-write with the guest at the same path
#              (default: a new directory under $KLAB_CACHE/runs)
#   -C DIR     directory COMMAND starts in inside the guest (default: the
#              current one; the host's files are visible read-only)
#   -r ROOT    directory the guest boots into as its root instead of the
#              host's / (another Debian release's userland, see userland.sh)
#
# The guest sees the host's root file system (or ROOT) read-only over 9p,
# under a tmpfs overlay (writes vanish at power-off), the kernel's modules on a
# second 9p share and WORKDIR on a third, writable one.  Its NIC eth0 is
# virtio-net on a restricted user-mode network (nothing leaves the VM),
# address 10.0.2.15/24.  A 64 MiB sparse disk in WORKDIR/.vm is its one
# local SCSI disk (virtio-scsi, sda): a disk that is no iSCSI volume, which
# the library's root daemon must refuse to touch.
#
# Exit status: COMMAND's; 124 when the time limit killed the VM; 125 when
# the VM or its preparation failed (the reason is printed).  Left in
# WORKDIR/.vm: console.log, output.log, rc, dmesg.txt, timing, qemu-cmdline.
#
# Environment: KLAB_CACHE (default /var/cache/iscsi-transports-kernel-lab)
# holds the unpacked kernel, the initramfs and the KVM probe's answer and is
# reused across runs; KLAB_KVER picks the kernel (default: the version
# Debian's linux-image-amd64 depends on); KLAB_DEB uses a kernel .deb
# already downloaded; KLAB_ACCEL=tcg|kvm skips the KVM probe.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${KLAB_CACHE:-/var/cache/iscsi-transports-kernel-lab}
VM_LOCK=/tmp/iscsi-transports-vm.lock
TIMEOUT=1500 MEM=1024 WORK= START_DIR=$PWD GUEST_ROOT=/

usage() { sed -n '2,/^set -/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
say() { echo "[kernel-lab $(date +%T)] $*" >&2; }
die() { say "$*"; exit 125; }

while getopts "t:m:w:C:r:h" opt; do
    case $opt in
        t) TIMEOUT=$OPTARG ;; m) MEM=$OPTARG ;; w) WORK=$OPTARG ;;
        C) START_DIR=$OPTARG ;; r) GUEST_ROOT=$OPTARG ;; *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage

kernel_version() {
    if [ -n "${KLAB_KVER:-}" ]; then echo "$KLAB_KVER"; return; fi
    local depends
    depends=$(apt-cache depends linux-image-amd64 2>/dev/null) ||
        { apt-get update -qq >&2 &&
          depends=$(apt-cache depends linux-image-amd64 2>/dev/null); }
    sed -n 's/.*Depends: linux-image-\([0-9].*-amd64\)$/\1/p' <<< "$depends" |
        head -1
}

# Debian 13's kernel package ships its modules under usr/lib/modules
# (merged /usr); depmod -b and the modules share expect lib/modules.
merged_usr_modules() {
    local root=$1
    if [ ! -d "$root/lib/modules" ] && [ -d "$root/usr/lib/modules" ]; then
        mkdir -p "$root/lib" && mv "$root/usr/lib/modules" "$root/lib/modules"
    fi
}

# The kernel .deb unpacked into the cache (never installed into /boot),
# with the modules.dep the package does not ship.
prepare_kernel() {
    local kroot=$CACHE/kroot-$KVER deb=${KLAB_DEB:-}
    if [ -f "$kroot/lib/modules/$KVER/modules.dep" ]; then return 0; fi
    if [ -z "$deb" ]; then
        deb=$(ls "$CACHE"/linux-image-"$KVER"_*.deb 2>/dev/null | head -1)
    fi
    if [ -z "$deb" ]; then
        say "downloading linux-image-$KVER (apt-get download)"
        (cd "$CACHE" && apt-get -o APT::Sandbox::User=root download "linux-image-$KVER" >&2) ||
            (apt-get update -qq >&2 &&
             cd "$CACHE" && apt-get -o APT::Sandbox::User=root download "linux-image-$KVER" >&2) ||
            die "cannot download linux-image-$KVER"
        deb=$(ls "$CACHE"/linux-image-"$KVER"_*.deb | head -1)
    fi
    say "unpacking $deb"
    rm -rf "$kroot.tmp" && mkdir -p "$kroot.tmp" &&
        dpkg-deb -x "$deb" "$kroot.tmp" &&
        merged_usr_modules "$kroot.tmp" &&
        depmod -b "$kroot.tmp" "$KVER" &&
        rm -rf "$kroot" && mv "$kroot.tmp" "$kroot" ||
        die "cannot unpack $deb"
}

# Copy a module into DIR uncompressed (busybox's insmod may not read
# Debian 13's .ko.xz) and print its name there.
copy_module() {  # copy_module FILE DIR
    local name
    name=$(basename "$1")
    case $name in
        *.ko.xz) name=${name%.xz}; xz -dc "$1" > "$2/$name" ;;
        *.ko.zst) name=${name%.zst}; zstd -qdc "$1" > "$2/$name" ;;
        *) cp "$1" "$2/$name" ;;
    esac || die "cannot copy $1 into the initramfs"
    echo "$name"
}

# A busybox initramfs with the modules needed to reach the 9p root.
prepare_initramfs() {
    local initrd=$CACHE/initrd-$KVER.cpio.gz kroot=$CACHE/kroot-$KVER dir
    if [ -f "$initrd" ] && [ "$initrd" -nt "$HERE/init.sh" ]; then
        return 0
    fi
    say "building $initrd"
    dir=$(mktemp -d "$CACHE/initrd.XXXXXX")
    mkdir -p "$dir"/{bin,proc,sys,dev,lower,newroot,rw,mods}
    cp /bin/busybox "$dir/bin/busybox" || die "busybox is not installed"
    for lib in $(ldd /bin/busybox | grep -o '/[^ ]*'); do
        mkdir -p "$dir$(dirname "$lib")" && cp -L "$lib" "$dir$lib"
    done
    for applet in sh mount mkdir insmod switch_root cat echo grep sleep poweroff; do
        ln -s busybox "$dir/bin/$applet"
    done
    for module in virtio_pci 9pnet_virtio 9p overlay; do
        modprobe -d "$kroot" -S "$KVER" --show-depends "$module" |
            awk '$1 == "insmod" {print $2}'
    done | awk '!seen[$0]++' | while read -r file; do
        copy_module "$file" "$dir/mods" >> "$dir/modules.list"
    done
    cp "$HERE/init.sh" "$dir/init" && chmod 755 "$dir/init"
    (cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) \
        > "$initrd.tmp" && mv "$initrd.tmp" "$initrd" ||
        die "cannot build the initramfs"
    rm -rf "$dir"
}

qemu_argv() {  # qemu_argv ACCEL APPEND
    local accel=(-accel tcg,thread=multi -cpu max)
    [ "$1" = kvm ] && accel=(-accel kvm -cpu host)
    QEMU=(qemu-system-x86_64 "${accel[@]}" -m "$MEM" -smp 2 -nodefaults
          -no-reboot -display none -serial stdio -monitor none
          -kernel "$CACHE/kroot-$KVER/boot/vmlinuz-$KVER"
          -initrd "$CACHE/initrd-$KVER.cpio.gz"
          -append "console=ttyS0 panic=-1 net.ifnames=0 quiet loglevel=1 $2"
          -device virtio-rng-pci)
}

# Nested KVM hangs on some machines after "Probing EDD": use KVM only when
# a short boot with it reaches the initramfs.  The answer is cached.
choose_accel() {
    local answer=$CACHE/accel-$KVER
    if [ -n "${KLAB_ACCEL:-}" ]; then echo "$KLAB_ACCEL"; return; fi
    if [ ! -w /dev/kvm ]; then echo tcg; return; fi
    if [ ! -f "$answer" ]; then
        say "probing KVM (30 s at most)"
        qemu_argv kvm "klab.probe=1"
        if timeout -k 5 30 "${QEMU[@]}" < /dev/null 2>/dev/null |
                grep -q KLAB-PROBE-OK; then
            echo kvm > "$answer"
        else
            echo tcg > "$answer"
        fi
    fi
    cat "$answer"
}

boot() {
    local vm=$WORK/.vm accel=$1 started
    # The start directory (the checkout under test) is shared on its own:
    # a clone under /tmp or /run (CI's may be) would otherwise be hidden
    # by the guest's fresh tmpfs there.
    local repo
    rm -f "$vm/local-disk.img"
    truncate -s 64M "$vm/local-disk.img" || die "cannot create $vm/local-disk.img"
    repo=$(cd "$START_DIR" && pwd) || die "no such directory: $START_DIR"
    [ "$repo" = / ] && repo=
    qemu_argv "$accel" "klab.work=$WORK klab.kver=$KVER${repo:+ klab.repo=$repo}"
    if [ -n "$repo" ]; then
        QEMU+=(-virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on,multidevs=remap")
    fi
    QEMU+=(-virtfs "local,path=$GUEST_ROOT,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
           -virtfs "local,path=$CACHE/kroot-$KVER/lib/modules,mount_tag=modules,security_model=none,readonly=on"
           -virtfs "local,path=$WORK,mount_tag=work,security_model=none"
           -netdev user,id=n0,restrict=on
           -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:01
           -device virtio-scsi-pci,id=scsi0
           -drive "file=$vm/local-disk.img,if=none,id=local0,format=raw"
           -device scsi-hd,drive=local0,bus=scsi0.0,serial=klab-local)
    printf '%q ' "${QEMU[@]}" > "$vm/qemu-cmdline"
    say "booting $KVER ($accel, ${MEM} MiB, limit ${TIMEOUT}s); work dir $WORK"
    started=$SECONDS
    timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2> "$vm/qemu.stderr" |
        tr -d '\r' | tee "$vm/console.log" | grep -v -e '^KLAB-' -e '^Powering off' -e 'reboot: Power down'
    QEMU_RC=${PIPESTATUS[0]}
    rm -f "$vm/local-disk.img"
    say "VM ran $((SECONDS - started))s"
}

main() {
    mkdir -p "$CACHE/runs" || die "cannot create $CACHE"
    KVER=$(kernel_version)
    [ -n "$KVER" ] || die "no kernel version: set KLAB_KVER (apt-cache knows no linux-image-amd64)"
    exec 8> "$CACHE/.prepare.lock"
    flock 8
    prepare_kernel
    prepare_initramfs
    local accel
    accel=$(choose_accel)
    flock -u 8

    GUEST_ROOT=$(cd "$GUEST_ROOT" && pwd) || die "no such root: $GUEST_ROOT"
    WORK=${WORK:-$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$$}
    mkdir -p "$WORK/.vm" && WORK=$(cd "$WORK" && pwd) || die "bad work dir"
    case $WORK$START_DIR in *[[:space:]]*) die "paths with spaces are not supported";; esac
    rm -f "$WORK"/.vm/{rc,output.log,dmesg.txt,timing}
    cp "$HERE/guest.sh" "$WORK/.vm/guest.sh"
    printf '%s\0' "$@" > "$WORK/.vm/argv"
    printf '%s\n' "$START_DIR" > "$WORK/.vm/cwd"

    exec 9> "$VM_LOCK"
    if ! flock -n 9; then
        say "waiting for $VM_LOCK (another VM is running)"
        flock 9
    fi
    boot "$accel"
    flock -u 9

    if [ -f "$WORK/.vm/rc" ]; then
        exit "$(cat "$WORK/.vm/rc")"
    fi
    if [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then
        say "TIMEOUT: the VM was killed after ${TIMEOUT}s"
        exit 124
    fi
    say "the VM ended without an exit status (qemu exit $QEMU_RC);" \
        "see $WORK/.vm/console.log"
    cat "$WORK/.vm/qemu.stderr" >&2
    exit 125
}

main "$@"
