#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The verdict on real packets, IPv4 and IPv6, received and sent, with
# exact counters.
#
# Router B ($NS_B) knows five peers on router A's addresses; a sixth
# address of A is no peer. One udpsend run per phase walks the six source
# addresses round robin, so each source sends exactly N packets, and the
# phase asserts (a) which counters moved and by exactly how much, (b) how
# many packets the receiver in B got. Each phase is then repeated the other
# way (phase_out): B sends N packets to each of the six addresses, and the
# same verdicts apply to packets TO the peers (fail-hard severs a peering
# both ways), counted as sent (tx_*). Finally this router's own
# certificate: under fail-hard a bad one severs every peer both ways even
# with peer-validation off. The certificates come from the OpenSSL
# CLI; the revocation key and fingerprint the test revokes are computed from
# the DER with openssl/sha256sum, not by the module.
#
#   idx  peer     certificate                     in the revocation set
#   0    valid    now-1h .. now+1d                -
#   1    rk       now-1h .. now+1d                its revocation key
#   2    fp       now-1h .. now+1d                its fingerprint
#   3    expired  2020-01-01 .. 2021-01-01        -
#   4    future   2099-01-01 .. 2100-01-01        -
#   5    (none: not a peer)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

N=${SVRCERT_VERDICT_PACKETS:-200}
WORK=$(mktemp -d)
on_exit 'two_routers_down; rm -rf "$WORK"'

