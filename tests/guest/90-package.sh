#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages as an operator uses them (issue 16): install
# svrcert-dkms and svrcert (build/deb/, from `make deb`) with dpkg, let
# DKMS build the module for the running kernel, modprobe it, start
# svrcertd the way its unit says (own user, supplementary group, ambient
# capabilities, bounding set, no new privileges, umask, its directories:
# the guest has no systemd), drive the lifecycle (trusted CA, key in a
# swtpm, CSR, the test CA signs, import, as README says: as the svrcert
# user), see the daemon tell the kernel, then purge and find nothing left.
#
# Runs only where Debian's headers for the running kernel exist (the stock
# kernel; the debug kernel has none), and only when build/deb/ holds the
# packages: DKMS compiling the module under TCG takes 5-15 minutes.
#
# The guest's /usr and /lib/modules are read-only: the test lays writable
# overlays (tmpfs upper) over them and /var/cache for dpkg and DKMS, and
# restores the rig's svrcert.ko at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

require_cmd dpkg dkms setpriv runuser swtpm openssl jq
debdir=$SVRCERT_TOP/build/deb
deb=$(ls "$debdir"/svrcert_*_amd64.deb 2>/dev/null | head -1)
dkmsdeb=$(ls "$debdir"/svrcert-dkms_*_all.deb 2>/dev/null | head -1)
if [ -z "$deb" ] || [ -z "$dkmsdeb" ]; then
	tap_skip "install the packages" "no build/deb/*.deb: run make deb first"
	tap_done
	exit
fi
if [ ! -d "/usr/src/linux-headers-$(uname -r)" ]; then
	tap_skip "install the packages" "no Debian headers for $(uname -r) (DKMS needs them)"
	tap_done
	exit
fi
# the rig's module, put back at the end (DKMS's depmod forgets it)
SVRCERT_KO=$(svrcert_ko) || exit 1
export SVRCERT_KO DEBIAN_FRONTEND=noninteractive
rel=$(uname -r)
ctl=/usr/sbin/svrcertctl		# the packaged one, not build/'s
work=/tmp/pkg
mkdir -p $work && chmod 0755 $work

# A writable overlay over DIR, removed at exit.
overlay() {
	local d=$1 n
	n=$(echo "$1" | tr / _)
	mkdir -p "/run/pkg-ovl/$n/u" "/run/pkg-ovl/$n/w" &&
		mount -t overlay -o "lowerdir=$d,upperdir=/run/pkg-ovl/$n/u,workdir=/run/pkg-ovl/$n/w" \
			overlay "$d" || return 1
	on_exit "umount -l $d"
}
# Registered before the overlays, so it runs after they are gone: inside
# them DKMS has moved the rig's extra/svrcert.ko aside.
on_exit "module_unload; module_load"
overlay /usr && overlay /lib/modules && overlay /var/cache
tap_result $? "writable overlays on /usr, /lib/modules, /var/cache"
# The linux-headers package's link, which the rig's /lib/modules lacks,
# and /dev/fd, which udev would make (dkms uses <(...)).
[ -e /lib/modules/$rel/build ] || ln -s /usr/src/linux-headers-$rel /lib/modules/$rel/build
if [ ! -e /dev/fd ]; then
	ln -s /proc/self/fd /dev/fd && on_exit "rm -f /dev/fd"
fi

module_unload
# man-db's dpkg trigger re-indexes every manual page on the system (minutes
# under TCG, twice: install and purge); svrcert's page is read with
# man(1) below, which needs no index.
if [ -e /var/lib/man-db/auto-update ]; then
	rm -f /var/lib/man-db/auto-update && on_exit "touch /var/lib/man-db/auto-update"
fi

# DKMS's compiler through ccache when the rig shares a cache (guest-run:
# most of this test's time is cc1 under TCG); every DKMS step still runs.
# file_stat_matches: a header unchanged in size, mtime and ctime is not
# read and hashed again (the kernel headers come from the read-only root;
# the module's sources, copied by DKMS at each install, are hashed).
ccache_env=()
if [ -n "${SVRCERT_DKMS_CCACHE:-}" ] && [ -d /usr/lib/ccache ]; then
	ccache_env=(PATH="/usr/lib/ccache:$PATH" CCACHE_DIR="$SVRCERT_DKMS_CCACHE"
		CCACHE_MAXSIZE=200M CCACHE_SLOPPINESS=file_stat_matches)
	env "${ccache_env[@]}" ccache -z >/dev/null 2>&1
