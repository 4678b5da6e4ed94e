# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the end-to-end guest test (tests/guest/80-e2e.sh) and the
# demo (scripts/demo runs that same test with SVRCERT_DEMO=1). Sourced after
# tests/guest/lib.sh (TAP, namespaces, cleanup).
#
# Topology (e2e_net_up): three routers and a router-in-the-middle "sw"
# (IP forwarding; the debug kernel has no bridge), each in its own netns.
#
#   netns $E2E_NS-r1  eth0 10.80.1.1/24 fd80:1::1/64 --- p1 \
#   netns $E2E_NS-r2  eth0 10.80.2.1/24 fd80:2::1/64 --- p2 -- $E2E_NS-sw, lo:
#   netns $E2E_NS-r3  eth0 10.80.3.1/24 fd80:3::1/64 --- p3 /   10.80.0.254 = the
#                                          (sw: 10.80.N.254, fd80:N::fe)  CRL server
# Every router runs its own swtpm (127.0.0.1:2321 on its own loopback,
# absolute state directory) and its own svrcertd (state directory, config,
# control socket under $E2E/rN). svrcertd listens for peer authentication on
# 10.80.N.1:4480; SVR traffic is UDP to port 4800, the judged window is
# 4800-4899, so the daemons' TLS (4480) and the CRL fetches are never judged.
# Neighbour entries are static, IPv6 DAD/RS/link-local are off: the only
# judged packets are those a step sends, so counters are exact.
#
#   e2e_init                 work dir, switch, routers, CA, CRL server
#   e2e_addr N / e2e_addr6 N 10.80.N.1 / fd80:N::1
#   rctl N ARGS...           svrcertctl as router N (its netns, config,
#                            state directory, control socket)
#   e2e_daemon_cmd N CMD     one control-socket request, prints the reply
#   e2e_peer_json N PEER     svrcertd's view of PEER at router N (JSON)
#   e2e_write_conf N [KEY=VALUE...]  router N's svrcert.conf (VALIDATION=
#                            true|false, MODE=fail-hard|fail-soft, PEERS=
#                            "2 3", NAME= peering name)
#   e2e_tpm_start N          swtpm for router N
#   e2e_provision N [DAYS|+SECS] [NAME]  key (once) -> CSR -> CA signs -> import
#   e2e_daemon_start N / e2e_daemon_stop N
#   e2e_recv_start N / e2e_recv_stop   count UDP arriving at router N
#   e2e_send FROM TO ARGS... udpsend from router FROM to router TO, prints sent
#   e2e_snap N FILE          `show stats -j` of router N
#   e2e_await SECS N ERE CMD...  wait_for SECS CMD, CMD tried when router
#                            N's daemon logs a line matching ERE (or every
#                            10 s): no program per poll in between
#   e2e_listening PID PORT   PID's namespace listens on TCP PORT (bash)
#   e2e_fingerprint CERT / e2e_not_after CERT / e2e_revkey CERT
#                            SHA-256 of the DER / notAfter (epoch) / the
#                            revocation key (pki_revkey's), one openssl each
#   e2e_section TITLE        a step heading (demo: a banner)
#   e2e_show N ARGS...       demo: print `svrcertctl ARGS` of router N
#   e2e_say TEXT             demo: a line of narration
#   require STATUS DESC [DIAG...]  ok, or not ok and stop the test here
# Peer keys (86-peerkeys.sh, 87-peerkeys-life.sh):
#   e2e_keys_pair [LINE...]  network, CA, CRL server; R1 and R2 peering,
#                            [daemon] peer-keys = yes (+ LINEs), keys in files
#   keys_up                  both daemons hold established keys
#   sa_has N SPI             router N holds our ESP SA of that SPI (decimal)

E2E_TOOLS=${SVRCERT_TOOLS:-$SVRCERT_TOP/build/tools}
E2E_PY=/usr/bin/python3		# /root (pyenv shims) is a tmpfs in the guest
E2E_NS=e2e$$
# the routers' numbers (88-conductor.sh adds a fourth, its conductor)
E2E_ROUTERS=${E2E_ROUTERS:-1 2 3}
E2E_PORT=4800
E2E_AUTH_PORT=4480
E2E_CRL_ADDR=10.80.0.254
E2E_CRL_URL=http://$E2E_CRL_ADDR:8080/int.crl
E2E_DEMO=${SVRCERT_DEMO:-0}
E2E=
PKI=
E2E_RECV_PID=
E2E_RECV_OUT=
E2E_T0=$EPOCHSECONDS

