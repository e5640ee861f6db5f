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

# PID 1 of the kernel lab's guest, on the overlay root: a minimal system
# (devpts, configfs, loopback, eth0 = 10.0.2.15/24), then the command from
# WORK/.vm/argv as root, its output on the console and in output.log, its
# exit status in rc; then power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
for arg in $(cat /proc/cmdline); do
    case $arg in klab.work=*) WORK=${arg#klab.work=} ;; esac
done
VM=$WORK/.vm
export ISCSI_TRANSPORTS_KERNEL_LAB=$WORK
uptime_s() { cut -d' ' -f1 /proc/uptime; }
t_guest=$(uptime_s)
mkdir -p /dev/pts /dev/shm /run/lock
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
modprobe configfs && mount -t configfs configfs /sys/kernel/config
hostname kernel-lab
ip link set lo up
modprobe virtio_net
# The local disk (vm.sh) first, so that it is sda whatever the tests attach.
modprobe -a virtio_scsi sd_mod
for _ in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0

mapfile -d '' -t ARGV < "$VM/argv"
cd "$(cat "$VM/cwd")" || cd "$WORK"
t_cmd=$(uptime_s)
echo "KLAB-CMD-START uptime=$t_cmd"
"${ARGV[@]}" > >(tee "$VM/output.log") 2>&1 < /dev/null
rc=$?
t_end=$(uptime_s)
sleep 0.3  # let tee drain
echo "KLAB-CMD-END rc=$rc uptime=$t_end"
dmesg > "$VM/dmesg.txt" 2>&1
printf 'guest_start=%s\ncommand_start=%s\ncommand_end=%s\n' \
    "$t_guest" "$t_cmd" "$t_end" > "$VM/timing"
echo "$rc" > "$VM/rc"
sync
# A minimal root (the other userland's) has no poweroff: sysrq powers off.
if command -v poweroff > /dev/null; then poweroff -f; fi
echo o > /proc/sysrq-trigger
sleep 30
