# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/guest/lib.sh -- helpers for the guest tests, sourced by every
# tests/guest/[0-9]*.sh (bash). Stable interface; add, don't change.
#
# The rig (scripts/guest-run, tests/guest/run-suite) guarantees, when a test
# starts: it runs as root in a fresh guest whose / is the host's root
# (read-only) with tmpfs on /tmp, /run, /root and overlays on /etc, /var/lib
# and /var/log; svrcert.ko is loaded; the kernel is $SVRCERT_KERNEL.
# Each test file prints its own TAP (numbers from 1, plan at the end via
# tap_done); run-suite nests it as a subtest and counts every ok/not ok.
#
# Environment (set by the rig; defaults let a test run by hand too):
#   SVRCERT_TOP      source tree (build/svrcertctl, build/tools/... under it)
#   SVRCERT_KERNEL   stock | debug
#   SVRCERT_KO       path of svrcert.ko built for this kernel
#   SVRCERTCTL       path of svrcertctl   } guest-run copies them (and
#   SVRCERTD         path of svrcertd     } build/tools: SVRCERT_TOOLS) per run
#
# TAP (counters T_N, T_FAILED, T_SKIPPED are shared with tests' own helpers):
#   tap_ok DESC                 print "ok N - DESC"
#   tap_not_ok DESC [DIAG...]   print "not ok N - DESC" and "# DIAG" lines
#   tap_result STATUS DESC      ok when STATUS is 0, else not ok
#   tap_skip DESC REASON        "ok N - DESC # SKIP REASON"
#   tap_diag MSG...             "# MSG" (one line per argument line)
#   tap_done                    print the plan "1..N"; return 1 if any failed
# Assertions (each prints one TAP line; return 0 on pass, 1 on failure):
#   assert_eq DESC EXPECTED ACTUAL      string equality; prints both on fail
#   assert_ne DESC UNEXPECTED ACTUAL
#   assert_match DESC ERE ACTUAL        grep -E on ACTUAL
#   assert_ok DESC CMD [ARGS...]        CMD exits 0; its output shown on fail
#   assert_fail DESC CMD [ARGS...]      CMD exits non-zero
#   assert_fail_with DESC ERE CMD...    CMD exits non-zero and its stdout+
#                                       stderr matches ERE (e.g. an errno text)
# Kernel log:
#   klog_marker TEXT            write "svrcert-test: TEXT" into the kernel log
#   klog_since_mark / klog_set_mark   dmesg lines since the mark
#   klog_splats                 print splat lines (KASAN, WARNING, BUG, ...)
#                               since the mark; status 0 if there were none
# Module:
#   svrcert_ko                  print the path of svrcert.ko (1 if missing)
#   module_loaded [NAME]        status 0 if NAME (default svrcert) is loaded
#   module_load [PARAM=V...]    insmod svrcert.ko unless loaded
#   module_unload               rmmod svrcert if loaded
#   module_reload [PARAM=V...]  unload then load
# Network namespaces (all removed by the EXIT cleanup):
#   ns_create NAME              ip netns add NAME, lo up, quiet IPv6 (no DAD,
#                               no RS), registered for cleanup
#   ns_exec NAME CMD...         ip netns exec NAME CMD...
#   ns_link NS_A NS_B [N]       veth "veN" in NS_A <-> "veN" in NS_B, up, with
#                               10.N.0.1/24 + fd00:N::1/64 in NS_A and
#                               10.N.0.2/24 + fd00:N::2/64 in NS_B (N 1..254,
#                               default 1); no DAD so addresses work at once
#   ns_addr4 SIDE [N] / ns_addr6 SIDE [N]   the address of side a or b
#   ping_ok NS ADDR             2 pings from NS to ADDR (v4 or v6) answered
# Unprivileged:
#   as_nobody CMD...            run CMD as uid/gid 65534, no groups, no caps
# Cleanup:
#   on_exit CMD...              run CMD (eval'd) at exit, last registered
#                               first; lib.sh owns the EXIT trap -- use
#                               on_exit rather than trap ... EXIT (a test that
#                               sets its own EXIT trap replaces these)
# Scale (the one place where a test runs smaller on the debug kernel):
#   scale NAME                  print NAME's value for $SVRCERT_KERNEL from
#                               the table SVRCERT_SCALE below; SVRCERT_NAME
#                               may raise it, never lower it
# Misc:
#   wait_for SECS CMD...        retry CMD every 0.2 s until it succeeds
#   await_exit PID              until PID has exited, even when it is not
#                               this shell's child (a command substitution)
#   require_cmd NAME...         tap_skip + exit 0 when a program is missing

