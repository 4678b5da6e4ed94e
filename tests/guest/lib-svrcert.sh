# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by the data-path guest tests (tests/guest/1*.sh .. 6*.sh):
# two routers in network namespaces joined by veth, the packet tools of
# tests/tools, and exact counter arithmetic over `svrcertctl show stats -j`.
# Sourced after tests/guest/lib.sh (TAP, rig, namespaces, cleanup) and
# lib-pki.sh; the t_* TAP helpers are thin wrappers over lib.sh's.
#
# Topology (two_routers_up):
#
#   netns $NS_A  "peer side"                 netns $NS_B  "router under test"
#   va: 10.9.0.10-15/24, fd09::10-15/64  <-> vb: 10.9.0.1/24, fd09::1/64
#
# Packets are sent from $NS_A with a chosen source address to $NS_B, where
# svrcert judges them. Neighbour entries are static and IPv6 DAD, router
# solicitations and link-local addresses are off, so the only packets
# crossing the link are the ones a test sends: counters can be exact.

CTL=$SVRCERTCTL
TOOLS=${SVRCERT_TOOLS:-$SVRCERT_TOP/build/tools}
NS_A=svt-a-$$
NS_B=svt-b-$$
B4=10.9.0.1
B6=fd09::1
PORT=4800

# Source addresses in $NS_A, by role (index i -> 10.9.0.(10+i), fd09::(10+i)).
a4() { echo "10.9.0.$((10 + $1))"; }
a6() { echo "fd09::$((10 + $1))"; }

# svrcertctl in the router under test (or in the netns given by -n NS).
ctl() {
	local ns=$NS_B
	if [ "${1:-}" = -n ]; then ns=$2; shift 2; fi
	# -n, not ip netns exec: one program start instead of two (each costs
	# ~0.5 s on the debug kernel)
	"$CTL" -n "$ns" "$@"
}

# (ns_create already quietened DAD and router solicitations.)
quiet_ipv6() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 \
		net.ipv6.conf.all.addr_gen_mode=1 2>/dev/null || true
}

# One `ip -batch` per side rather than one ip per setting (about 40 process
# starts, each about a second under the debug kernel); fixed MACs let each
# side's static neighbours be written without asking the other side.
two_routers_up() {
	local i ma=02:09:00:00:00:0a mb=02:09:00:00:00:0b
	ns_create "$NS_A" && ns_create "$NS_B" || return 1
	quiet_ipv6 "$NS_A"
	quiet_ipv6 "$NS_B"
	{
		echo "link add va address $ma type veth peer name vb address $mb netns $NS_B"
		echo "link set va addrgenmode none"
		for i in 0 1 2 3 4 5; do
			echo "addr add $(a4 $i)/24 dev va"
			echo "addr add $(a6 $i)/64 dev va nodad"
		done
		echo "link set va up"
		echo "neigh replace $B4 lladdr $mb dev va nud permanent"
		echo "neigh replace $B6 lladdr $mb dev va nud permanent"
	} | ip -n "$NS_A" -batch - || return 1
	{
		echo "link set vb addrgenmode none"
		echo "addr add $B4/24 dev vb"
		echo "addr add $B6/64 dev vb nodad"
		echo "link set vb up"
		for i in 0 1 2 3 4 5; do
			echo "neigh replace $(a4 $i) lladdr $ma dev vb nud permanent"
			echo "neigh replace $(a6 $i) lladdr $ma dev vb nud permanent"
		done
	} | ip -n "$NS_B" -batch - || return 1
	# Deep enough that a burst never overflows the backlog.
	ip netns exec "$NS_B" sysctl -qw net.core.netdev_max_backlog=100000 2>/dev/null || true
	# The links' own MLD reports (sent within about a second of link up,
	# repeated once) are packets from no peer, counted not_peer: let them
	# pass before a test counts packets exactly.
	sleep 2
}

two_routers_down() {
	recv_stop >/dev/null 2>&1 || true
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
}

