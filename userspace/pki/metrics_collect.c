// SPDX-License-Identifier: GPL-2.0
/* svrcert's metrics (metrics_collect.h), written with lib/metrics.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alarm.h"
#include "import_trust.h"
#include "lib/counters.h"
#include "lib/metrics.h"
#include "lib/store_json.h"
#include "lib/util.h"
#include "metrics_collect.h"
#include "netlink/nl.h"
#include "netlink/nl_util.h"
#include "trust_config.h"

/* "2025-03-19T20:50:35Z" -> epoch seconds; false for "-" or garbage. */
static bool iso_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	if (!end || *end)
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

/* "certificate-import" -> "svrcert_certificate_import" + SUFFIX. */
static void family_name(const char *dotted, size_t n, const char *suffix,
			char *out, size_t len)
{
	size_t i, pos;

	pos = (size_t)snprintf(out, len, "svrcert_");
	for (i = 0; i < n && dotted[i] && pos + 1 < len; i++)
		out[pos++] = dotted[i] == '-' || dotted[i] == '.' ? '_' : dotted[i];
	out[pos] = '\0';
	snprintf(out + pos, len - pos, "%s", suffix);
}

/* One family per group of the seed's counters ("csr.success" and
 * "csr.failure" are svrcert_csr_total{result=...}); a failure's reason
 * breakdown is svrcert_<group>_failure_reasons_total{reason=...}. */
static void seed_counters(struct metrics *m, json_t *state)
{
	char name[METRICS_NAME_MAX], help[160];
	const char *dot, *key, *prev = NULL;
	size_t plen = 0, klen;
	json_t *v;
	int i;

	for (i = 0; i < CNT__MAX; i++) {
		dot = strchr(counter_descs[i].key, '.');
		if (!prev || strncmp(prev, counter_descs[i].key, plen) ||
		    (size_t)(dot - counter_descs[i].key) != plen) {
			prev = counter_descs[i].key;
			plen = (size_t)(dot - prev);
			family_name(prev, plen, "_total", name, sizeof(name));
			snprintf(help, sizeof(help), "%s events by result "
				 "(show stats security)", counter_descs[i].group);
			metrics_family(m, name, "counter", help);
		}
		metrics_u64(m, counters_get(state, counter_descs[i].key),
			    "result", counter_descs[i].item, NULL);
	}
	for (i = 0; i < CNT__MAX; i++) {
		/* Only failures are counted under a reason (counters.h). */
		if (strcmp(counter_descs[i].item, "failure"))
			continue;
		klen = strlen(counter_descs[i].key);
		family_name(counter_descs[i].key, klen, "_reasons_total", name,
			    sizeof(name));
		snprintf(help, sizeof(help), "%s %s, by reason",
			 counter_descs[i].group, counter_descs[i].item);
		metrics_family(m, name, "counter", help);
		json_object_foreach(state, key, v)
			if (!strncmp(key, counter_descs[i].key, klen) &&
			    key[klen] == '.' && !strchr(key + klen + 1, '.'))
				metrics_u64(m, counters_get(state, key),
					    "reason", key + klen + 1, NULL);
	}
}

static void own_certificate(struct metrics *m, const struct own_cert_status *s)
{
	int st;

	metrics_family(m, "svrcert_certificate_expiry_timestamp_seconds",
		       "gauge", "notAfter of this router's installed "
		       "certificate (absent when none is installed)");
	if (s->present)
		metrics_i64(m, (int64_t)s->not_after, NULL);
	metrics_family(m, "svrcert_certificate_state", "gauge", "1 for the "
		       "state of this router's certificate, 0 for the others");
	for (st = SVRCERT_STATE_UNKNOWN; st <= SVRCERT_STATE_MAX; st++)
		metrics_u64(m, s->present && (int)s->state == st, "state",
			    svrcert_nl_state_name(st), NULL);
	metrics_family(m, "svrcert_certificate_installed", "gauge",
		       "1 when a certificate is installed");
	metrics_u64(m, s->present, NULL);
}