SVRCERT_TOP=${SVRCERT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SVRCERT_KERNEL=${SVRCERT_KERNEL:-unknown}
SVRCERTCTL=${SVRCERTCTL:-$SVRCERT_TOP/build/svrcertctl}
SVRCERTD=${SVRCERTD:-$SVRCERT_TOP/build/svrcertd}
SVRCERT_KO=${SVRCERT_KO:-}
export SVRCERT_TOP SVRCERT_KERNEL SVRCERTCTL SVRCERTD SVRCERT_KO

# Under the debug kernel every program started costs 0.5-3 s, and the
# tests poll: bash's loadable sleep (Debian's bash-builtins, scripts/deps)
# makes a poll's wait cost nothing; without it, /bin/sleep as before.
enable -f /usr/lib/bash/sleep sleep 2>/dev/null || true

T_N=${T_N:-0}
T_FAILED=${T_FAILED:-0}
T_SKIPPED=${T_SKIPPED:-0}

# ---- TAP ---------------------------------------------------------------------

tap_diag() {
	local a l
	for a in "$@"; do
		printf '%s\n' "$a" | while IFS= read -r l; do echo "# $l"; done
	done
}

tap_ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

tap_not_ok() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	shift
	[ $# -eq 0 ] || tap_diag "$@"
	return 1
}

tap_result() {
	if [ "$1" -eq 0 ] 2>/dev/null; then tap_ok "$2"; else tap_not_ok "$2" "status $1"; fi
}

tap_skip() {
	T_N=$((T_N + 1))
	T_SKIPPED=$((T_SKIPPED + 1))
	echo "ok $T_N - $1 # SKIP ${2:-}"
}

tap_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

# ---- assertions ------------------------------------------------------------

assert_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "expected: '$2'" "actual:   '$3'"
	fi
}

assert_ne() {
	if [ "$2" != "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "expected anything but: '$2'"
	fi
}

assert_match() {
	if printf '%s\n' "$3" | grep -qE -- "$2"; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "expected to match: $2" "actual: '$3'"
	fi
}

assert_ok() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "command: $*" "exit status: $rc" "$(printf '%s\n' "$out" | tail -n 20)"
	fi
}

assert_fail() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc -ne 0 ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "command: $*" "expected failure, exit status 0" "$(printf '%s\n' "$out" | tail -n 20)"
	fi
}

assert_fail_with() {
	local desc=$1 ere=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -qE -- "$ere"; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "command: $*" "exit status: $rc (want non-zero)" \
			"want output matching: $ere" "$(printf '%s\n' "$out" | tail -n 20)"
	fi
}

# ---- kernel log --------------------------------------------------------------

SVRCERT_SPLAT_ERE='BUG:|WARNING:|KASAN|Oops|Call Trace|kernel BUG|general protection fault|UBSAN|unreferenced object|possible circular locking|suspicious RCU usage|inconsistent lock state|RCU stall|detected stalls|blocked for more than|list_(add|del) corruption|refcount_t:|Kernel panic'
KLOG_MARK=0

klog_marker() {
	echo "svrcert-test: $*" > /dev/kmsg 2>/dev/null || true
}

klog_set_mark() {
	KLOG_MARK=$(dmesg | wc -l)
}

