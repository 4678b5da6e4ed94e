/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_source -- the state of one configured CRL URL: the last good CRL
 * (verified DER + its keys), the conditional-GET validators, and the last
 * failure. A new CRL replaces the held one of its issuer only when it
 * verifies, parses, is not older (thisUpdate) and its CRL number does not
 * go backwards; on any failure the held CRLs stay in force. Revocation
 * state is held per issuer: another issuer's CRL on the URL never removes
 * the previous issuer's (prev[]). A held CRL past its nextUpdate is
 * "stale": still used (revoked stays revoked), and worth an alarm.
 */
#ifndef SVRCERT_CRL_SOURCE_H
#define SVRCERT_CRL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

#include "crl_walk.h"

/* thisUpdate may run ahead of our clock by this much (clock skew). */
#define SVRCERT_CRL_MAX_SKEW	(24 * 3600)

/* Other issuers a URL may have served before its current one. */
#define SVRCERT_CRL_PREV_MAX	8

/*
 * The last good CRL of an issuer this URL served before it switched to
 * another: still in force (revocation state is held per issuer), until that
 * issuer's own newer CRL replaces it.
 */
struct svrcert_crl_held {
	struct svrcert_crl crl;
	uint8_t *der;
	size_t der_len;
	/* prev[] only: the delta CRL that applied to crl when the URL moved
	 * to another issuer (delta_der NULL: none; published next to it as
	 * "<...>.delta") and the keys the two gave, which stay in force. */
	uint8_t *delta_der;
	size_t delta_der_len;
	svrcert_revkey_t *eff;
	size_t neff;
};

/* The keys a previous issuer's held CRL revokes (its delta applied). */
const svrcert_revkey_t *svrcert_crl_held_keys(const struct svrcert_crl_held *h,
					      size_t *n);

struct svrcert_crl_source {
	char url[1024];
	char name[33];		/* file-safe id: hex of SHA-256(url)[0..16) */
	bool has_good;
	struct svrcert_crl crl;	/* last good: keys + metadata */
	uint8_t *der;		/* last good CRL as fetched (DER or PEM) */
	size_t der_len;
	char etag[256];		/* validators of the response that gave it */
	char last_modified[64];
	time_t last_attempt, last_success, last_change;
	int last_err;		/* 0 after a good fetch/304, else -errno */
	char last_msg[256];
	unsigned int failures;	/* consecutive failed attempts */
	/* Per issuer: the CRLs of the issuers served before the current one
	 * (crl), one each, never removed by another issuer's CRL. */
	struct svrcert_crl_held prev[SVRCERT_CRL_PREV_MAX];
	size_t nprev;
	bool issuer_changed;	/* the last CRL accepted had another issuer
				 * than the CRL held before it */
	char prev_issuer[256];	/* that issuer, when issuer_changed */
	/* The delta CRL (RFC 5280 5.2.4) of the current CRL, from its
	 * freshestCRL URL: applied while its BaseCRLNumber <= crl's number <
	 * its own number; eff = crl's keys less the delta's removeFromCRL
	 * keys plus the delta's keys (sorted, unique). */
	bool has_delta;
	struct svrcert_crl_held delta;
	svrcert_revkey_t *eff;
	size_t neff;
	char delta_etag[256], delta_last_modified[64];
};

/* Zero the source and set its URL and name. -EINVAL if the URL is too long. */
int svrcert_crl_source_init(struct svrcert_crl_source *s, const char *url);
void svrcert_crl_source_release(struct svrcert_crl_source *s);

/*
 * Offer new CRL bytes (a 200 response, or a file). On success the source
 * holds them (buf is copied) and *replaced says whether the keys may have
 * changed (false when the same CRL number came again). On failure -errno
 * (crl_walk's; -ESTALE: CRL number lower / thisUpdate older than the CRL
 * held of the same issuer, current or previous; -ERANGE: thisUpdate too far
 * in the future; -EMLINK: SVRCERT_CRL_PREV_MAX other issuers held already)
 * and the held CRLs are untouched. err names the problem ("" on success).
 *
 * No rollback: a CRL of another issuer than the current one becomes the
 * current CRL, and the previous current one moves to prev[] (its keys stay
 * in force; issuer_changed is set). A CRL of an issuer in prev[] must be
 * newer than the one held there, which it then replaces.
 */
int svrcert_crl_source_offer(struct svrcert_crl_source *s, const uint8_t *buf,
			     size_t len, STACK_OF(X509) *trusted, time_t now,
			     const char *etag, const char *last_modified,
			     bool *replaced, char *err, size_t errlen);

/*
 * Offer a delta CRL fetched from the current CRL's freshestCRL URL. It must
 * verify, be a delta CRL of the current CRL's issuer whose BaseCRLNumber is
 * at most the current CRL's number and whose own number is higher, and not
 * be older than the delta held (-EBADMSG, -ESTALE otherwise; the held state
 * stays). *replaced: the effective keys changed.
 */
int svrcert_crl_source_offer_delta(struct svrcert_crl_source *s,
				   const uint8_t *buf, size_t len,
				   STACK_OF(X509) *trusted, time_t now,
				   const char *etag, const char *last_modified,
				   bool *replaced, char *err, size_t errlen);

/* The keys the current CRL revokes, its delta applied (svrcert_crl_source
 * eff) or not. */
const svrcert_revkey_t *svrcert_crl_source_keys(const struct svrcert_crl_source *s,
						size_t *n);

/* The published name of the delta CRL: "<name>.delta", not ".crl": the
 * readers of .crl files would take its removeFromCRL entries for
 * revocations. */
#define SVRCERT_CRL_DELTA_SUFFIX ".delta"

/*
 * Daemon start: hold the copy an earlier run published in PUBDIR
 * (<pubdir>/crl/<name>.crl, and the previous issuers' CRLs
 * <pubdir>/crl/<name>-<issuer id>.crl, see crl_master.h), verified again
 * like any offer, so a restart drops neither a source's CRLs nor the CRL
 * numbers a newer CRL must exceed, before its first fetch.
 * The fetch failure state is left as it was; the validators are not kept
 * across restarts, so the next fetch is a full GET. 0, -ENOENT (nothing
 * published), or an offer error (err says which).
 */
int svrcert_crl_source_restore(struct svrcert_crl_source *s, const char *pubdir,
			       STACK_OF(X509) *trusted, time_t now,
			       char *err, size_t errlen);

/* A 304: the held CRL is current; clears the failure state. */
void svrcert_crl_source_not_modified(struct svrcert_crl_source *s, time_t now);

/* A fetch (or offer) failed: record it; the held CRL stays. */
void svrcert_crl_source_failed(struct svrcert_crl_source *s, int err,
			       const char *msg, time_t now);

/* The file name a previous issuer's CRL is published under:
 * "<name>-<hex of SHA-256(issuer DER)[0..8)>.crl". */
void svrcert_crl_source_prev_file(const struct svrcert_crl_source *s,
				  const struct svrcert_crl_held *h,
				  char *out, size_t len);

/* Held CRL past its nextUpdate (still used). */
bool svrcert_crl_source_stale(const struct svrcert_crl_source *s, time_t now);

#endif
