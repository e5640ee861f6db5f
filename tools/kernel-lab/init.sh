#!/bin/sh
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

# /init of the kernel lab's initramfs (busybox).  Builds the guest's root:
# an overlay of the host's root (9p, read-only) under a tmpfs, with empty
# /tmp and /run, the checkout under test, the kernel's modules at
# /lib/modules and the work dir at its host path; then hands over to
# guest.sh, which lives in the work dir.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
halt() { echo "KLAB-INIT-FAIL: $*"; poweroff -f; sleep 10; }
if grep -q klab.probe=1 /proc/cmdline; then
    echo KLAB-PROBE-OK; poweroff -f; sleep 10
fi
for module in $(cat /modules.list); do
    insmod "/mods/$module" || echo "insmod $module failed"
done
WORK= KVER= REPO=
for arg in $(cat /proc/cmdline); do
    case $arg in
        klab.work=*) WORK=${arg#klab.work=} ;;
        klab.repo=*) REPO=${arg#klab.repo=} ;;
        klab.kver=*) KVER=${arg#klab.kver=} ;;
    esac
done
P9=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $P9,ro,cache=loose hostroot /lower || halt "9p root"
mount -t tmpfs -o mode=0755,size=50% tmpfs /rw || halt "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay \
    -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
    halt "overlay"
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
# The checkout under test at its host path, writable like the rest of the
# root (tmpfs upper): it may live under /tmp, which the guest replaces.
if [ -n "$REPO" ]; then
    mkdir -p /repolower /rw/repo-upper /rw/repo-work "/newroot$REPO"
    mount -t 9p -o $P9,ro,cache=loose repo /repolower || halt "9p repo"
    mount -t overlay overlay -o \
        lowerdir=/repolower,upperdir=/rw/repo-upper,workdir=/rw/repo-work \
        "/newroot$REPO" || halt "repo overlay"
fi
mkdir -p "/newroot/lib/modules/$KVER" "/newroot$WORK"
mount -t 9p -o $P9,ro,cache=loose modules /newroot/lib/modules ||
    halt "9p modules"
mount -t 9p -o $P9 work "/newroot$WORK" || halt "9p work dir"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$WORK/.vm/guest.sh"
halt "switch_root"