# sorted "name=value" list, the shape stat_moved_all prints (jq's sort:
# by code point). Bash only, no sort | paste: each phase calls it, and a
# program start costs ~0.5 s on the debug kernel.
moved() {
	local -a v=("$@")
	local i j t LC_ALL=C
	for ((i = 1; i < ${#v[@]}; i++)); do
		for ((j = i; j > 0; j--)); do
			[[ ${v[j - 1]} > ${v[j]} ]] || break
			t=${v[j]} v[j]=${v[j - 1]} v[j - 1]=$t
		done
	done
	echo "${v[*]}"
}

# stat_moved, both directions: received (accepted.*, dropped.*, not_peer)
# and sent (tx_accepted.*, tx_dropped.*, tx_not_peer), so a phase also
# proves the other direction counted nothing.
stat_moved_all() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" '
		[ ("accepted", "dropped", "tx_accepted", "tx_dropped") as $k |
		  $b[0][$k] | to_entries[] | select(.value != $a[0][$k][.key]) |
		  "\($k).\(.key)=\(.value - $a[0][$k][.key])" ] +
		[ ("not_peer", "tx_not_peer") as $k |
		  select($b[0][$k] != $a[0][$k]) |
		  "\($k)=\($b[0][$k] - $a[0][$k])" ]
		| sort | join(" ")'
}

pki_init "$WORK/pki" || { t_ok 1 "test CA"; t_done; exit 1; }
pki_cert valid -3600 +86400 &&
pki_cert rk -3600 +86400 &&
pki_cert fp -3600 +86400 &&
pki_cert expired 20200101000000Z 20210101000000Z &&
pki_cert future 20990101000000Z 21000101000000Z
t_ok $? "test certificates made with openssl ca"

two_routers_up
t_ok $? "two routers joined by veth"

i=0
for p in valid rk fp expired future; do
	ctl peer add "$p" "$PKI/$p.pem" "$(a4 $i)" "$(a6 $i)"
	t_ok $? "peer add $p $(a4 $i) $(a6 $i)"
	i=$((i + 1))
done
ctl set ports "$PORT-$PORT" self-state valid
t_ok $? "set ports $PORT-$PORT self-state valid"

# The module's view of each certificate against OpenSSL's.
for p in valid rk fp expired future; do
	ctl show peers "$p" -j >"$WORK/$p.json"
	t_is "$(jq -r .fingerprint "$WORK/$p.json")" "$(pki_fingerprint "$PKI/$p.pem")" \
		"$p: fingerprint = sha256(DER) from openssl"
	t_is "$(jq -r .revocation_key "$WORK/$p.json")" "$(pki_revkey "$PKI/$p.pem")" \
		"$p: revocation key = sha256(canonical issuer || serial) from the OpenSSL CLI"
	nb=$(date -u -d "$(openssl x509 -in "$PKI/$p.pem" -noout -startdate | cut -d= -f2)" +%FT%TZ)
	na=$(date -u -d "$(openssl x509 -in "$PKI/$p.pem" -noout -enddate | cut -d= -f2)" +%FT%TZ)
	t_is "$(jq -r '"\(.not_before) \(.not_after)"' "$WORK/$p.json")" "$nb $na" \
		"$p: notBefore/notAfter as openssl reads them"
done

# Revoke rk by its revocation key and fp by its fingerprint.
ctl revoked add "$(pki_revkey "$PKI/rk.pem")"
t_ok $? "revoked add <revocation key of rk>"
ctl revoked add "$(pki_fingerprint "$PKI/fp.pem")"
t_ok $? "revoked add <fingerprint of fp>"
t_is "$(ctl show revoked | LC_ALL=C sort | paste -sd' ')" \
	"$(printf '%s\n' "$(pki_revkey "$PKI/rk.pem")" "$(pki_fingerprint "$PKI/fp.pem")" |
		LC_ALL=C sort | paste -sd' ')" "show revoked lists exactly the two keys"

# Nothing but the test's packets crosses the link (so counts can be exact).
sleep 2
stats_snap "$WORK/q0"; sleep 1; stats_snap "$WORK/q1"
t_is "$(stat_moved_all "$WORK/q0" "$WORK/q1")" "" "idle link: no counter moves"

# phase FAMILY DESCRIPTION EXPECTED_RECEIVED EXPECTED_MOVED...
phase() {
	local fam=$1 desc=$2 want_rx=$3 base dst sent rx
	shift 3
	if [ "$fam" = 4 ]; then base=$(a4 0) dst=$B4; else base=$(a6 0) dst=$B6; fi
	stats_snap "$WORK/before"
	recv_start
	sent=$(ip netns exec "$NS_A" "$TOOLS/udpsend" -S "$base" -n 6 -d "$dst" \
		-p "$PORT" -c $((6 * N)))
	[[ $sent =~ (^|$'\n')sent=([0-9]*) ]] && sent=${BASH_REMATCH[2]} || sent=
	rx=$(recv_stop)
	stats_snap "$WORK/after"
	t_is "$sent" $((6 * N)) "IPv$fam $desc: sent $((6 * N))"
	t_is "$(stat_moved_all "$WORK/before" "$WORK/after")" "$(moved "$@")" \
		"IPv$fam $desc: counters"
	t_is "$rx" "$want_rx" "IPv$fam $desc: received"
}

# phase_out FAMILY DESCRIPTION EXPECTED_PASSED EXPECTED_MOVED..., right
# after phase (whose last snapshot is its first): B sends N
# packets to each of A's six addresses (one udpsend walking the six round
# robin: under the debug kernel every process start costs about a second).
# A packet dropped on the way out fails its send (EPERM), so udpsend's
# "sent" counts the packets that passed, "failed" the rest, and the
# receiver in A gets exactly those that passed.
phase_out() {
	local fam=$1 desc=$2 want=$3 i base out=$WORK/recv-a pid sent failed rx line
	shift 3
	if [ "$fam" = 4 ]; then base=$(a4 0); else base=$(a6 0); fi
	# before: the snapshot phase has just taken (nothing ran since)
	: >"$out"
	ip netns exec "$NS_A" "$TOOLS/udprecv" -p "$PORT" -o "$out" >/dev/null &
	pid=$!
	for i in {1..200}; do [ -s "$out" ] && break; sleep 0.05; done
	# (no process substitution: the guest has no /dev/fd)
	sent=$(ip netns exec "$NS_B" "$TOOLS/udpsend" -d "$base" -N 6 -p "$PORT" -c $((6 * N)))
	if [[ $sent =~ (^|$'\n')sent=([0-9]*)\ failed=([0-9]*) ]]; then
		sent=${BASH_REMATCH[2]} failed=${BASH_REMATCH[3]}
	else
		sent= failed=
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rx=
	while IFS= read -r line; do
		[[ $line =~ ^received=([0-9]*) ]] && { rx=${BASH_REMATCH[1]}; break; }
	done <"$out"
	stats_snap "$WORK/after-out"
	t_is "$sent" "$want" "IPv$fam out, $desc: sends not refused"
	t_is "$failed" $((6 * N - want)) "IPv$fam out, $desc: sends refused (EPERM)"
	t_is "$(stat_moved_all "$WORK/after" "$WORK/after-out")" "$(moved "$@")" \
		"IPv$fam out, $desc: counters"
	t_is "$rx" "$want" "IPv$fam out, $desc: received by A"
}

# Both directions of a phase: EXPECTED_RECEIVED, then the moved counters
# of the received direction; the sent direction expects the same numbers
# under tx_ names.
phase_both() {
	local fam=$1 desc=$2 want=$3 m tx=()
	shift 3
	phase "$fam" "$desc" "$want" "$@"
	for m in "$@"; do tx+=("tx_$m"); done
	phase_out "$fam" "$desc" "$want" "${tx[@]}"
}

# On the debug kernel IPv6 runs only the phases marked "both" below: the
# verdict (verdict.c) is the same code for both families, and the IPv6
# hooks, address table and per-peer counters are exercised by those; each
# phase costs ~25 s there (a dozen program starts), the other six ~150 s of
# make check's debug time. The stock kernel runs every phase for both.
phase_fam() {	# phase_fam both|v4 ARGS...: phase_both, unless skipped here
	local need=$1
	shift
	[ "$need" = both ] || [ "$SVRCERT_KERNEL" != debug ] || [ "$1" = 4 ] ||
		return 0
	phase_both "$@"
}

for fam in 4 6; do
	ctl set peer-validation off failure-mode fail-hard self-state valid
	phase_fam v4 $fam "validation off: nothing enforced" $((6 * N)) \
		"accepted.disabled=$((5 * N))" "not_peer=$N"

	ctl set peer-validation on failure-mode fail-soft
	phase_fam v4 $fam "fail-soft: all pass, counted by reason" $((6 * N)) \
		"accepted.ok=$N" "accepted.revoked=$((2 * N))" "accepted.expired=$N" \
		"accepted.not-yet-valid=$N" "not_peer=$N"

	ctl set failure-mode fail-hard
	ctl show peers -j >"$WORK/peers0"
	phase_fam both $fam "fail-hard: revoked, expired, not-yet-valid dropped" $((2 * N)) \
		"accepted.ok=$N" "dropped.revoked=$((2 * N))" "dropped.expired=$N" \
		"dropped.not-yet-valid=$N" "not_peer=$N"
	ctl show peers -j >"$WORK/peers1"
	t_is "$(jq -rn --slurpfile a "$WORK/peers0" --slurpfile b "$WORK/peers1" '
		[$b[0][] as $p | ($a[0][] | select(.name == $p.name)) as $o |
		 "\($p.name):+\($p.rx_accepted - $o.rx_accepted)/+\($p.rx_dropped - $o.rx_dropped)"]
		| join(" ")')" \
		"expired:+0/+$N fp:+0/+$N future:+0/+$N rk:+0/+$N valid:+$N/+0" \
		"IPv$fam fail-hard: per-peer accepted/dropped counters, received"
	t_is "$(jq -rn --slurpfile a "$WORK/peers0" --slurpfile b "$WORK/peers1" '
		[$b[0][] as $p | ($a[0][] | select(.name == $p.name)) as $o |
		 "\($p.name):+\($p.tx_accepted - $o.tx_accepted)/+\($p.tx_dropped - $o.tx_dropped)"]
		| join(" ")')" \
		"expired:+0/+$N fp:+0/+$N future:+0/+$N rk:+0/+$N valid:+$N/+0" \
		"IPv$fam fail-hard: per-peer accepted/dropped counters, sent"
	t_is "$(jq -r '[.[] | "\(.name)=\(.verdict)/\(.reason)"] | join(" ")' "$WORK/peers1")" \
		"expired=drop/expired fp=drop/revoked future=drop/not-yet-valid rk=drop/revoked valid=accept/ok" \
		"show peers: verdict and reason now"

	ctl set self-state invalid
	phase_fam both $fam "fail-hard, own certificate invalid: every peer dropped" "$N" \
		"dropped.self-invalid=$((5 * N))" "not_peer=$N"

	ctl set failure-mode fail-soft
	phase_fam v4 $fam "fail-soft, own certificate invalid: passed and counted" $((6 * N)) \
		"accepted.self-invalid=$((5 * N))" "not_peer=$N"

	# This router's own certificate known bad severs every peer under
	# fail-hard even with peer-validation off; one not judged yet
	# (unknown) does not.
	ctl set peer-validation off failure-mode fail-hard self-state revoked
	phase_fam v4 $fam "validation off, fail-hard, own certificate revoked: every peer dropped" "$N" \
		"dropped.self-invalid=$((5 * N))" "not_peer=$N"
	ctl set failure-mode fail-soft self-state expired
	phase_fam v4 $fam "validation off, fail-soft, own certificate expired: passed and counted" \
		$((6 * N)) "accepted.self-invalid=$((5 * N))" "not_peer=$N"
	ctl set failure-mode fail-hard self-state unknown
	phase_fam v4 $fam "validation off, fail-hard, own certificate not judged yet: not enforced" \
		$((6 * N)) "accepted.disabled=$((5 * N))" "not_peer=$N"

	ctl set peer-validation on failure-mode fail-hard self-state valid
	ctl peer replace valid "$PKI/valid.pem" "$(a4 0)" "$(a6 0)" state invalid
	ctl peer replace expired "$PKI/expired.pem" "$(a4 3)" "$(a6 3)" state unknown
	phase_fam both $fam "fail-hard, peer states invalid/unknown from userspace" $((N)) \
		"dropped.invalid=$N" "dropped.unauthenticated=$N" \
		"dropped.revoked=$((2 * N))" "dropped.not-yet-valid=$N" "not_peer=$N"
	ctl peer replace valid "$PKI/valid.pem" "$(a4 0)" "$(a6 0)"
	ctl peer replace expired "$PKI/expired.pem" "$(a4 3)" "$(a6 3)"
done

# Unrevoke: the two peers pass again under fail-hard.
ctl revoked del "$(pki_revkey "$PKI/rk.pem")" &&
ctl revoked del "$(pki_fingerprint "$PKI/fp.pem")"
t_ok $? "revoked del both keys"
phase 4 "fail-hard after revoked del" $((4 * N)) \
	"accepted.ok=$((3 * N))" "dropped.expired=$N" "dropped.not-yet-valid=$N" "not_peer=$N"

# A peer deleted is no peer: its packets are untouched.
ctl peer del expired
t_ok $? "peer del expired"
phase 6 "fail-hard after peer del" $((5 * N)) \
	"accepted.ok=$((3 * N))" "dropped.not-yet-valid=$N" "not_peer=$((2 * N))"

# RESET_STATS zeroes the namespace's and every peer's packet counters, which
# then count exactly again (the per-peer ones from 0, not from before).
peer_counts() {
	ctl show peers -j | jq -r 'sort_by(.name) |
		[.[] | "\(.name):\(.rx_accepted)/\(.rx_dropped)/\(.tx_accepted)/\(.tx_dropped)"] |
		join(" ")'
}
ctl clear stats
t_ok $? "clear stats (RESET_STATS)"
t_is "$(peer_counts)" "fp:0/0/0/0 future:0/0/0/0 rk:0/0/0/0 valid:0/0/0/0" \
	"after clear stats: every peer's accepted/dropped counters read 0, both ways"
t_is "$(ctl show stats -j | jq '[.accepted[], .dropped[], .not_peer,
		.tx_accepted[], .tx_dropped[], .tx_not_peer] | add')" 0 \
	"after clear stats: every packet counter reads 0, both ways"
phase_both 4 "fail-hard after clear stats" $((5 * N)) \
	"accepted.ok=$((3 * N))" "dropped.not-yet-valid=$N" "not_peer=$((2 * N))"
t_is "$(peer_counts)" "fp:$N/0/$N/0 future:0/$N/0/$N rk:$N/0/$N/0 valid:$N/0/$N/0" \
	"after clear stats: per-peer counters count exactly $N per peer again, both ways"
ctl peer replace valid "$PKI/valid.pem" "$(a4 0)" "$(a6 0)" state valid
t_is "$(peer_counts)" "fp:$N/0/$N/0 future:0/$N/0/$N rk:$N/0/$N/0 valid:$N/0/$N/0" \
	"peer replace keeps the counters and their reset baseline"

t_done
