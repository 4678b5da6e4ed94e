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
#  3. `svrcertctl peer rekey --all`: a new agreement (new TLS handshake),
#     new SPIs and the next index on both sides, `show peers security`
#     says so; the old outbound SAs go at once, the old inbound ones after
#     the 30 s grace period
#  4. no key bytes in the daemons' logs, audit logs or "peers" replies
#  5. R2's svrcertd killed (SIGKILL) and restarted: it removes all the SAs
#     and policies the killed run left in the kernel, the pair agrees new
#     keys, and R2's kernel holds those and none of the killed run's SAs
#  6. the CA revokes R2 (fail-hard): after R1's next CRL poll R1 deletes
#     R2's SAs and policies
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-e2e.sh"

slow=1; [ "$SVRCERT_KERNEL" = debug ] && slow=2
WAIT=$((120 * slow))
N=200
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
[ -x "$SVRCERTD" ] || require 1 "$SVRCERTD exists (make all)"
for t in udpsend udprecv; do
	[ -x "$E2E_TOOLS/$t" ] || require 1 "build/tools/$t exists (make all)"
done

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
step "rekey on demand: make-before-break"
# Counted from here: an agreement retried at start (a side that failed
# asks again) is a rekey too.
rk1=$(e2e_peer_json 1 r2 | jq -r .keys.rekeys) rk2=$(e2e_peer_json 2 r1 | jq -r .keys.rekeys)
ok1=$(sec_count 1 "peer rekey success") ok2=$(sec_count 2 "peer rekey success")
rctl 1 peer rekey --all >"$E2E/rekey.out" 2>&1
tap_result $? "svrcertctl peer rekey --all: $(cat "$E2E/rekey.out")"
rekeyed() {
	[ "$(e2e_peer_json 1 r2 | jq -r .keys.rekeys)" = $((rk1 + 1)) ] &&
		[ "$(e2e_peer_json 2 r1 | jq -r .keys.rekeys)" = $((rk2 + 1)) ]
}
wait_for "$WAIT" rekeyed
rc=$?
[ $rc -eq 0 ] || why_not
t_rekey=$(date +%s)
k1b=$(e2e_peer_json 1 r2 | jq -c .keys)
k2b=$(e2e_peer_json 2 r1 | jq -c .keys)
tap_diag "R1: $k1b" "R2: $k2b"
nin1=$(jq -r .spi_in <<<"$k1b") nout1=$(jq -r .spi_out <<<"$k1b")
[ $rc -eq 0 ] && [ "$nin1" != "$in1" ] && [ "$nout1" != "$out1" ] &&
	[ "$nin1" = "$(jq -r .spi_out <<<"$k2b")" ] && [ "$nout1" = "$(jq -r .spi_in <<<"$k2b")" ] &&
	[ "$(jq -r .index <<<"$k1b")" -gt "$(jq -r .index <<<"$k1")" ]
tap_result $? "a new agreement: new SPIs (R1 in $nin1, out $nout1), matching crosswise, a higher index"
sec=$(rctl 1 show peers security r2 2>&1)
tap_diag "$sec"
grep -q "rekeys: *$((rk1 + 1))" <<<"$sec" && grep -q "$(printf '0x%08x' "$nin1")" <<<"$sec"
tap_result $? "svrcertctl show peers security shows the new SPI and the rekey"
e2e_say "svrcertctl peer rekey --all: a new TLS handshake, new keys and SPIs;"
e2e_say "the new SAs go in before the old ones leave (make-before-break)."
e2e_show 1 show peers security r2
# old outbound SAs at once (R1's out1 at R1, R2's out at R2 = in1)
! sa_has 1 "$out1" && ! sa_has 2 "$in1"
tap_result $? "the old outbound SAs are gone at once"
gone() { ! sa_has 1 "$in1" && ! sa_has 2 "$out1"; }
wait_for $((60 * slow)) gone
rc=$?
left=$(( $(date +%s) - t_rekey ))
[ $rc -eq 0 ] || why_not
tap_result $rc "the old inbound SAs are gone after the grace period (seen ${left}s after the rekey)"
for n in 1 2; do for spi in "$nin1" "$nout1"; do sa_has "$n" "$spi" || rc=1; done; done
tap_result $rc "the new SAs are in place on both sides"
in1=$nin1 out1=$nout1
rekeys_counted() {
	[ "$(sec_count 1 "peer rekey success")" = $((ok1 + 1)) ] &&
		[ "$(sec_count 2 "peer rekey success")" = $((ok2 + 1)) ]
}
wait_for 30 rekeys_counted
tap_result $? "show stats security: one rekey more on each side ($ok1 -> $(sec_count 1 "peer rekey success"), $ok2 -> $(sec_count 2 "peer rekey success"))"

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

step "revocation cuts the keys (fail-hard)"
"$SVRCERT_TOP/tests/pki/mkpki.sh" revoke "$PKI" "$R2_CERT" >/dev/null 2>&1 && e2e_crl_publish
cut() {
	[ "$(e2e_peer_json 1 r2 | jq -r .state)" = revoked ] && ! sa_has 1 "$in1" && ! sa_has 1 "$out1"
}
wait_for "$WAIT" cut
rc=$?
[ $rc -eq 0 ] || why_not
tap_result $rc "R1 judged R2 revoked and deleted both of R2's SAs"
pol=$(ip -n "$(e2e_ns 1)" xfrm policy | grep -c "proto esp")
[ "$pol" -eq 0 ] && [ "$(e2e_peer_json 1 r2 | jq -r .keys.state)" = none ]
tap_result $? "R1 holds no ESP policy for R2 any more ($pol templates), keys state none"
grep -q "peer r2: ESP keys deleted: revoked" "$(e2e_dir 1)/daemon.log"
tap_result $? "R1's log says why the keys went"
sa_cut_counted() { [ "$(sec_count 1 "peer SA deleted")" = 1 ]; }
wait_for 30 sa_cut_counted
tap_result $? "show stats security: R1 counts one peer's SAs deleted for revocation ($(sec_count 1 "peer SA deleted"))"
e2e_say "The CA revoked R2; at its next CRL poll R1 judged R2 revoked and deleted"
e2e_say "R2's SAs and policies (fail-hard): no key is left for a revoked router."
e2e_show 1 show peers r2
demo_xfrm 1
e2e_show 1 show stats security

tap_diag "86-peerkeys took $(( $(date +%s) - T0 )) s"
tap_done
