#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Peer keys in svrcertd (issue 14): two routers of the end-to-end topology
# (lib-e2e.sh), each with its own svrcertd (keys in files: the TPM path is
# 80-e2e.sh's), [daemon] peer-keys = yes. After they authenticate each other over mutual TLS 1.3 they agree
# ESP keys on the same connection and install them through xfrm:
#
#  1. both daemons report the keys established, one's SPI in is the
#     other's SPI out, and `ip xfrm state` in each namespace holds both
#     SAs as rfc4106(gcm(aes)), with soft/hard lifetimes in the jitter
#     window of the default rekey interval and peer-key-timeout
#  2. marker traffic R2 -> R1: every packet arrives, R1's link (captured
#     in the switch namespace) carries ESP and never the marker; R1's
#     svrcert.ko counts it ok, never unprotected
#  2b. svrcert.ko requires ESP from R2 (show peers), and R3's plain UDP
#     claiming R2's address is counted unprotected: dropped by it under
#     fail-hard, counted under fail-soft and still not delivered (the
#     inbound xfrm policy requires ESP)
#  3. `svrcertctl peer rekey --all`, 20 times under traffic both ways
#     (one udpsend and one udprecv per direction, 200 packets/s each, 50
#     on debug: PEERKEY_PPS in lib.sh): each a new agreement
#     (new TLS handshake) with the next index and new SPIs on both sides,
#     0 packets lost, every SA its own key (R1's `ip xfrm monitor SA`,
#     compared in the guest, never printed), right after the last the old
#     SAs, in and out, still there, gone after the 30 s grace period; `show peers security` and `show stats
#     security` count the rekeys
#  4. no key bytes in the daemons' logs, audit logs or "peers" replies
#  5. R2's svrcertd killed (SIGKILL) and restarted: it removes all the SAs
#     and policies the killed run left in the kernel, the pair agrees new
#     keys, and R2's kernel holds those and none of the killed run's SAs
#  6. rmmod svrcert under R2's ESP traffic, then loaded again: both
#     daemons bind their peer again with ESP required, the SAs are the
#     same (SPIs and keys), the traffic is judged ok again and R3's spoofed
#     plain UDP is counted unprotected again
#  7. the CA revokes R2 under fail-soft (svrcertctl set at both): R1
#     judges it revoked at the CRL update, keeps its SAs, policies and
#     keys, R2 finds its own certificate revoked and keeps its keys too,
#     R2's traffic passes, the peer-certificate alarm is raised
#  8. R2 gets a new certificate; R1 judges it valid
#  9. the CA revokes that one under fail-hard: R1 deletes R2's SAs and
#     policies in the turn that takes the CRL in (its log: within 1 s of
#     the CRL's keys being fed), counted once (none under fail-soft);
#     after that no packet from R2 passes R1's svrcert.ko (50 sent: none
#     delivered, none accepted, each dropped as revoked)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-e2e.sh"

slow=1; [ "$SVRCERT_KERNEL" = debug ] && slow=2
WAIT=$((120 * slow))
N=200
REKEYS=20		# svrcertd's rekeys under traffic (issue 14: >= 20)
PPS=$(scale PEERKEY_PPS)	# packets/s each way meanwhile
T0=$(date +%s)
trap 'exit 143' TERM INT

why_not() {
	local n
	for n in 1 2; do
		tap_diag "R$n daemon peers: $(e2e_daemon_cmd "$n" peers 2>&1 | head -c 3000)"
		tap_diag "R$n xfrm: $(ip -n "$(e2e_ns "$n")" xfrm state 2>&1 | grep -v 'aead\|auth\|enc' | head -20)"
		tap_diag "R$n daemon log (tail):" "$(tail -n 20 "$(e2e_dir "$n")/daemon.log" 2>/dev/null)"
	done
}
# A daemon's log read as it grows, in bash (no program started per poll):
# log_open N from router N's log's current end, log_next N puts the next
# complete line in LINE (status 1: none yet), log_skip N to its end.
LOG_FD=() LOG_PART=() LINE=
log_open() {
	local fd
	exec {fd}<"$(e2e_dir "$1")/daemon.log" || return 1
	LOG_FD[$1]=$fd LOG_PART[$1]=
	log_skip "$1"
}
log_next() {
	local l
	if IFS= read -r -u "${LOG_FD[$1]}" l; then
		LINE=${LOG_PART[$1]}$l LOG_PART[$1]=
		return 0
	fi
	LOG_PART[$1]+=$l	# a line still being written
	return 1
}
log_skip() { while log_next "$1"; do :; done; }
# udprecv's and udpsend's counts, read in bash
rx_field() { local l; read -r l <"$1" 2>/dev/null; [[ $l =~ received=([0-9]+) ]] && echo "${BASH_REMATCH[1]}"; }
sent_field() {	# FILE: "SENT FAILED"
	local l
	read -r l <"$1" 2>/dev/null
	[[ $l =~ sent=([0-9]+)\ failed=([0-9]+) ]] && echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}
rx_is() {	# PID FILE WANT: that udprecv, asked (SIGUSR1), has counted WANT
	kill -USR1 "$1" && sleep 0.2 && [ "$(rx_field "$2")" = "$3" ]
}
# SVRCERT_DEMO=1 (scripts/demo runs this after 80-e2e.sh) narrates the
# steps with the real `svrcertctl` output, as 80-e2e.sh does.
step() {
	if [ "$E2E_DEMO" = 1 ]; then
		e2e_section "$1"
	else
		tap_diag "---- $1 (t+$(( $(date +%s) - T0 ))s)"
	fi
}
# demo: router N's ESP SAs as `ip xfrm state` prints them, the key replaced
demo_xfrm() {
	[ "$E2E_DEMO" = 1 ] || return 0
	printf '\nR%s# ip xfrm state    (key bytes replaced by <key>)\n' "$1"
	ip -n "$(e2e_ns "$1")" xfrm state | sed -e 's/0x[0-9a-f]\{40,\}/<key>/' -e 's/^/    /'
}

