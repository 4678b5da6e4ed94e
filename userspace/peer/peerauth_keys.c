// SPDX-License-Identifier: GPL-2.0
/*
 * ESP keys agreed with an authenticated peer over the TLS connection that
 * authenticated it ([daemon] peer-keys; the schedule is peerkey.h's, the
 * protocol Documentation/peerauth.md's).
 *
 * One keying connection per pair: only the router whose certificate has
 * the lower SHA-256 fingerprint starts an agreement, and only as the TLS
 * client (its own call); the other waits for the offer. When the higher
 * one has no keys, it says so on its own call with a REQUEST, and the
 * lower one calls back at once. Both routers compute the same roles from
 * the two certificates, so two agreements never cross.
 *
 * Make-before-break: inbound SA, READY both ways, outbound SA, policies;
 * the replaced outbound SA PEERKEY_GRACE_S later (adding the new one moves
 * the senders; deleting the old one at once could fail a packet in
 * flight), a replaced inbound SA once the peer is seen on a newer one. An
 * agreement that fails after our READY keeps its inbound SA the same way
 * (the peer may have switched to it) and asks for the next agreement.
 *
 * The agreement state holds key bytes between two turns of the loop: it
 * lives in its own mapping, excluded from core dumps (MADV_DONTDUMP) and
 * locked out of swap when the limit allows, wiped before it is unmapped.
 *
 * What happens to keys once agreed (rotation, expiry, cuts, the JSON
 * view) is peerauth_keys_timers.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "lib/util.h"
#include "pki/pki.h"
#include "peerauth_int.h"
#include "peerauth_keys_int.h"

enum pa_agree_phase {
	PK_WAIT,	/* server: the peer's offer, REQUEST or close */
	PK_OFFER,	/* our offer sent, theirs awaited */
	PK_READY,	/* inbound SA in, READY sent, theirs awaited */
	PK_CLOSE,	/* done once what is queued is written */
};

struct pa_agree {
	enum pa_agree_phase phase;
	bool lower;			/* our fingerprint is the lower one */
	bool offered;			/* our offer is queued or sent */
	bool in_installed;
	int64_t begun_ms;		/* monotonic: this connection's start */
	/* the certificates it runs under (pa_keys.own_cert, peer_cert) */
	uint8_t own_cert[SVRCERT_DIGEST_LEN], peer_cert[SVRCERT_DIGEST_LEN];
	struct peerkey_offer mine, theirs;
	struct peerkey_keys k;
	struct peerkey_path path;
	uint8_t out[2 * PEERKEY_OFFER_LEN];
	size_t out_len;
	uint8_t in[PEERKEY_OFFER_LEN];
	size_t in_len;
};

static struct pa_agree *agree_new(void)
{
	size_t len = (sizeof(struct pa_agree) + 4095) & ~(size_t)4095;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	/* Without DONTDUMP no key may live here: a core would carry it. */
	if (madvise(m, len, MADV_DONTDUMP)) {
		munmap(m, len);
		return NULL;
	}
	mlock(m, len);		/* best effort: RLIMIT_MEMLOCK may refuse */
	return m;		/* zero-filled */
}

void pa_keys_conn_free(struct pa_conn *c)
{
	size_t len = (sizeof(struct pa_agree) + 4095) & ~(size_t)4095;

	if (!c->agree)
		return;
	OPENSSL_cleanse(c->agree, sizeof(*c->agree));
	munlock(c->agree, len);
	munmap(c->agree, len);
	c->agree = NULL;
}

/* Not the slot (peers are renumbered by a reload): the same name keeps
 * the same reqid, which ties the policies' template to the SAs. */
static uint32_t reqid_of(const char *name)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return SVRCERT_XFRM_REQID((h ^ (h >> 16)) & 0xffff);
}

static int sock_addr(int fd, bool peer, struct svrcert_nl_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct svrcert_addr a;

	if ((peer ? getpeername(fd, (void *)&ss, &len) :
		    getsockname(fd, (void *)&ss, &len)) ||
	    pa_sockaddr_to_addr(&ss, &a))
		return -errno ?: -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = a.family;
	if (a.family == AF_INET)
		out->v4 = a.v4;
	else
		out->v6 = a.v6;
	return 0;
}

