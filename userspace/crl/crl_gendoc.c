// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's update as DER (format in crl_gendoc.h) and a router's
 * apply. The decoder checks everything a signature cannot: a document
 * signed by the right key may still be one the format forbids (keys out of
 * order, a key both added and removed), and the apply must never be
 * handed one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>

#include "crl_gendoc.h"
#include "lib/util.h"

typedef struct {
	int32_t version;
	ASN1_UTF8STRING *conductor;
	ASN1_OCTET_STRING *epoch;
	ASN1_INTEGER *generation;
	ASN1_GENERALIZEDTIME *time;
	ASN1_INTEGER *base;
	ASN1_OCTET_STRING *added;
	ASN1_OCTET_STRING *removed;
} SVRCERT_REVUPDATE;

ASN1_SEQUENCE(SVRCERT_REVUPDATE) = {
	ASN1_EMBED(SVRCERT_REVUPDATE, version, INT32),
	ASN1_SIMPLE(SVRCERT_REVUPDATE, conductor, ASN1_UTF8STRING),
	ASN1_SIMPLE(SVRCERT_REVUPDATE, epoch, ASN1_OCTET_STRING),
	ASN1_SIMPLE(SVRCERT_REVUPDATE, generation, ASN1_INTEGER),
	ASN1_SIMPLE(SVRCERT_REVUPDATE, time, ASN1_GENERALIZEDTIME),
	ASN1_IMP_OPT(SVRCERT_REVUPDATE, base, ASN1_INTEGER, 0),
	ASN1_SIMPLE(SVRCERT_REVUPDATE, added, ASN1_OCTET_STRING),
	ASN1_IMP_OPT(SVRCERT_REVUPDATE, removed, ASN1_OCTET_STRING, 1),
} static_ASN1_SEQUENCE_END(SVRCERT_REVUPDATE)

#define REVUPDATE_IT	ASN1_ITEM_rptr(SVRCERT_REVUPDATE)

static int set_keys(ASN1_OCTET_STRING **os, const svrcert_revkey_t *k,
		    size_t n)
{
	if (n > (size_t)INT32_MAX / SVRCERT_REVKEY_LEN)
		return 0;
	if (!*os)
		*os = ASN1_OCTET_STRING_new();
	return *os && ASN1_OCTET_STRING_set(*os, n ? (const void *)k : "",
					    (int)(n * SVRCERT_REVKEY_LEN));
}

static int fill(SVRCERT_REVUPDATE *r, const struct svrcert_gen_update *u)
{
	bool delta = u->kind == SVRCERT_GEN_DELTA;

	r->version = SVRCERT_GENDOC_VERSION;
	if (delta && !(r->base = ASN1_INTEGER_new()))
		return -ENOMEM;
	return ASN1_STRING_set(r->conductor, u->conductor, -1) &&
	       ASN1_OCTET_STRING_set(r->epoch, u->epoch, SVRCERT_GEN_EPOCH_LEN) &&
	       ASN1_INTEGER_set_uint64(r->generation, u->gen) &&
	       ASN1_GENERALIZEDTIME_set(r->time, u->time) &&
	       (!delta || ASN1_INTEGER_set_uint64(r->base, u->base)) &&
	       set_keys(&r->added, u->added, u->nadded) &&
	       (!delta || set_keys(&r->removed, u->removed, u->nremoved)) ?
	       0 : -ENOMEM;
}

int svrcert_gendoc_encode(const struct svrcert_gen_update *u, uint8_t **der,
			  size_t *len)
{
	SVRCERT_REVUPDATE *r;
	unsigned char *out = NULL;
	size_t nl = strnlen(u->conductor, sizeof(u->conductor));
	int rc, n = -1;

	*der = NULL;
	if (!nl || nl > SVRCERT_GENDOC_NAME_MAX ||
	    (u->kind != SVRCERT_GEN_FULL && u->kind != SVRCERT_GEN_DELTA))
		return -EINVAL;
	r = (SVRCERT_REVUPDATE *)ASN1_item_new(REVUPDATE_IT);
	rc = r ? fill(r, u) : -ENOMEM;
	if (!rc)
		n = ASN1_item_i2d((ASN1_VALUE *)r, &out, REVUPDATE_IT);
	ASN1_item_free((ASN1_VALUE *)r, REVUPDATE_IT);
	if (!rc && n <= 0)
		rc = -ENOMEM;
	if (rc)
		return rc;
	/* the caller frees with free(): move it out of OpenSSL's heap */
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, out, (size_t)n);
	OPENSSL_free(out);
	*len = (size_t)n;
	return *der ? 0 : -ENOMEM;
}

static bool ascending(const uint8_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(k + (i - 1) * SVRCERT_REVKEY_LEN,
			   k + i * SVRCERT_REVKEY_LEN, SVRCERT_REVKEY_LEN) >= 0)
			return false;
	return true;
}