require_cmd openssl jq "$E2E_PY"
e2e_require_built

step "network, CA, identities"
e2e_keys_pair
R2_CERT=$PKI/r2.pem

step "daemons up; keys agreed"
for n in 1 2; do e2e_daemon_start "$n"; done
wait_for "$WAIT" keys_up
rc=$?
[ $rc -eq 0 ] || why_not
require $rc "R1 and R2 agreed ESP keys after authenticating each other"
k1=$(e2e_peer_json 1 r2 | jq -c .keys)
k2=$(e2e_peer_json 2 r1 | jq -c .keys)
tap_diag "R1: $k1" "R2: $k2"
in1=$(jq -r .spi_in <<<"$k1") out1=$(jq -r .spi_out <<<"$k1")
in2=$(jq -r .spi_in <<<"$k2") out2=$(jq -r .spi_out <<<"$k2")
[ "$in1" = "$out2" ] && [ "$out1" = "$in2" ] && [ "$in1" != "$in2" ] &&
	[ "$(jq -r .index <<<"$k1")" = "$(jq -r .index <<<"$k2")" ]
tap_result $? "the SPIs match crosswise (R1 in $in1 = R2 out $out2, R1 out $out1 = R2 in $in2), one key index"

ok=0
for n in 1 2; do
	for spi in "$in1" "$out1"; do sa_has "$n" "$spi" || ok=1; done
done
[ $ok -eq 0 ] || why_not
tap_result $ok "both namespaces hold both SAs (rfc4106(gcm(aes)))"
pol=$(ip -n "$(e2e_ns 1)" xfrm policy | grep -c "proto esp")
[ "$pol" -ge 2 ]
tap_result $? "R1 holds the policies requiring ESP ($pol templates)"
# The SAs' kernel lifetimes (peerkey_lifetimes; the defaults R 86400 s and
# T 3600 s): soft in [87300, 89100], hard in [90120, 91020], each SA its
# own jitter.
life() {	# N SPI(decimal): "SOFT HARD", that SA's add-expiry seconds
	ip -s -n "$(e2e_ns "$1")" xfrm state list spi "$(printf '0x%08x' "$2")" 2>/dev/null |
		sed -n 's/.*expire add: soft \([0-9]*\)(sec), hard \([0-9]*\)(sec).*/\1 \2/p'
}
in_window() { [ "$1" -ge 87300 ] && [ "$1" -le 89100 ] && [ "$2" -ge 90120 ] && [ "$2" -le 91020 ]; }
l_in=$(life 1 "$in1") l_out=$(life 1 "$out1")
# shellcheck disable=SC2086 # two numbers each
in_window $l_in && in_window $l_out && [ "$l_in" != "$l_out" ]
tap_result $? "R1's SAs expire soft/hard after ${l_in// //} s (in) and ${l_out// //} s (out): inside the window, jittered apart"
e2e_say "R1 and R2 authenticated each other (mutual TLS 1.3) and agreed ESP keys"
e2e_say "over the same connection; each installed them through xfrm:"
e2e_show 1 show peers security
demo_xfrm 1

step "marker traffic R2 -> R1 on the wire"
cat >"$E2E/sniff.py" <<'PYEOF'
import signal, socket, struct, sys
run = [True]
signal.signal(signal.SIGTERM, lambda *a: run.__setitem__(0, False))
c = {"esp": 0, "udp": 0, "marker": 0}
try:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((sys.argv[1], 0))
    s.settimeout(0.2)
    open(sys.argv[2] + ".ready", "w").close()
    while run[0]:
        try:
            f = s.recv(65535)
        except (socket.timeout, InterruptedError):
            continue
        if b"SVRCERT-PLAINTEXT-MARKER" in f:
            c["marker"] += 1
        if len(f) < 42 or f[12:14] != b"\x08\x00":
            continue
        ihl = (f[14] & 15) * 4
        if f[23] == 50:
            c["esp"] += 1
        elif f[23] == 17 and struct.unpack("!H", f[14 + ihl + 2:14 + ihl + 4])[0] == int(sys.argv[3]):
            c["udp"] += 1
finally:
    with open(sys.argv[2], "w") as out:
        out.write(" ".join("%s=%d" % kv for kv in c.items()) + "\n")
PYEOF
cat >"$E2E/marker.py" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(int(sys.argv[4])):
    s.sendto(b"SVRCERT-PLAINTEXT-MARKER %06d" % i, (sys.argv[2], int(sys.argv[3])))
PYEOF
cap=$E2E/cap
ip netns exec "$E2E_NS-sw" "$E2E_PY" "$E2E/sniff.py" p1 "$cap" "$E2E_PORT" 2>"$cap.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for 60 test -e "$cap.ready" || tap_diag "capture not ready"
e2e_snap 1 "$E2E/s0"
e2e_recv_start 1 || tap_diag "receiver at R1 not ready"
ip netns exec "$(e2e_ns 2)" "$E2E_PY" "$E2E/marker.py" "$(e2e_addr 2)" "$(e2e_addr 1)" "$E2E_PORT" "$N"
sleep 2
got=$(e2e_recv_stop)
kill -TERM "$spid"; wait "$spid"
wait_for 30 test -s "$cap"
c=$(cat "$cap")
tap_diag "capture on R1's link: $c; R1 received $got of $N"
esp=$(sed -n 's/.*esp=\([0-9]*\).*/\1/p' <<<"$c")
marker=$(sed -n 's/.*marker=\([0-9]*\).*/\1/p' <<<"$c")
udp=$(sed -n 's/.*udp=\([0-9]*\).*/\1/p' <<<"$c")
[ "${got:-0}" -eq "$N" ]
tap_result $? "R1 received all $N marker packets from R2"
[ "${esp:-0}" -ge "$N" ] && [ "${marker:-1}" -eq 0 ] && [ "${udp:-1}" -eq 0 ]
tap_result $? "the link carried ESP ($esp frames), never the marker ($marker) nor plain UDP ($udp)"
# Each packet twice at PRE_ROUTING: as ESP, then decrypted with its sec_path.
e2e_snap 1 "$E2E/s1"
moved=$(e2e_moved "$E2E/s0" "$E2E/s1")
ok=$(sed -n 's/^accepted\.ok=\([0-9]*\)$/\1/p' <<<"$moved")
[ "${ok:-0}" -ge "$N" ]
tap_result $? "R1's svrcert.ko counted R2's ESP traffic ok, nothing else ($moved)"

