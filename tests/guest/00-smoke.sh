#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the rig itself: the module is loaded and registered its
# generic netlink family, it unloads and loads again, namespaces joined by
# veth carry IPv4 and IPv6, the unprivileged helper really drops root, and
# the kernel log stayed clean. If this fails, nothing after it is worth
# reading.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

klog_set_mark

ko=$(svrcert_ko)
tap_result $? "svrcert.ko present for $(uname -r): $ko"

assert_ok "svrcert.ko is loaded" module_loaded svrcert
assert_eq "svrcert.ko vermagic matches the running kernel" \
	"$(uname -r)" "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)"

family() { genl ctrl get name svrcert 2>&1; }
assert_match 'generic netlink family "svrcert" registered' \
	'^Name: svrcert' "$(family)"

assert_ok "rmmod svrcert" module_unload
assert_fail "svrcert gone from /proc/modules after rmmod" module_loaded svrcert
# svrcert.ko is installed under /lib/modules/<rel>/extra and indexed by
# depmod, as DKMS would: a lookup of the family loads it on demand
# (MODULE_ALIAS_GENL_FAMILY) -- if the module declares that alias.
if modinfo -F alias "$ko" | grep -qx 'net-pf-16-proto-16-family-svrcert'; then
	assert_match 'family lookup autoloads the module' '^Name: svrcert' "$(family)"
	assert_ok "svrcert in /proc/modules after the lookup" module_loaded svrcert
else
	assert_ok "insmod svrcert.ko again" module_load
	assert_match 'family back after insmod' '^Name: svrcert' "$(family)"
fi

ns_create smoke-a && ns_create smoke-b && ns_link smoke-a smoke-b 1
tap_result $? "two namespaces joined by veth"
assert_ok "IPv4 ping over veth" ping_ok smoke-a "$(ns_addr4 b 1)"
assert_ok "IPv6 ping over veth" ping_ok smoke-a "$(ns_addr6 b 1)"
assert_fail_with "no route out of the namespace (tests stay inside)" \
	'unreachable' ns_exec smoke-a ip route get 10.200.0.1

assert_eq "as_nobody runs as uid 65534" "65534 65534" \
	"$(as_nobody sh -c 'echo "$(id -u) $(id -g)"')"
assert_eq "as_nobody has no capabilities" "0000000000000000" \
	"$(as_nobody sh -c 'sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status')"
assert_fail "as_nobody cannot do admin work (ip link add)" \
	as_nobody ip link add smoke0 type dummy

splats=$(klog_splats)
assert_eq "no kernel splat during the smoke test" "" "$splats"

tap_done