# SVRCERT_E2E_TRACE=1: each command the test runs, with the time it began,
# into $SVRCERT_OUT/e2e-trace/TEST.log (bash xtrace; "C" lists the call
# sites, the test's own line last but one), to see where the time goes.
if [ "${SVRCERT_E2E_TRACE:-0}" = 1 ] && [ -d "${SVRCERT_OUT:-}" ]; then
	mkdir -p "$SVRCERT_OUT/e2e-trace"
	exec {E2E_TRACE_FD}>"$SVRCERT_OUT/e2e-trace/${0##*/}.log"
	BASH_XTRACEFD=$E2E_TRACE_FD
	PS4='+${EPOCHREALTIME} L${LINENO} C${BASH_LINENO[*]} '
	set -x
fi

e2e_addr() { echo "10.80.$1.1"; }
e2e_addr6() { echo "fd80:$1::1"; }
e2e_ns() { echo "$E2E_NS-r$1"; }
e2e_dir() { echo "$E2E/r$1"; }

e2e_say() {
	if [ "$E2E_DEMO" = 1 ]; then printf '%s\n' "$*"; else tap_diag "$*"; fi
}

e2e_section() {
	klog_marker "${0##*/}: $1"	# progress on the guest console, live
	local t="t+$((EPOCHSECONDS - E2E_T0))s"
	if [ "$E2E_DEMO" = 1 ]; then
		printf '\n==== %s ==== (%s)\n' "$1" "$t"
	else
		tap_diag "---- $1 ($t)"
	fi
}

e2e_show() {
	local n=$1
	shift
	[ "$E2E_DEMO" = 1 ] || return 0
	printf '\nR%s# svrcertctl %s\n' "$n" "$*"
	rctl "$n" "$@" 2>&1 | sed 's/^/    /'
}

# (exported in a subshell rather than through env(1): one process start
# fewer, about a second under the debug kernel, on a helper that polls)
rctl() {
	local n=$1 d
	shift
	d=$E2E/r$n	# e2e_dir, without a fork for $(...)
	(
		export SVRCERT_CONFIG="$d/svrcert.conf" SVRCERT_STATE_DIR="$d/state" \
			SVRCERT_CONTROL_SOCKET="$d/ctl.sock"
		# -n, not ip netns exec: one program start instead of two
		exec "$SVRCERTCTL" -n "$E2E_NS-r$n" "$@"
	)
}

# ---- network --------------------------------------------------------------

# One `ip -batch` per namespace rather than one ip per setting: under the
# debug kernel every process start costs about a second, and this was 60 of
# them. Fixed MACs (02:80:0:0:N:01 router, :fe its switch port) let both
# sides' static neighbours be written without reading the other side first.
# The namespaces are made as lib.sh's ns_create makes them (quiet IPv6: no
# DAD, no RS, no RA; lo up; removed at exit), but in one ip -batch with a
# sysctl each (ns_create starts three programs per namespace), and lo goes
# up in each namespace's own batch. No $(...) for names: a fork apiece.
e2e_net_up() {
	local sw=$E2E_NS-sw n ns rmac smac k q= b=
	for k in accept_dad dad_transmits router_solicitations accept_ra; do
		q+=" net.ipv6.conf.all.$k=0 net.ipv6.conf.default.$k=0"
	done
	LIB_NETNS+=("$sw")
	b="netns add $sw"$'\n'
	for n in $E2E_ROUTERS; do
		LIB_NETNS+=("$E2E_NS-r$n")
		b+="netns add $E2E_NS-r$n"$'\n'
	done
	b+="netns exec $sw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1$q"$'\n'
	for n in $E2E_ROUTERS; do b+="netns exec $E2E_NS-r$n sysctl -qw$q"$'\n'; done
	ip -batch - <<<"$b" >/dev/null || return 1
	b="link set lo up"$'\n'"addr add $E2E_CRL_ADDR/32 dev lo"$'\n'
	for n in $E2E_ROUTERS; do
		rmac=02:80:00:00:0$n:01 smac=02:80:00:00:0$n:fe
		b+="link add p$n address $smac type veth peer name eth0 address $rmac netns $E2E_NS-r$n
link set p$n addrgenmode none
addr add 10.80.$n.254/24 dev p$n
addr add fd80:$n::fe/64 dev p$n nodad
link set p$n up
neigh replace 10.80.$n.1 lladdr $rmac dev p$n nud permanent
neigh replace fd80:$n::1 lladdr $rmac dev p$n nud permanent
"
	done
	ip -n "$sw" -batch - <<<"$b" || return 1
	for n in $E2E_ROUTERS; do
		ns=$E2E_NS-r$n smac=02:80:00:00:0$n:fe
		# Static neighbours: no ARP/ND, nothing judged but what we send.
		ip -n "$ns" -batch - <<-EOF || return 1
		link set lo up
		link set eth0 addrgenmode none
		addr add 10.80.$n.1/24 dev eth0
		addr add fd80:$n::1/64 dev eth0 nodad
		link set eth0 up
		route add default via 10.80.$n.254
		route add ::/0 via fd80:$n::fe
		neigh replace 10.80.$n.254 lladdr $smac dev eth0 nud permanent
		neigh replace fd80:$n::fe lladdr $smac dev eth0 nud permanent
		EOF
	done
}

