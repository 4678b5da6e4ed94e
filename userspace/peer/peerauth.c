// SPDX-License-Identifier: GPL-2.0
/* Peer authentication: peers, scheduling and the poll-loop interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "pki/import.h"
#include "peerauth_int.h"
#include "lib/util.h"

int64_t pa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t pa_wall(const struct peerauth *pa)
{
	return pa->p.now ? pa->p.now : time(NULL);
}

/* 1 s, 2 s, 4 s, ... up to the backoff ceiling. */
static unsigned int backoff_ms(const struct peerauth *pa, unsigned int failures)
{
	uint64_t ms = PEERAUTH_BACKOFF_MIN_MS;
	uint64_t max = (uint64_t)pa->p.backoff_max_s * 1000;

	for (unsigned int i = 1; i < failures && ms < max; i++)
		ms *= 2;
	return (unsigned int)(ms < max ? ms : max);
}

static void peers_free(struct peerauth *pa)
{
	for (size_t i = 0; i < pa->n_peers; i++)
		pa_peer_clear(&pa->peers[i]);
	free(pa->peers);
	pa->peers = NULL;
	pa->n_peers = 0;
}

int pa_peer_init(struct pa_peer *peer, const struct svrcert_peer *cp)
{
	memset(peer, 0, sizeof(*peer));
	snprintf(peer->name, sizeof(peer->name), "%s", cp->name);
	peer->n_addrs = cp->n_addrs < SVRCERT_PEER_ADDRS_MAX ? cp->n_addrs :
			SVRCERT_PEER_ADDRS_MAX;
	memcpy(peer->addrs, cp->addrs, peer->n_addrs * sizeof(peer->addrs[0]));
	peer->state = SVRCERT_STATE_UNKNOWN;
	peer->via = "";
	if (cp->authenticate.host) {
		peer->host = strdup(cp->authenticate.host);
		if (!peer->host)
			return -ENOMEM;
		peer->port = cp->authenticate.port;
		peer->next_attempt_ms = pa_now_ms();
	}
	peer->any_source = cp->accept_any_source;
	return 0;
}

static int peers_build(struct peerauth *pa, const struct svrcert_config *cfg)
{
	pa->peers = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*pa->peers));
	if (!pa->peers)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		pa->n_peers = i + 1;
		if (pa_peer_init(&pa->peers[i], &cfg->peers[i]))
			return -ENOMEM;
	}
	return 0;
}

/* Logged when the reason changes, not at every retry (daemon checks). */
static void identity_reload(struct peerauth *pa)
{
	char why[sizeof(pa->ident_err)];

	if (!pa_identity_load(pa, why, sizeof(why))) {
		if (pa->ident_err[0])
			syslog(LOG_NOTICE, "peer auth: own identity loaded");
		pa->ident_err[0] = '\0';
		return;
	}
	if (strcmp(why, pa->ident_err))
		syslog(LOG_WARNING, "peer auth: %s; peers are not "
		       "authenticated until there is one", why);
	memcpy(pa->ident_err, why, sizeof(why));
}