e2e_say "R2 sent $N UDP packets carrying a plaintext marker to R1; R1 received $got."
e2e_say "A capture on R1's link saw $esp ESP frames, the marker $marker times, plain UDP $udp times."

step "plain packets claiming R2's address: unprotected"
esp=$(rctl 1 show peers r2 -j |
	jq -r '.esp | "\(.required) \(.from | join(",")) \(.protect) \(.auth_port) \(.peer_auth_port)"')
assert_eq "R1's kernel requires ESP from R2's address, all IP, but TCP to and from $E2E_AUTH_PORT" \
	"true $(e2e_addr 2) all $E2E_AUTH_PORT $E2E_AUTH_PORT" "$esp"
# R3 sends with R2's source address (IP_TRANSPARENT); sw forwards it (the
# guest's rp_filter is the kernel's default, 0).
spoofed() {	# WANT: R1's counters moved by exactly that since s0
	e2e_snap 1 "$E2E/s1"
	moved=$(e2e_moved "$E2E/s0" "$E2E/s1")
	[ "$moved" = "$1" ]
}
spoof() {	# COUNT WANT: R3 -> R1 claiming R2; sets moved (polled up to 30 s)
	cp "$E2E/s1" "$E2E/s0"
	ip netns exec "$(e2e_ns 3)" "$E2E_TOOLS/udpsend" -s "$(e2e_addr 2)" -d "$(e2e_addr 1)" \
		-p "$E2E_PORT" -c "$1" -r 500 >/dev/null
	wait_for 30 spoofed "$2"
}
e2e_recv_start 1 || tap_diag "receiver at R1 not ready"
spoof 20 dropped.unprotected=20
assert_eq "fail-hard: R3's 20 plain packets as R2 counted and dropped as unprotected" \
	"dropped.unprotected=20" "$moved"
rctl 1 set failure-mode fail-soft
spoof 20 accepted.unprotected=20
assert_eq "fail-soft: counted as unprotected and passed on by svrcert.ko" \
	"accepted.unprotected=20" "$moved"
rctl 1 set failure-mode fail-hard
got=$(e2e_recv_stop)
assert_eq "none of the 40 delivered (fail-soft: xfrm's inbound policy drops them)" 0 "$got"
e2e_say "R3 sent plain UDP with R2's address: R1's svrcert.ko counted it unprotected"
e2e_say "(and dropped it under fail-hard); ESP from R2 itself counted ok."

# show stats security COUNTER: "peer rekey success" -> its value at router N
sec_count() {
	rctl "$1" show stats security 2>/dev/null |
		awk -v want="$2" '{ v = $NF; $NF = ""; sub(/ +$/, ""); gsub(/  +/, " ") }
			$0 == want { print v }'
}
step "$REKEYS rekeys by svrcertd under traffic both ways ($PPS packets/s each): make-before-break, 0 lost"
# svrcertctl peer rekey --all, REKEYS times, each time until both
# daemons log the keys of the next index installed (read from their logs in
# bash: no program started per poll). One udpsend and one udprecv per
# direction for the whole step. R1's `ip xfrm monitor SA` sees every SA R1
# adds or deletes, keys included (R1's inbound SA is R2's outbound one and
# the other way round): compared here, never printed.
read -r rk1 idx in1 out1 fp2 <<<"$(e2e_peer_json 1 r2 |
	jq -r '"\(.keys.rekeys) \(.keys.index) \(.keys.spi_in) \(.keys.spi_out) \(.fingerprint)"')"
fp1=$(e2e_peer_json 2 r1 | jq -r .fingerprint)
# Asked at the router with the lower certificate fingerprint, which starts
# agreements: one TLS handshake per rekey (asked at the other, it calls
# first to ask for one: two).
lo=1; [[ $fp2 < $fp1 ]] && lo=2
ok1=$(sec_count 1 "peer rekey success") ok2=$(sec_count 2 "peer rekey success")
# line-buffered: killed at the end, a block-buffered monitor would lose
# its last block and may leave a line cut inside a key
stdbuf -oL ip -n "$(e2e_ns 1)" xfrm monitor SA >"$E2E/mon1" 2>&1 &
mon=$!
on_exit "kill $mon 2>/dev/null"
for n in 1 2; do
	rm -f "$E2E/rk-recv$n"
	ip netns exec "$(e2e_ns "$n")" "$E2E_TOOLS/udprecv" -p "$E2E_PORT" -o "$E2E/rk-recv$n" >/dev/null &
	RK_RECV[n]=$!
	on_exit "kill ${RK_RECV[n]} 2>/dev/null"
