// SPDX-License-Identifier: GPL-2.0
/*
 * Judging a router after the TLS handshake with the runtime rules
 * (svrcert_validate_cert, as peer authentication judges a peer): chain to
 * a trusted CA, algorithms, dates, EKU, not revoked by the CRLs and the
 * master list this conductor holds. No identity is required: any router
 * of the authority may fetch its revocation state. A refused router is
 * still served one answer, 403 naming why (conductor_http.c), and is
 * logged and audited by name.
 *
 * A router's access lasts only while it is valid: at each new generation
 * and every CD_REJUDGE_MS, the open connections are judged again from
 * what was kept at the handshake (dates, the leaf's revocation key and
 * fingerprint), and a router no longer valid is refused as at connect and
 * its connection closed, answered nothing more. The chain is not built
 * again (that would allocate per router): a CA revoked or no longer
 * trusted takes effect when its routers reconnect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include <jansson.h>

#include "conductor_int.h"
#include "crl/crl_master.h"
#include "pki/import_trust.h"
#include "pki/validate.h"

void cd_trust_free(struct conductor *c)
{
	X509_STORE_free(c->trust);
	c->trust = NULL;
}

/* What the trust store was read from: the trusted-CA directory (files are
 * replaced by rename); a stat() per handshake. */
static void trust_stamp(const struct conductor *c, uint64_t out[1])
{
	static const char *const names[1] = { STORE_TRUSTED_CA_DIR };
	char path[4200];
	struct stat sb;

	for (size_t i = 0; i < 1; i++) {
		out[i] = 0;
		if (!store_path(c->p.st, names[i], path, sizeof(path)) &&
		    !stat(path, &sb))
			out[i] = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
				 (uint64_t)sb.st_mtim.tv_nsec + sb.st_ino +
				 (uint64_t)sb.st_size;
	}
}

/* The held revocations are refreshed at every judgement: a readdir and a
 * stat per file; nothing is parsed that the CRL manager vouched for or
 * that was read before in the same version (held_revs.h). An error
 * (a held file that does not load) means no judgement: never judge
 * without the revocations held. */
static int trust_get(struct conductor *c, char *err, size_t errlen)
{
	uint64_t stamp[1];
	int ret;

	trust_stamp(c, stamp);
	if (!c->trust || memcmp(stamp, c->trust_stamp, sizeof(stamp))) {
		cd_trust_free(c);
		memcpy(c->trust_stamp, stamp, sizeof(stamp));
		ret = trust_store_build(c->p.st, c->p.cfg, &c->trust, err,
					errlen);
		if (ret)
			return ret;
	}
	return svrcert_held_refresh(c->held, c->p.st, err, errlen);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(svrcert_revkey_t));
}

/* The current generation's set revokes too: the master list may be
 * handed over (conductor_master) before the held set has it. */
static bool in_generation(const uint8_t rk[SVRCERT_DIGEST_LEN],
			  const uint8_t fp[SVRCERT_DIGEST_LEN], void *ctx)
{
	const struct conductor *c = ctx;

	return c->ncur && (bsearch(rk, c->cur, c->ncur, sizeof(*c->cur),
				   key_cmp) ||
			   bsearch(fp, c->cur, c->ncur, sizeof(*c->cur),
				   key_cmp));
}

/* The generation's set or the held revocations (refreshed by trust_get). */
static bool cd_revoked(const uint8_t rk[SVRCERT_DIGEST_LEN],
		       const uint8_t fp[SVRCERT_DIGEST_LEN], void *ctx)
{
	const struct conductor *c = ctx;

	return in_generation(rk, fp, ctx) || svrcert_held_revoked(rk, fp, c->held);
}

/* The first word of a 403: what a router's operator acts on. */
static const char *state_word(enum svrcert_cert_state s)
{
	switch (s) {
	case SVRCERT_STATE_REVOKED:
		return "revoked";
	case SVRCERT_STATE_EXPIRED:
		return "expired";
	case SVRCERT_STATE_NOT_YET_VALID:
		return "not-yet-valid";
	default:
		return "untrusted";
	}
}

static void audit_refusal(struct conductor *c, struct cd_conn *cn,
			  const char *word, const char *reason)
{
	char desc[200];

	snprintf(desc, sizeof(desc), "Conductor refused %s: %s", cn->who,
		 word);
	if (c->p.audit)
		audit_event(c->p.audit, CONDUCTOR_AUDIT_TYPE, desc,
			    json_pack("{s:s, s:s, s:s, s:s}", "subject", cn->who,
				      "state", word, "reason", reason,
				      "remote", cn->remote), false);
}

