#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load, configure and unload svrcert.ko over and over while packets flow
# from peers into the router under test. Every packet in flight may be
# inside a hook when the module goes: the hooks must be gone (pre_exit,
# then a grace period) before the peer table, the revocation set, the
# counters and the event ring are freed. Fail-hard with unauthenticated
# peers makes every packet take the full verdict path and queue a
# first-seen event, so a late packet would touch all of it. KASAN (debug
# kernel) reports a use-after-free; the rig fails on any splat.
#
# Also: a namespace that never configured svrcert costs its packets
# nothing (no hooks until the first configuration).
#
# The router under test is the initial namespace and the peers sit behind
# one veth in a namespace of their own. One program, tests/tools/modcycle,
# runs every cycle (a program start costs 1.5-3 s on the debug kernel;
# four per cycle allowed only 4 cycles there): load, the peers and the
# policy peerload and `svrcertctl set` give, wait until the hooks have
# dropped packets from the peers, unload. SVRCERT_STRESS_CYCLES: cycles
# (default 50 on both kernels).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

CYCLES=${SVRCERT_STRESS_CYCLES:-50}
PEERS=64
BASE=10.20.0.1
NS=svs-$$
WORK=$(mktemp -d)
SEND_PID=
on_exit 'kill "$SEND_PID" 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"; module_load'

ko=$(svrcert_ko)
t_ok $? "module file: $ko"
klog_mark

# A serial of 7 bytes: peerload patches its last four per peer.
pki_init "$WORK/pki" && pki_cert peer -3600 +86400 11223344556677
t_ok $? "peer certificate"
ip netns add "$NS" &&
	ip link add va netns "$NS" type veth peer name vb &&
	ip addr add "$B4/24" dev vb && ip link set vb up &&
	ip -n "$NS" link set va up && ip -n "$NS" addr add "$(a4 0)/24" dev va &&
	ip -n "$NS" neigh replace "$B4" lladdr "$(cat /sys/class/net/vb/address)" dev va
t_ok $? "peers' namespace joined by veth to this one"

# Twice as many sources as peers: half the packets are from peers (full
# verdict path), half are not (address lookup only).
ip netns exec "$NS" "$TOOLS/udpsend" -S "$BASE" -n $((2 * PEERS)) -d "$B4" \
	-p "$PORT" -r "${SVRCERT_STRESS_RATE:-4000}" >"$WORK/sent" &
SEND_PID=$!

# Each cycle: module in, peers and fail-hard, traffic judged, module out.
module_unload
t_ok $? "module out before the first cycle"
out=$("$TOOLS/modcycle" -k "$ko" -c "$PKI/peer.der" -n $PEERS -b "$BASE" \
	-s unknown -i "$CYCLES" 2>&1)
t_ok $? "$CYCLES load/configure/unload cycles under traffic"
t_diag "$out"

# A namespace that never configured svrcert has no hooks: its packets
# are not even counted (show stats is a read; it configures nothing).
module_load
sleep 1
"$CTL" show stats -j >"$WORK/stats0"
t_is "$(jq '[.accepted[], .dropped[], .not_peer, .tx_accepted[], .tx_dropped[],
	.tx_not_peer] | add' "$WORK/stats0")" 0 \
	"unconfigured namespace: no packet looked at"

# The traffic really was judged: one more cycle, counted.
"$TOOLS/peerload" -c "$PKI/peer.der" -n $PEERS -b "$BASE" -s unknown >/dev/null &&
	"$CTL" set peer-validation on failure-mode fail-hard self-state valid
t_ok $? "configured once more"
sleep 1
"$CTL" show stats -j >"$WORK/stats"
t_ok $(( $(jq .dropped.unauthenticated "$WORK/stats") > 0 ? 0 : 1 )) \
	"packets from unauthenticated peers are dropped under fail-hard"
t_ok $(( $(jq .not_peer "$WORK/stats") > 0 ? 0 : 1 )) \
	"packets from non-peers are looked up and left alone"
rmmod svrcert
t_ok $? "last unload under traffic"

kill -TERM "$SEND_PID"; wait "$SEND_PID"; SEND_PID=
t_diag "sender: $(cat "$WORK/sent")"
module_load
t_ok $? "module loaded for the tests that follow"
t_is "$(klog_bad)" "" "kernel log clean (no KASAN, lockdep, WARN, oops)"

t_done
