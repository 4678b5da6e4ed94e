// SPDX-License-Identifier: GPL-2.0
/* Peer authentication: reconfiguration, CRL updates and status. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "pki/import.h"
#include "peerauth_int.h"
#include "lib/util.h"

static struct pa_peer *find(const struct peerauth *pa, const char *name)
{
	for (size_t i = 0; i < pa->n_peers; i++)
		if (!strcmp(pa->peers[i].name, name))
			return &pa->peers[i];
	return NULL;
}

/* Move what was learnt about OLD into its successor NEW (same name). */
static void carry_over(struct pa_peer *new, struct pa_peer *old)
{
	new->cert = old->cert;
	new->chain = old->chain;
	old->cert = NULL;
	old->chain = NULL;
	memcpy(new->fingerprint, old->fingerprint, sizeof(new->fingerprint));
	new->state = old->state;
	new->problem = old->problem;
	memcpy(new->reason, old->reason, sizeof(new->reason));
	memcpy(new->identity, old->identity, sizeof(new->identity));
	new->last_auth = old->last_auth;
	new->via = old->via;
	new->results = old->results;
	new->alarm = old->alarm;
	new->alarm_since = old->alarm_since;
	new->refused_n = old->refused_n;
	new->refused_at = old->refused_at;
	memcpy(new->refused, old->refused, sizeof(new->refused));
	new->keys = old->keys;
	new->severed = old->severed;
	new->severed_since = old->severed_since;
	new->severed_calls = old->severed_calls;
	memcpy(new->severed_why, old->severed_why, sizeof(new->severed_why));
	/* Same host: its addresses stay valid callers until looked up again. */
	if (new->host && old->host && !strcmp(new->host, old->host)) {
		memcpy(new->resolved, old->resolved, sizeof(new->resolved));
		new->n_resolved = old->n_resolved;
	}
	/* Addresses may have changed: make the next result rebind. */
	snprintf(new->kernel, sizeof(new->kernel), "configuration changed");
}

static bool same_listen(const struct peerauth *pa,
			const struct svrcert_endpoint *ep)
{
	if (!pa->listen_host || !ep->host)
		return !pa->listen_host && !ep->host;
	return !strcmp(pa->listen_host, ep->host) &&
	       pa->listen_cfg_port == ep->port;
}

/* Always adopts CFG (the caller may free the old one right after): a
 * listen address that cannot be bound leaves the router not listening,
 * and is reported. */
int peerauth_reconfigure(struct peerauth *pa, const struct svrcert_config *cfg,
			 char *err, size_t errlen)
{
	struct pa_peer *peers = calloc(cfg->n_peers ?: 1, sizeof(*peers));
	size_t n = 0;
	int ret = 0, lret = 0;

	if (!peers)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers && !ret; i++) {
		struct pa_peer *old = find(pa, cfg->peers[i].name);

		n = i + 1;
		ret = pa_peer_init(&peers[i], &cfg->peers[i]);
		if (!ret && old)
			carry_over(&peers[i], old);
	}
	if (ret) {
		for (size_t i = 0; i < n; i++)
			pa_peer_clear(&peers[i]);
		free(peers);
		return ret;
	}
	/* Peers that left the configuration leave the kernel too. */
	for (size_t i = 0; i < pa->n_peers; i++) {
		if (!svrcert_config_peer(cfg, pa->peers[i].name)) {
			if (pa->p.unbind)
				pa->p.unbind(pa->peers[i].name, pa->p.bind_ctx);
			pa_keys_cut(pa, &pa->peers[i], "peer removed from the configuration");
			syslog(LOG_INFO, "peer %s removed from the "
			       "configuration", pa->peers[i].name);
			if (pa->peers[i].alarm)
				syslog(LOG_NOTICE, "alarm cleared: %s %s: peer "
				       "removed", PEERAUTH_ALARM_ID,
				       pa->peers[i].name);
		}
		pa_peer_clear(&pa->peers[i]);
	}
	free(pa->peers);
	pa->peers = peers;
	pa->n_peers = n;
	pa_alarms_save(pa);	/* removed peers' alarms are gone */
	pa->cfg = cfg;
	pa->p.cfg = cfg;
	if (pa->p.audit == &pa->own_sink)	/* it pointed into the old cfg */
		pa->own_sink.path = cfg->audit_log;
	if (!same_listen(pa, &cfg->listen)) {
		if (pa->listen_fd >= 0)
			close(pa->listen_fd);
		pa->listen_fd = -1;
		free(pa->listen_host);
		pa->listen_host = NULL;
		lret = pa_listen(pa, &cfg->listen, err, errlen);
	}
	/* The key storage may have changed; and judge everyone again. */
	ret = peerauth_own_cert_changed(pa, err, lret ? 0 : errlen);
	/* fail-hard or peer-validation may have changed: sever, resume. */
	pa_sever_recheck(pa);
	return lret ? lret : ret == -ENOMEM ? -ENOMEM : 0;
}

int peerauth_crl_updated(struct peerauth *pa)
{
	int changed = 0;

	pa_trust_invalidate(pa);
	for (size_t i = 0; i < pa->n_peers; i++)
		changed += pa_rejudge(pa, &pa->peers[i], "crl-update");
	return changed;
}

uint16_t peerauth_listen_port(const struct peerauth *pa)
{
	return pa->listen_port;
}

uint64_t peerauth_counter(const struct peerauth *pa, enum peerauth_counter c)
{
	return c < PA_CNT__MAX ? pa->counters[c] : 0;
}

