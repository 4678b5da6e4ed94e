#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Atomic swaps of the revocation set under continuous traffic.
#
# Two sets of 100 000 random keys, A and B, differ in every key but one: the
# revocation key of the sending peer. While the peer sends without pause,
# `svrcertctl revoked load` swaps A, B, A, ... 100 times under fail-hard: if
# a reader ever saw a half-filled or empty set, a packet would pass. Not one
# may. Then the reverse: sets C and D (A and B without the peer's key) are
# swapped the same way and not one packet may be dropped.
#
# The 100 swaps of 100 000 keys the issue asks for, and the debug kernel's
# smaller scale, are the knobs SWAPS and SWAP_KEYS of lib.sh's scale table
# (SVRCERT_SWAPS / SVRCERT_SWAP_KEYS may raise them). The debug kernel checks
# the same swaps for memory and locking errors; the stock kernel checks
# them at full size.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

SWAPS=$(scale SWAPS) || exit 1
KEYS=$(scale SWAP_KEYS) || exit 1
RATE=${SVRCERT_SWAP_RATE:-200}
WORK=$(mktemp -d)
on_exit 'kill "$SEND_PID" 2>/dev/null; two_routers_down; rm -rf "$WORK"'
SEND_PID=
LAST=

pki_init "$WORK/pki" && pki_cert peer -3600 +86400
t_ok $? "peer certificate"
rk=$(pki_revkey "$PKI/peer.pem")

# A, B: KEYS random keys each plus the peer's key; C, D: without it.
python3 - "$WORK" "$KEYS" "$rk" <<'EOF'
import os, sys
work, n, rk = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for name in "AB":
    keys = [os.urandom(32).hex() for _ in range(n)]
    with open(f"{work}/{name}", "w") as f:
        f.write("\n".join(keys + [rk]) + "\n")
    with open(f"{work}/{'C' if name == 'A' else 'D'}", "w") as f:
        f.write("\n".join(keys) + "\n")
EOF
t_ok $? "key sets A, B ($KEYS + peer key), C, D ($KEYS) written"

two_routers_up
t_ok $? "two routers joined by veth"
ctl peer add peer "$PKI/peer.pem" "$(a4 0)" &&
ctl set ports "$PORT-$PORT" peer-validation on failure-mode fail-hard self-state valid
t_ok $? "peer bound, fail-hard"

# swaps FIRST SECOND WANT_LIVE: load FIRST, then swap SECOND/FIRST under
# traffic SWAPS times; sets SENT and RX.
swaps() {
	local first=$1 second=$2 want=$3 i set bad=0 out t0
	ctl revoked load "$WORK/$first" >/dev/null || return 1
	stats_snap "$WORK/before"
	recv_start
	ip netns exec "$NS_A" "$TOOLS/udpsend" -s "$(a4 0)" -d "$B4" -p "$PORT" \
		-r "$RATE" >"$WORK/sent" &
	SEND_PID=$!
	t0=$(date +%s.%N)
	for i in $(seq "$SWAPS"); do
		if [ $((i % 2)) = 1 ]; then set=$second; else set=$first; fi
		LAST=$set
		out=$(ctl revoked load "$WORK/$set") || { bad=$((bad + 1)); continue; }
		case $out in
		*"live set: $want keys"*) ;;
		*) bad=$((bad + 1)); t_diag "swap $i: $out" ;;
		esac
	done
	T_SWAP=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	kill -TERM "$SEND_PID"
	wait "$SEND_PID"
	SEND_PID=
	SENT=$(sed -n 's/^sent=\([0-9]*\).*/\1/p' "$WORK/sent")
	RX=$(recv_stop)
	stats_snap "$WORK/after"
	t_is "$bad" 0 "$SWAPS loads of $first/$second each reported a live set of $want keys"
	t_diag "$SWAPS swaps in $T_SWAP s, $SENT packets sent meanwhile"
}

swaps A B $((KEYS + 1))
t_ok $(( SENT >= SWAPS ? 0 : 1 )) "traffic flowed during the swaps ($SENT packets)"
t_is "$(stat_moved "$WORK/before" "$WORK/after")" "dropped.revoked=$SENT" \
	"key in both sets: every packet dropped as revoked, none accepted"
t_is "$RX" 0 "key in both sets: not one packet passed"

swaps C D "$KEYS"
t_ok $(( SENT >= SWAPS ? 0 : 1 )) "traffic flowed during the swaps ($SENT packets)"
t_is "$(stat_moved "$WORK/before" "$WORK/after")" "accepted.ok=$SENT" \
	"key in neither set: every packet accepted, none dropped"
t_is "$RX" "$SENT" "key in neither set: every packet passed"

# The last set loaded is the live one, key for key.
ctl show revoked >"$WORK/live"
t_is "$(LC_ALL=C sort "$WORK/$LAST" | cmp - "$WORK/live" && echo same)" same \
	"show revoked = the last set loaded ($LAST), key for key"

t_done