# ---- CA and CRL server ------------------------------------------------------

# SVRCERT_E2E_PKI: a directory made by `PKI_CRL_URL=$E2E_CRL_URL mkpki.sh DIR`
# on the host (scripts/demo does that): copied instead of made here, since
# mkpki.sh's ~100 openssl runs take minutes in a TCG guest.
e2e_ca_init() {
	PKI=$E2E/pki
	if [ -n "${SVRCERT_E2E_PKI:-}" ]; then
		# what the e2e tests use (the intermediate CA, its database and CRL,
		# the bundle, r1-r3), not all 165 files over 9p
		mkdir -p "$PKI/ca-int/newcerts" &&
		cp -a "$SVRCERT_E2E_PKI"/{ca.cnf,bundle.pem,int.pem,int.key,int.crl.pem,int.crl.der} \
			"$SVRCERT_E2E_PKI"/r[123].{key,pem} "$PKI/" &&
		cp -a "$SVRCERT_E2E_PKI"/ca-int/{index.txt,index.txt.attr,serial,crlnumber} \
			"$PKI/ca-int/" || return 1
	else
		PKI_CRL_URL=$E2E_CRL_URL "$SVRCERT_TOP/tests/pki/mkpki.sh" "$PKI" \
			>"$E2E/mkpki.log" 2>&1 || return 1
	fi
	mkdir -p "$E2E/www"
	e2e_crl_publish
}

# The CA publishes its current CRL at $E2E_CRL_URL (rename: a fetch never
# sees half a file; mtime moves on, so a conditional GET sees the change).
e2e_crl_publish() {
	cp "$PKI/int.crl.der" "$E2E/www/.int.crl.tmp" &&
	touch -d "@$((EPOCHSECONDS + 1))" "$E2E/www/.int.crl.tmp" &&
	mv "$E2E/www/.int.crl.tmp" "$E2E/www/int.crl"
}

e2e_crl_server_start() {
	ip netns exec "$E2E_NS-sw" "$E2E_PY" -m http.server 8080 \
		--bind "$E2E_CRL_ADDR" --directory "$E2E/www" \
		>"$E2E/crl-server.log" 2>&1 &
	E2E_CRL_PID=$!
	on_exit "kill $E2E_CRL_PID 2>/dev/null"
	# A python with urllib per try cost seconds on a loaded debug guest
	# (20 s was once not enough there): first, in bash, until the server
	# listens; then a GET from R1's namespace by bash (a fraction of a
	# python's start) that must be answered 200.
	wait_for 90 e2e_listening "$E2E_CRL_PID" 8080
	wait_for 90 ip netns exec "$(e2e_ns 1)" bash -c '
		exec 3<>"/dev/tcp/$1/8080" || exit 1
		printf "GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n" "${2##*/}" "$1" >&3
		read -r -t 5 l <&3 && [[ $l == "HTTP/"*" 200 "* ]]' _ "$E2E_CRL_ADDR" "$E2E_CRL_URL"
}