klog_since_mark() {
	dmesg | tail -n +$((KLOG_MARK + 1))
}

klog_splats() {
	! klog_since_mark | grep -E -- "$SVRCERT_SPLAT_ERE"
}

# ---- module ------------------------------------------------------------------

svrcert_ko() {
	local ko=$SVRCERT_KO
	[ -n "$ko" ] || ko=$(modinfo -n svrcert 2>/dev/null)
	[ -n "$ko" ] && [ -f "$ko" ] || { echo "svrcert.ko not found (SVRCERT_KO unset)" >&2; return 1; }
	echo "$ko"
}

module_loaded() {
	[ -d "/sys/module/${1:-svrcert}/sections" ] || grep -q "^${1:-svrcert} " /proc/modules
}

module_load() {
	local ko
	module_loaded && return 0
	ko=$(svrcert_ko) || return 1
	# A running svrcertd that resolves the "svrcert" genetlink family may
	# have the kernel load the module (its genl family alias) right
	# between our check and insmod: that fresh module is as good, unless
	# we were asked for module parameters it did not get.
	insmod "$ko" "$@" || { [ $# -eq 0 ] && module_loaded; }
}

module_unload() {
	module_loaded || return 0
	rmmod svrcert
}

module_reload() {
	module_unload && module_load "$@"
}

# ---- network namespaces ------------------------------------------------------

LIB_NETNS=()

ns_create() {
	local ns=$1 k
	ip netns add "$ns" || return 1
	LIB_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	# one sysctl for all eight (a process start is about a second under
	# the debug kernel)
	for k in accept_dad dad_transmits router_solicitations accept_ra; do
		set -- "$@" "net.ipv6.conf.all.$k=0" "net.ipv6.conf.default.$k=0"
	done
	shift
	ip netns exec "$ns" sysctl -qw "$@" >/dev/null 2>&1
	return 0
}

ns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_addr4() {
	case $1 in a) echo "10.${2:-1}.0.1" ;; b) echo "10.${2:-1}.0.2" ;; esac
}

ns_addr6() {
	case $1 in a) echo "fd00:${2:-1}::1" ;; b) echo "fd00:${2:-1}::2" ;; esac
}

ns_link() {
	local a=$1 b=$2 n=${3:-1}
	ip -n "$a" link add "ve$n" type veth peer name "ve$n" netns "$b" || return 1
	ip -n "$a" addr add "$(ns_addr4 a "$n")/24" dev "ve$n" &&
	ip -n "$a" addr add "$(ns_addr6 a "$n")/64" dev "ve$n" nodad &&
	ip -n "$b" addr add "$(ns_addr4 b "$n")/24" dev "ve$n" &&
	ip -n "$b" addr add "$(ns_addr6 b "$n")/64" dev "ve$n" nodad &&
	ip -n "$a" link set "ve$n" up &&
	ip -n "$b" link set "ve$n" up
}

# iputils ping may be absent; busybox ping is always there.
ping_ok() {
	local ns=$1 addr=$2 fam=-4
	case $addr in *:*) fam=-6 ;; esac
	if command -v ping >/dev/null 2>&1; then
		ip netns exec "$ns" ping "$fam" -c 2 -i 0.2 -W 2 "$addr"
	else
		ip netns exec "$ns" busybox ping "$fam" -c 2 -W 2 "$addr"
	fi
}