/* A peer that hangs up while OpenSSL writes (an alert, close_notify) must
 * not kill the daemon: SIGPIPE is ignored unless the program handles it. */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (!sigaction(SIGPIPE, NULL, &sa) && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int peerauth_new(const struct peerauth_params *p, struct peerauth **out,
		 char *err, size_t errlen)
{
	struct peerauth *pa = calloc(1, sizeof(*pa));
	int ret;

	ignore_sigpipe();

	if (!pa)
		return -ENOMEM;
	pa->p = *p;
	pa->cfg = p->cfg;
	pa->listen_fd = -1;
	pa->resolve_pipe[0] = pa->resolve_pipe[1] = -1;
	svrcert_held_init(&pa->own_held);
	pa->held = p->held ? p->held : &pa->own_held;
	pa->sigcache = svrcert_sigcache_new(PEERAUTH_SIGCACHE_ENTRIES);
	if (!pa->sigcache) {
		free(pa);
		return -ENOMEM;
	}
	if (!pa->p.revalidate_s)
		pa->p.revalidate_s = PEERAUTH_DEF_REVALIDATE_S;
	if (!pa->p.handshake_ms)
		pa->p.handshake_ms = PEERAUTH_DEF_HANDSHAKE_MS;
	if (!pa->p.backoff_max_s)
		pa->p.backoff_max_s = p->cfg->crl_backoff_s ?: SVRCERT_DEF_BACKOFF_S;
	if (!pa->p.audit) {
		pa->own_sink = (struct audit_sink){ .st = p->st,
						    .path = p->cfg->audit_log };
		pa->p.audit = &pa->own_sink;
	}
	if (!pa->p.bind) {
		pa->p.bind = pa_default_bind;
		pa->p.unbind = pa_default_unbind;
		pa->p.bind_ctx = pa;
	}
	ret = pa_resolver_open(pa);
	if (ret)
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(-ret));
	if (!ret)
		ret = peers_build(pa, p->cfg);
	if (!ret)
		ret = pa_listen(pa, &p->cfg->listen, err, errlen);
	if (ret) {
		peerauth_free(pa);
		return ret;
	}
	pa_alarms_restore(pa);
	pa_keys_start(pa);
	identity_reload(pa);
	pa->next_revalidate_ms = pa_now_ms() + (int64_t)pa->p.revalidate_s * 1000;
	*out = pa;
	return 0;
}

static void incoming_free(struct peerauth *pa)
{
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++) {
		pa_conn_free(pa->incoming[i]);
		pa->incoming[i] = NULL;
	}
}

void peerauth_free(struct peerauth *pa)
{
	if (!pa)
		return;
	incoming_free(pa);
	peers_free(pa);		/* abandons lookups: before the pipe goes */
	pa_resolver_close(pa);
	if (pa->listen_fd >= 0)
		close(pa->listen_fd);
	free(pa->listen_host);
	pa_trust_invalidate(pa);
	svrcert_held_free(&pa->own_held);
	svrcert_sigcache_free(pa->sigcache);
	pa_identity_free(pa);
	pa_nl_close(pa);
	svrcert_xfrm_close(pa->xfrm);	/* the kernel keeps the SAs */
	free(pa);
}

size_t peerauth_pollfds(struct peerauth *pa, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	if (pa->listen_fd >= 0 && n < max)
		fds[n++] = (struct pollfd){ .fd = pa->listen_fd, .events = POLLIN };
	if (n < max)
		fds[n++] = (struct pollfd){ .fd = pa->resolve_pipe[0],
					    .events = POLLIN };
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING && n < max; i++)
		if (pa->incoming[i])
			fds[n++] = (struct pollfd){ .fd = pa->incoming[i]->fd,
				.events = pa->incoming[i]->events };
	for (size_t i = 0; i < pa->n_peers && n < max; i++)
		if (pa->peers[i].conn)
			fds[n++] = (struct pollfd){ .fd = pa->peers[i].conn->fd,
				.events = pa->peers[i].conn->events };
	return n;
}

static int64_t next_deadline(struct peerauth *pa)
{
	int64_t t = pa->next_revalidate_ms, attempt = INT64_MAX;
	size_t active = 0;

	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++)
		if (pa->incoming[i] && pa->incoming[i]->deadline_ms < t)
			t = pa->incoming[i]->deadline_ms;
	int64_t keys = pa_keys_timers(pa, pa_now_ms());

	if (keys < t)
		t = keys;
	for (size_t i = 0; i < pa->n_peers; i++) {
		const struct pa_peer *peer = &pa->peers[i];

		if (peer->conn) {
			active++;
			if (peer->conn->deadline_ms < t)
				t = peer->conn->deadline_ms;
		} else if (peer->resolving) {
			active++;
			if (peer->resolve_deadline_ms < t)
				t = peer->resolve_deadline_ms;
		} else if (peer->next_attempt_ms &&
			   peer->next_attempt_ms < attempt) {
			attempt = peer->next_attempt_ms;
		}
	}
	/* With every slot busy, a due attempt waits for a connection to
	 * end (an fd event or its deadline), not for the clock. */
	if (active < PEERAUTH_MAX_OUTGOING && attempt < t)
		t = attempt;
	return t;
}

int peerauth_timeout_ms(struct peerauth *pa)
{
	int64_t left = next_deadline(pa) - pa_now_ms();

	if (left < 0)
		return 0;
	return left > 3600000 ? 3600000 : (int)left;
}