int peerauth_peer_status(const struct peerauth *pa, const char *name,
			 struct peerauth_peer_status *out)
{
	const struct pa_peer *peer = find(pa, name);

	if (!peer)
		return -ENOENT;
	*out = (struct peerauth_peer_status){
		.name = peer->name, .state = peer->state,
		.problem = peer->problem,
		.reason = peer->reason[0] ? peer->reason : peer->transport,
		.identity = peer->identity,
		.fingerprint = peer->cert ? peer->fingerprint : NULL,
		.last_auth = peer->last_auth, .via = peer->via,
		.alarm = peer->alarm, .kernel = peer->kernel,
		.results = peer->results,
	};
	return 0;
}

void peerauth_peer_certs(const struct peerauth *pa, peerauth_cert_fn fn,
			 void *ctx)
{
	for (size_t i = 0; i < pa->n_peers; i++)
		if (pa->peers[i].cert)
			fn(pa->peers[i].name, pa->peers[i].cert,
			   pa->peers[i].state, ctx);
}

/* What the outgoing attempt is doing now, for "show peers". */
static void attempt_text(const struct pa_peer *peer, char *out, size_t len)
{
	int64_t left = peer->next_attempt_ms - pa_now_ms();

	if (peer->resolving)
		snprintf(out, len, "resolving %s", peer->host);
	else if (peer->conn)
		snprintf(out, len, "%s %s", peer->conn->connecting ?
			 "connecting to" : peer->conn->closing ?
			 "awaiting the close of" : "TLS handshake with",
			 peer->conn->remote);
	else if (peer->host && peer->next_attempt_ms)
		snprintf(out, len, "next in %lld s",
			 (long long)(left > 0 ? (left + 999) / 1000 : 0));
	else
		out[0] = '\0';
}

static json_t *addr_array(const struct svrcert_addr *a, size_t n)
{
	json_t *arr = json_array();
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		pa_addr_text(&a[i], text, sizeof(text));
		json_array_append_new(arr, json_string(text));
	}
	return arr;
}

static json_t *refused_json(const struct pa_peer *peer)
{
	char when[32];

	if (!peer->refused_n)
		return json_null();
	svrcert_time_iso8601(peer->refused_at, when, sizeof(when));
	return json_pack("{s:i, s:s, s:s}", "count", (int)peer->refused_n,
			 "last", when, "message", peer->refused);
}

static json_t *peer_json(const struct peerauth *pa, const struct pa_peer *peer)
{
	char fp[SVRCERT_DIGEST_LEN * 2 + 1] = "", last[32] = "", since[32] = "";
	char endpoint[300] = "", attempt[360];
	json_t *addrs = addr_array(peer->addrs, peer->n_addrs), *o;

	if (peer->cert)
		svrcert_hex(peer->fingerprint, SVRCERT_DIGEST_LEN, fp);
	if (peer->last_auth)
		svrcert_time_iso8601(peer->last_auth, last, sizeof(last));
	if (peer->alarm)
		svrcert_time_iso8601(peer->alarm_since, since, sizeof(since));
	if (peer->host)
		snprintf(endpoint, sizeof(endpoint), "%s:%u", peer->host,
			 peer->port);
	attempt_text(peer, attempt, sizeof(attempt));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			 " s:s, s:i, s:o, s:o, s:s}",
			 "name", peer->name, "state", cert_state_name(peer->state),
			 "problem", peer->problem ?
				    svrcert_problem_name(peer->problem) : "",
			 "reason", peer->reason, "identity", peer->identity,
			 "fingerprint", fp, "last_authentication", last,
			 "via", peer->via ? peer->via : "",
			 "authenticate", endpoint,
			 "transport_error", peer->transport,
			 "results", (int)peer->results,
			 "alarm", peer->alarm ?
				json_pack("{s:s, s:s, s:s}", "id", PEERAUTH_ALARM_ID,
					  "severity", "critical", "raised", since) :
				json_null(),
			 "addresses", addrs, "kernel", peer->kernel);
	json_object_set_new(o, "resolved", addr_array(peer->resolved,
						      peer->n_resolved));
	json_object_set_new(o, "attempt", json_string(attempt));
	json_object_set_new(o, "accept_any_source", json_boolean(peer->any_source));
	json_object_set_new(o, "source_refused", refused_json(peer));
	json_object_set_new(o, "keys", pa_keys_json(pa, peer));
	/* fail-hard severed it (peerauth_sever.c) */
	json_object_set_new(o, "peering", json_string(peer->severed ?
						      "severed" : "active"));
	json_object_set_new(o, "severed", pa_sever_json(peer));
	return o;
}

json_t *peerauth_status_json(const struct peerauth *pa)
{
	json_t *peers = json_array(), *root;

	for (size_t i = 0; i < pa->n_peers; i++)
		json_array_append_new(peers, peer_json(pa, &pa->peers[i]));
	root = json_pack("{s:b, s:o, s:i, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "ok", 1, "peers", peers,
			 "listen_port", (int)pa->listen_port,
			 "identity_error", pa->ident_err,
			 "counters",
			 "valid", (json_int_t)pa->counters[PA_CNT_OK],
			 "expired", (json_int_t)pa->counters[PA_CNT_EXPIRED],
			 "invalid", (json_int_t)pa->counters[PA_CNT_INVALID],
			 "revoked", (json_int_t)pa->counters[PA_CNT_REVOKED],
			 "handshake_failed",
			 (json_int_t)pa->counters[PA_CNT_HANDSHAKE_FAILED],
			 "source_refused",
			 (json_int_t)pa->counters[PA_CNT_SOURCE_REFUSED]);
	return root;
}
