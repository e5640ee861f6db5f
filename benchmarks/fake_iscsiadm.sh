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

# A scripted iscsiadm for the attach benchmarks: records every call and
# answers the way open-iscsi 2.1 does for the commands an attach makes
# (node records, logins and sessions kept as files in $FAKE_ISCSIADM_STATE).
# $FAKE_ISCSIADM_DELAY seconds are spent in each call, as a real iscsiadm
# talking to iscsid and a target would.
#
# A real iscsiadm is one process; this script starts no other program than
# sleep (and mkdir for a new record's directory): shell built-ins only, so
# that starting it costs about what starting iscsiadm does and the time
# measured around it is the attacher's, not the stand-in's.
state=${FAKE_ISCSIADM_STATE:?FAKE_ISCSIADM_STATE is not set}
echo "$*" >> "$state/calls"
[ -n "$FAKE_ISCSIADM_DELAY" ] && sleep "$FAKE_ISCSIADM_DELAY"
mode= target= portal= op= action= iface=default
while [ $# -gt 0 ]; do
    case "$1" in
        -m|--mode) mode=$2; shift ;;
        -T|--targetname) target=$2; shift ;;
        -p|--portal) portal=$2; shift ;;
        -o|--op) op=$2; shift ;;
        -l|--login) action=login ;;
        -u|--logout) action=logout ;;
        -I|--interface) iface=$2; shift ;;
        -n|--name|-v|--value|-t|--type) shift ;;
    esac
    shift
done
# With $FAKE_ISCSIADM_DB set (the default path's benchmarks), -o new also
# writes the node record where open-iscsi keeps it, in its format, for the
# root daemon to write the node settings and CHAP lines into.
write_record() {
    dir="$FAKE_ISCSIADM_DB/nodes/$target/${portal%:*},${portal##*:},1"
    [ -d "$dir" ] || mkdir -p "$dir"
    printf '# BEGIN RECORD 2.1.8\nnode.name = %s\nnode.tpgt = 1\nnode.startup = automatic\niface.iscsi_ifacename = %s\nnode.session.auth.authmethod = None\nnode.session.timeo.replacement_timeout = 120\nnode.conn[0].address = %s\nnode.conn[0].port = %s\n# END RECORD\n' \
        "$target" "$iface" "${portal%:*}" "${portal##*:}" > "$dir/$iface"
}
# Portals and IQNs hold no "/": each node's (and session's) file name is
# its portal and target.
key="${portal}_${target}"
[ -d "$state/sessions" ] || mkdir -p "$state/nodes" "$state/sessions"
case "$mode" in
    session)
        found=
        for file in "$state/sessions/"*; do
            [ -e "$file" ] || continue
            found=1
            while IFS= read -r line; do echo "$line"; done < "$file"
        done
        [ -n "$found" ] || { echo "iscsiadm: No active sessions." >&2; exit 21; } ;;
    node)
        case "$op$action" in
            new) : > "$state/nodes/$key"
                 [ -n "$FAKE_ISCSIADM_DB" ] && write_record
                 echo "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] $portal,1 $target] added" ;;
            update|delete) [ -e "$state/nodes/$key" ] || { echo "iscsiadm: No records found" >&2; exit 21; } ;;
            login) echo "tcp: [$$] $portal,1 $target (non-flash)" > "$state/sessions/$key"
                   echo "Login to [iface: default, target: $target, portal: $portal] successful." ;;
            logout) rm -f "$state/sessions/$key" ;;
            *) [ -e "$state/nodes/$key" ] || { echo "iscsiadm: No records found" >&2; exit 21; }
               echo "node.name = $target" ;;
        esac ;;
    iface) [ "$op" = show ] && { echo "iscsiadm: Could not read iface info." >&2; exit 6; } ;;
esac
exit 0