fi
t0=$SECONDS
out=$(env "${ccache_env[@]}" dpkg -i "$dkmsdeb" "$deb" 2>&1)
tap_result $? "dpkg -i svrcert-dkms svrcert ($((SECONDS - t0)) s)" || tap_diag "$out"
[ ${#ccache_env[@]} -eq 0 ] ||
	tap_diag "DKMS through ccache: $(env "${ccache_env[@]}" ccache --print-stats 2>/dev/null |
		awk -F'\t' '/^(direct_cache_hit|preprocessed_cache_hit|cache_miss)\t/ { printf "%s=%s ", $1, $2 }')"
assert_match "DKMS built and installed svrcert for $rel" \
	"svrcert/[^,]*, $rel, [^:]*: installed" "$(dkms status svrcert 2>&1)"
assert_ok "modprobe svrcert" modprobe svrcert
assert_match "the module loaded is DKMS's" "/updates/dkms/svrcert.ko" \
	"$(modinfo -n svrcert 2>&1)"
assert_ok "svrcert user from sysusers.d, in group tss" \
	sh -c 'id -nG svrcert | grep -qw tss'
assert_ok "default /etc/svrcert/svrcert.conf is a conffile" \
	sh -c 'dpkg-query -W -f="\${Conffiles}" svrcert | grep -q /etc/svrcert/svrcert.conf'
assert_ok "unit enabled (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/svrcertd.service
assert_ok "man svrcertctl" sh -c 'MANPAGER=cat man svrcertctl | grep -q BATCH'
assert_ok "bash completion installed" \
	test -f /usr/share/bash-completion/completions/svrcertctl

# ---- svrcertd as its unit starts it ----------------------------------

unit=/lib/systemd/system/svrcertd.service
val() { sed -n "s/^$1=//p" $unit | tail -1; }
user=$(val User)
group=$(val Group)
caps=$(val AmbientCapabilities | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
read -r -a exec <<<"$(val ExecStart)"
install -d -o "$user" -g "$group" -m "$(val StateDirectoryMode)" /var/lib/svrcert
install -d -o "$user" -g "$group" -m "$(val LogsDirectoryMode)" /var/log/svrcert
install -d -m 0755 /run/svrcert && chown "$user:$group" /run/svrcert
tap_diag "unit: User=$user Group=$group caps=$caps ExecStart=${exec[*]}"

swtpm_port=2321
mkdir -p $work/tpm
swtpm socket --tpm2 --server type=tcp,port=$swtpm_port,bindaddr=127.0.0.1 \
	--ctrl type=tcp,port=$((swtpm_port + 1)),bindaddr=127.0.0.1 \
	--tpmstate dir=$work/tpm --flags not-need-init,startup-clear \
	--pid file=$work/swtpm.pid --daemon
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$swtpm_port" 2>/dev/null
tap_result $? "swtpm up"
on_exit "kill \$(cat $work/swtpm.pid) 2>/dev/null"
export TPM2OPENSSL_TCTI="swtpm:host=127.0.0.1,port=$swtpm_port"

(umask "$(val UMask)" && exec setpriv --reuid="$user" --regid="$group" \
	--groups="$(val SupplementaryGroups)" --inh-caps="$caps" \
	--ambient-caps="$caps" --bounding-set="-all,$caps" --no-new-privs \
	"${exec[@]}" --stderr) >$work/svrcertd.log 2>&1 &
dpid=$!
on_exit "kill $dpid 2>/dev/null"
wait_for 20 $ctl daemon status
tap_result $? "svrcertd answers svrcertctl daemon status" || tap_diag "$(cat $work/svrcertd.log)"
assert_eq "svrcertd runs as $user" "$user" "$(ps -o user= -p $dpid 2>/dev/null | tr -d ' ')"
assert_match "with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only" \
	'^CapEff:[[:space:]]*0000000000001400$' "$(grep CapEff /proc/$dpid/status)"

# ---- the lifecycle, as README's Install says ------------------------

install -d -o "$user" -m 0755 $work/out	# what the svrcert user writes
as_svrcert() { runuser -u "$user" -- env TPM2OPENSSL_TCTI="$TPM2OPENSSL_TCTI" $ctl "$@"; }
# the CA: made on the host when guest-run did (SVRCERT_E2E_PKI; mkpki.sh's
# ~100 openssl runs take minutes in a TCG guest), else here
if [ -n "${SVRCERT_E2E_PKI:-}" ]; then
	cp -a "$SVRCERT_E2E_PKI" $work/pki
else
	"$SVRCERT_TOP/tests/pki/mkpki.sh" $work/pki >/dev/null 2>&1
fi
cp $work/pki/bundle.pem $work/bundle.pem && chmod 0644 $work/bundle.pem
assert_ok "trusted-ca add (as $user)" as_svrcert trusted-ca add test $work/bundle.pem
assert_ok "key generate in the TPM (as $user)" as_svrcert key generate
assert_ok "csr (as $user)" as_svrcert csr -o $work/out/r.csr
"$SVRCERT_TOP/tests/pki/mkpki.sh" sign $work/pki $work/out/r.csr $work/r.pem 90 >/dev/null 2>&1
chmod 0644 $work/r.pem
assert_ok "import (as $user)" as_svrcert import $work/r.pem
assert_ok "daemon check (root)" $ctl daemon check
assert_eq "show certificate: valid" valid \
	"$($ctl show certificate -j | jq -r .state)"
wait_for 10 sh -c "$ctl show policy -j | grep -q '\"self_state\": \"valid\"'"
assert_eq "svrcertd (non-root, CAP_NET_ADMIN) told the kernel: self-state valid" \
	valid "$($ctl show policy -j | jq -r .self_state)" ||
	tap_diag "$($ctl show policy 2>&1)" "$(tail -20 $work/svrcertd.log)"
assert_ok "audit log written by $user" \
	sh -c "test \"\$(stat -c %U /var/log/svrcert/audit.log)\" = $user"

kill $dpid && wait $dpid 2>/dev/null
modprobe -r svrcert

# ---- purge ------------------------------------------------------------

t0=$SECONDS
out=$(dpkg --purge svrcert svrcert-dkms 2>&1)
tap_result $? "dpkg --purge svrcert svrcert-dkms ($((SECONDS - t0)) s)" || tap_diag "$out"
left=$(ls -d /usr/sbin/svrcertd /usr/sbin/svrcertctl /etc/svrcert \
	/var/lib/svrcert /var/log/svrcert /usr/src/svrcert-* \
	/lib/modules/$rel/updates/dkms/svrcert.ko /var/lib/dkms/svrcert \
	/lib/systemd/system/svrcertd.service 2>/dev/null)
assert_eq "nothing left after purge" "" "$left"

tap_done