static void trusted_cas(struct metrics *m, const struct svrcert_env *env)
{
	json_t *list = NULL, *b, *c;
	size_t i, j;
	char idx[24];
	int64_t t;

	metrics_family(m, "svrcert_trusted_ca_expiry_timestamp_seconds",
		       "gauge", "notAfter of each certificate of each trusted "
		       "CA bundle (index: position in the bundle)");
	if (trust_ca_list(&env->st, env->have_cfg ? &env->cfg : NULL, &list))
		return;
	json_array_foreach(list, i, b) {
		json_array_foreach(json_object_get(b, "certificates"), j, c) {
			if (!iso_time(json_string_value(json_object_get(c,
				      "not_after")), &t))
				continue;
			snprintf(idx, sizeof(idx), "%zu", j);
			metrics_i64(m, t, "bundle", json_string_value(
				    json_object_get(b, "name")), "index", idx,
				    "subject", json_string_value(
				    json_object_get(c, "subject")), NULL);
		}
	}
	json_decref(list);
}

/* Held CRLs by issuer: one issuer's CRL may be held in more than one file
 * (the latest is the one in force), so the latest nextUpdate counts. */
static json_t *crls_by_issuer(const struct svrcert_env *env)
{
	json_t *held = NULL, *by = json_object(), *c, *prev;
	const char *iss;
	int64_t t, pt;
	size_t i;

	if (!by || trust_held_crls_json(&env->st, &held)) {
		json_decref(held);
		return by;
	}
	json_array_foreach(held, i, c) {
		iss = json_string_value(json_object_get(c, "issuer"));
		if (!iss || !strcmp(iss, "-") || !iso_time(json_string_value(
		    json_object_get(c, "next_update")), &t))
			continue;
		prev = json_object_get(by, iss);
		if (!prev || (iso_time(json_string_value(json_object_get(prev,
		    "next_update")), &pt) && pt < t))
			json_object_set(by, iss, c);
	}
	json_decref(held);
	return by;
}

static void held_crls(struct metrics *m, const struct svrcert_env *env)
{
	json_t *by = crls_by_issuer(env), *c;
	const char *iss;
	int64_t t;

	metrics_family(m, "svrcert_crl_next_update_timestamp_seconds", "gauge",
		       "nextUpdate of the CRL held for each issuer");
	json_object_foreach(by, iss, c)
		if (iso_time(json_string_value(json_object_get(c,
			     "next_update")), &t))
			metrics_i64(m, t, "issuer", iss, NULL);
	metrics_family(m, "svrcert_crl_last_update_timestamp_seconds", "gauge",
		       "lastUpdate (thisUpdate) of the CRL held for each issuer");
	json_object_foreach(by, iss, c)
		if (iso_time(json_string_value(json_object_get(c,
			     "last_update")), &t))
			metrics_i64(m, t, "issuer", iss, NULL);
	metrics_family(m, "svrcert_crl_entries", "gauge",
		       "Revoked certificates listed in the CRL held for each "
		       "issuer");
	json_object_foreach(by, iss, c)
		metrics_i64(m, json_integer_value(json_object_get(c, "entries")),
			    "issuer", iss, NULL);
	json_decref(by);
}

static bool raised(const struct alarm_set *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].id, id))
			return true;
	return false;
}

static const char *member(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* svrcertd's per-peer alarms (peer-certificate, peer-key) as it persists
 * them, labelled by peer: what `svrcertctl show alarms` lists. */
static void peer_alarms(struct metrics *m, json_t *peers, bool times)
{
	time_t t;
	json_t *a;
	size_t i;

	json_array_foreach(peers, i, a) {
		if (!times)
			metrics_u64(m, 1, "alarm", member(a, "id"), "peer", member(a, "peer"),
				    NULL);
		else if (!svrcert_time_parse_iso8601(member(a, "raised"), &t))
			metrics_i64(m, (int64_t)t, "alarm", member(a, "id"), "severity",
				    member(a, "severity"), "peer", member(a, "peer"), NULL);
	}
}

static void alarms(struct metrics *m, const struct svrcert_env *env)
{
	static const char *const known[] = { ALARM_EXPIRING, ALARM_INVALID,
		ALARM_NO_CERT, ALARM_TRUSTED_CA_REFUSED };
	struct alarm_set set = { .n = 0 };
	json_t *peers = NULL;
	size_t i;

	if (alarm_load(&env->st, &set))
		set.n = 0;
	if (store_read_json(&env->st, STORE_PEER_ALARMS, &peers) || !json_is_array(peers)) {
		json_decref(peers);
		peers = NULL;	/* json_array_foreach skips NULL */
	}
	metrics_family(m, "svrcert_alarm_active", "gauge", "1 while the "
		       "alarm is raised (show alarms)");
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		metrics_u64(m, raised(&set, known[i]), "alarm", known[i], NULL);
	for (i = 0; i < set.n; i++) {
		size_t k;

		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(set.v[i].id, known[k]))
				break;
		if (k == sizeof(known) / sizeof(known[0]))
			metrics_u64(m, 1, "alarm", set.v[i].id, NULL);
	}
	peer_alarms(m, peers, false);
	metrics_family(m, "svrcert_alarm_raised_timestamp_seconds", "gauge",
		       "When each raised alarm was raised at its severity");
	for (i = 0; i < set.n; i++)
		metrics_i64(m, (int64_t)set.v[i].raised, "alarm", set.v[i].id,
			    "severity", alarm_severity_name(set.v[i].severity),
			    NULL);
	peer_alarms(m, peers, true);
	json_decref(peers);
}

