#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A certificate that expires while traffic flows: under fail-hard its
# packets pass up to and including the notAfter second and are dropped from
# the next second on, with no userspace action (the kernel judges expiry
# against the clock on every packet). IPv4 and IPv6 in turn.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

RATE=${SVRCERT_EXPIRY_RATE:-100}	# packets per second
LEAD=${SVRCERT_EXPIRY_LEAD:-15}		# least seconds from certificate to expiry
WORK=$(mktemp -d)
on_exit 'two_routers_down; rm -rf "$WORK"'

pki_init "$WORK/pki" || { t_ok 1 "test CA"; t_done; exit 1; }
two_routers_up
t_ok $? "two routers joined by veth"
ctl set ports "$PORT-$PORT" peer-validation on failure-mode fail-hard self-state valid
t_ok $? "fail-hard, validation on, own certificate valid"

# A loaded guest may take many seconds for the set-up below: time a dry run
# and give the certificate four times that and 10 s, so it is bound and
# the receiver and monitor are ready before it expires; traffic then
# starts 5 s before notAfter.
t0=$(date +%s)
pki_cert warmup -60 +3600 && ctl peer replace short "$PKI/warmup.pem" "$(a4 0)" &&
	ctl show peers short -j >/dev/null
t_ok $? "dry run of the set-up"
lead=$(( 4 * ($(date +%s) - t0) + 10 ))
[ "$lead" -ge "$LEAD" ] || lead=$LEAD
t_diag "set-up takes $(( $(date +%s) - t0 )) s: certificates valid for $lead s"

for fam in 4 6; do
	if [ $fam = 4 ]; then src=$(a4 0) dst=$B4; else src=$(a6 0) dst=$B6; fi
	pki_cert "short$fam" -60 "+$lead"
	t_ok $? "IPv$fam: certificate valid for the next $lead s"
	not_after=$(date -u -d "$(openssl x509 -in "$PKI/short$fam.pem" -noout -enddate |
		cut -d= -f2)" +%s)
	ctl peer replace short "$PKI/short$fam.pem" "$src"
	t_ok $? "IPv$fam: peer bound to $src"
	t_is "$(ctl show peers short -j | jq -r '"\(.not_after) \(.verdict)/\(.reason)"')" \
		"$(date -u -d "@$not_after" +%FT%TZ) accept/ok" "IPv$fam: module sees notAfter, verdict accept now"
	left=$((not_after - $(date +%s)))
	if [ "$left" -lt 3 ]; then
		t_ok 1 "IPv$fam: set-up took too long: only $left s left before expiry (raise SVRCERT_EXPIRY_LEAD)"
		continue
	fi

	# Everything but the sender is ready before the wait, so that on a
	# slow guest the traffic still starts a few seconds before notAfter.
	stats_snap "$WORK/before"
	# The kernel's event for the first expired packet carries its time.
	ctl monitor -j >"$WORK/events$fam" 2>&1 &
	mon=$!
	recv_start
	while [ "$(date +%s)" -lt $((not_after - 5)) ]; do sleep 0.5; done
	# Until 3 s past expiry, whatever time the set-up above took.
	secs=$((not_after + 3 - $(date +%s)))
	if [ "$secs" -lt 4 ]; then
		recv_stop >/dev/null
		kill -TERM "$mon"; wait "$mon"
		t_ok 1 "IPv$fam: set-up took too long: traffic would start $((4 - secs)) s too late (raise SVRCERT_EXPIRY_LEAD)"
		continue
	fi
	sent=$(send "$src" "$dst" -r "$RATE" -t "$secs")
	rx=$(recv_stop)
	last=$(recv_field last)
	stats_snap "$WORK/after"
	sleep 1
	kill -TERM "$mon"; wait "$mon"
	t_diag "IPv$fam: notAfter=$not_after sent=$sent received=$rx last arrival=$last"
	t_diag "IPv$fam: events: $(paste -sd' ' "$WORK/events$fam")"

	t_ok $(( rx > 0 && rx < sent ? 0 : 1 )) "IPv$fam: some packets passed, later ones did not"
	t_is "$(stat_moved "$WORK/before" "$WORK/after")" \
		"accepted.ok=$rx dropped.expired=$((sent - rx))" \
		"IPv$fam: every packet counted: accepted ok = received, the rest dropped expired"
	# The notAfter second is still valid; the next one is not. Packets pass
	# into the notAfter second and none after it (the receiver reads them a
	# little after the hook judged them: 0.25 s of slack for a loaded TCG
	# guest).
	t_ok "$(awk -v l="$last" -v na="$not_after" \
		'BEGIN { print (l >= na && l < na + 1.25) ? 0 : 1 }')" \
		"IPv$fam: packets passed until the notAfter second, none after (last=$last, notAfter=$not_after)"
	t_is "$(jq -r 'select(.event == "peer-expired" and .peer == "short") | .time' \
		"$WORK/events$fam" | head -n 1)" "$(date -u -d "@$((not_after + 1))" +%FT%TZ)" \
		"IPv$fam: first expired packet judged in the second after notAfter (kernel event time)"
	t_is "$(stat_delta "$WORK/before" "$WORK/after" .peer_cert_expired)" 1 \
		"IPv$fam: peer-cert-expired counted once"
	t_is "$(ctl show peers short -j | jq -r '"\(.verdict)/\(.reason)"')" "drop/expired" \
		"IPv$fam: show peers now says drop/expired"
	# bound valid (nothing re-judged it), dropped by the kernel's clock:
	# the text says which view is which
	t_is "$(ctl show peers short | grep -c -e '^  state: valid$' \
		-e "^  verdict: drop (expired: not-after has passed by the kernel's clock; state is svrcertd's last judgement)$")" 2 \
		"IPv$fam: show peers text explains state valid beside verdict drop"
done

t_done