# e2e_issue CSR OUT START END: the intermediate CA issues a leaf valid from
# START to END (epoch seconds). mkpki.sh sign counts in days; the expiry
# steps need seconds, so this asks the same CA (its ca.cnf and database).
# One program: the dates come from bash's printf, not date(1) (a program
# start is seconds on the debug kernel).
e2e_issue() {
	local start end
	TZ=UTC0 printf -v start '%(%Y%m%d%H%M%S)TZ' "$3"
	TZ=UTC0 printf -v end '%(%Y%m%d%H%M%S)TZ' "$4"
	PKI_CA_DIR="$PKI/ca-int" PKI_CRL_URL=$E2E_CRL_URL openssl ca -batch -notext \
		-config "$PKI/ca.cnf" -cert "$PKI/int.pem" -keyfile "$PKI/int.key" \
		-in "$1" -out "$2" -extensions leaf \
		-startdate "$start" -enddate "$end" >"$2.log" 2>&1
}

# ---- routers -----------------------------------------------------------------

# e2e_write_conf N [VALIDATION=..] [MODE=..] [PEERS=".."] [NAME=..]
e2e_write_conf() {
	local n=$1 d VALIDATION=true MODE=fail-hard PEERS NAME="r$1" p kv
	shift
	PEERS=$(for p in 1 2 3; do [ "$p" = "$n" ] || printf '%s ' "$p"; done)
	for kv in "$@"; do
		case $kv in
		VALIDATION=*) VALIDATION=${kv#*=} ;;
		MODE=*) MODE=${kv#*=} ;;
		PEERS=*) PEERS=${kv#*=} ;;
		NAME=*) NAME=${kv#*=} ;;
		esac
	done
	d=$(e2e_dir "$n")
	{
		cat <<EOF
# router R$n of the end-to-end test (written by tests/guest/lib-e2e.sh)
[router]
name = r$n
peering-common-name = $NAME
peer-validation = $VALIDATION
invalid-certificate-behavior = $MODE
svr-ports = $E2E_PORT-$((E2E_PORT + 99))

[key]
storage = tpm-blob
tcti = swtpm:host=127.0.0.1,port=2321

[trusted-ca "svrcert-test"]
file = $PKI/bundle.pem

[crl]
url = $E2E_CRL_URL
polling-interval = ${E2E_POLL:-5s}
backoff-interval = 5s
timeout = 10s
connect-timeout = 5s

[daemon]
state-dir = $d/state
control-socket = $d/ctl.sock
audit-log = $d/state/audit.log
listen = $(e2e_addr "$n"):$E2E_AUTH_PORT
EOF
		for p in $PEERS; do
			cat <<EOF

[peer "r$p"]
address = $(e2e_addr "$p"), $(e2e_addr6 "$p")
authenticate = $(e2e_addr "$p"):$E2E_AUTH_PORT
EOF
		done
	} >"$d/svrcert.conf.tmp" && mv "$d/svrcert.conf.tmp" "$d/svrcert.conf"
}

e2e_tpm_start() {
	local n=$1 d
	d=$(e2e_dir "$n")
	mkdir -p "$d/tpm"
	ip netns exec "$(e2e_ns "$n")" swtpm socket --tpm2 \
		--server type=tcp,port=2321,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=2322,bindaddr=127.0.0.1 \
		--tpmstate "dir=$d/tpm" --flags not-need-init,startup-clear \
		--log "file=$d/swtpm.log" &
	eval "E2E_TPM_PID_$n=$!"
	on_exit "kill $! 2>/dev/null"
	# the router's namespace (ip netns exec became swtpm) has it listening:
	# read in bash, where a connection from that namespace took two
	# program starts per try. 60 s: on a debug guest beside a load of 25
	# the background start alone took 15 s, and 20 s ran out.
	wait_for 60 e2e_listening "$!" 2321
}

