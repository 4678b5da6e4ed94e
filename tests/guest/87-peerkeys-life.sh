#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Peer keys over their life (issue 14), beyond 86-peerkeys.sh: the same two
# routers (lib-e2e.sh's e2e_keys_pair: svrcertd on R1 and R2, keys in
# files, [daemon] peer-keys = yes), with peer-key-rekey-interval = 1h (R,
# the minimum) and peer-key-timeout = 20s (T):
#
#  1. R2 gets a new certificate (its key, the test CA) while R2 -> R1
#     traffic flows: the pair re-authenticates and agrees new keys on its
#     own (the old ones were exported from a TLS session the old
#     certificate authenticated), make-before-break: 0 packets lost, a new
#     index and new SPIs on both sides, R1's daemon and svrcert.ko hold
#     R2's new certificate; the old SAs (the traffic already on the new
#     ones) go after the 30 s grace period, but R2's old inbound one (R1
#     sent nothing on the new one: held)
#  2. a peer that stops answering rekeys: R2's svrcertd is stopped
#     (SIGSTOP) and the guest's wall clock stepped forward to D s before
#     R1's keys reach R + T (the rekey is due then, and goes unanswered if
#     R1 is the router that calls). R1 notices the step at once (its clock
#     watch, logged), keeps its keys until R + T and then declares the path
#     invalid: "peer r2 key is invalid" in its log, the critical peer-key
#     alarm, its SAs and policies for R2 gone, svrcert.ko no longer
#     requiring ESP from R2. SIGCONT: the pair agrees new keys, the alarm
#     clears, traffic passes. The clock is stepped back by as much.
#
# The clock step (about R + T - D = 3614 s forward, and back; on exit too):
#  - date -s "+N seconds" reads the time itself, so back by N restores the
#    wall clock to within the microseconds date takes; run-suite's time
#    limit (timeout(1): a relative timer, which the kernel keeps on the
#    monotonic clock) and its test time (date before and after) are
#    unaffected; no wait_for of this test spans a step.
#  - certificates (the test PKI's leaves and R2's new one: a year from an
#    hour before issue) and the CRL (nextUpdate 30 days ahead) are valid
#    on both sides of the step.
#  - xfrm: the kernel judges an SA's time lifetimes (here soft R + T/2 +-
#    0.75 s, hard R + T + 120 s + [0, 0.75 s]) on a boot-time timer armed 1 s
#    after the SA is added and then for its next limit, against the wall
#    clock when it fires. The SAs present at the step were added tens of
#    seconds before it, so their timers fire about an hour later (when the
#    namespaces are long gone) and the step, although past their soft
#    limit, makes the kernel act on none of them; svrcertd deletes them
#    itself at R + T, as it should. SAs added after the step count from
#    then; the step back moves every limit later, never earlier.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-e2e.sh"

slow=1; [ "$SVRCERT_KERNEL" = debug ] && slow=2
WAIT=$((120 * slow))
R=3600 T=20 D=$((6 * slow))	# rekey interval, peer-key-timeout, step lands D s before R + T
RATE=200		# packets/s R2 -> R1 across the certificate change
STEP_US=0 STEP=0	# how far the wall clock is ahead of the real time (us, s)
T0=$EPOCHSECONDS
trap 'exit 143' TERM INT