/* An outgoing attempt ended: schedule the next one. */
static void attempt_done(struct peerauth *pa, struct pa_peer *peer, bool ok)
{
	pa_resolve_abandon(peer->resolving);
	peer->resolving = NULL;
	pa_conn_free(peer->conn);
	peer->conn = NULL;
	/* A severed peer is called only to see a new certificate. */
	peer->next_attempt_ms = pa_now_ms() +
		(peer->severed ? pa_sever_retry_ms(pa, peer) :
		 ok ? (int64_t)pa->p.revalidate_s * 1000 :
		      backoff_ms(pa, peer->failures));
	peer->severed_calls += peer->severed;
}

/* Connect to the next address host resolved to; when none is left, the
 * attempt failed with WHY (the last address's error). */
static void connect_next(struct peerauth *pa, struct pa_peer *peer,
			 const char *why)
{
	char a[INET6_ADDRSTRLEN], msg[300];
	int ret = 0;

	while (peer->next_target < peer->n_resolved) {
		const struct svrcert_addr *to =
			&peer->resolved[peer->next_target++];

		ret = pa_conn_connect(pa, peer, to);
		if (!ret)
			return;
		pa_addr_text(to, a, sizeof(a));
		snprintf(msg, sizeof(msg), "cannot connect to %s%s%s:%u: %s",
			 to->family == AF_INET6 ? "[" : "", a,
			 to->family == AF_INET6 ? "]" : "", peer->port,
			 strerror(-ret));
		why = msg;
	}
	pa_transport_failed(pa, peer, why ? why : "no address to connect to");
	attempt_done(pa, peer, false);
}

static void step_outgoing(struct peerauth *pa, struct pa_peer *peer)
{
	char why[300];
	int r;

	if (peer->conn->agree) {	/* authenticated: keys */
		if (pa_keys_step(pa, peer->conn))
			attempt_done(pa, peer, true);
		return;
	}
	if (peer->conn->closing) {	/* authenticated: the peer's word */
		r = pa_conn_close_step(peer->conn, why, sizeof(why));
		if (r < 0)
			pa_transport_failed(pa, peer, why);
		if (r)
			attempt_done(pa, peer, r > 0);
		return;
	}
	r = pa_conn_step(peer->conn, why, sizeof(why));
	if (r == 0)
		return;
	/* Still "connecting" after a failed step: TCP failed, not TLS. */
	if (r < 0 && peer->conn->connecting &&
	    peer->next_target < peer->n_resolved) {
		/* Refused or unreachable there: try the host's next one. */
		syslog(LOG_INFO, "peer %s: %s; trying the next address",
		       peer->name, why);
		pa_conn_free(peer->conn);
		peer->conn = NULL;
		connect_next(pa, peer, why);
		return;
	}
	if (r > 0) {
		pa_judge_received(pa, peer->conn);
		if (!pa_keys_begin(pa, peer->conn))
			return;
		if (!peer->conn->agree) {	/* an authentication only */
			peer->conn->closing = true;
			peer->conn->deadline_ms = pa_now_ms() +
						  (int64_t)pa->p.handshake_ms;
			step_outgoing(pa, peer);
			return;
		}
	} else {
		pa_transport_failed(pa, peer, why);
	}
	attempt_done(pa, peer, r > 0);
}

static void step_incoming(struct peerauth *pa, size_t i)
{
	struct pa_conn *c = pa->incoming[i];
	char why[300];
	int r;

	if (c->agree)
		r = pa_keys_step(pa, c) ? 2 : 0;
	else
		r = pa_conn_step(c, why, sizeof(why));
	if (r == 0)
		return;
	if (r == 1) {
		pa_judge_received(pa, c);
		if (!pa_keys_begin(pa, c))
			return;
	} else if (r < 0) {
		/* Unknown caller: nothing to retry, but say why. */
		pa->counters[PA_CNT_HANDSHAKE_FAILED]++;
		syslog(LOG_NOTICE, "peer auth from %s: %s", c->remote, why);
	}
	pa_conn_free(c);
	pa->incoming[i] = NULL;
}