# e2e_provision N [DAYS | +SECS] [NAME]: the seed's four steps. The key is
# made once per router (a new certificate reuses it, as an operator would).
# Sets E2E_LAST_CERT and E2E_LAST_NOTAFTER (epoch seconds, as issued).
# The CA signs with e2e_issue for both kinds of lifetime: the validity
# mkpki.sh sign gives (from an hour ago to DAYS from now) in one openssl
# run, where mkpki.sh costs a bash and two date runs more.
e2e_provision() {
	local n=$1 life=${2:-365} name=${3:-r$1} d out start end
	d=$(e2e_dir "$n")
	if [ ! -f "$d/state/key.pem" ]; then
		rctl "$n" key generate >"$d/keygen.log" 2>&1 || { cat "$d/keygen.log"; return 1; }
	fi
	rctl "$n" csr --peering-name "$name" --organization "svrcert test" \
		-o "$d/req.csr" >"$d/csr.log" 2>&1 || { cat "$d/csr.log"; return 1; }
	E2E_CERT_N=$((${E2E_CERT_N:-0} + 1))
	out=$d/cert-$E2E_CERT_N.pem
	case $life in
	+*) start=$((EPOCHSECONDS - 60)) end=$((EPOCHSECONDS + ${life#+})) ;;
	*) start=$((EPOCHSECONDS - 3600)) end=$((EPOCHSECONDS + life * 86400)) ;;
	esac
	e2e_issue "$d/req.csr" "$out" "$start" "$end" || { cat "$out.log"; return 1; }
	# shellcheck disable=SC2034 # for the caller: the certificate just issued
	E2E_LAST_CERT=$out E2E_LAST_NOTAFTER=$end
	rctl "$n" import "$out" --identity "$name" >"$d/import.log" 2>&1 ||
		{ cat "$d/import.log"; return 1; }
}

e2e_daemon_start() {
	local n=$1 d pid
	d=$(e2e_dir "$n")
	ip netns exec "$(e2e_ns "$n")" "$SVRCERTD" \
		-c "$d/svrcert.conf" --check-interval "${E2E_CHECK:-5}" --stderr \
		>>"$d/daemon.log" 2>&1 &
	pid=$!
	eval "E2E_DAEMON_PID_$n=$pid"
	on_exit "kill $pid 2>/dev/null"
	# Its control socket first, in bash (a stopped daemon removes it): a
	# svrcertctl per try costs seconds on the debug kernel, and the CPU
	# the starting daemon needs. Then the daemon must answer.
	wait_for 30 test -S "$d/ctl.sock"
	wait_for 30 rctl "$n" daemon status
}

e2e_daemon_stop() {
	local n=$1 pid
	eval "pid=\${E2E_DAEMON_PID_$n:-}"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "E2E_DAEMON_PID_$n="
	return 0
}

# e2e_daemon_cmd N COMMAND: send {"command": COMMAND} and print the reply
# line; status 1 if there is no reply or it says "ok": false. The socket
# is a path, the same from every network namespace: no ip netns exec, and
# python without site (-S): program starts cost seconds on the debug kernel.
e2e_daemon_cmd() {
	"$E2E_PY" -S - "$(e2e_dir "$1")/ctl.sock" "$2" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(json.dumps({"command": sys.argv[2]}).encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
sys.exit(0 if json.loads(buf).get("ok") else 1)
EOF
}

# e2e_peer_json N PEER: svrcertd's "peers" entry for PEER at router N, as
# `show peers PEER -j` carries it under "authentication" (one svrcertctl:
# a python start costs seconds on the debug kernel).
e2e_peer_json() {
	rctl "$1" show peers "$2" -j 2>/dev/null | jq -c '.authentication // empty'
}

# e2e_peer_is N PEER STATE [KEY]: daemon and kernel of router N both hold
# PEER in STATE (and, with KEY, both hold the certificate of fingerprint
# KEY). `show peers NAME -j` carries the kernel's record and, under
# "authentication", svrcertd's: one svrcertctl and one jq per poll.
# The reply it judged is left in E2E_PEER_JSON, for checks of the same
# moment without another svrcertctl. An empty reply fails: jq 1.6's -e
# exits 0 on no input at all, so a svrcertctl that printed nothing (no
# such peer in the kernel) passed here before.
e2e_peer_is() {
	E2E_PEER_JSON=$(rctl "$1" show peers "$2" -j 2>/dev/null)
	[ -n "$E2E_PEER_JSON" ] && jq -e --arg s "$3" --arg k "${4:-}" '.state == $s and .authentication.state == $s and
		($k == "" or (.fingerprint == $k and .authentication.fingerprint == $k))' \
		>/dev/null <<<"$E2E_PEER_JSON"
}

# e2e_learned N KEY REASON: router N's svrcertd holds KEY among its learned
# keys (Documentation/crl.md, "Learned keys") with REASON.
e2e_learned() {
	[ "$(rctl "$1" crl status -j 2>/dev/null | jq -r --arg k "${2,,}" \
		'.learned.keys[] | select((.key | ascii_downcase) == $k) | .reason')" = "$3" ]
}

# SHA-256 of the certificate's DER, lower-case hex: one openssl, no
# sha256sum and cut.
e2e_fingerprint() {
	local fp
	fp=$(openssl x509 -in "$1" -noout -fingerprint -sha256) || return 1
	fp=${fp#*=}
	fp=${fp//:/}
	echo "${fp,,}"
}

# e2e_not_after CERT: CERT's notAfter in epoch seconds. E2E_LAST_NOTAFTER
# when CERT is E2E_LAST_CERT and says that date (one openssl and bash's
# printf), else date(1) parses it.
e2e_not_after() {
	local na want
	na=$(openssl x509 -in "$1" -noout -enddate) || return 1
	na=${na#notAfter=}
	if [ "$1" = "${E2E_LAST_CERT:-}" ] && [ -n "${E2E_LAST_NOTAFTER:-}" ]; then
		LC_ALL=C TZ=UTC0 printf -v want '%(%b %e %H:%M:%S %Y GMT)T' "$E2E_LAST_NOTAFTER"
		[ "$na" != "$want" ] || { echo "$E2E_LAST_NOTAFTER"; return 0; }
	fi
	date -u -d "$na" +%s
}

# e2e_revkey CERT: pki_revkey's key (tests/pki/revkey.sh: SHA-256 of the
# issuer's canonical Name DER, then the serial's DER) built in bash from
# the issuer text and serial one openssl prints, as revkey.sh builds them;
# revkey.sh starts some fifteen programs, half a minute on a loaded debug
# kernel. A name it cannot build (a type other than C, ST, L, O, OU, CN;
# a value of 100 bytes or more) goes to pki_revkey (lib-pki.sh). Checked
# against revkey.sh on the 42 certificates of mkpki.sh's PKI: all equal.
e2e_revkey() {
	local out serial issuer rdn k v t name= hex i b LC_ALL=C
	local -a rdns
	out=$(openssl x509 -in "$1" -noout -serial -issuer -nameopt compat) || return 1
	serial=${out%%$'\n'*} issuer=${out#*$'\n'}
	serial=${serial#serial=} issuer=${issuer#issuer=/}
	IFS=/ read -ra rdns <<<"$issuer"
	for rdn in "${rdns[@]}"; do
		k=${rdn%%=*} v=${rdn#*=}
		case $k in
		C) t=06 ;; L) t=07 ;; ST) t=08 ;; O) t=0a ;; OU) t=0b ;; CN) t=03 ;;
		*) pki_revkey "$1"; return ;;
		esac
		# revkey.sh's canonical value: white space runs as one space,
		# stripped, A-Z folded to a-z, a UTF8String
		v=${v//[$'\t\n\v\f\r']/ }
		while [[ $v == *"  "* ]]; do v=${v//"  "/ }; done
		v=${v# } v=${v% }
		v=${v,,}
		[ ${#v} -lt 100 ] || { pki_revkey "$1"; return; }
		hex=
		for ((i = 0; i < ${#v}; i++)); do printf -v b '%02x' "'${v:i:1}"; hex+=$b; done
		# SET { SEQUENCE { OID 2.5.4.t, UTF8String v } }
		printf -v b '31%02x30%02x06035504%s0c%02x%s' $((${#v} + 9)) $((${#v} + 7)) "$t" ${#v} "$hex"
		name+=$b
	done
	[ $((${#name} / 2)) -lt 128 ] || { pki_revkey "$1"; return; }
	serial=${serial,,}
	[[ $serial == [89a-f]* ]] && serial=00$serial
	printf -v hex '30%02x%s02%02x%s' $((${#name} / 2)) "$name" $((${#serial} / 2)) "$serial"
	b=
	for ((i = 0; i < ${#hex}; i += 2)); do b+="\\x${hex:i:2}"; done
	out=$(printf '%b' "$b" | sha256sum) || return 1
	echo "${out%% *}"
}

# e2e_listening PID PORT: the network namespace of PID has a TCP socket
# listening on PORT (its /proc/PID/net/tcp, read in bash: waiting for a
# server costs no program per try).
e2e_listening() {
	local port l st
	printf -v port '%04X' "$2"
	while read -r _ l _ st _; do
		[[ $l == *:"$port" && $st == 0A ]] && return 0
	done <"/proc/$1/net/tcp"
	return 1
}

# e2e_await SECS N ERE CMD...: wait_for SECS CMD, where CMD is costly (a
# svrcertctl and a jq: seconds on the debug kernel, and CPU taken from the
# daemon being waited for). CMD runs once at once, then again only after
# router N's svrcertd has logged a line matching ERE (up to three times
# after it: the log line may come just before what CMD checks), or every
# 10 s whatever the log says; the log is read in bash. What CMD checks
# decides, never the log: a line that does not come only makes it slower.
e2e_await() {
	local secs=$1 n=$2 ere=$3 end fd l part= tries=0 next st=1
	shift 3
	end=$((EPOCHSECONDS + secs))
	exec {fd}<"$(e2e_dir "$n")/daemon.log" || { wait_for "$secs" "$@"; return; }
	while IFS= read -r -u "$fd" l; do :; done
	part=$l
	next=$EPOCHSECONDS
	while :; do
		while IFS= read -r -u "$fd" l; do
			[[ $part$l =~ $ere ]] && tries=3
			part=
		done
		part+=$l
		if [ "$tries" -gt 0 ] || [ "$EPOCHSECONDS" -ge "$next" ]; then
			if "$@" >/dev/null 2>&1; then st=0; break; fi
			tries=$((tries > 0 ? tries - 1 : 0)) next=$((EPOCHSECONDS + 10))
		fi
		[ "$EPOCHSECONDS" -lt "$end" ] || break
		sleep 0.2
	done
	exec {fd}<&-
	return $st
}

# ---- traffic and counters ----------------------------------------------------

e2e_recv_start() {
	E2E_RECV_OUT=$E2E/recv.$RANDOM
	ip netns exec "$(e2e_ns "$1")" "$E2E_TOOLS/udprecv" -p "$E2E_PORT" \
		-o "$E2E_RECV_OUT" >/dev/null &
	E2E_RECV_PID=$!
	for _ in {1..200}; do
		[ -s "$E2E_RECV_OUT" ] && return 0
		sleep 0.05
	done
	return 1
}

e2e_recv_stop() {
	[ -n "$E2E_RECV_PID" ] || return 1
	kill -TERM "$E2E_RECV_PID" 2>/dev/null
	await_exit "$E2E_RECV_PID"	# its final count is written by then
	E2E_RECV_PID=
	e2e_recv_field received
}

# udprecv's "received=N first=T last=T", read in bash
e2e_recv_field() {
	local l
	read -r l <"$E2E_RECV_OUT" || return 1
	[[ " $l" =~ \ $1=([0-9.]*) ]] && echo "${BASH_REMATCH[1]}"
}

# e2e_send FROM TO [udpsend options]: prints the number sent.
e2e_send() {
	local from=$1 to=$2
	shift 2
	local out
	out=$(ip netns exec "$(e2e_ns "$from")" "$E2E_TOOLS/udpsend" -s "$(e2e_addr "$from")" \
		-d "$(e2e_addr "$to")" -p "$E2E_PORT" "$@")
	[[ $out =~ (^|$'\n')sent=([0-9]+) ]] && echo "${BASH_REMATCH[2]}"
	return 0
}

e2e_snap() {
	rctl "$1" show stats -j >"$2"
}

# Every packet counter that moved between two `show stats -j`, sorted,
# "accepted.ok=100 dropped.revoked=5": one string to compare exactly.
e2e_moved() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" '
		[ ($b[0].accepted | to_entries[] | select(.value != $a[0].accepted[.key]) |
			"accepted.\(.key)=\(.value - $a[0].accepted[.key])"),
		  ($b[0].dropped | to_entries[] | select(.value != $a[0].dropped[.key]) |
			"dropped.\(.key)=\(.value - $a[0].dropped[.key])"),
		  (if $b[0].not_peer != $a[0].not_peer
		   then "not_peer=\($b[0].not_peer - $a[0].not_peer)" else empty end)
		] | sort | join(" ")'
}

# e2e_burst FROM TO COUNT: COUNT packets FROM -> TO; sets E2E_SENT, E2E_RX and
# E2E_MOVED (the receiving router's counters that moved).
e2e_burst() {
	local from=$1 to=$2 count=$3
	e2e_snap "$to" "$E2E/before"
	e2e_recv_start "$to" || return 1
	E2E_SENT=$(e2e_send "$from" "$to" -c "$count" -r 500)
	sleep 0.5
	E2E_RX=$(e2e_recv_stop)
	e2e_snap "$to" "$E2E/after"
	E2E_MOVED=$(e2e_moved "$E2E/before" "$E2E/after")
	e2e_say "R$from -> R$to: sent $E2E_SENT, received $E2E_RX; R$to's counters: $E2E_MOVED"
}

# ---- peer keys ---------------------------------------------------------------

# A step every later one needs: stop here, saying why.
require() {
	[ "$1" -eq 0 ] && { tap_ok "$2"; return 0; }
	tap_not_ok "$2" "${@:3}" "later steps need this; stopping"
	tap_done
	exit 1
}

# e2e_require_built: svrcertd and the packet tools the e2e tests drive are
# built (make all), else stop here.
e2e_require_built() {
	local t
	[ -x "$SVRCERTD" ] || require 1 "$SVRCERTD exists (make all)"
	for t in udpsend udprecv; do
		[ -x "$E2E_TOOLS/$t" ] || require 1 "build/tools/$t exists (make all)"
	done
}

# e2e_keys_pair [LINE...]: e2e_init, the CA and its CRL server, and R1 and
# R2 peering with each other with [daemon] peer-keys = yes and LINEs
# ("peer-key-timeout = 20s"). Their keys are the test PKI's, in files: the
# TPM path is 80-e2e.sh's, and its key generation costs minutes in a
# loaded TCG guest. The test PKI's r1.pem and r2.pem are imported.
e2e_keys_pair() {
	local n d line add=(-e "/^listen = /a peer-keys = yes")
	for line in "$@"; do add+=(-e "/^listen = /a $line"); done
	e2e_init
	e2e_ca_init || require 1 "test CA"
	e2e_crl_server_start
	for n in 1 2; do
		d=$(e2e_dir "$n")
		e2e_write_conf "$n" PEERS=$((3 - n))
		install -m 0600 "$PKI/r$n.key" "$d/state/key.pem"
		openssl pkey -in "$PKI/r$n.key" -pubout -out "$d/state/key.pub.pem"	# what import checks
		sed -i "${add[@]}" \
			-e "s|^storage = tpm-blob|storage = file\nkey-file = $d/state/key.pem|" \
			-e "/^tcti = /d" "$d/svrcert.conf"
		rctl "$n" import "$PKI/r$n.pem" --identity "r$n" >"$E2E/prov$n.log" 2>&1 ||
			require 1 "R$n's certificate imported" "$(tail -5 "$E2E/prov$n.log")"
	done
}

keys_up() {
	[ "$(e2e_peer_json 1 r2 | jq -r .keys.state)" = established ] &&
		[ "$(e2e_peer_json 2 r1 | jq -r .keys.state)" = established ]
}

sa_has() {	# N SPI(decimal): the namespace holds an ESP SA with that SPI and our AEAD
	ip -n "$(e2e_ns "$1")" xfrm state list spi "$(printf '0x%08x' "$2")" 2>/dev/null |
		grep -q 'aead rfc4106(gcm(aes))'
}

# ---- setup and teardown ------------------------------------------------------

# e2e_copy SRC DST: a text file (a log) copied by bash, not cp: two per
# router at every e2e test's exit, a program start each (seconds on the
# debug kernel). Nothing when SRC is missing.
e2e_copy() {
	local x
	[ -f "$1" ] || return 0
	IFS= read -r -d '' x <"$1"
	printf '%s' "$x" >"$2"
}

e2e_cleanup() {
	local n
	[ -z "$E2E_RECV_PID" ] || kill "$E2E_RECV_PID" 2>/dev/null
	for n in $E2E_ROUTERS; do e2e_daemon_stop "$n"; done
	# kept per test (out/e2e/80-e2e/r1-daemon.log): a later e2e test in the
	# same guest would overwrite the logs of the one that failed
	if [ -n "${SVRCERT_OUT:-}" ] && [ -d "$SVRCERT_OUT" ] && [ -n "$E2E" ]; then
		local keep=$SVRCERT_OUT/e2e/$(basename "$0" .sh)
		mkdir -p "$keep"
		for n in $E2E_ROUTERS; do
			e2e_copy "$E2E/r$n/daemon.log" "$keep/r$n-daemon.log"
			e2e_copy "$E2E/r$n/state/audit.log" "$keep/r$n-audit.log"
		done
	fi
	[ -z "$E2E" ] || rm -rf "$E2E"
}

e2e_init() {
	local n d=()
	E2E=$(mktemp -d /tmp/e2e.XXXXXX)
	on_exit e2e_cleanup
	for n in $E2E_ROUTERS; do d+=("$E2E/r$n/state"); done
	mkdir -p "${d[@]}"	# one program, not one per router
	e2e_net_up
}