/* One family of packets by verdict and reason (received or sent). */
static void kernel_packets(struct metrics *m, const char *family,
			   const char *help, const uint64_t *accepted,
			   const uint64_t *dropped)
{
	int r;

	metrics_family(m, family, "counter", help);
	for (r = SVRCERT_REASON_OK; r <= SVRCERT_REASON_MAX; r++)
		metrics_u64(m, accepted[r], "verdict", "accept", "reason",
			    svrcert_nl_reason_name(r), NULL);
	for (r = SVRCERT_REASON_OK; r <= SVRCERT_REASON_MAX; r++)
		metrics_u64(m, dropped[r], "verdict", "drop", "reason",
			    svrcert_nl_reason_name(r), NULL);
}

/* Packets by verdict and reason, first-seen peer certificate states and
 * table sizes: GET_STATS. */
static void kernel_stats(struct metrics *m, const struct svrcert_kstats *k)
{
	kernel_packets(m, "svrcert_kernel_packets_total",
		       "Packets from peers judged by svrcert.ko, by verdict "
		       "and reason", k->accepted, k->dropped);
	kernel_packets(m, "svrcert_kernel_sent_packets_total",
		       "Packets to peers judged by svrcert.ko, by verdict "
		       "and reason", k->tx_accepted, k->tx_dropped);
	metrics_family(m, "svrcert_kernel_not_peer_packets_total", "counter",
		       "Packets from addresses of no peer (accepted untouched)");
	metrics_u64(m, k->not_peer, NULL);
	metrics_family(m, "svrcert_kernel_not_peer_sent_packets_total",
		       "counter", "Packets to addresses of no peer (accepted "
		       "untouched)");
	metrics_u64(m, k->tx_not_peer, NULL);
	metrics_family(m, "svrcert_kernel_peer_certificate_first_seen_total",
		       "counter", "Peers first seen with a certificate in "
		       "this state");
	metrics_u64(m, k->peer_cert_expired, "state", "expired", NULL);
	metrics_u64(m, k->peer_cert_invalid, "state", "invalid", NULL);
	metrics_u64(m, k->peer_cert_revoked, "state", "revoked", NULL);
	metrics_family(m, "svrcert_kernel_revoked_keys", "gauge",
		       "Revocation keys loaded in svrcert.ko");
	metrics_u64(m, k->keys, NULL);
	metrics_family(m, "svrcert_kernel_revoked_keys_max", "gauge",
		       "Revocation keys svrcert.ko accepts at most");
	metrics_u64(m, k->keys_max, NULL);
	metrics_family(m, "svrcert_kernel_revoked_keys_memory_bytes", "gauge",
		       "Memory of svrcert.ko's revocation key set");
	metrics_u64(m, k->keys_mem, NULL);
	metrics_family(m, "svrcert_kernel_peers", "gauge",
		       "Peers known to svrcert.ko");
	metrics_u64(m, k->peers, NULL);
	metrics_family(m, "svrcert_kernel_peers_max", "gauge",
		       "Peers svrcert.ko accepts at most");
	metrics_u64(m, k->peers_max, NULL);
	metrics_family(m, "svrcert_kernel_events_total", "counter",
		       "Events svrcert.ko sent or suppressed (rate limit)");
	metrics_u64(m, k->events_sent, "result", "sent", NULL);
	metrics_u64(m, k->events_suppressed, "result", "suppressed", NULL);
}

