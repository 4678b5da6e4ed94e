#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload svrcert.ko while packets flow from a peer into a
# namespace with state (peers, keys, fail-hard). The unload must succeed
# with no splat, the family must vanish, and after the reload every
# namespace starts from the defaults (no peers, no keys, zero counters,
# validation off, fail-soft) and enforces again once configured.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

RATE=${SVRCERT_RELOAD_RATE:-200}
WORK=$(mktemp -d)
SEND_PID=
on_exit 'kill "$SEND_PID" 2>/dev/null; two_routers_down; rm -rf "$WORK"'

ko=$(svrcert_ko)
t_ok $? "module file: $ko"
klog_mark

pki_init "$WORK/pki" && pki_cert peer -3600 +86400
t_ok $? "peer certificate"
two_routers_up
t_ok $? "two routers joined by veth"

configure() {
	ctl peer add peer "$PKI/peer.pem" "$(a4 0)" "$(a6 0)" &&
	ctl revoked add "$(pki_revkey "$PKI/peer.pem")" &&
	ctl set ports "$PORT-$PORT" peer-validation on failure-mode fail-hard self-state valid
}
configure
t_ok $? "peer revoked under fail-hard"

ip netns exec "$NS_A" "$TOOLS/udpsend" -s "$(a4 0)" -d "$B4" -p "$PORT" -r "$RATE" \
	>"$WORK/sent" &
SEND_PID=$!
sleep 1
t_ok $(( $(ctl show stats -j | jq .dropped.revoked) > 0 ? 0 : 1 )) \
	"traffic from the revoked peer is being dropped"

rmmod svrcert
t_ok $? "rmmod svrcert under traffic"
t_ok "$([ -d /sys/module/svrcert ] && echo 1 || echo 0)" "module gone (/sys/module/svrcert)"
# A dump of every family; asking for "svrcert" by name would make the
# kernel autoload the module (MODULE_ALIAS_GENL_FAMILY), as it should.
t_ok "$(genl ctrl list | grep -q 'Name: svrcert$' && echo 1 || echo 0)" \
	"generic netlink family gone"
sleep 1	# traffic without the module

insmod "$ko"
t_ok $? "insmod $ko under traffic"
sleep 1

ctl show policy -j >"$WORK/policy"
t_is "$(jq -c '[.peer_validation, .failure_mode, .self_state, .port_min, .port_max]' \
	"$WORK/policy")" '[false,"fail-soft","unknown",0,65535]' "policy back to the defaults"
t_is "$(ctl show peers -j | jq -c .)" "[]" "no peers after reload"
t_is "$(ctl show revoked | wc -l)" 0 "no keys after reload"
ctl show stats -j >"$WORK/stats"
t_is "$(jq '[.keys, .peers, ([.dropped[]] | add)] | add' "$WORK/stats")" 0 \
	"no keys, no peers, no drops counted after reload"
# Validation is off by default, so the peer's packets are now untouched.
t_is "$(jq '[.accepted | to_entries[] | select(.key != "disabled" and .value != 0)] | length' \
	"$WORK/stats")" 0 "nothing judged: peer unknown, validation off"

configure
t_ok $? "configured again after reload"
sleep 1
stats_snap "$WORK/s0"; sleep 1; stats_snap "$WORK/s1"
t_ok $(( $(stat_delta "$WORK/s0" "$WORK/s1" .dropped.revoked) > 0 ? 0 : 1 )) \
	"enforcing again: the revoked peer's packets are dropped"
t_is "$(stat_delta "$WORK/s0" "$WORK/s1" '[.accepted[]] | add')" 0 \
	"and none of them accepted"

kill -TERM "$SEND_PID"; wait "$SEND_PID"; SEND_PID=
t_diag "$(cat "$WORK/sent")"

# Unload with nothing configured and nothing flowing; then the first
# svrcertctl call loads the module again through its family alias.
two_routers_down
rmmod svrcert
t_ok $? "idle unload"
"$CTL" show policy >/dev/null 2>&1
t_ok "$([ -d /sys/module/svrcert ] && echo 0 || echo 1)" \
	"svrcertctl autoloads the module (genl family alias)"
module_load
t_ok $? "module loaded for the tests that follow"
t_is "$(klog_bad)" "" "kernel log clean (no KASAN, lockdep, WARN, oops, kmemleak)"

t_done