done
wait_for 60 test -s "$E2E/rk-recv1" -a -s "$E2E/rk-recv2" || tap_diag "receivers not ready"
# the monitor has bound its socket once it sleeps (S) holding fd 3
mon_ready() { local st; read -r _ _ st _ <"/proc/$mon/stat" && [ "$st" = S ] && [ -e "/proc/$mon/fd/3" ]; }
wait_for 60 mon_ready || tap_diag "xfrm monitor not ready"
sa_keys() {	# N: "SPI KEY" of router N's SAs, for the comparison only
	ip -n "$(e2e_ns "$1")" xfrm state | awk '/proto esp spi/ { spi = $4 } /aead/ { print spi, $3 }'
}
sa_keys 1 >"$E2E/keys"
for n in 1 2; do
	ip netns exec "$(e2e_ns "$n")" "$E2E_TOOLS/udpsend" -s "$(e2e_addr "$n")" \
		-d "$(e2e_addr $((3 - n)))" -p "$E2E_PORT" -r "$PPS" -t 3600 >"$E2E/rk-sent$n" &
	RK_SEND[n]=$!
	on_exit "kill ${RK_SEND[n]} 2>/dev/null"
done
log_open 1
log_open 2
re1='peer r2: ESP keys of index ([0-9]+) installed \(SPI in (0x[0-9a-f]+), out (0x[0-9a-f]+)\)'
re2=${re1/r2/r1}
# installed IDX: both daemons logged keys of an index above IDX; sets
# I1 IN1 OUT1 (R1's index and SPIs) and I2 IN2 OUT2
installed() {
	while [ -z "$I1" ] && log_next 1; do
		[[ $LINE =~ $re1 ]] && [ "${BASH_REMATCH[1]}" -gt "$1" ] &&
			I1=${BASH_REMATCH[1]} IN1=${BASH_REMATCH[2]} OUT1=${BASH_REMATCH[3]}
	done
	while [ -z "$I2" ] && log_next 2; do
		[[ $LINE =~ $re2 ]] && [ "${BASH_REMATCH[1]}" -gt "$1" ] &&
			I2=${BASH_REMATCH[1]} IN2=${BASH_REMATCH[2]} OUT2=${BASH_REMATCH[3]}
	done
	[ -n "$I1" ] && [ -n "$I2" ]
}
t_rk=$EPOCHSECONDS
bad=() done_n=0 first=
for ((i = 1; i <= REKEYS; i++)); do
	I1='' I2=''
	# svrcertctl gives up on a reply after 5 s, which a loaded guest can
	# take: then the log says whether svrcertd took the request.
	rctl "$lo" peer rekey --all >"$E2E/rekey.out" 2>&1 ||
		tap_diag "rekey $i: $(cat "$E2E/rekey.out") (new keys are looked for all the same)"
	wait_for "$WAIT" installed "$idx" || { bad+=("rekey $i: no new keys on both sides"); break; }
	# a new index, the same on both sides, new SPIs crosswise
	[ "$I1" = "$I2" ] && [ "$IN1" = "$OUT2" ] && [ "$OUT1" = "$IN2" ] &&
		[ "$IN1" != "$(printf '0x%x' "$in1")" ] && [ "$OUT1" != "$(printf '0x%x' "$out1")" ] ||
		bad+=("rekey $i: R1 index $I1 in $IN1 out $OUT1, R2 index $I2 in $IN2 out $OUT2")
	[ $i -gt 1 ] || first="index $I1 (R1 in $IN1, out $OUT1)"
	old_in1=$in1 old_out1=$out1 idx=$I1 in1=$((IN1)) out1=$((OUT1)) done_n=$i