/* An OCTET STRING of keys into a malloc'd array; WHAT names it. */
static int take_keys(const ASN1_OCTET_STRING *os, svrcert_revkey_t **out,
		     size_t *n, const char *what, char *err, size_t errlen)
{
	size_t len = (size_t)ASN1_STRING_length(os);
	const uint8_t *p = ASN1_STRING_get0_data(os);

	*out = NULL;
	*n = len / SVRCERT_REVKEY_LEN;
	if (len % SVRCERT_REVKEY_LEN)
		return svrcert_fail(err, errlen, -EBADMSG, "%s keys: %zu bytes "
				    "is not a multiple of 32", what, len);
	if (!ascending(p, *n))
		return svrcert_fail(err, errlen, -EBADMSG, "%s keys are not "
				    "strictly ascending", what);
	if (*n && !(*out = malloc(len)))
		return -ENOMEM;
	if (*n)
		memcpy(*out, p, len);
	return 0;
}

static int take_header(const SVRCERT_REVUPDATE *r, struct svrcert_gen_update *u,
		       char *err, size_t errlen)
{
	int nl = ASN1_STRING_length(r->conductor);
	struct tm tm;

	if (r->version != SVRCERT_GENDOC_VERSION)
		return svrcert_fail(err, errlen, -EBADMSG, "unsupported "
				    "version %d", (int)r->version);
	if (nl < 1 || nl > SVRCERT_GENDOC_NAME_MAX ||
	    memchr(ASN1_STRING_get0_data(r->conductor), 0, (size_t)nl))
		return svrcert_fail(err, errlen, -EBADMSG, "conductor name of "
				    "%d bytes (1 to 64 without NUL)", nl);
	memcpy(u->conductor, ASN1_STRING_get0_data(r->conductor), (size_t)nl);
	if (ASN1_STRING_length(r->epoch) != SVRCERT_GEN_EPOCH_LEN)
		return svrcert_fail(err, errlen, -EBADMSG, "epoch is not 16 bytes");
	memcpy(u->epoch, ASN1_STRING_get0_data(r->epoch), SVRCERT_GEN_EPOCH_LEN);
	if (!ASN1_INTEGER_get_uint64(&u->gen, r->generation) ||
	    (r->base && !ASN1_INTEGER_get_uint64(&u->base, r->base)))
		return svrcert_fail(err, errlen, -EBADMSG, "generation or base "
				    "is not a 64-bit number");
	if (!ASN1_TIME_to_tm(r->time, &tm))
		return svrcert_fail(err, errlen, -EBADMSG, "bad time");
	u->time = timegm(&tm);
	u->kind = r->base ? SVRCERT_GEN_DELTA : SVRCERT_GEN_FULL;
	/* base == gen: "nothing new", with no keys (checked in take) */
	if (r->base && u->base > u->gen)
		return svrcert_fail(err, errlen, -EBADMSG, "delta base %llu is "
				    "after its generation %llu",
				    (unsigned long long)u->base,
				    (unsigned long long)u->gen);
	if (!r->base && r->removed)
		return svrcert_fail(err, errlen, -EBADMSG, "a full set with "
				    "removed keys");
	return 0;
}

static int take(const SVRCERT_REVUPDATE *r, struct svrcert_gen_update *u,
		char *err, size_t errlen)
{
	size_t missing = 0;
	int rc = take_header(r, u, err, errlen);

	u->own_added = true;
	if (!rc)
		rc = take_keys(r->added, &u->added, &u->nadded, "added", err,
			       errlen);
	if (!rc && r->removed)
		rc = take_keys(r->removed, &u->removed, &u->nremoved,
			       "removed", err, errlen);
	if (!rc && u->nremoved)
		rc = svrcert_revkeys_patch(u->added, u->nadded, u->removed,
					   u->nremoved, NULL, 0, NULL, NULL,
					   &missing, NULL);
	if (!rc && missing != u->nremoved)
		rc = svrcert_fail(err, errlen, -EBADMSG, "a key is both added "
				  "and removed");
	if (!rc && u->kind == SVRCERT_GEN_DELTA && u->base == u->gen &&
	    u->nadded + u->nremoved)
		rc = svrcert_fail(err, errlen, -EBADMSG, "a delta from a "
				  "generation to itself with keys");
	return rc;
}

int svrcert_gendoc_decode(const uint8_t *der, size_t len,
			  struct svrcert_gen_update *u, char *err,
			  size_t errlen)
{
	const unsigned char *p = der;
	SVRCERT_REVUPDATE *r;
	int rc;

	memset(u, 0, sizeof(*u));
	if (len > LONG_MAX)
		return svrcert_fail(err, errlen, -EBADMSG, "too large");
	r = (SVRCERT_REVUPDATE *)ASN1_item_d2i(NULL, &p, (long)len,
						REVUPDATE_IT);
	if (!r) {
		ERR_clear_error();
		rc = svrcert_fail(err, errlen, -EBADMSG, "not a revocation "
				  "update (malformed DER)");
	}
	else if (p != der + len)
		rc = svrcert_fail(err, errlen, -EBADMSG, "%zu bytes after the "
				  "revocation update", (size_t)(der + len - p));
	else
		rc = take(r, u, err, errlen);
	ASN1_item_free((ASN1_VALUE *)r, REVUPDATE_IT);
	if (rc)
		svrcert_gen_update_release(u);
	return rc;
}