int pa_keys_xfrm(struct peerauth *pa, struct svrcert_xfrm **out)
{
	int ret = 0;

	if (!pa->xfrm)
		ret = svrcert_xfrm_open(&pa->xfrm);
	*out = pa->xfrm;
	return ret;
}

const char *pa_keys_xerr(const struct peerauth *pa, int err)
{
	const char *m = pa->xfrm ? svrcert_xfrm_errmsg(pa->xfrm) : "";

	return *m ? m : strerror(-err);
}

/* <0: we are the lower, >0: the peer, 0: unknown (no certificate). */
static int fp_cmp(struct pa_conn *c)
{
	uint8_t own[SVRCERT_DIGEST_LEN];
	X509 *mine = SSL_get_certificate(c->ssl);

	if (!mine || !c->peer->cert || svrcert_fingerprint_sha256(mine, own))
		return 0;
	return memcmp(own, c->peer->fingerprint, sizeof(own)) < 0 ? -1 : 1;
}

static void queue(struct pa_agree *a, const struct peerkey_offer *o)
{
	peerkey_offer_encode(o, a->out + a->out_len);
	a->out_len += PEERKEY_OFFER_LEN;
}

static int fail(struct peerauth *pa, struct pa_conn *c, const char *what, int err)
{
	struct pa_peer *peer = c->peer;
	struct pa_agree *a = c->agree;

	snprintf(peer->keys.failure, sizeof(peer->keys.failure), "%s%s%s", what,
		 err ? ": " : "", err ? pa_keys_xerr(pa, err) : "");
	peer->keys.failed_at = pa_wall(pa);
	peer->keys.failures++;
	pa->pending[PA_P_REKEY_FAIL].n++;	/* counters.json, from the loop */
	syslog(LOG_WARNING, "peer %s: key agreement failed: %s", peer->name,
	       peer->keys.failure);
	/*
	 * Our READY went out with the inbound SA (or is queued): the peer may
	 * have read it and send to that SA already, while our outbound SA did
	 * not move. Held until the peer is seen past it (peerauth_keys_held.c),
	 * and the pair agrees again so that ours moves too.
	 */
	if (a && a->in_installed && pa->xfrm) {
		pa_keys_hold(pa, peer, a->k.spi_in, a->k.index, &a->path);
		a->in_installed = false;
		peer->keys.wanted = true;
	}
	ERR_clear_error();
	return -1;
}

/* Our offer: an inbound SPI reserved in the kernel and our index floor. */
static int offer(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a = c->agree;
	struct svrcert_xfrm *x;
	char err[300];
	int ret = pa_keys_xfrm(pa, &x);

	if (ret)
		return fail(pa, c, "xfrm netlink socket", ret);
	ret = svrcert_xfrm_allocspi(x, &a->path.remote, &a->path.local, a->path.reqid,
				    0, 0, &a->mine.spi);
	if (ret)
		return fail(pa, c, "inbound SPI (XFRM_MSG_ALLOCSPI)", ret);
	ret = peerkey_index_load(pa->p.st, c->peer->name, &a->mine.index, err, sizeof(err));
	if (ret)
		return fail(pa, c, err, 0);
	queue(a, &a->mine);
	a->offered = true;
	a->phase = PK_OFFER;
	return 0;
}

/* Both offers known: index, floor, keys, inbound SA, READY. */
static int derive_in(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a = c->agree;
	uint64_t index = peerkey_agree_index(&a->mine, &a->theirs);
	char err[300];
	int ret;

	ret = peerkey_index_commit(pa->p.st, c->peer->name, index, err, sizeof(err));
	if (ret)
		return fail(pa, c, err, 0);
	ret = peerkey_derive(c->ssl, &a->mine, &a->theirs, index, &a->k);
	if (ret)
		return fail(pa, c, "key derivation (TLS exporter)", ret);
	ret = peerkey_sa_install_in(pa->xfrm, &a->path, &a->k, pa->cfg->peer_key_rekey_s,
				    pa->cfg->peer_key_timeout_s);
	if (ret)
		return fail(pa, c, "inbound SA", ret);
	a->in_installed = true;
	queue(a, &(struct peerkey_offer){ .spi = a->k.spi_in, .index = index,
					  .flags = PEERKEY_F_READY });
	a->phase = PK_READY;
	return 0;
}