/* An address literal needs no lookup; a name is looked up without
 * blocking (peerauth_resolve.c) and connected to when the answer comes. */
static void start_attempt(struct peerauth *pa, struct pa_peer *peer)
{
	struct svrcert_addr literal;
	char why[300];
	int ret;

	if (!pa->client_ctx) {
		snprintf(peer->transport, sizeof(peer->transport), "%s",
			 pa->ident_err);
		peer->next_attempt_ms = 0;	/* until the identity changes */
		return;
	}
	peer->next_target = 0;
	if (!svrcert_parse_addr(peer->host, &literal)) {
		peer->resolved[0] = literal;
		peer->n_resolved = 1;
		connect_next(pa, peer, NULL);
		return;
	}
	ret = pa_resolve_start(pa, peer->host, peer->port, &peer->resolving);
	if (ret) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", peer->host,
			 strerror(-ret));
		pa_transport_failed(pa, peer, why);
		attempt_done(pa, peer, false);
		return;
	}
	peer->resolve_deadline_ms = pa_now_ms() + pa->p.handshake_ms;
}

/* The resolver's pipe was readable: act on every finished lookup. */
static void lookups_done(struct peerauth *pa)
{
	char why[300];

	pa_resolver_drain(pa);
	for (size_t i = 0; i < pa->n_peers; i++) {
		struct pa_peer *peer = &pa->peers[i];
		int r;

		if (!peer->resolving)
			continue;
		r = pa_resolve_result(peer->resolving, peer, why, sizeof(why));
		if (!r)
			continue;
		pa_resolve_abandon(peer->resolving);	/* releases it */
		peer->resolving = NULL;
		if (r > 0) {
			peer->next_target = 0;
			connect_next(pa, peer, NULL);
		} else {
			pa_transport_failed(pa, peer, why);
			attempt_done(pa, peer, false);
		}
	}
}

/* A lookup without an answer in time (a dead DNS server) is given up and
 * retried with the usual backoff. */
static void lookup_timeout(struct peerauth *pa, struct pa_peer *peer,
			   int64_t now)
{
	char why[300];

	if (!peer->resolving || peer->resolve_deadline_ms > now)
		return;
	snprintf(why, sizeof(why), "cannot resolve %s: no answer within "
		 "%u ms", peer->host, pa->p.handshake_ms);
	pa_transport_failed(pa, peer, why);
	attempt_done(pa, peer, false);
}

static void run_timers(struct peerauth *pa)
{
	int64_t now = pa_now_ms();
	size_t active = 0;

	pa_persist_counts(pa);
	pa_keys_timers(pa, now);
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++)
		if (pa->incoming[i] && pa->incoming[i]->deadline_ms <= now) {
			if (pa->incoming[i]->agree) {
				pa_keys_timeout(pa, pa->incoming[i]);
			} else {
				syslog(LOG_NOTICE, "peer auth from %s: handshake "
				       "timed out", pa->incoming[i]->remote);
				pa->counters[PA_CNT_HANDSHAKE_FAILED]++;
			}
			pa_conn_free(pa->incoming[i]);
			pa->incoming[i] = NULL;
		}
	if (now >= pa->next_revalidate_ms) {
		/* Periodic: judge the cached certificates at once (dates,
		 * CRLs), and call every peer again. */
		pa->next_revalidate_ms = now + (int64_t)pa->p.revalidate_s * 1000;
		pa_trust_invalidate(pa);
		for (size_t i = 0; i < pa->n_peers; i++) {
			pa_rejudge(pa, &pa->peers[i], "revalidate");
			if (pa->peers[i].host && !pa->peers[i].conn &&
			    !pa->peers[i].resolving && !pa->peers[i].severed)
				pa->peers[i].next_attempt_ms = now;
		}
	}
	for (size_t i = 0; i < pa->n_peers; i++) {
		struct pa_peer *peer = &pa->peers[i];

		if (peer->conn && peer->conn->deadline_ms <= now) {
			if (peer->conn->agree)
				pa_keys_timeout(pa, peer->conn);
			else
				pa_transport_failed(pa, peer, peer->conn->closing ?
					"the peer did not confirm the handshake "
					"in time" : "TLS handshake timed out");
			attempt_done(pa, peer, peer->conn->agree != NULL);
		}
		lookup_timeout(pa, peer, now);
		if (peer->conn || peer->resolving)
			active++;
	}
	/* Due peers beyond PEERAUTH_MAX_OUTGOING wait for a free slot: every
	 * attempt must fit into the caller's poll set. */
	for (size_t i = 0; i < pa->n_peers &&
	     active < PEERAUTH_MAX_OUTGOING; i++) {
		struct pa_peer *peer = &pa->peers[i];

		if (!peer->conn && !peer->resolving && peer->host &&
		    peer->next_attempt_ms && peer->next_attempt_ms <= now) {
			start_attempt(pa, peer);
			active += peer->conn || peer->resolving;
		}
	}
}