step() {
	klog_marker "87-peerkeys-life: $1"
	tap_diag "---- $1 (t+$(( EPOCHSECONDS - STEP - T0 ))s)"
}
why_not() {	# ROUTER...: what the daemons hold (never ask a stopped one)
	local n
	for n in "$@"; do
		tap_diag "R$n peers: $(rctl "$n" show peers -j 2>&1 | head -c 3000)"
		tap_diag "R$n xfrm: $(ip -n "$(e2e_ns "$n")" xfrm state 2>&1 | grep -v 'aead\|auth\|enc' | head -20)"
		tap_diag "R$n daemon log (tail):" "$(tail -n 20 "$(e2e_dir "$n")/daemon.log" 2>/dev/null)"
	done
}
OFF=0
wall_off() {	# OFF: wall clock minus boot time, in us (read in bash)
	local up
	read -r up _ </proc/uptime
	OFF=$(( ${EPOCHREALTIME//[.,]/} - ${up//./}0000 ))
}
clock_to() {	# EPOCH: set the wall clock to EPOCH.000 exactly; STEP_US, STEP
	local before
	wall_off
	before=$OFF
	date -s "@$1" >/dev/null || return 1
	wall_off
	STEP_US=$((STEP_US + OFF - before)) STEP=$(( (STEP_US + 500000) / 1000000 ))
}
clock_back() {	# by as much (relative: date reads the time itself, no lag)
	local us=$((STEP_US < 0 ? -STEP_US : STEP_US)) sign=-
	[ "$STEP_US" -ne 0 ] || return 0
	[ "$STEP_US" -gt 0 ] || sign=+
	date -s "$sign$((us / 1000000)).$(printf '%06d' $((us % 1000000))) seconds" >/dev/null &&
		STEP_US=0 STEP=0
}
on_exit clock_back
spis() {	# N: " 0x... 0x... " the SPIs of router N's SAs (one dump, read in bash)
	local l out='' dump
	dump=$(ip -n "$(e2e_ns "$1")" xfrm state 2>/dev/null)
	while read -r l; do
		[[ $l =~ proto\ esp\ spi\ (0x[0-9a-f]+) ]] && out+=" ${BASH_REMATCH[1]}"
	done <<<"$dump"
	echo "$out "
}
hex() { printf '0x%08x' "$1"; }
RX=0
rx_count() {	# R1's udprecv, asked (SIGUSR1), has counted more than $1: RX
	local l
	kill -USR1 "$E2E_RECV_PID" 2>/dev/null && sleep 0.2 &&
		read -r l <"$E2E_RECV_OUT" && [[ $l =~ received=([0-9]+) ]] &&
		RX=${BASH_REMATCH[1]} && [ "$RX" -gt "$1" ]
}
# keys_pair MIN: both daemons logged keys of one index above MIN, their
# newest (the logs read in bash: a process start costs seconds on a loaded
# debug guest, and a look at both daemons' "peers" takes four); sets I,
# and IN1 OUT1 (R1's SPIs) and IN2 OUT2 (R2's), decimal
KI=0 KIN=0 KOUT=0 I=0 IN1=0 OUT1=0 IN2=0 OUT2=0
keys_logged() {	# N PEER MIN: router N's newest keys for PEER above index MIN: KI KIN KOUT
	local l re="peer $2: ESP keys of index ([0-9]+) installed \(SPI in (0x[0-9a-f]+), out (0x[0-9a-f]+)\)"
	KI=
	while IFS= read -r l; do
		[[ $l =~ $re ]] && [ "${BASH_REMATCH[1]}" -gt "$3" ] &&
			KI=${BASH_REMATCH[1]} KIN=$((BASH_REMATCH[2])) KOUT=$((BASH_REMATCH[3]))
	done <"$(e2e_dir "$1")/daemon.log"
	[ -n "$KI" ]
}
keys_pair() {
	keys_logged 1 r2 "$1" && I=$KI IN1=$KIN OUT1=$KOUT &&
		keys_logged 2 r1 "$1" && [ "$KI" = "$I" ] && IN2=$KIN OUT2=$KOUT
}
alarms_of() { rctl "$1" show alarms -j 2>/dev/null | jq -c '[.[] | select(.id == "peer-key")]'; }

require_cmd openssl jq "$E2E_PY"
e2e_require_built

step "network, CA, identities"
e2e_keys_pair "peer-key-rekey-interval = 1h" "peer-key-timeout = ${T}s"

step "daemons up; keys agreed"
# The own-certificate check hourly, as by default: the import asks for
# one, and nothing but the loop's own timers wakes R1 for the clock step.
for n in 1 2; do E2E_CHECK=3600 e2e_daemon_start "$n"; done
# shellcheck disable=SC2016 # expanded at exit: the daemon's pid then
on_exit 'kill -CONT "${E2E_DAEMON_PID_2:-}" 2>/dev/null'	# before the cleanup stops it
wait_for "$WAIT" keys_pair -1
rc=$?
[ $rc -eq 0 ] || why_not 1 2
require $rc "R1 and R2 agreed ESP keys (rekey interval ${R} s, peer-key-timeout ${T} s)"

# ---------------------------------------------------------------------------
step "R2's new certificate under traffic: re-authentication and new keys"
d2=$(e2e_dir 2)
openssl req -new -key "$d2/state/key.pem" -subj "/O=svrcert test/CN=r2" -out "$d2/new.csr" \
	>"$d2/csr.log" 2>&1 &&
	e2e_issue "$d2/new.csr" "$d2/new.pem" $((EPOCHSECONDS - 3600)) $((EPOCHSECONDS + 365 * 86400))
rc=$?
[ $rc -eq 0 ] || tap_diag "$(tail -n 5 "$d2/csr.log" "$d2/new.pem.log" 2>/dev/null)"
require $rc "the test CA issued R2 a new certificate for its key"
fp_new=$(e2e_fingerprint "$d2/new.pem")
e2e_recv_start 1 || require 1 "a receiver at R1"
ip netns exec "$(e2e_ns 2)" "$E2E_TOOLS/udpsend" -s "$(e2e_addr 2)" -d "$(e2e_addr 1)" \
	-p "$E2E_PORT" -r "$RATE" -t 3600 -o "$E2E/sent" >/dev/null &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for 30 rx_count 0 || tap_diag "no traffic at R1 yet"
# the keys in force now (a second agreement may have followed the first
# at start)
wait_for 30 keys_pair -1
i1=$I in1=$IN1 out1=$OUT1
t_imp=$EPOCHSECONDS
rctl 2 import "$d2/new.pem" --identity r2 >"$d2/import.log" 2>&1
tap_result $? "R2: svrcertctl import of its new certificate while R2 -> R1 traffic flows"
wait_for "$WAIT" keys_pair "$i1"
rc=$?
t_rk=$EPOCHSECONDS
[ $rc -eq 0 ] || why_not 1 2
tap_result $rc "the pair agreed new keys on its own ($((t_rk - t_imp)) s after the import)"
ni1=$I nin1=$IN1 nout1=$OUT1
s1=$(spis 1) s2=$(spis 2) t_s=$EPOCHSECONDS
[ $rc -eq 0 ] && [ "$IN1" = "$OUT2" ] && [ "$OUT1" = "$IN2" ] &&
	[ "$nin1" != "$in1" ] && [ "$nout1" != "$out1" ]
tap_result $? "a new index on both sides ($i1 -> $ni1), new SPIs crosswise (R1 in $(hex "$nin1"), out $(hex "$nout1"))"
# R1's old SAs stay for the grace period (30 s after the new ones went
# in, which the log showed at most t_s - t_rk + 1 s before): seen if looked
# at in time, which a heavily loaded guest may not manage
if [ $((t_s - t_rk)) -lt 25 ]; then
	[[ $s1 == *" $(hex "$in1") "* && $s1 == *" $(hex "$out1") "* ]]
	tap_result $? "make-before-break: R1's old SAs, in and out, are still there for the grace period ($((t_s - t_rk)) s after the rekey; R1:$s1)"
else
	tap_skip "make-before-break: R1's old SAs are still there for the grace period" \
		"looked $((t_s - t_rk)) s after the rekey"
fi
P1=$(rctl 1 show peers r2 -j 2>/dev/null)
jq -e --arg fp "$fp_new" --argjson i "$ni1" '.fingerprint == $fp and
	.authentication.fingerprint == $fp and .authentication.keys.index == $i' <<<"$P1" >/dev/null
tap_result $? "R1's daemon and svrcert.ko hold R2's new certificate (${fp_new:0:16}...), and its keys"
wait_for 30 rx_count "$RX"	# packets on the new SAs too
kill -TERM "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
read -r l <"$E2E/sent"
[[ $l =~ sent=([0-9]+)\ failed=([0-9]+) ]] && sent=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
wait_for 30 rx_count $((${sent:-1} - 1))
got=$(e2e_recv_stop)
assert_eq "0 packets lost: R1 received all R2 sent at $RATE/s before, during and after the change (send errors: ${failed:-?})" \
	"${sent:-?} 0" "$got ${failed:-?}" ||
	tap_diag "R2's xfrm errors: $(ip netns exec "$(e2e_ns 2)" grep -v ' 0$' /proc/net/xfrm_stat)" \
		"R2's svrcert.ko: $(rctl 2 show stats -j | jq -c .)"
# An old inbound SA goes once the peer was seen on a newer one (a packet
# counted there): R1's, R2 sending on the new SA. R2's stays, R1 having
# sent nothing on the new one: R1's end of the agreement might have failed
# and R1 still send on it (peerauth.md, The exchange).
gone() {
	s1=$(spis 1) s2=$(spis 2)
	[[ $s1 != *" $(hex "$in1") "* && $s1 != *" $(hex "$out1") "* &&
		$s2 == *" $(hex "$out1") "* && $s2 != *" $(hex "$in1") "* &&
		$s1 == *" $(hex "$nin1") "* && $s1 == *" $(hex "$nout1") "* ]]
}
wait_for $((30 + 30 * slow)) gone
rc=$?
tap_result $rc "the old SAs, in and out, are gone after the grace period (seen $((EPOCHSECONDS - t_rk)) s after the rekey), but R2's old inbound one, held: R1 sent nothing on the new one; R1 holds:$s1 R2 holds:$s2"

# ---------------------------------------------------------------------------
step "R2 stops answering; the clock moves to ${D} s before R + T"
L=$(e2e_peer_json 1 r2 | jq -r '.keys.last_rekey | fromdateiso8601')
kill -STOP "$E2E_DAEMON_PID_2"
clock_to $((L + R + T - D))
t_j=$EPOCHSECONDS
s1=$(spis 1)
[[ $s1 == *" $(hex "$nin1") "* && $s1 == *" $(hex "$nout1") "* ]]
tap_result $? "stepped by $STEP s (R2 stopped): R1's keys are past R, its SAs for R2 still in force:$s1"
log1=$(e2e_dir 1)/daemon.log
wait_for 30 grep -qE 'wall clock stepped by \+[0-9]+ s' "$log1"
tap_result $? "R1 noticed the step at once (its log: $(grep -oE 'wall clock stepped by [-+0-9]+ s' "$log1" | tail -n 1))"
cut_logged() {
	local l
	while IFS= read -r l; do
		[[ $l == *"peer r2: ESP keys deleted: key is invalid"* ]] && return 0
	done <"$log1"
	return 1
}
wait_for $((30 * slow)) cut_logged
t_cut=$EPOCHSECONDS
[ "$(spis 1)" = " " ]
rc=$?
[ $rc -eq 0 ] || why_not 1
[ $rc -eq 0 ] && [ $((t_cut - t_j)) -ge $((D - 1)) ]
tap_result $? "at R + T R1 deleted its SAs for R2: $((t_cut - t_j)) s after the step (due ${D} s after it)"
grep -q "peer r2 key is invalid" "$log1"
tap_result $? "R1 logged \"peer r2 key is invalid\""
pol=$(ip -n "$(e2e_ns 1)" xfrm policy | grep -c 'proto esp')
esp=$(rctl 1 show peers r2 -j | jq -r '"\(.esp.required) \(.authentication.keys.state)"')
assert_eq "R1 holds no ESP policy for R2 any more ($pol templates), svrcert.ko no longer requires ESP from R2, keys none" \
	"0 false none" "$pol $esp"
a=$(alarms_of 1)
jq -e 'length == 1 and .[0].peer == "r2" and .[0].severity == "critical" and
	(.[0].message | contains("peer r2 key is invalid"))' <<<"$a" >/dev/null
tap_result $? "R1's critical peer-key alarm is raised: $a"

step "R2 answers again"
t_c=$EPOCHSECONDS
kill -CONT "$E2E_DAEMON_PID_2"
wait_for "$WAIT" keys_pair "$ni1"
rc=$?
[ $rc -eq 0 ] || why_not 1 2
tap_result $rc "the pair agreed new keys ($((EPOCHSECONDS - t_c)) s after SIGCONT): index $I"
P1=$(rctl 1 show peers r2 -j 2>/dev/null)
jq -e --argjson i "${I:-0}" '.authentication.keys.state == "established" and .esp.required and
	.authentication.keys.index == $i' <<<"$P1" >/dev/null
tap_result $? "R1 holds them and requires ESP from R2 again"
a1=$(alarms_of 1) a2=$(alarms_of 2)
assert_eq "the peer-key alarms are cleared on both routers" "[] []" "$a1 $a2"
e2e_recv_start 1 || tap_diag "receiver at R1 not ready"
sent=$(e2e_send 2 1 -c 100 -r 500)
wait_for 30 rx_count 99
got=$(e2e_recv_stop)
assert_eq "traffic R2 -> R1 passes again" "100 100" "${sent:-?} $got"

step "the clock stepped back"
n=$STEP
clock_back
wait_for 30 grep -qE "wall clock stepped by -($((n - 1))|$n|$((n + 1))) s" "$log1"
tap_result $? "R1 noticed the step back ($(grep -oE 'wall clock stepped by [-+0-9]+ s' "$log1" | tail -n 1))"
k=$(e2e_peer_json 1 r2 | jq -r '"\(.keys.state) \(.keys.index)"')
assert_eq "R1's keys are untouched by it" "established $(jq -r .authentication.keys.index <<<"$P1")" "$k"

tap_diag "87-peerkeys-life took $(( EPOCHSECONDS - T0 )) s"
tap_done