/* The peer's inbound SA exists: switch our outbound to it. */
static int finish(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a = c->agree;
	int ret = peerkey_sa_install_out(pa->xfrm, &a->path, &a->k, pa->cfg->peer_key_rekey_s,
					 pa->cfg->peer_key_timeout_s);

	if (ret)
		return fail(pa, c, "outbound SA", ret);
	ret = peerkey_policies_install(pa->xfrm, &a->path);
	if (ret) {
		peerkey_sa_remove(pa->xfrm, &a->path, 0, a->k.spi_out);
		return fail(pa, c, "policies", ret);
	}
	pa_keys_installed(pa, c->peer, &a->k, &a->path);
	/* Not the certificates in use now: this router's may have been
	 * replaced while the agreement ran (it was let finish), and then
	 * these keys are stale at once. */
	memcpy(c->peer->keys.own_cert, a->own_cert, sizeof(a->own_cert));
	memcpy(c->peer->keys.peer_cert, a->peer_cert, sizeof(a->peer_cert));
	peerkey_keys_wipe(&a->k);
	a->in_installed = false;
	a->phase = PK_CLOSE;
	return 0;
}

/* The higher router asks for keys: call it back now. */
static void requested(struct peerauth *pa, struct pa_peer *peer)
{
	peer->keys.wanted = true;
	if (!peer->host) {
		syslog(LOG_WARNING, "peer %s asks for keys, but has no authenticate "
		       "endpoint here to call", peer->name);
		return;
	}
	if (!peer->conn && !peer->resolving)
		peer->next_attempt_ms = pa_now_ms();
}

static int message(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a = c->agree;
	struct peerkey_offer m;
	char err[200];

	a->in_len = 0;
	if (peerkey_offer_decode(a->in, sizeof(a->in), &m, err, sizeof(err)))
		return fail(pa, c, err, 0);
	if (m.flags == PEERKEY_F_REQUEST && a->phase == PK_WAIT && a->lower) {
		/* Keys agreed since this caller asked answer it already: both
		 * daemons call at start, and the request of the one with no
		 * keys yet crossed our own first agreement (a second one
		 * followed at once). */
		if (!c->peer->keys.established || c->peer->keys.agreed_ms < a->begun_ms)
			requested(pa, c->peer);
		return 0;
	}
	if (m.flags == 0 && (a->phase == PK_OFFER ||
			     (a->phase == PK_WAIT && !a->lower))) {
		a->theirs = m;
		if (!a->offered && offer(pa, c))
			return -1;
		return derive_in(pa, c);
	}
	if (m.flags == PEERKEY_F_READY && a->phase == PK_READY) {
		if (m.spi != a->k.spi_out || m.index != a->k.index)
			return fail(pa, c, "READY for another key", 0);
		return finish(pa, c);
	}
	return fail(pa, c, "unexpected key message", 0);
}

/* Write what is queued; 1 written, 0 would block, -1 failed. */
static int flush(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a = c->agree;
	int r;

	if (!a->out_len)
		return 1;
	ERR_clear_error();	/* SSL_get_error() reads the queue */
	r = SSL_write(c->ssl, a->out, (int)a->out_len);
	if (r > 0) {
		a->out_len = 0;
		return 1;
	}
	if (pa_conn_wants_io(c, r))
		return 0;
	return fail(pa, c, "connection lost during key agreement", 0);
}

int pa_keys_step(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a = c->agree;
	int r;

	for (;;) {
		r = flush(pa, c);
		if (r <= 0)
			return r;
		if (a->phase == PK_CLOSE)
			return 1;
		/* A judgement or the xfrm calls may have left errors in the
		 * queue: SSL_get_error() would then report a failure. */
		ERR_clear_error();
		r = SSL_read(c->ssl, a->in + a->in_len, (int)(sizeof(a->in) - a->in_len));
		if (r > 0) {
			a->in_len += (size_t)r;
			if (a->in_len == sizeof(a->in) && message(pa, c))
				return -1;
			continue;
		}
		if (pa_conn_wants_io(c, r))
			return 0;
		/* A close while waiting is the end of an authentication only. */
		if (a->phase == PK_WAIT && !a->in_len) {
			ERR_clear_error();
			return 1;
		}
		return fail(pa, c, "connection closed during key agreement", 0);
	}
}

