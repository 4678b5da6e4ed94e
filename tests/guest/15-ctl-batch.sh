#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# svrcertctl -b against the kernel: the lines before a failing one took
# effect, the run stops there naming it (--force runs the rest), and the
# whole batch used one netlink socket (counted with strace), where as many
# separate runs open one each.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

require_cmd strace
klog_set_mark
C=$SVRCERTCTL
k0=$(printf '%064d' 0)
k1=$(printf '%063d1' 0)
k2=$(printf '%063d2' 0)
b=/tmp/ctl-batch
on_exit "$C revoked flush; rm -f $b.*"
# from an empty set: an earlier test in the same guest may have left keys
$C revoked flush >/dev/null 2>&1

cat >$b.ok <<EOF
# a good batch
set ports 1280-1290
revoked add $k0

revoked add $k1    # the second key
show revoked
EOF
strace -f -e trace=socket -o $b.trace "$C" -b $b.ok >$b.out 2>$b.err
tap_result $? "a good batch succeeds" || tap_diag "$(cat $b.err)"
assert_eq "the batch's show revoked saw both keys" "$k0 $k1" "$(tr '\n' ' ' <$b.out | sed 's/ $//')"
assert_eq "one netlink socket for the whole batch" 1 "$(grep -c AF_NETLINK $b.trace)"
assert_eq "ports set by line 2" 1280-1290 \
	"$($C show policy -j | jq -r '"\(.port_min)-\(.port_max)"')"

"$C" revoked flush
printf 'revoked add %s\npeer del nobody\nrevoked add %s\n' "$k0" "$k2" >$b.fail
"$C" -b $b.fail >$b.out 2>$b.err
assert_eq "a failing line: its exit status" 1 "$?"
assert_match "the failing line is named" "$b.fail:2: failed \\(exit 1\\): peer del nobody" "$(cat $b.err)"
assert_eq "the line before it took effect, the one after did not run" "$k0" "$($C show revoked)"
"$C" revoked flush
"$C" -b $b.fail --force >$b.out 2>$b.err
assert_eq "--force: still exit 1" 1 "$?"
assert_eq "--force: the line after the failure ran" "$k0 $k2" "$($C show revoked | tr '\n' ' ' | sed 's/ $//')"
assert_match "--force: the count at the end" "1 of 3 commands failed" "$(cat $b.err)"

klog_splats
tap_result $? "kernel log clean"
tap_done
