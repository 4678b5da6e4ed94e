#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# At least 100 000 random and mutated generic netlink messages to the
# "svrcert" family (tests/tools/nlfuzz.c: mutated templates of every
# command, pure noise, dumps abandoned midway, bulk loads begun and never
# committed), in a namespace of their own. Then: the kernel log holds no
# splat, and the module still answers correctly -- in the fuzzed namespace
# and, with real packets, in a fresh pair of routers.
#
# The count is the knob FUZZ_MESSAGES of lib.sh's scale table (100 000; the
# debug kernel's value is there too); SVRCERT_FUZZ_MESSAGES may raise it.
# SVRCERT_FUZZ_SEED picks the seed (default 1: the run is reproducible).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

MESSAGES=$(scale FUZZ_MESSAGES) || exit 1
SEED=${SVRCERT_FUZZ_SEED:-1}
LIMIT=${SVRCERT_FUZZ_SECONDS:-1800}
N=100
WORK=$(mktemp -d)
NS=svt-fuzz-$$
on_exit 'ip netns del "$NS" 2>/dev/null; two_routers_down; rm -rf "$WORK"'

pki_init "$WORK/pki" && pki_cert peer -3600 +86400 && pki_cert other -3600 +86400
t_ok $? "test certificates"
klog_mark

ip netns add "$NS"
t0=$(date +%s)
ip netns exec "$NS" "$TOOLS/nlfuzz" -n "$MESSAGES" -s "$SEED" -t "$LIMIT" \
	-c "$PKI/peer.der" >"$WORK/fuzz.txt" 2>&1
rc=$?
t_diag "$(cat "$WORK/fuzz.txt")"
t_diag "fuzzing took $(( $(date +%s) - t0 )) s"
t_is "$rc" 0 "nlfuzz finished within $LIMIT s"
sent=$(sed -n 's/.* messages=\([0-9]*\).*/\1/p' "$WORK/fuzz.txt")
t_ok $(( ${sent:-0} >= MESSAGES ? 0 : 1 )) "nlfuzz sent $sent >= $MESSAGES messages"
t_ok "$(grep -q ' abandoned_loads=[1-9]' "$WORK/fuzz.txt" &&
       grep -q ' aborted_dumps=[1-9]' "$WORK/fuzz.txt" && echo 0 || echo 1)" \
	"abandoned loads and aborted dumps were among them"
t_ok "$(grep -q ' acks=[1-9]' "$WORK/fuzz.txt" && grep -q 'EINVAL=[1-9]' "$WORK/fuzz.txt" &&
       echo 0 || echo 1)" "the kernel both accepted and rejected messages"
t_is "$(klog_bad)" "" "kernel log clean after fuzzing"

# The fuzzed namespace still works: a clean state can be set and read back.
ctl -n "$NS" revoked flush &&
ctl -n "$NS" set peer-validation on failure-mode fail-hard self-state valid ports 4800-4800
t_ok $? "fuzzed namespace: flush and set policy"
for p in $(ctl -n "$NS" show peers -j | jq -r '.[].name'); do
	ctl -n "$NS" peer del "$p" || t_diag "peer del $p failed"
done
t_is "$(ctl -n "$NS" show peers -j | jq length)" 0 "fuzzed namespace: every peer deleted"
key=$(pki_revkey "$PKI/other.pem")
ctl -n "$NS" revoked add "$key"
t_is "$(ctl -n "$NS" show revoked)" "$key" "fuzzed namespace: exactly the one key added"
t_is "$(ctl -n "$NS" show stats -j | jq '[.keys, .peers] | @csv' -r)" "1,0" \
	"fuzzed namespace: stats count 1 key, 0 peers"
printf '%s\n' "$key" >"$WORK/one"
ctl -n "$NS" revoked load "$WORK/one" | grep -q 'live set: 1 keys'
t_ok $? "fuzzed namespace: a bulk load commits (no staging set left behind)"
t_is "$(ctl -n "$NS" show policy -j | jq -c '[.peer_validation, .failure_mode, .self_state]')" \
	'[true,"fail-hard","valid"]' "fuzzed namespace: policy reads back"

# Real packets through a fresh pair of routers.
two_routers_up
t_ok $? "two routers joined by veth"
ctl peer add peer "$PKI/peer.pem" "$(a4 0)" "$(a6 0)" &&
ctl set ports "$PORT-$PORT" peer-validation on failure-mode fail-hard self-state valid
t_ok $? "peer bound, fail-hard"
stats_snap "$WORK/a"
recv_start
s1=$(send "$(a4 0)" "$B4" -c $N)
ctl revoked add "$(pki_revkey "$PKI/peer.pem")"
s2=$(send "$(a6 0)" "$B6" -c $N)
rx=$(recv_stop)
stats_snap "$WORK/b"
t_is "$s1 $s2" "$N $N" "sent $N + $N"
t_is "$(stat_moved "$WORK/a" "$WORK/b")" "accepted.ok=$N dropped.revoked=$N" \
	"valid peer accepted, then dropped once revoked"
t_is "$rx" "$N" "received only the packets sent before the revocation"
t_is "$(klog_bad)" "" "kernel log still clean"

t_done