void peerauth_process(struct peerauth *pa, const struct pollfd *fds, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == pa->listen_fd) {
			pa_conn_accept(pa);
			continue;
		}
		if (fds[k].fd == pa->resolve_pipe[0]) {
			lookups_done(pa);
			continue;
		}
		for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++)
			if (pa->incoming[i] && pa->incoming[i]->fd == fds[k].fd)
				step_incoming(pa, i);
		for (size_t i = 0; i < pa->n_peers; i++)
			if (pa->peers[i].conn && pa->peers[i].conn->fd == fds[k].fd)
				step_outgoing(pa, &pa->peers[i]);
	}
	run_timers(pa);
}

/*
 * This router's certificate changed: the connections in their handshake
 * presented the old one and go, and every peer is called again at once.
 * A key agreement already under way completes (its keys, agreed under the
 * old certificate, are stale at once and replaced by the next one): cut
 * short, it would leave the pair on different SAs until the next one.
 */
static void reschedule_all(struct peerauth *pa)
{
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++)
		if (pa->incoming[i] && !pa_keys_conn_busy(pa->incoming[i])) {
			pa_conn_free(pa->incoming[i]);
			pa->incoming[i] = NULL;
		}
	for (size_t i = 0; i < pa->n_peers; i++) {
		struct pa_peer *peer = &pa->peers[i];

		if (peer->conn && pa_keys_conn_busy(peer->conn))
			continue;	/* its end schedules the next call */
		pa_resolve_abandon(peer->resolving);
		peer->resolving = NULL;
		pa_conn_free(peer->conn);
		peer->conn = NULL;
		peer->failures = 0;
		if (peer->host)
			peer->next_attempt_ms = pa_now_ms() +
				(peer->severed ? pa_sever_retry_ms(pa, peer) : 0);
	}
}

int peerauth_own_cert_changed(struct peerauth *pa, char *err, size_t errlen)
{
	pa_trust_invalidate(pa);
	identity_reload(pa);
	reschedule_all(pa);
	if (pa->ident_err[0])
		snprintf(err, errlen, "%s", pa->ident_err);
	return pa->client_ctx ? 0 : -ENOENT;
}

int peerauth_check_own_cert(struct peerauth *pa)
{
	uint8_t now[SVRCERT_DIGEST_LEN];
	char err[300];

	/* Called after any change to the state directory (trusted CAs
	 * too): the cached trust is read again at the next judgement. */
	pa_trust_invalidate(pa);
	/* svrcertctl set may have changed the policy (policy-override.json) */
	pa_sever_recheck(pa);
	pa_own_cert_hash(pa, now);
	if (!memcmp(now, pa->own_cert_hash, sizeof(now))) {
		/* The same certificate, but its load failed (the key not yet
		 * there, a file being replaced): try again at every check,
		 * else no peer is called until the certificate changes. */
		if (pa->client_ctx || !pa->ident_err[0])
			return 0;
		identity_reload(pa);
		if (pa->client_ctx)
			reschedule_all(pa);
		return pa->client_ctx ? 1 : 0;
	}
	/* Established keys stay in force: those agreed under the old
	 * certificate are due for a rekey (pa_keys_due), which replaces them
	 * make-before-break on the new authentication. */
	syslog(LOG_INFO, "peer auth: own certificate replaced; "
	       "authenticating every peer again%s", pa->cfg->peer_keys ?
	       " and agreeing new keys (the old ones stay until then)" : "");
	peerauth_own_cert_changed(pa, err, sizeof(err));
	return 1;
}