# ---- traffic ---------------------------------------------------------------

RECV_PID=
RECV_OUT=

# recv_start [PORT]: count UDP packets arriving in $NS_B.
recv_start() {
	local port=${1:-$PORT} i
	RECV_OUT=$(mktemp)
	rm -f "$RECV_OUT"
	ip netns exec "$NS_B" "$TOOLS/udprecv" -p "$port" -o "$RECV_OUT" >/dev/null &
	RECV_PID=$!
	for i in {1..200}; do
		[ -s "$RECV_OUT" ] && return 0
		sleep 0.05
	done
	echo "# udprecv did not come up" >&2
	return 1
}

# recv_stop: stop the counter, print the number received.
recv_stop() {
	local pid=$RECV_PID line
	[ -n "$pid" ] || return 1
	RECV_PID=
	kill -TERM "$pid" 2>/dev/null
	# udprecv writes its final count, then exits. Bash only, no sed: a
	# program start costs ~0.5 s on the debug kernel.
	await_exit "$pid"
	while IFS= read -r line; do
		[[ $line =~ ^received=([0-9]*) ]] || continue
		echo "${BASH_REMATCH[1]}"
		return 0
	done <"$RECV_OUT"
	return 1
}

# recv_field NAME: first/last from the last recv_stop's file.
recv_field() {
	sed -n "s/.* $1=\\([0-9.]*\\).*/\\1/p" "$RECV_OUT"
}

# send SRC DST [udpsend options...]: send from SRC in $NS_A, print "sent".
send() {
	local src=$1 dst=$2 out
	shift 2
	out=$(ip netns exec "$NS_A" "$TOOLS/udpsend" -s "$src" -d "$dst" -p "$PORT" "$@")
	echo "$out" | sed -n 's/^sent=\([0-9]*\).*/\1/p'
}

# ---- counters --------------------------------------------------------------

# stats_snap FILE: the router's counters now.
stats_snap() {
	ctl show stats -j >"$1"
}

# stat_delta BEFORE AFTER JQFILTER: counter increase, e.g. .dropped.revoked
# or '[.accepted[]] | add'
stat_delta() {
	jq -n --slurpfile a "$1" --slurpfile b "$2" "(\$b[0] | $3) - (\$a[0] | $3)"
}

# Every packet counter that moved between two snapshots, "path=delta" sorted,
# e.g. "accepted.ok=100 not_peer=5" -- one string to compare exactly.
stat_moved() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" '
		[ ($b[0].accepted | to_entries[] | select(.value != $a[0].accepted[.key]) |
			"accepted.\(.key)=\(.value - $a[0].accepted[.key])"),
		  ($b[0].dropped | to_entries[] | select(.value != $a[0].dropped[.key]) |
			"dropped.\(.key)=\(.value - $a[0].dropped[.key])"),
		  (if $b[0].not_peer != $a[0].not_peer
		   then "not_peer=\($b[0].not_peer - $a[0].not_peer)" else empty end)
		] | sort | join(" ")'
}

# peer_json NAME [NS]: `show peers NAME -j`
peer_field() {
	ctl show peers "$1" -j | jq -r ".$2"
}

# ---- kernel log ------------------------------------------------------------

# klog_mark: remember where the kernel log is now (lib.sh's mark).
klog_mark() {
	klog_set_mark
}

# klog_bad: print any splat logged since klog_mark (empty = clean).
klog_bad() {
	klog_since_mark | grep -E -- "$SVRCERT_SPLAT_ERE" || true
}

# ---- TAP ---------------------------------------------------------------------
# Wrappers over lib.sh's TAP, argument order "actual first".

t_ok() {	# t_ok STATUS DESCRIPTION  (STATUS 0 = pass)
	tap_result "$1" "$2"
}

t_is() {	# t_is GOT WANT DESCRIPTION
	assert_eq "$3" "$2" "$1"
}

t_diag() {
	tap_diag "$@"
}

t_done() {
	tap_done
}