static int path_of(struct peerauth *pa, struct pa_conn *c, struct peerkey_path *p)
{
	const struct svrcert_peer *cp;
	int ret = sock_addr(c->fd, false, &p->local);

	if (!ret)
		ret = sock_addr(c->fd, true, &p->remote);
	p->reqid = reqid_of(c->peer->name);
	cp = svrcert_config_peer(pa->cfg, c->peer->name);
	p->proto = cp ? cp->protect : 0;
	p->local_auth_port = pa->listen_port;
	p->remote_auth_port = c->peer->host ? c->peer->port : 0;
	return ret;
}

int pa_keys_begin(struct peerauth *pa, struct pa_conn *c)
{
	struct pa_agree *a;
	int cmp;

	if (!pa->cfg->peer_keys || !c->peer || c->peer->state != SVRCERT_STATE_VALID)
		return 1;
	cmp = fp_cmp(c);
	if (cmp) {
		c->peer->keys.lower = cmp < 0;
		c->peer->keys.role_known = true;
	}
	/* As the caller: the lower starts when keys are due, the higher asks
	 * when it has none; anything else is an authentication only. */
	if (!cmp || (!c->server && (cmp < 0 ? !pa_keys_due(pa, c->peer) :
				    !pa_keys_asks(pa, c->peer))))
		return 1;
	a = c->agree = agree_new();
	if (!a)
		return fail(pa, c, "no memory for the key agreement", 0);
	a->begun_ms = pa_now_ms();
	memcpy(a->own_cert, pa->own_cert_hash, sizeof(a->own_cert));
	memcpy(a->peer_cert, c->peer->fingerprint, sizeof(a->peer_cert));
	a->lower = cmp < 0;
	if (path_of(pa, c, &a->path))
		return fail(pa, c, "connection addresses", 0);
	c->deadline_ms = pa_now_ms() + (int64_t)pa->p.handshake_ms;
	/* This call starts or asks for an agreement: the rotation timer must
	 * not call again for it at once (a second REQUEST from the higher
	 * router would cross the agreement it asked for and make a second). */
	if (!c->server)
		c->peer->keys.next_try_ms = pa_now_ms() + PEERAUTH_KEY_RETRY_S * 1000;
	if (c->server) {
		a->phase = PK_WAIT;
	} else if (a->lower) {
		if (offer(pa, c))
			return -1;
	} else {
		queue(a, &(struct peerkey_offer){ .flags = PEERKEY_F_REQUEST });
		c->peer->keys.wanted = false;	/* asked; the lower one calls */
		a->phase = PK_CLOSE;
	}
	/* The peer's first message may already sit in OpenSSL's buffer,
	 * where poll() cannot see it. */
	return pa_keys_step(pa, c);
}

int pa_keys_timeout(struct peerauth *pa, struct pa_conn *c)
{
	if (c->agree->phase == PK_WAIT && !c->agree->in_len)
		return 1;	/* the peer neither asked nor closed: nothing lost */
	return fail(pa, c, "key agreement timed out", 0);
}

bool pa_keys_conn_busy(const struct pa_conn *c)
{
	return c->agree && c->agree->phase != PK_WAIT;
}

/* An agreement past its first message runs on one of PEER's connections
 * (the lower router's call, or a call it answers). */
bool pa_keys_agreeing(const struct peerauth *pa, const struct pa_peer *peer)
{
	const struct pa_conn *c = peer->conn;

	if (c && pa_keys_conn_busy(c))
		return true;
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++) {
		c = pa->incoming[i];
		if (c && c->peer == peer && pa_keys_conn_busy(c))
			return true;
	}
	return false;
}

bool pa_keys_conn_open(const struct peerauth *pa, const struct pa_peer *peer)
{
	if (peer->conn && peer->conn->agree)
		return true;
	for (size_t i = 0; i < PEERAUTH_MAX_INCOMING; i++)
		if (pa->incoming[i] && pa->incoming[i]->agree &&
		    pa->incoming[i]->peer == peer)
			return true;
	return false;
}
