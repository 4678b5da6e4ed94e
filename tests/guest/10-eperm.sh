#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every netlink command needs CAP_NET_ADMIN. An unprivileged user (uid
# 65534, no capabilities), and root of a user namespace that does not own
# the network namespace, get EPERM from every command of the family --
# sent raw by `nlfuzz -e`, one well-formed message per command -- and from
# every kernel-facing svrcertctl subcommand; and nothing changes. The same
# messages from root are the control: none of them gets EPERM.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

WORK=$(mktemp -d)
NS=svt-perm-$$
on_exit 'ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"'
chmod 755 "$WORK"
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"

pki_init "$WORK/pki" && pki_cert p1 -3600 +86400 && pki_cert p2 -3600 +86400
t_ok $? "test certificates"
chmod -R a+rX "$WORK"
ip netns add "$NS"
t_ok $? "namespace $NS"

# Known state to compare against.
ctl -n "$NS" set peer-validation on failure-mode fail-hard self-state valid ports 4000-4999 &&
ctl -n "$NS" peer add p1 "$PKI/p1.pem" 10.77.0.1 fd77::1 &&
ctl -n "$NS" revoked add "$(pki_revkey "$PKI/p2.pem")"
t_ok $? "state set up as root"

snapshot() {
	{ ctl -n "$NS" show policy -j; ctl -n "$NS" show peers -j
	  ctl -n "$NS" show revoked -j; ctl -n "$NS" show stats -j; } >"$1"
}
snapshot "$WORK/state0"

# Root, in a scratch namespace: the control.
ip netns add "$NS-ctl"
ip netns exec "$NS-ctl" "$TOOLS/nlfuzz" -e -c "$PKI/p1.der" >"$WORK/root.txt"
ip netns del "$NS-ctl"
t_diag "root: $(paste -sd' ' "$WORK/root.txt")"
t_is "$(grep -c 'error=EPERM' "$WORK/root.txt")" 0 "root: no command refused with EPERM"
t_is "$(grep -Ec '^cmd=(1|3|5|6|14|15|16) .* error=0$' "$WORK/root.txt")" 7 \
	"root: GET_POLICY ADD_KEYS FLUSH_KEYS GET_KEYS GET_PEERS GET_STATS RESET_STATS accepted"

check_all_eperm() {	# WHO FILE
	local who=$1 f=$2
	t_is "$(grep -Ev '^cmd=(0|17) ' "$f" | grep -vc 'error=EPERM$')" 0 \
		"$who: every command (1..16, 18) refused with EPERM"
	t_is "$(grep -Ev '^cmd=(0|17) ' "$f" | grep -c 'error=EPERM$')" 17 \
		"$who: 17 commands tried"
	# UNSPEC and EVENT have no operation: EPERM or EOPNOTSUPP, never 0.
	t_is "$(grep -E '^cmd=(0|17) ' "$f" | grep -Evc 'error=(EPERM|EOPNOTSUPP)$')" 0 \
		"$who: UNSPEC and EVENT refused too"
}

ip netns exec "$NS" $NOBODY "$TOOLS/nlfuzz" -e -c "$PKI/p1.der" >"$WORK/nobody.txt"
t_diag "nobody: $(paste -sd' ' "$WORK/nobody.txt")"
check_all_eperm "uid 65534" "$WORK/nobody.txt"

# Root of a fresh user namespace has CAP_NET_ADMIN only over namespaces
# that user namespace owns; $NS belongs to the initial one.
ip netns exec "$NS" $NOBODY unshare --user --map-root-user \
	"$TOOLS/nlfuzz" -e -c "$PKI/p1.der" >"$WORK/userns.txt" 2>"$WORK/userns.err"
if [ -s "$WORK/userns.txt" ]; then
	t_diag "userns root: $(paste -sd' ' "$WORK/userns.txt")"
	check_all_eperm "user-namespace root" "$WORK/userns.txt"
else
	t_diag "unshare --user not permitted here: $(head -c 200 "$WORK/userns.err")"
fi

# The CLI: each kernel-facing subcommand fails with the EPERM phrase.
key=$(pki_revkey "$PKI/p1.pem")
printf '%s\n' "$key" >"$WORK/keys"; chmod a+r "$WORK/keys"
while IFS= read -r cmd; do
	[ -n "$cmd" ] || continue
	# shellcheck disable=SC2086
	ip netns exec "$NS" $NOBODY "$CTL" $cmd >/dev/null 2>"$WORK/err"
	rc=$?
	t_ok $(( rc == 1 ? 0 : 1 )) "uid 65534: svrcertctl $cmd exits 1 (got $rc)"
	t_ok "$(grep -q 'permission denied (needs CAP_NET_ADMIN)' "$WORK/err" && echo 0 || echo 1)" \
		"uid 65534: svrcertctl $cmd says permission denied"
done <<EOF
show policy
show peers
show peers p1
show revoked
show stats
set peer-validation off
set failure-mode fail-soft
set self-state invalid
set ports 1-2
peer add p2 $PKI/p2.pem 10.77.0.2
peer replace p1 $PKI/p2.pem 10.77.0.3
peer del p1
revoked add $key
revoked del $key
revoked load $WORK/keys
revoked flush
EOF

snapshot "$WORK/state1"
t_is "$(cmp "$WORK/state0" "$WORK/state1" && echo same)" same \
	"policy, peers, keys and counters unchanged"

t_done
