# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib-bench.sh: helpers of scripts/bench-esp and scripts/bench-rekey
# (sourced). Host side: the data they bring into the guest; both sides: the
# statistics of their summaries; the guest launch with instruction counting.
#
#   bench_keys_file N FILE      N random revocation keys (64 hex digits per
#                               line, bench-datapath's format), kept if FILE
#                               already holds N
#   bench_pki DIR               a test CA (P-256) and leaves CN=hub, CN=fleet
#                               (DIR/{ca.pem,hub.pem,fleet.pem,leaf.key})
#                               and DIR/peer.der, DIR/espeer.der (peerload
#                               templates: 7-byte serials that differ in
#                               their first bytes), kept if present
#   bench_stats                 stdin "NAME VALUE" lines; per NAME, in order
#                               of first appearance: "NAME n=N median=M
#                               min=A max=B spread=S" (S = (B - A) / M, %)
#   bench_guest CMD [MEM]       scripts/guest-run --kernel stock --icount
#                               --shell-cmd CMD (guest memory MEM MiB)

bench_keys_file() {
	local n=$1 f=$2
	[ ! -s "$f" ] || [ "$(wc -l <"$f")" != "$n" ] || return 0
	echo "bench: writing $n random keys to $f"
	python3 -c '
import os, sys
n = int(sys.argv[1])
with open(sys.argv[2] + ".tmp", "w") as f:
    for _ in range(n // 1000):
        f.write("".join(os.urandom(32).hex() + "\n" for _ in range(1000)))
    f.write("".join(os.urandom(32).hex() + "\n" for _ in range(n % 1000)))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
' "$n" "$f"
}

bench_pki() {
	local dir=$1
	[ ! -s "$dir/espeer.der" ] || [ ! -s "$dir/fleet.pem" ] || return 0
	# shellcheck source=../tests/guest/lib-pki.sh
	. "$(dirname "${BASH_SOURCE[0]}")/../tests/guest/lib-pki.sh"
	rm -rf "$dir"
	pki_init "$dir" &&
		pki_cert hub -3600 +315360000 &&
		pki_cert fleet -3600 +315360000 &&
		pki_cert bench -3600 +315360000 11223344556677 &&
		pki_cert espeer -3600 +315360000 99887766554433 &&
		cp "$dir/bench.der" "$dir/peer.der"
}

bench_stats() {
	awk '
	{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $2 }
	END {
		for (q = 1; q <= k; q++) {
			name = order[q]; m = n[name]
			delete t
			for (i = 1; i <= m; i++) t[i] = v[name, i]
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
				if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
			med = m % 2 ? t[(m + 1) / 2] : (t[m / 2] + t[m / 2 + 1]) / 2
			printf "%s n=%d median=%.6g min=%.6g max=%.6g spread=%.2f%%\n", name, m, med,
				t[1], t[m], med ? 100 * (t[m] - t[1]) / (med < 0 ? -med : med) : 0
		}
	}'
}

bench_guest() {
	local top guest_run args=(--kernel stock)
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	guest_run=${BENCH_GUEST_RUN:-$top/scripts/guest-run}	# override: a patched rig
	if grep -q -- '--icount' "$guest_run"; then
		args+=(--icount)
	else
		echo "bench: scripts/guest-run has no --icount; timing is plain TCG (noisy)" >&2
	fi
	echo "bench: $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg):" \
		"SVRCERT_GUEST_MEM=${2:-2048} scripts/guest-run ${args[*]} --shell-cmd '$1'"
	SVRCERT_GUEST_MEM=${2:-2048} exec "$guest_run" "${args[@]}" --timeout 7200 --shell-cmd "$1"
}