static void refuse(struct conductor *c, struct cd_conn *cn, const char *word,
		   const char *reason)
{
	cn->refused = true;
	snprintf(cn->why, sizeof(cn->why), "%s: %.*s", word,
		 (int)(sizeof(cn->why) - 16), reason);
	c->stats.refused++;
	*(!strcmp(word, "revoked") ? &c->stats.refused_revoked :
	  !strcmp(word, "expired") ? &c->stats.refused_expired :
	  !strcmp(word, "not-yet-valid") ? &c->stats.refused_not_yet_valid :
	  &c->stats.refused_untrusted) += 1;
	syslog(LOG_WARNING, "conductor: refused %s from %s: %s", cn->who,
	       cn->remote, cn->why);
	audit_refusal(c, cn, word, reason);
}

/* The problems' messages, "; "-separated, into BUF. */
static void reasons(const struct svrcert_problems *p, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n && n + 1 < len; i++) {
		if (p->v[i].warning)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "; " : "",
				      p->v[i].msg);
	}
}

void cd_judge(struct conductor *c, struct cd_conn *cn)
{
	X509 *leaf = SSL_get0_peer_certificate(cn->ssl);
	struct svrcert_validate_params vp = { .now = 0 };
	struct svrcert_validated v = { 0 };
	struct svrcert_problems p;
	enum svrcert_cert_state state;
	char err[300], reason[sizeof(cn->why) - 16] = "";

	snprintf(cn->who, sizeof(cn->who), "(no certificate)");
	if (!leaf) {	/* the TLS layer requires one; never reached */
		refuse(c, cn, "untrusted", "no certificate");
		return;
	}
	svrcert_name_text(X509_get_subject_name(leaf), cn->who, sizeof(cn->who));
	if (trust_get(c, err, sizeof(err))) {
		refuse(c, cn, "untrusted", err);
		return;
	}
	vp.store = c->trust;
	vp.revoked = cd_revoked;
	vp.revoked_ctx = c;
	svrcert_problems_init(&p);
	svrcert_validate_cert(leaf, SSL_get_peer_cert_chain(cn->ssl), &vp, &v,
			      &p);
	memcpy(cn->revkey, v.revkey, sizeof(cn->revkey));
	memcpy(cn->fp, v.fingerprint, sizeof(cn->fp));
	cn->not_before = v.not_before;
	cn->not_after = v.not_after;
	state = svrcert_problem_state(svrcert_problems_first(&p));
	reasons(&p, reason, sizeof(reason));
	svrcert_problems_free(&p);
	svrcert_validated_free(&v);
	if (state != SVRCERT_STATE_VALID)
		refuse(c, cn, state_word(state), reason);
}

/* Why CN's router is no longer valid (its refusal's word), or NULL. */
static const char *rejudge(struct conductor *c, struct cd_conn *cn,
			   time_t now, const char **reason)
{
	if (now > cn->not_after) {
		*reason = "certificate expired while connected";
		return "expired";
	}
	if (now < cn->not_before) {	/* the clock went back */
		*reason = "certificate not yet valid";
		return "not-yet-valid";
	}
	*reason = "certificate revoked while connected";
	if (in_generation(cn->revkey, cn->fp, c) ||
	    svrcert_held_revoked(cn->revkey, cn->fp, c->held))
		return "revoked";
	return NULL;
}

void cd_rejudge_all(struct conductor *c)
{
	time_t now = time(NULL);
	char err[300];
	const char *word, *reason;

	/* A held file that does not load for a moment: routers are not all
	 * dropped for it; the generation and what was held before (a failed
	 * refresh keeps it) still revoke. */
	(void)trust_get(c, err, sizeof(err));
	c->next_rejudge_ms = cd_now_ms() + CD_REJUDGE_MS;
	for (size_t i = 0; i < c->p.max_conns; i++) {
		struct cd_conn *cn = c->conns[i];

		if (!cn || cn->tls_done || cn->state != CD_OPEN || cn->refused)
			continue;
		word = rejudge(c, cn, now, &reason);
		if (!word)
			continue;
		refuse(c, cn, word, reason);
		cd_conn_close(c, cn);	/* a waiting request goes with it */
		cd_conn_free_if_done(c, cn);
	}
}
