#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The CRL manager end to end: a real HTTP server on router B's loopback
# serves CRLs made with `openssl ca -gencrl` by the test CA; svrcertd runs in
# router B ($NS_B) with a temporary state directory and polls it every
# 2 s; the kernel drops a peer's packets (fail-hard, exact counters) once
# the CRL revoking the peer's certificate has been fetched.
#
#   1. revocation reaches the data path within a poll, the kernel fed the
#      one-key change as one atomic delta (keys_deltas +1, keys_loads
#      unchanged); 304 afterwards;
#   2. bad signature, truncated, garbage, older CRL number: each rejected,
#      counted, alarmed, previous list kept (kernel key count unchanged);
#      a valid CRL bigger than max-size sent chunked (no Content-Length):
#      cut off at the cap, alarmed, previous list kept, pr still dropped;
#   3. server down: crl-unreachable alarm, retries every backoff-interval,
#      recovery clears the alarm;
#   4. module reloaded under a running daemon: the list is fed again, by a
#      bulk load (the daemon cannot know what a new module holds);
#   5. SIGKILL at random moments during $KILLS publishes: the published
#      master.bin and index.json always verify (checked here with dd +
#      sha256sum, independently of the library) and the daemon restarts
#      from them;
#   6. restart with the kernel's set emptied and the server down: the
#      revoked peer is dropped again before any fetch;
#   7. learned keys: pr's key was learned from the kernel's first-seen
#      event in 1.; pv blocked by hand (fingerprint) is learned revoked on
#      its first packet, merged, fed, published, and after a restart with
#      the kernel's set emptied pv is dropped by the learned key alone.
#
# The router holds its own certificate rb (CN rb, its peering name; a plain
# key file, [key] storage = file: no TPM is needed here), so svrcertd itself tells the kernel
# "self-state valid" at each start, after each change of the master list
# and at its checks; nothing sets it by hand.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

N=${SVRCERT_CRL_PACKETS:-50}
WORK=$(mktemp -d)
STATE=$WORK/state
WWW=$WORK/www
CONF=$WORK/svrcert.conf
# The daemon's log also goes to the rig's out share (host side:
# build/guest-<kernel>/run-*/out/); progress markers go to the kernel log.
DLOG=${SVRCERT_OUT:-$WORK}/70-crl-svrcertd.log
: >"$DLOG"
# The SIGKILL loop runs CRL_KILLS rounds (lib.sh's scale table: 10 on the
# debug kernel, where a round takes ~10 s and the property is the
# daemon's, not the kernel's), stopping early when CRL_KILL_BUDGET seconds
# are spent; at least 10 rounds are required.
KILLS=$(scale CRL_KILLS) && KILL_BUDGET=$(scale CRL_KILL_BUDGET) || exit 1
SVRCERTD=${SVRCERTD:-$SVRCERT_TOP/build/svrcertd}
DPID=
SPID=
T0=$(date +%s)
export SVRCERT_CONFIG=$CONF