# What `ip netns pids NS | xargs kill; ip netns del NS` did per namespace,
# in bash and one ip: three program starts per namespace were seconds on
# the debug kernel (a process's /proc/PID/ns/net and the name's
# /run/netns/NS are the same nsfs inode when it lives there).
ns_cleanup_all() {
	local ns p b=
	[ ${#LIB_NETNS[@]} -gt 0 ] || return 0
	for p in /proc/[0-9]*; do
		for ns in "${LIB_NETNS[@]}"; do
			[[ $p/ns/net -ef /run/netns/$ns ]] || continue
			kill "${p#/proc/}" 2>/dev/null
			break
		done
	done
	for ns in "${LIB_NETNS[@]}"; do b+="netns del $ns"$'\n'; done
	ip -force -batch - <<<"$b" >/dev/null 2>&1	# -force: on past a gone one
	LIB_NETNS=()
}

# ---- unprivileged ------------------------------------------------------------

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all -- "$@"
}

# ---- cleanup -----------------------------------------------------------------

LIB_ON_EXIT=()

on_exit() {
	LIB_ON_EXIT+=("$*")
}

lib_run_exit() {
	local i
	for ((i = ${#LIB_ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${LIB_ON_EXIT[$i]}" || true
	done
	ns_cleanup_all
}
trap lib_run_exit EXIT

# ---- scale -------------------------------------------------------------------
# Every difference of scale between the kernels, in one table: NAME, the
# value on the stock kernel, on the debug kernel (KASAN, lockdep, kmemleak
# under TCG: a svrcertctl run costs seconds, a key inserted about a
# millisecond), and why. A test reads its value with `scale NAME`; an
# environment variable SVRCERT_NAME may raise it (never lower it). Any other
# test runs exactly alike on both kernels. Documentation/testing.md lists
# the measured cost of each.
SVRCERT_SCALE='
# NAME            stock   debug   what
SWAP_KEYS         100000  500     40-swap: keys per set (debug: still table resizes on every load)
SWAPS             100     20      40-swap: swaps per direction under traffic
FUZZ_MESSAGES     100000  25000   60-nlfuzz: netlink messages (25 000 reach every command, policy and error path)
REPLACE_OPS       10000   5000    46-replace: REPLACE_PEERs under traffic (debug: 10 000 made the test 92-129 s, 5 000 55-62 s; its budget is 90 s)
REPLACE_PPS       4000    200     46-replace: packets per second (debug: one CPU for sender, receivers and replacements)
CRL_KILLS         20      10      70-crl: SIGKILL publish rounds (a property of the daemon, not of the kernel, also unit-tested: 24 rounds took 240 s on debug; with 50 the stock test took 309-378 s)
CRL_KILL_BUDGET   240     600     70-crl: seconds after which the SIGKILL rounds stop early (>= 10 rounds either way; on debug only a guard: 10 rounds take ~100 s)
PEERKEY_PPS       200     50      86-peerkeys: packets per second each way during the 20 rekeys (debug, one vCPU on a loaded host: at 200 each way the TLS handshakes and CRL fetches of the daemons timed out)
'

scale() {
	local name=$1 v= n stock debug rest env
	# bash only: a program started costs seconds on the debug kernel
	while read -r n stock debug rest; do
		[ "$n" = "$name" ] || continue
		v=$stock
		[ "$SVRCERT_KERNEL" != debug ] || v=$debug
		break
	done <<<"$SVRCERT_SCALE"
	[ -n "$v" ] || { echo "scale: no knob $name in lib.sh's SVRCERT_SCALE" >&2; return 1; }
	env=SVRCERT_$name
	env=${!env:-}
	if [ -n "$env" ] && [ "$env" -gt "$v" ] 2>/dev/null; then v=$env; fi
	echo "$v"
}

# ---- misc --------------------------------------------------------------------

wait_for() {
	local secs=$1 end
	shift
	end=$((EPOCHSECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$EPOCHSECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# await_exit PID: until PID has exited. wait, when PID is this shell's
# child; otherwise -- called in a command substitution, rx=$(recv_stop),
# whose subshell is not the parent -- poll /proc until PID is gone or a
# zombie (its parent, blocked on our output, reaps it later). 20 s at most.
await_exit() {
	local st
	wait "$1" 2>/dev/null && return 0
	for _ in {1..400}; do
		read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 0
		[ "$st" != Z ] || return 0
		sleep 0.05
	done
	return 1
}

require_cmd() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			tap_skip "needs $c" "$c not installed"
			tap_done
			exit 0
		fi
	done
}
