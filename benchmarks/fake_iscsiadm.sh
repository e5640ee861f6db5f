#!/bin/sh
# A scripted iscsiadm for the attach benchmarks: records every call and
# answers the way open-iscsi 2.1 does for the commands an attach makes
# (node records, logins and sessions kept as files in $FAKE_ISCSIADM_STATE).
# $FAKE_ISCSIADM_DELAY seconds are spent in each call, as a real iscsiadm
# talking to iscsid and a target would.
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
# root daemon to write CHAP lines into.
write_record() {
    dir="$FAKE_ISCSIADM_DB/nodes/$target/${portal%:*},${portal##*:},1"
    mkdir -p "$dir"
    printf '# BEGIN RECORD 2.1.8\nnode.name = %s\nnode.tpgt = 1\niface.iscsi_ifacename = %s\nnode.session.auth.authmethod = None\nnode.conn[0].address = %s\nnode.conn[0].port = %s\n# END RECORD\n' \
        "$target" "$iface" "${portal%:*}" "${portal##*:}" > "$dir/$iface"
}
key=$(printf '%s_%s' "$portal" "$target" | tr -c 'A-Za-z0-9.-' '_')
mkdir -p "$state/nodes" "$state/sessions"
case "$mode" in
    session)
        if ls "$state/sessions/"* >/dev/null 2>&1; then
            cat "$state/sessions/"*
        else
            echo "iscsiadm: No active sessions." >&2; exit 21
        fi ;;
    node)
        case "$op$action" in
            new) touch "$state/nodes/$key"
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