daemon_stop() {
	[ -n "$DPID" ] || return 0
	kill -"${1:-TERM}" "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}
server_stop() {
	[ -n "$SPID" ] || return 0
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
on_exit 'daemon_stop; server_stop; two_routers_down; [ "${T_FAILED:-0}" = 0 ] || tail -n 40 "$DLOG" | sed "s/^/# /"; rm -rf "$WORK"'

# ---- CA and CRLs ---------------------------------------------------------

pki_init "$WORK/pki" || { t_ok 1 "test CA"; t_done; exit 1; }
# CRL numbers for `openssl ca -gencrl`.
sed -i 's|^serial = .*|&\ncrlnumber = $dir/crlnumber\ndefault_crl_days = 30|' "$PKI/ca.cnf"
echo 01 >"$PKI/crlnumber"

# gencrl OUT.der: the CA's current CRL (number goes up by one)
gencrl() {
	openssl ca -gencrl -config "$PKI/ca.cnf" -out "$WORK/crl.pem" 2>/dev/null &&
	openssl crl -in "$WORK/crl.pem" -outform DER -out "$1"
}
# publish FILE: what the server hands out next (atomic for the server too)
publish_crl() {
	cp "$1" "$WWW/int.crl.tmp" && mv "$WWW/int.crl.tmp" "$WWW/int.crl"
}

pki_cert pr -3600 +86400 && pki_cert pv -3600 +86400
t_ok $? "peer certificates pr (to be revoked) and pv"
mkdir -p "$WWW" "$STATE"
pki_cert rb -3600 +86400 && cp "$PKI/rb.pem" "$STATE/cert.pem" &&
	install -m 0600 "$PKI/leaf.key" "$WORK/rb.key" &&
	openssl pkey -in "$WORK/rb.key" -pubout -out "$STATE/key.pub.pem"
t_ok $? "this router's own certificate rb installed, its key in a file"
gencrl "$WORK/crl1.der"
t_ok $? "CRL 1 (empty) from openssl ca -gencrl"
publish_crl "$WORK/crl1.der"

two_routers_up
t_ok $? "two routers joined by veth"
ctl peer add pr "$PKI/pr.pem" "$(a4 0)" && ctl peer add pv "$PKI/pv.pem" "$(a4 1)"
t_ok $? "peers pr ($(a4 0)) and pv ($(a4 1)) bound in the kernel"

# HTTP server on router B's loopback.
ip netns exec "$NS_B" python3 "$SVRCERT_TOP/tests/unit/crl_server.py" \
	--root "$WWW" --lifetime 1500 >"$WORK/srv.out" 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q '^PORT' "$WORK/srv.out" && break; sleep 0.1; done
HTTP_PORT=$(awk '/^PORT/ { print $2 }' "$WORK/srv.out")
URL=http://127.0.0.1:$HTTP_PORT/crl/int.crl
t_ok $([ -n "$HTTP_PORT" ]; echo $?) "HTTP server on 127.0.0.1:${HTTP_PORT:-?} in router B"

cat >"$CONF" <<EOF
[router]
name = rb
peering-common-name = rb
peer-validation = true
invalid-certificate-behavior = fail-hard
svr-ports = $PORT
[trusted-ca "test"]
file = $PKI/ca.pem
[crl]
url = $URL
polling-interval = 2s
backoff-interval = 1s
timeout = 5s
connect-timeout = 2s
max-size = 64K
[key]
storage = file
key-file = $WORK/rb.key
[daemon]
state-dir = $STATE
control-socket = $WORK/control.sock
audit-log = $STATE/audit.log
EOF

# ---- helpers -------------------------------------------------------------

daemon_start() {
	ip netns exec "$NS_B" "$SVRCERTD" -c "$CONF" --stderr >>"$DLOG" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$WORK/control.sock" ] && ctl crl status >/dev/null 2>&1 && break
		sleep 0.1
	done
	wait_for 10 self_valid
}
# svrcertd judged rb's certificate and told the kernel
self_valid() { [ "$(ctl show policy -j | jq -r .self_state)" = valid ]; }
crl_json() { ctl crl status -j; }
# "Server down": router B's loopback down (connect fails at once); the
# server process and its files stay as they are.
server_down() { ip -n "$NS_B" link set lo down; }
server_up() { ip -n "$NS_B" link set lo up; }
src_field() { crl_json | jq -r ".sources[0].$1"; }
kernel_keys() { ctl show stats -j | jq -r .keys; }
counter() { jq -r ".\"$1\" // 0" "$STATE/counters.json" 2>/dev/null || echo 0; }
alarm_ids() { jq -r '[.[].id] | sort | join(" ")' "$STATE/crl-alarms.json" 2>/dev/null; }
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
crl_number_is() { [ "$(src_field crl_number)" = "$1" ]; }
attempts_above() { [ "$(src_field attempts)" -gt "$1" ]; }
state_is() { [ "$(src_field state)" = "$1" ]; }
keys_are() { [ "$(kernel_keys)" = "$1" ]; }

# send_phase DESC EXPECTED_MOVED: N packets from pr and N from pv
send_phase() {
	local desc=$1 want=$2
	stats_snap "$WORK/before"
	ip netns exec "$NS_A" "$TOOLS/udpsend" -S "$(a4 0)" -n 2 -d "$B4" \
		-p "$PORT" -c $((2 * N)) >/dev/null
	stats_snap "$WORK/after"
	t_is "$(stat_moved "$WORK/before" "$WORK/after")" "$want" "$desc"
}

# ---- 1. revocation reaches the data path ---------------------------------
klog_marker "70-crl: 1. revocation reaches the data path"

daemon_start
t_ok $? "svrcertd started in router B"
wait_for 20 crl_number_is 01
t_ok $? "first fetch: CRL number 01 held"
t_is "$(ctl show policy -j | jq -r '"\(.peer_validation) \(.failure_mode)"')" \
	"true fail-hard" "policy from the configuration: validation on, fail-hard"
send_phase "empty CRL: both peers accepted" "accepted.ok=$((2 * N))"

pki_revoke() {
	openssl ca -config "$PKI/ca.cnf" -revoke "$1" 2>/dev/null
}
pki_revoke "$PKI/pr.pem" && gencrl "$WORK/crl2.der"
t_ok $? "pr revoked at the CA, CRL 2 made"
# How the kernel was fed so far (the start's load); CRL 2 is one key more.
feeds() { ctl show stats -j | jq -r '"\(.keys) \(.keys_deltas) \(.keys_loads)"'; }
read -r _ D0 L0 <<<"$(feeds)"
publish_crl "$WORK/crl2.der"
t1=$(date +%s)
wait_for 20 crl_number_is 02
t_ok $? "CRL 2 fetched within $(($(date +%s) - t1)) s (polling-interval 2 s)"
t_is "$(feeds)" "1 $((D0 + 1)) $L0" \
	"kernel holds 1 key, fed as one atomic delta (keys_deltas +1), no bulk load"
t_is "$(ctl show revoked)" "$(pki_revkey "$PKI/pr.pem")" \
	"the kernel's key = revocation key of pr (openssl asn1parse + sha256sum)"
send_phase "after CRL 2: pr dropped (fail-hard), pv accepted" \
	"accepted.ok=$N dropped.revoked=$N"
t_is "$(jq -r .master.keys "$STATE/index.json")" 1 \
	"index.json: master list of 1 key published"
jq -ce 'select(.type == "system.crl_update" and .detail.added_entries == 1)
	| .detail | keys' "$STATE/audit.log" | tail -n 1 >"$WORK/keys"
t_is "$(cat "$WORK/keys")" \
	'["added_entries","certificate_authority","crl_url","forced","last_updated","next_update","removed_entries","size","success","total_entries"]' \
	"audit system.crl_update has the seed's ten fields"
a=$(src_field attempts)
wait_for 10 attempts_above $((a + 1))
t_is "$(src_field last_result)" "not modified" "next polls: 304 Not Modified"
t_is "$(src_field state)" "ok" "source state ok"

# ---- 2. bad CRLs are rejected, the previous list kept --------------------
klog_marker "70-crl: 2. bad CRLs are rejected, the previous list kept"

cp "$WORK/crl2.der" "$WORK/badsig.der"
last=$(($(stat -c %s "$WORK/badsig.der") - 1))
printf "\\x$(printf %02x $(( $(od -An -tu1 -j "$last" -N1 "$WORK/badsig.der") ^ 1 )))" |
	dd of="$WORK/badsig.der" bs=1 seek="$last" conv=notrunc 2>/dev/null
head -c $(($(stat -c %s "$WORK/crl2.der") / 2)) "$WORK/crl2.der" >"$WORK/trunc.der"
head -c 700 /dev/urandom >"$WORK/garbage.der"
for bad in badsig:"bad signature" trunc:"truncated" garbage:"" crl1:"lower than the held"; do
	name=${bad%%:*} why=${bad#*:}
	f0=$(counter crl-ingestion.failure)
	publish_crl "$WORK/$name.der"
	wait_for 15 state_is invalid
	t_ok $? "$name: source state invalid"
	# The daemon retries every backoff-interval and rejects the same bad
	# CRL each time, so the count is "at least one more", not exact.
	t_ok $([ "$(counter crl-ingestion.failure)" -gt "$f0" ]; echo $?) \
		"$name: crl-ingestion.failure counted"
	[ -z "$why" ] || t_is "$(src_field last_result | grep -c "$why")" 1 \
		"$name: rejected naming the problem ($why)"
	t_is "$(alarm_ids)" "crl-invalid" "$name: crl-invalid alarm raised"
	t_is "$(kernel_keys) $(src_field crl_number)" "1 02" "$name: kernel keys and CRL 02 kept"
	publish_crl "$WORK/crl2.der"
	wait_for 15 state_is ok
	t_is "$(alarm_ids)" "" "$name: good CRL again: alarm cleared"
done

# A valid CRL of the CA (number 99, 4000 entries, ~150 KB) over the 64 KiB
# max-size, sent chunked: only the write callback can stop it. Were it
# taken, the kernel would hold 4000 keys.
"$TOOLS/mkcrl" -k "$PKI/ca.key" -c "$PKI/ca.pem" -n 4000 --number 99 \
	--this 0 -o "$WORK/big.der" 2>/dev/null
big=$(stat -c %s "$WORK/big.der" 2>/dev/null || echo 0)
openssl crl -inform DER -in "$WORK/big.der" -CAfile "$PKI/ca.pem" -noout 2>&1 |
	grep -q "verify OK"
t_ok $? "oversize: a valid CRL of the CA, $big bytes (max-size 65536)"
f0=$(counter crl-fetch.failure)
touch "$WWW/int.crl.chunked"
publish_crl "$WORK/big.der"
te=$(ip netns exec "$NS_B" python3 -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/crl/int.crl")
r = c.getresponse()
print(r.getheader("Transfer-Encoding"), r.getheader("Content-Length"), len(r.read()))' "$HTTP_PORT")
t_is "$te" "chunked None $big" "oversize: served chunked, no Content-Length"
wait_for 15 state_is unreachable
t_ok $? "oversize: fetch failed, source unreachable"
t_is "$(src_field last_result | grep -c 'exceeds the size cap of 65536 bytes')" 1 \
	"oversize: rejected naming the size cap"
t_is "$(alarm_ids)" "crl-unreachable" "oversize: crl-unreachable alarm raised"
t_is "$(jq -r '.[0].message' "$STATE/crl-alarms.json" | grep -c 'size cap')" 1 \
	"oversize: the alarm says why (size cap)"
t_ok $([ "$(counter crl-fetch.failure)" -gt "$f0" ]; echo $?) \
	"oversize: crl-fetch.failure counted"
t_is "$(kernel_keys) $(src_field crl_number)" "1 02" "oversize: kernel keys and CRL 02 kept"
send_phase "oversize served: previous list in force, pr dropped" \
	"accepted.ok=$N dropped.revoked=$N"
rm -f "$WWW/int.crl.chunked"
publish_crl "$WORK/crl2.der"
wait_for 15 state_is ok
t_is "$(alarm_ids)" "" "oversize: CRL 2 again: alarm cleared"

send_phase "after the rejects: pr still dropped" "accepted.ok=$N dropped.revoked=$N"

# ---- 3. server down, backoff, recovery -----------------------------------
klog_marker "70-crl: 3. server down, backoff, recovery"

server_down
f0=$(counter crl-fetch.failure)
wait_for 10 state_is unreachable
t_ok $? "server down: source unreachable"
t_is "$(alarm_ids)" "crl-unreachable" "crl-unreachable alarm raised"
# With the loopback down a connect times out (connect-timeout 2 s); the
# next attempt is backoff-interval (1 s) after each failure: ~3 s a cycle.
a=$(src_field attempts)
sleep 9
a1=$(src_field attempts)
t_ok $([ $((a1 - a)) -ge 2 ] && [ $((a1 - a)) -le 5 ]; echo $?) \
	"retries at backoff-interval: $((a1 - a)) attempts in 9 s (2..5)"
t_ok $(grep -q "CRL fetch failed (attempt [0-9]*, next in 1 s)" "$DLOG"; echo $?) \
	"each failure schedules the next attempt backoff-interval (1 s) later"
t_ok $([ "$(counter crl-fetch.failure)" -gt "$f0" ]; echo $?) "crl-fetch.failure counted"
t_is "$(kernel_keys)" 1 "server down: kernel keeps the list"
server_up
wait_for 15 state_is ok
t_ok $? "server back: source ok"
t_is "$(alarm_ids)" "" "recovery cleared crl-unreachable"

# ---- 4. module reload under a running daemon -----------------------------
klog_marker "70-crl: 4. module reload under a running daemon"

module_reload && ctl set peer-validation on failure-mode fail-hard ports "$PORT-$PORT"
t_ok $? "svrcert.ko reloaded (the kernel's set is empty)"
wait_for 20 keys_are 1
t_ok $? "svrcertd noticed and fed the list again"
t_is "$(feeds)" "1 0 1" "the new module was fed by a bulk load (resync), not a delta"
# svrcertd also told the new module its own-certificate state.
wait_for 10 self_valid
t_ok $? "svrcertd told the new module: self-state valid"
ctl set peer-validation on failure-mode fail-hard ports "$PORT-$PORT"
ctl peer add pr "$PKI/pr.pem" "$(a4 0)" && ctl peer add pv "$PKI/pv.pem" "$(a4 1)"
send_phase "after the module reload: pr dropped" "accepted.ok=$N dropped.revoked=$N"

# ---- 5. SIGKILL during publishes -----------------------------------------
klog_marker "70-crl: 5. SIGKILL during publishes"

# Each file of a publish is replaced atomically (temp, fsync, rename), in
# the order CRL files, master.bin, index.json: a kill between two renames
# leaves every file whole, but index.json may still describe the files of
# the publish before (the next publish, at the next start, rewrites it).
# master_whole: master.bin is a complete list (header count, size,
# payload SHA-256); a master.delta beside it is checked by svrcertd's own
# load at the next start. index_exact: index.json describes exactly the
# files there (master.bin's key count, every CRL file's SHA-256): then those CRL
# files are the whole ones it was written after. crls_whole: every CRL
# file index.json names parses as a CRL (checked only when the index lags:
# each program started costs seconds on the debug kernel).
master_whole() {
	local m=$STATE/master.bin n sum
	[ "$(head -c 7 "$m")" = SVRCRLM ] || return 1
	n=$(od -An -tu8 --endian=big -j 16 -N 8 "$m" | tr -d ' ')
	[ "$(stat -c %s "$m")" = $((64 + 32 * n)) ] || return 1
	sum=$(od -An -tx1 -j 24 -N 32 "$m" | tr -d ' \n')
	[ "$(tail -c +65 "$m" | sha256sum | cut -d' ' -f1)" = "$sum" ]
}
index_exact() {
	[ "$(jq -r '.master.file_keys // .master.keys' "$STATE/index.json")" = \
	  "$(od -An -tu8 --endian=big -j 16 -N 8 "$STATE/master.bin" | tr -d ' ')" ] ||
		return 1
	jq -r '.crls[] | "\(.sha256) \(.file)"' "$STATE/index.json" |
		(cd "$STATE" && sha256sum -c --quiet -) >/dev/null 2>&1
}
master_whole_and_exact() { master_whole && index_exact; }
crls_whole() {
	local f files
	files=$(jq -r '.crls[].file' "$STATE/index.json") || return 1
	for f in $files; do
		openssl crl -noout -in "$STATE/$f" 2>/dev/null ||
			openssl crl -inform DER -noout -in "$STATE/$f" 2>/dev/null ||
			return 1
	done
}
daemon_stop TERM
bad=0 rounds=0 kill_end=$(($(date +%s) + KILL_BUDGET))
for i in $(seq "$KILLS"); do
	[ "$(date +%s)" -lt "$kill_end" ] || break
	rounds=$i
	# PEM as `openssl ca` writes it (one process; the daemon takes PEM too)
	openssl ca -gencrl -config "$PKI/ca.cnf" -out "$WWW/k.tmp" 2>/dev/null &&
		mv "$WWW/k.tmp" "$WWW/int.crl"
	ip netns exec "$NS_B" "$SVRCERTD" -c "$CONF" >/dev/null 2>&1 &
	DPID=$!
	sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
	daemon_stop KILL
	if ! master_whole; then
		bad=$((bad + 1))
		t_diag "publish $i: master.bin is not whole"
	elif index_exact; then
		:
	elif crls_whole; then
		t_diag "publish $i: killed between two renames: index.json describes the publish before"
	else
		bad=$((bad + 1))
		t_diag "publish $i: a CRL file index.json names is not whole"
	fi
done
t_ok $([ "$rounds" -ge 10 ]; echo $?) "$rounds of $KILLS publish rounds within ${KILL_BUDGET} s (>= 10)"
t_is "$bad" 0 "$rounds publishes with SIGKILL at random moments: list always whole"
: >"$DLOG"
daemon_start
wait_for 10 grep -q "published master list: fed 1 keys" "$DLOG"
t_ok $? "svrcertd restarts from the published list"
wait_for 20 master_whole_and_exact
t_ok $? "after the restart's publish, index.json describes exactly the files"
t_is "$(grep -c 'unusable' "$DLOG")" 0 "no damaged list reported"
wait_for 20 state_is ok
t_ok $? "and fetches on"

server_up

# ---- 6. restart: kernel fed from disk before the first fetch -------------
klog_marker "70-crl: 6. restart: kernel fed from disk before the first fetch"

daemon_stop TERM
server_down
ctl revoked flush
t_is "$(kernel_keys)" 0 "kernel's set emptied (as after a reboot), server down"
: >"$DLOG"
daemon_start
t_is "$(kernel_keys)" 1 "svrcertd started: key back in the kernel at once"
wait_for 10 state_is unreachable
t_is "$(grep -o -e 'published master list: fed' -e 'CRL fetch failed' "$DLOG" | head -n 2 |
	paste -sd,)" "published master list: fed,CRL fetch failed" \
	"log: fed from disk first, then the first fetch (failed: server down)"
send_phase "restart with the server down: pr dropped" "accepted.ok=$N dropped.revoked=$N"
daemon_stop TERM

# ---- 7. learned keys -----------------------------------------------------
klog_marker "70-crl: 7. learned keys"

PR_KEY=$(pki_revkey "$PKI/pr.pem")
PV_KEY=$(pki_revkey "$PKI/pv.pem")
learned() { crl_json | jq -r "[.learned.keys[] | select(.reason == \"revoked\") |
	\"\\(.peer):\\(.key)\"] | sort | join(\" \")"; }
server_up
daemon_start
wait_for 20 state_is ok
t_is "$(learned)" "pr:$PR_KEY" \
	"pr's key learned revoked from the kernel's event in 1. (kept through the restarts)"
t_is "$(crl_json | jq -r '.learned.keys[0].via')" "kernel" "learned via the kernel's event"
# pv blocked by hand by its fingerprint: not in any CRL, and a hand-added
# key alone would vanish at the daemon's next swap.
ctl revoked add "$(pki_fingerprint "$PKI/pv.pem")"
t_is "$(kernel_keys)" 2 "pv's fingerprint added by hand: kernel holds 2 keys"
send_phase "pv blocked: both dropped" "dropped.revoked=$((2 * N))"
learned_two() { [ "$(learned)" = "$(printf '%s\n' "pr:$PR_KEY" "pv:$PV_KEY" | sort | paste -sd' ')" ]; }
wait_for 10 learned_two
t_ok $? "pv's revocation key learned revoked on its first packet"
wait_for 10 keys_are 3
t_ok $? "learned key fed to the kernel: $(kernel_keys) keys (2 + the fingerprint)"
t_is "$(ctl show revoked | grep -c "^$PV_KEY\$")" 1 "the kernel holds pv's revocation key"
t_is "$(jq -r '"\(.master.keys) \(.learned.revoked) \(.learned.in_master)"' "$STATE/index.json")" \
	"2 2 2" "published: master list of 2 keys, index.json names the learned source"
t_is "$(jq -r '.keys | length' "$STATE/learned.json")" 2 "learned.json holds both keys"
t_is "$(jq -c 'select(.type == "system.crl_update" and .detail.crl_url == "learned:kernel"
	and .detail.added_entries == 1) | .detail.success' "$STATE/audit.log" | tail -n 1)" \
	true "system.crl_update audited for the learned source (+1)"
t_is "$(ctl show certificate crl -j | jq -r '.learned.revoked')" 2 \
	"show certificate crl -j: learned source with 2 revoked keys"
ctl show certificate crl | grep -q "^Learned at runtime (learned.json): 2 revoked"
t_ok $? "show certificate crl: learned source shown"
daemon_stop TERM
server_down
ctl revoked flush
: >"$DLOG"
daemon_start
t_is "$(kernel_keys)" 2 "restart, kernel's set emptied, server down: 2 keys fed from disk"
t_is "$(ctl show revoked | grep -c -e "^$PV_KEY\$" -e "^$PR_KEY\$")" 2 \
	"the kernel holds pr's and pv's revocation keys (no fingerprint)"
send_phase "restart: pv dropped by its learned key alone, pr by the CRL" \
	"dropped.revoked=$((2 * N))"
daemon_stop TERM
server_up

t_diag "70-crl took $(($(date +%s) - T0)) s on the $SVRCERT_KERNEL kernel"
t_done
