/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by crl_walk.c and crl_entries.c; not a public API. */
#ifndef SVRCERT_CRL_WALK_INT_H
#define SVRCERT_CRL_WALK_INT_H

#include <stdbool.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crl_walk.h"

struct crlw_tlv {
	const unsigned char *hdr;	/* first byte of the tag */
	const unsigned char *val;	/* first content byte */
	long len;			/* content length */
	int tag, cls;
	bool cons;
};

struct crlw_tbs {
	struct crlw_tlv alg, issuer, this_update, next_update, revoked, exts;
	bool has_next, has_revoked, has_exts;
};

struct crl_walker {
	const unsigned char *base;	/* offsets in messages count from here */
	struct svrcert_crl *out;
	STACK_OF(X509) *trusted;
	X509_NAME *issuer_name;
	char *err;
	size_t errlen;
	/* SHA-256 midstate after the current entries' issuer Name. */
	struct crlw_sha256 *prefix;
	unsigned char *cert_issuer;	/* indirect CRL: canonical certificateIssuer DER */
	bool entry_remove;	/* this entry's reasonCode is removeFromCRL */
};

static inline size_t crlw_off(const struct crl_walker *w, const unsigned char *p)
{
	return (size_t)(p - w->base);
}

static inline long crlw_tlv_size(const struct crlw_tlv *t)
{
	return (long)(t->val - t->hdr) + t->len;
}

int crlw_fail(struct crl_walker *w, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int crlw_read(struct crl_walker *w, const unsigned char **pp,
	      const unsigned char *end, struct crlw_tlv *t, const char *what);
int crlw_expect(struct crl_walker *w, const unsigned char **pp,
		const unsigned char *end, struct crlw_tlv *t, int tag,
		const char *what);
int crlw_crl_extensions(struct crl_walker *w, const struct crlw_tlv *exts);
int crlw_walk_entries(struct crl_walker *w, const struct crlw_tlv *revoked);
void crlw_walker_cleanup(struct crl_walker *w);
int crlw_read_file(const char *path, uint8_t **buf, size_t *len);

#endif