#define PEERS_MAX_LISTED	4096

struct peer_rows {
	struct svrcert_peer_info *v;
	size_t n, cap;
};

/* Grown as the dump goes: a few peers cost a few rows, not the limit. */
static int peer_row(const struct svrcert_peer_info *p, void *arg)
{
	struct peer_rows *rows = arg;
	struct svrcert_peer_info *nv;
	size_t cap;

	if (rows->n == PEERS_MAX_LISTED)
		return 0;
	if (rows->n == rows->cap) {
		cap = rows->cap ? rows->cap * 2 : 16;
		nv = reallocarray(rows->v, cap, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		rows->v = nv;
		rows->cap = cap;
	}
	rows->v[rows->n++] = *p;
	return 0;
}

/* Per peer (names come from svrcert.conf's [peer] sections and
 * svrcertctl peer add: bounded by configuration). */
static void kernel_peers(struct metrics *m, const struct peer_rows *rows)
{
	size_t i;

	metrics_family(m, "svrcert_peer_packets_total", "counter",
		       "Packets from each peer by verdict");
	for (i = 0; i < rows->n; i++) {
		metrics_u64(m, rows->v[i].rx_accepted, "peer", rows->v[i].name,
			    "verdict", "accept", NULL);
		metrics_u64(m, rows->v[i].rx_dropped, "peer", rows->v[i].name,
			    "verdict", "drop", NULL);
	}
	metrics_family(m, "svrcert_peer_sent_packets_total", "counter",
		       "Packets to each peer by verdict");
	for (i = 0; i < rows->n; i++) {
		metrics_u64(m, rows->v[i].tx_accepted, "peer", rows->v[i].name,
			    "verdict", "accept", NULL);
		metrics_u64(m, rows->v[i].tx_dropped, "peer", rows->v[i].name,
			    "verdict", "drop", NULL);
	}
	metrics_family(m, "svrcert_peer_certificate_expiry_timestamp_seconds",
		       "gauge", "notAfter of each peer's certificate");
	for (i = 0; i < rows->n; i++)
		metrics_i64(m, rows->v[i].not_after, "peer", rows->v[i].name,
			    NULL);
	metrics_family(m, "svrcert_peer_verdict_drop", "gauge",
		       "1 when svrcert.ko now drops the peer's packets");
	for (i = 0; i < rows->n; i++)
		metrics_u64(m, rows->v[i].verdict != SVRCERT_VERDICT_ACCEPT,
			    "peer", rows->v[i].name, NULL);
}

/* svrcert.ko's part; without the module only svrcert_kernel_module_loaded
 * 0, not zeros for counters that do not exist. */
static void kernel_metrics(struct metrics *m)
{
	struct peer_rows rows = { NULL, 0, 0 };
	struct svrcert_kstats k;
	struct svrcert_nl *nl = NULL;
	bool up = !svrcert_nl_open(&nl) && !svrcert_nl_stats_get(nl, &k);
	int ret = -EAGAIN, tries;

	metrics_family(m, "svrcert_kernel_module_loaded", "gauge",
		       "1 when svrcert.ko answered (its metrics follow)");
	metrics_u64(m, up, NULL);
	if (up)
		kernel_stats(m, &k);
	/* A table changed during the dump says -EAGAIN: try again. */
	for (tries = 0; up && ret == -EAGAIN && tries < 3; tries++) {
		rows.n = 0;
		ret = svrcert_nl_peers_dump(nl, peer_row, &rows);
	}
	if (up && !ret)
		kernel_peers(m, &rows);
	free(rows.v);
	if (nl)
		svrcert_nl_close(nl);
}

int svrcert_metrics_collect(const struct svrcert_env *env,
			    const struct own_cert_status *own,
			    char **text, size_t *len)
{
	struct own_cert_status now;
	json_t *state = NULL;
	struct metrics m;

	metrics_init(&m);
	if (counters_load(&env->st, &state))
		state = json_object();
	seed_counters(&m, state);
	json_decref(state);
	if (!own) {
		if (own_cert_evaluate(&env->ip, &now))
			memset(&now, 0, sizeof(now));
		own = &now;
	}
	own_certificate(&m, own);
	trusted_cas(&m, env);
	held_crls(&m, env);
	alarms(&m, env);
	kernel_metrics(&m);
	return metrics_finish(&m, text, len);
}