done
t_last=$EPOCHSECONDS
[ ${#bad[@]} -eq 0 ] || why_not
assert_eq "$REKEYS rekeys asked at R$lo ($(( t_last - t_rk )) s): each a new index on both sides ($first ... index $idx), new SPIs crosswise" \
	"$REKEYS ok" "$done_n $( [ ${#bad[@]} -eq 0 ] && echo ok || printf '%s; ' "${bad[@]}")"
# Right after the last: the new SAs and the replaced pair, in and out,
# kept for the grace period (make-before-break: R1's old inbound is R2's
# old outbound; the senders already moved to the new outbound SA when it
# was added); the pair replaced before is gone.
st1=$(ip -n "$(e2e_ns 1)" xfrm state) st2=$(ip -n "$(e2e_ns 2)" xfrm state)
n1=$(grep -c 'proto esp spi' <<<"$st1") n2=$(grep -c 'proto esp spi' <<<"$st2")
[ "$n1" -eq 4 ] && [ "$n2" -eq 4 ] &&
	grep -q "spi $(printf '0x%08x' "$in1")" <<<"$st1" && grep -q "spi $(printf '0x%08x' "$out1")" <<<"$st1" &&
	grep -q "spi $(printf '0x%08x' "$in1")" <<<"$st2" && grep -q "spi $(printf '0x%08x' "$out1")" <<<"$st2" &&
	grep -q "spi $(printf '0x%08x' "$old_in1")" <<<"$st1" && grep -q "spi $(printf '0x%08x' "$old_out1")" <<<"$st1" &&
	grep -q "spi $(printf '0x%08x' "$old_in1")" <<<"$st2" && grep -q "spi $(printf '0x%08x' "$old_out1")" <<<"$st2"
tap_result $? "after the last: each side holds the new SAs and the replaced pair only ($n1, $n2 SAs)"
sec=$(rctl 1 show peers security r2 2>&1)
grep -q "rekeys: *$((rk1 + REKEYS))" <<<"$sec" && grep -q "$(printf '0x%08x' "$in1")" <<<"$sec"
tap_result $? "svrcertctl show peers security: the last SPI in, $((rk1 + REKEYS)) rekeys" || tap_diag "$sec"
e2e_say "svrcertctl peer rekey --all, $REKEYS times under traffic: a new TLS handshake,"
e2e_say "new keys and SPIs each time; new SAs go in before the old ones leave."
e2e_show 1 show peers security r2

# 0 lost: the senders stop, then each receiver is asked (SIGUSR1) until it
# counts what was sent to it.
sleep 1
for n in 1 2; do kill -TERM "${RK_SEND[n]}"; wait "${RK_SEND[n]}"; done
read -r sent21 fail21 <<<"$(sent_field "$E2E/rk-sent2")"
read -r sent12 fail12 <<<"$(sent_field "$E2E/rk-sent1")"
wait_for 20 rx_is "${RK_RECV[1]}" "$E2E/rk-recv1" "${sent21:-x}"
wait_for 20 rx_is "${RK_RECV[2]}" "$E2E/rk-recv2" "${sent12:-x}"
for n in 1 2; do kill -TERM "${RK_RECV[n]}"; wait "${RK_RECV[n]}"; done
got1=$(rx_field "$E2E/rk-recv1") got2=$(rx_field "$E2E/rk-recv2")
# A send the kernel refused (udpsend's "failed") is a loss too: it was seen
# (1 in ~9 000) while the replaced outbound SA was deleted at once, and
# is why that SA now stays for the grace period (peerauth.md).
[ "${sent21:-0}" -gt 0 ] && [ "${sent12:-0}" -gt 0 ] && [ "$fail21$fail12" = 00 ] &&
	[ "$got1" = "$sent21" ] && [ "$got2" = "$sent12" ]
tap_result $? "0 packets lost across the rekeys, none refused: R2 -> R1 sent $sent21 (refused $fail21), received $got1; R1 -> R2 sent $sent12 (refused $fail12), received $got2"

rekeys_counted() {
	[ "$(sec_count 1 "peer rekey success")" = $((ok1 + REKEYS)) ] &&
		[ "$(sec_count 2 "peer rekey success")" = $((ok2 + REKEYS)) ]
}
wait_for 30 rekeys_counted
tap_result $? "show stats security: $REKEYS rekeys more on each side ($ok1 -> $(sec_count 1 "peer rekey success"), $ok2 -> $(sec_count 2 "peer rekey success"))"
# The old inbound SAs: gone after the grace period (30 s), counted from the
# last rekey; polled from then on.
gone() {
	st1=$(ip -n "$(e2e_ns 1)" xfrm state) st2=$(ip -n "$(e2e_ns 2)" xfrm state)
	[ "$(grep -c 'proto esp spi' <<<"$st1")" -eq 2 ] && [ "$(grep -c 'proto esp spi' <<<"$st2")" -eq 2 ]
}
[ $(( t_last + 29 - EPOCHSECONDS )) -le 0 ] || sleep $(( t_last + 29 - EPOCHSECONDS ))
wait_for $((60 * slow)) gone
rc=$?
left=$(( EPOCHSECONDS - t_last ))
[ $rc -eq 0 ] || why_not
grep -q "spi $(printf '0x%08x' "$in1")" <<<"$st1" && grep -q "spi $(printf '0x%08x' "$out1")" <<<"$st1" &&
	grep -q "spi $(printf '0x%08x' "$in1")" <<<"$st2" && grep -q "spi $(printf '0x%08x' "$out1")" <<<"$st2" ||
	rc=1
tap_result $rc "the old SAs, in and out, are gone after the grace period (seen ${left}s after the last rekey): the newest 2 SAs on each side"
kill "$mon"
wait "$mon" 2>/dev/null
# whole SPIs and keys only (32-byte key + 4-byte salt)
awk '/proto esp spi/ { spi = $4 } /aead/ && length($3) == 74 && $3 ~ /^0x[0-9a-f]+$/ { print spi, $3 }' \
	"$E2E/mon1" >>"$E2E/keys"
sort -u "$E2E/keys" >"$E2E/keys.u"
n_sa=$(wc -l <"$E2E/keys.u")
n_spi=$(cut -d' ' -f1 "$E2E/keys.u" | sort -u | wc -l)
n_key=$(cut -d' ' -f2 "$E2E/keys.u" | sort -u | wc -l)
[ "$n_sa" -ge $((2 * (REKEYS + 1))) ] && [ "$n_spi" -eq "$n_sa" ] && [ "$n_key" -eq "$n_sa" ]
tap_result $? "every SA its own key: $n_sa SAs over the step (>= $((2 * (REKEYS + 1)))), $n_spi SPIs, $n_key keys"
rm -f "$E2E/keys" "$E2E/keys.u" "$E2E/mon1"

step "no key bytes anywhere the daemons write"
# The keys are in the kernel only: read them back from R1's SAs and look
# for each (hex, as ip prints them, without the salt) in what svrcertd wrote.
keys=$(ip -n "$(e2e_ns 1)" xfrm state | sed -n 's/.*aead rfc4106(gcm(aes)) 0x\([0-9a-f]\{64\}\).*/\1/p')
leak=0
for k in $keys; do
	for f in "$E2E"/r[12]/daemon.log "$E2E"/r[12]/state/audit.log; do
		grep -qi "$k" "$f" 2>/dev/null && { tap_diag "key found in $f"; leak=1; }
	done
	for n in 1 2; do
		e2e_daemon_cmd "$n" peers | grep -qi "$k" && { tap_diag "key in R$n peers reply"; leak=1; }
	done
done
[ -n "$keys" ] && [ $leak -eq 0 ]
tap_result $? "no key ($(wc -w <<<"$keys") read back from the kernel) in logs, audit or status"
step "R2's svrcertd killed (SIGKILL) and restarted: no stale state, keys again"
# The kernel keeps a killed daemon's SAs and policies; the new svrcertd
# removes them at start (pa_keys_start) and the pair agrees new keys.
t_kill=$(date +%s)
# One dump per look (a process start costs about a second in a TCG guest).
n_pol2=$(ip -n "$(e2e_ns 2)" xfrm policy | grep -c '^src')
kill -KILL "$E2E_DAEMON_PID_2" 2>/dev/null
wait "$E2E_DAEMON_PID_2" 2>/dev/null
st2=$(ip -n "$(e2e_ns 2)" xfrm state)
n_sa_killed=$(grep -c 'aead rfc4106' <<<"$st2")
grep -q "spi $(printf '0x%08x' "$in1")" <<<"$st2" && grep -q "spi $(printf '0x%08x' "$out1")" <<<"$st2"
tap_result $? "the killed daemon's SAs are still in R2's kernel ($n_sa_killed)"
e2e_daemon_start 2
rekeyed_after_kill() {	# sets K1, K2: the new keys at R1 and R2
	K1=$(e2e_peer_json 1 r2 | jq -c .keys) && K2=$(e2e_peer_json 2 r1 | jq -c .keys) &&
		jq -en --argjson a "$K1" --argjson b "$K2" --argjson old "$out1" \
			'$b.state == "established" and $b.spi_in != $old and
			 $b.spi_in == $a.spi_out and $b.spi_out == $a.spi_in'
}
K1= K2=
wait_for "$WAIT" rekeyed_after_kill
rc=$?
[ $rc -eq 0 ] || why_not
tap_result $rc "R1 and R2 agreed new keys after R2's restart ($(( $(date +%s) - t_kill )) s after the kill)"
tap_diag "R1: $K1" "R2: $K2"
# None of the killed run's SAs is left, the new ones are in. (A second
# agreement right after the first is allowed: its replaced inbound SA
# then waits out its grace period beside them.)
st2=$(ip -n "$(e2e_ns 2)" xfrm state)
! grep -q -e "spi $(printf '0x%08x' "$in1")" -e "spi $(printf '0x%08x' "$out1")" <<<"$st2" &&
	grep -q "spi $(printf '0x%08x' "$(jq -r .spi_in <<<"$K2")")" <<<"$st2" &&
	grep -q "spi $(printf '0x%08x' "$(jq -r .spi_out <<<"$K2")")" <<<"$st2"
tap_result $? "R2's kernel holds the new SAs and none of the killed run's"
n_pol2b=$(ip -n "$(e2e_ns 2)" xfrm policy | grep -c '^src')
[ "$n_pol2b" -eq "$n_pol2" ]
tap_result $? "R2's kernel holds as many svrcert policies as before the kill ($n_pol2b, $n_pol2)"
grep -q "removed $n_sa_killed stale SA(s) and $n_pol2 policy(ies) of a previous run" \
	"$(e2e_dir 2)/daemon.log"
tap_result $? "R2's new svrcertd removed all $n_sa_killed SAs and $n_pol2 policies the killed one left"
read -r in1 out1 <<<"$(jq -r '"\(.spi_in) \(.spi_out)"' <<<"$K1")"
tap_diag "kill to keys again and checked: $(( $(date +%s) - t_kill )) s"

step "svrcert.ko unloaded and loaded again: peers and keys come back"
# Only the module goes (rmmod under R2's ESP traffic; the daemons, the SAs
# and everything else stay). svrcertd sees the module return (genetlink
# notification, or its check) and binds every peer again as it was: R2
# with ESP required. (The family alias may have the kernel load the module
# for svrcertd first: module_load accepts that.)
sa_sig() {	# N: "SPI:KEY ..." of router N's SAs, compared here, never printed
	local l spi='' out=''
	while IFS= read -r l; do
		[[ $l =~ proto\ esp\ spi\ (0x[0-9a-f]+) ]] && spi=${BASH_REMATCH[1]}
		[[ $l =~ aead\ [^\ ]+\ (0x[0-9a-f]+) ]] && out+="$spi:${BASH_REMATCH[1]} "
	done <<<"$(ip -n "$(e2e_ns "$1")" xfrm state)"	# (the guest has no /dev/fd for <(...))
	echo "$out"
}
spis() { local w out=; for w in $1; do out+="${w%%:*} "; done; echo "$out"; }
sig1=$(sa_sig 1) sig2=$(sa_sig 2)
e2e_recv_start 1 || tap_diag "receiver at R1 not ready"
ip netns exec "$(e2e_ns 2)" "$E2E_TOOLS/udpsend" -s "$(e2e_addr 2)" -d "$(e2e_addr 1)" \
	-p "$E2E_PORT" -r 200 -t 3600 >"$E2E/rl-sent" &
rl_send=$!
on_exit "kill $rl_send 2>/dev/null"
flowing() { kill -USR1 "$E2E_RECV_PID" && sleep 0.2 && [ "$(rx_field "$E2E_RECV_OUT")" -ge "$1" ]; }
wait_for 60 flowing 50 || tap_diag "no traffic at R1 before the unload"
t_rl=$EPOCHSECONDS
rmmod svrcert
tap_result $? "rmmod svrcert under R2's ESP traffic, nothing else stopped"
module_load
tap_result $? "svrcert.ko loaded again"
rebound() {	# N PEER: router N's kernel holds PEER valid with ESP required from its address
	P=$(rctl "$1" show peers "$2" -j 2>/dev/null) &&
		jq -e --arg a "$(e2e_addr "${2#r}")" \
			'.state == "valid" and .esp.required == true and any(.esp.from[]; . == $a)' \
			<<<"$P" >/dev/null
}
# and the policy is svrcertd's again (fail-hard, peer-validation on)
policy_back() {
	rctl 1 show policy -j 2>/dev/null |
		jq -e '.peer_validation == true and .failure_mode == "fail-hard"' >/dev/null
}
P1=
wait_for "$WAIT" rebound 1 r2 && P1=$P && wait_for 60 rebound 2 r1 && wait_for 60 policy_back
rc=$?
[ $rc -eq 0 ] || why_not
tap_result $rc "svrcertd bound the peers again: R1 requires ESP from R2, R2 from R1 (show peers), fail-hard again ($(( EPOCHSECONDS - t_rl )) s after the unload)"
# Every SA now was there before (an old pair may have ended its grace
# period meanwhile), the keys' own SAs among them on both sides.
subset() {	# A B: A is not empty and every SPI:KEY of A is in B
	local w
	[ -n "$1" ] || return 1
	for w in $1; do [[ " $2 " == *" $w "* ]] || return 1; done
}
read -r ci co <<<"$(jq -r '.authentication.keys | "\(.spi_in) \(.spi_out)"' <<<"$P1")"
ci=$(printf '0x%08x' "$ci") co=$(printf '0x%08x' "$co")
s1=$(sa_sig 1) s2=$(sa_sig 2)
subset "$s1" "$sig1" && subset "$s2" "$sig2" &&
	[[ $s1 == *"$ci:"* && $s1 == *"$co:"* && $s2 == *"$ci:"* && $s2 == *"$co:"* ]]
tap_result $? "the SAs are untouched: the keys' SAs (SPI in $ci, out $co) with the same keys on both sides, no new one" ||
	tap_diag "before: R1 $(spis "$sig1") R2 $(spis "$sig2")" "after: R1 $(spis "$s1") R2 $(spis "$s2")"
e2e_snap 1 "$E2E/s0"
kill -USR1 "$E2E_RECV_PID" && sleep 0.2
c0=$(rx_field "$E2E_RECV_OUT")
wait_for 60 flowing $((c0 + 100))
rc=$?
e2e_snap 1 "$E2E/s1"
moved=$(e2e_moved "$E2E/s0" "$E2E/s1")
[ $rc -eq 0 ] && [[ $moved =~ ^accepted\.ok=[0-9]+$ ]]
tap_result $? "R2's ESP traffic passes again, judged ok by the new module ($moved)"
kill -TERM "$rl_send"
wait "$rl_send"
read -r rl_sent rl_fail <<<"$(sent_field "$E2E/rl-sent")"
wait_for 20 rx_is "$E2E_RECV_PID" "$E2E_RECV_OUT" "${rl_sent:-x}"
got=$(e2e_recv_stop)
tap_diag "across the reload R2 sent $rl_sent (failed $rl_fail), R1 received $got"
e2e_snap 1 "$E2E/s1"
spoof 20 dropped.unprotected=20
assert_eq "R3's 20 plain packets as R2 counted and dropped as unprotected again" \
	"dropped.unprotected=20" "$moved"

step "R2 revoked under fail-soft: the keys stay, the alarm fires"
# svrcertctl set, as an operator would: svrcertd follows its override. R2
# learns from the same CRL that its own certificate is revoked, and keeps
# its keys under fail-soft too.
rctl 1 set failure-mode fail-soft >/dev/null && rctl 2 set failure-mode fail-soft >/dev/null
tap_result $? "svrcertctl set failure-mode fail-soft at R1 and R2"
read -r in1 out1 <<<"$(e2e_peer_json 1 r2 | jq -r '.keys | "\(.spi_in) \(.spi_out)"')"
log_skip 1
"$SVRCERT_TOP/tests/pki/mkpki.sh" revoke "$PKI" "$R2_CERT" >/dev/null 2>&1 && e2e_crl_publish
judged_revoked() {
	P=$(rctl 1 show peers r2 -j 2>/dev/null) &&
		jq -e '.state == "revoked" and .authentication.state == "revoked"' <<<"$P" >/dev/null
}
wait_for "$WAIT" judged_revoked
rc=$?
[ $rc -eq 0 ] || why_not
rejudged=1
while log_next 1; do
	[[ $LINE != *"peer r2 (cached, crl-update): certificate revoked"* ]] || rejudged=0
done
[ $rc -eq 0 ] && [ $rejudged -eq 0 ]
tap_result $? "R1 judged R2 again at the CRL update: revoked, in svrcertd and svrcert.ko (show peers r2)"
jq -e --argjson i "$in1" --argjson o "$out1" '.esp.required == true and
	.authentication.keys.state == "established" and .authentication.keys.spi_in == $i and
	.authentication.keys.spi_out == $o and .authentication.peering == "active"' <<<"$P" >/dev/null
tap_result $? "fail-soft: R1 keeps R2's keys (established, SPI in $in1, out $out1; ESP required), the peering active"
st1=$(ip -n "$(e2e_ns 1)" xfrm state)
pol=$(ip -n "$(e2e_ns 1)" xfrm policy | grep -c "proto esp")
grep -q "spi $(printf '0x%08x' "$in1")" <<<"$st1" && grep -q "spi $(printf '0x%08x' "$out1")" <<<"$st1" &&
	[ "$pol" -ge 2 ]
tap_result $? "R1's kernel still holds both SAs and the ESP policies ($pol templates)"
# R2's svrcertd tells its kernel its own certificate is revoked in the same
# check that would cut every peer's keys under fail-hard.
own_revoked() {
	rctl 2 show policy -j 2>/dev/null | jq -e '.self_state == "revoked"' >/dev/null
}
wait_for "$WAIT" own_revoked
rc=$?
k2s=$(e2e_peer_json 2 r1 | jq -r .keys.state)
[ $rc -eq 0 ] && [ "$k2s" = established ]
tap_result $? "R2 judged its own certificate revoked and keeps its keys under fail-soft (keys $k2s)"
e2e_burst 2 1 50
[ "$E2E_SENT" = 50 ] && [ "$E2E_RX" = 50 ] && [[ $E2E_MOVED != *dropped* ]]
tap_result $? "R2's traffic still passes: sent $E2E_SENT, received $E2E_RX (R1's svrcert.ko: $E2E_MOVED)"
al=$(rctl 1 show alarms 2>&1)
grep -Eq '^peer-certificate r2 +critical' <<<"$al"
tap_result $? "show alarms at R1: the critical peer-certificate alarm of r2" || tap_diag "$al"
e2e_say "The CA revoked R2. Under fail-soft R1 judged it revoked at the CRL update,"
e2e_say "raised the alarm, and kept R2's keys: its traffic still passes."
e2e_show 1 show alarms

step "a new certificate for R2: R1 judges it valid"
openssl req -new -key "$PKI/r2.key" -subj "/O=svrcert test/CN=r2" -out "$E2E/r2b.csr" 2>/dev/null &&
	e2e_issue "$E2E/r2b.csr" "$E2E/r2b.pem" $((EPOCHSECONDS - 60)) $((EPOCHSECONDS + 30 * 86400)) &&
	rctl 2 import "$E2E/r2b.pem" --identity r2 >"$E2E/prov2b.log" 2>&1
require $? "R2's new certificate issued and imported" "$(tail -5 "$E2E/prov2b.log" "$E2E/r2b.pem.log" 2>&1)"
wait_for "$WAIT" e2e_peer_is 1 r2 valid
rc=$?
[ $rc -eq 0 ] || why_not
require $rc "R1 judges R2's new certificate valid (svrcertd and svrcert.ko)"

step "R2 revoked under fail-hard: R1 cuts its keys within 1 s of the CRL"
rctl 1 set failure-mode fail-hard >/dev/null
tap_result $? "svrcertctl set failure-mode fail-hard at R1"
read -r in1 out1 <<<"$(e2e_peer_json 1 r2 | jq -r '.keys | "\(.spi_in) \(.spi_out)"')"
log_skip 1
"$SVRCERT_TOP/tests/pki/mkpki.sh" revoke "$PKI" "$E2E/r2b.pem" >/dev/null 2>&1 && e2e_crl_publish
# R1's log as it grows, each line stamped when bash reads it (every 0.2 s):
# the CRL's keys fed to the kernel (the update learned), then R2's keys
# deleted. The last "fed" before the deletion is the CRL's.
t_fed='' t_cut=''
cut_logged() {
	while log_next 1; do
		[[ $LINE != *"CRL: fed "* ]] || t_fed=$EPOCHREALTIME
		[[ $LINE != *"peer r2: ESP keys deleted: revoked"* ]] || { t_cut=$EPOCHREALTIME; return 0; }
	done
	return 1
}
wait_for "$WAIT" cut_logged
rc=$?
[ $rc -eq 0 ] || why_not
if [ $rc -eq 0 ] && [ -n "$t_fed" ]; then
	ms=$(( (${t_cut/./} - ${t_fed/./}) / 1000 ))
	[ "$ms" -le 1000 ]
	tap_result $? "R1's log: R2's keys deleted ${ms} ms after the CRL's update was fed (<= 1000)"
else
	tap_not_ok "R1's log: R2's keys deleted after the CRL's update was fed" \
		"fed seen: ${t_fed:-never}, keys deleted: ${t_cut:-never}"
fi
cut() {
	[ "$(e2e_peer_json 1 r2 | jq -r .state)" = revoked ] &&
		! ip -n "$(e2e_ns 1)" xfrm state | grep -q 'aead'
}
wait_for 30 cut
rc=$?
[ $rc -eq 0 ] || why_not
tap_result $rc "R1 judged R2 revoked and holds no keyed SA any more (R2's were SPI in $in1, out $out1)"
pol=$(ip -n "$(e2e_ns 1)" xfrm policy | grep -c "proto esp")
[ "$pol" -eq 0 ] && [ "$(e2e_peer_json 1 r2 | jq -r .keys.state)" = none ]
tap_result $? "R1 holds no ESP policy for R2 any more ($pol templates), keys state none"
sa_cut_counted() { [ "$(sec_count 1 "peer SA deleted")" = 1 ]; }
wait_for 30 sa_cut_counted
tap_result $? "show stats security: R1 counts one peer's SAs deleted for revocation, none under fail-soft ($(sec_count 1 "peer SA deleted"))"
e2e_say "The CA revoked R2's new certificate; under fail-hard R1 deleted R2's SAs and"
e2e_say "policies in the turn that took the CRL in: no key is left for a revoked router."

# After the set change nothing from R2 passes R1's svrcert.ko: R2 (fail-soft,
# its keys kept) still sends ESP that R1 can no longer open, or plain UDP
# once its keys go; either way R1's kernel judges R2 revoked on the first
# packet. R2's daemon may call R1's authentication port meanwhile: those
# packets are R2's too, so the per-peer counts are compared, not exact.
step "after the cut: no packet from R2 passes R1"
peer_rx() { rctl 1 show peers r2 -j | jq -r '"\(.rx_accepted) \(.rx_dropped)"'; }
read -r acc0 drop0 <<<"$(peer_rx)"
e2e_burst 2 1 50
read -r acc1 drop1 <<<"$(peer_rx)"
revoked=$(sed -n 's/.*dropped\.revoked=\([0-9]*\).*/\1/p' <<<"$E2E_MOVED")
[ "${E2E_SENT:-0}" -eq 50 ] && [ "${E2E_RX:-1}" -eq 0 ] &&
	[ "$acc1" = "$acc0" ] && [ $((drop1 - drop0)) -ge 50 ] && [ "${revoked:-0}" -ge 50 ] &&
	[[ $E2E_MOVED != *accepted.* ]]
tap_result $? "R2's 50 packets after the cut: $E2E_RX delivered, R1's svrcert.ko accepted $((acc1 - acc0)) and dropped $((drop1 - drop0)) from R2 ($E2E_MOVED)"
e2e_show 1 show peers r2
demo_xfrm 1
e2e_show 1 show stats security

tap_diag "86-peerkeys took $(( $(date +%s) - T0 )) s"
tap_done
