// SPDX-License-Identifier: GPL-2.0
/*
 * A router's side of the generations: the set it holds from its conductor
 * and the rules for taking an update (crl_gendoc.h). A delta is applied
 * only to the exact set it was made from (same epoch, base = the held
 * generation, every removed key held, no added key held): anything else
 * means the router and the conductor disagree, and only a full set can
 * repair that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "crl_gendoc.h"
#include "lib/store.h"
#include "lib/util.h"

#define H_VERSION	8
#define H_HDRLEN	12
#define H_EPOCH		16
#define H_GEN		32
#define H_TIME		40
#define H_COUNT		48
#define H_CHECK		56
/* 2^25 keys: a held file is at most 1 GiB */
#define HELD_MAX_KEYS	(1u << 25)

void svrcert_gen_held_release(struct svrcert_gen_held *h)
{
	free(h->keys);
	memset(h, 0, sizeof(*h));
}

static void epoch_hex(const uint8_t *e, char out[2 * SVRCERT_GEN_EPOCH_LEN + 1])
{
	svrcert_hex(e, SVRCERT_GEN_EPOCH_LEN, out);
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* SHA-256 of the header's first 56 bytes and of the keys. */
static int held_check(const uint8_t *buf, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(c, buf, H_CHECK) &&
		 EVP_DigestUpdate(c, buf + SVRCERT_GEN_HELD_HDR_LEN,
				  n * SVRCERT_REVKEY_LEN) &&
		 EVP_DigestFinal_ex(c, out, NULL);

	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}

int svrcert_gen_held_save(const char *path, const struct svrcert_gen_held *h,
			  char *err, size_t errlen)
{
	size_t len = SVRCERT_GEN_HELD_HDR_LEN + h->n * SVRCERT_REVKEY_LEN;
	uint8_t *b = calloc(1, len);
	int rc = b ? 0 : -ENOMEM;

	if (!rc) {
		memcpy(b, SVRCERT_GEN_HELD_MAGIC, 8);
		put_be(b + H_VERSION, 1, 4);
		put_be(b + H_HDRLEN, SVRCERT_GEN_HELD_HDR_LEN, 4);
		memcpy(b + H_EPOCH, h->epoch, SVRCERT_GEN_EPOCH_LEN);
		put_be(b + H_GEN, h->gen, 8);
		put_be(b + H_TIME, (uint64_t)h->time, 8);
		put_be(b + H_COUNT, h->n, 8);
		if (h->n)
			memcpy(b + SVRCERT_GEN_HELD_HDR_LEN, h->keys,
			       h->n * SVRCERT_REVKEY_LEN);
		rc = held_check(b, h->n, b + H_CHECK) ?:
		     atomic_write_file(path, b, len, STORE_MODE_PUBLIC);
	}
	free(b);
	return rc ? svrcert_fail(err, errlen, rc, "cannot write %s: %s", path,
				 strerror(-rc)) : 0;
}

static bool keys_ascending(const svrcert_revkey_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(k[i - 1], k[i], SVRCERT_REVKEY_LEN) >= 0)
			return false;
	return true;
}

/* Every check of a held file's bytes; 0 or -EBADMSG naming it. */
static int held_parse(const uint8_t *b, size_t len, size_t *n, char *err,
		      size_t errlen)
{
	uint8_t sum[32];
	uint64_t count;

	if (len < SVRCERT_GEN_HELD_HDR_LEN || memcmp(b, SVRCERT_GEN_HELD_MAGIC, 8))
		return svrcert_fail(err, errlen, -EBADMSG, "not a held "
				    "conductor state (bad magic or truncated)");
	if (get_be(b + H_VERSION, 4) != 1 ||
	    get_be(b + H_HDRLEN, 4) != SVRCERT_GEN_HELD_HDR_LEN)
		return svrcert_fail(err, errlen, -EBADMSG, "unsupported held "
				    "state version");
	count = get_be(b + H_COUNT, 8);
	if (count > HELD_MAX_KEYS || len != SVRCERT_GEN_HELD_HDR_LEN +
					    count * SVRCERT_REVKEY_LEN)
		return svrcert_fail(err, errlen, -EBADMSG, "held state size %zu "
				    "does not match its %llu keys (cut short?)",
				    len, (unsigned long long)count);
	if (held_check(b, (size_t)count, sum))
		return -ENOMEM;
	if (memcmp(sum, b + H_CHECK, 32))
		return svrcert_fail(err, errlen, -EBADMSG, "held state checksum "
				    "mismatch (corrupt)");
	if (!keys_ascending((const svrcert_revkey_t *)(b + SVRCERT_GEN_HELD_HDR_LEN),
			    (size_t)count))
		return svrcert_fail(err, errlen, -EBADMSG, "held keys are not "
				    "strictly ascending");
	*n = (size_t)count;
	return 0;
}

int svrcert_gen_held_load(const char *path, struct svrcert_gen_held *h,
			  char *err, size_t errlen)
{
	uint8_t *b = NULL;
	size_t len = 0, n = 0;
	int rc = svrcert_read_file(path, SVRCERT_GEN_HELD_HDR_LEN +
				   (size_t)HELD_MAX_KEYS * SVRCERT_REVKEY_LEN,
				   &b, &len);

	memset(h, 0, sizeof(*h));
	if (rc)
		svrcert_fail(err, errlen, rc, "cannot read %s: %s", path,
			     strerror(-rc));
	else
		rc = held_parse(b, len, &n, err, errlen);
	if (!rc && n && !(h->keys = malloc(n * SVRCERT_REVKEY_LEN)))
		rc = -ENOMEM;
	if (!rc) {
		if (n)
			memcpy(h->keys, b + SVRCERT_GEN_HELD_HDR_LEN,
			       n * SVRCERT_REVKEY_LEN);
		h->n = n;
		h->have = true;
		memcpy(h->epoch, b + H_EPOCH, SVRCERT_GEN_EPOCH_LEN);
		h->gen = get_be(b + H_GEN, 8);
		h->time = (time_t)get_be(b + H_TIME, 8);
	}
	free(b);
	return rc;
}

/* Why U may not be taken at all (rollback), or 0. */
static int rollback(const struct svrcert_gen_held *h,
		    const struct svrcert_gen_update *u, bool same_epoch,
		    char *err, size_t errlen)
{
	if (!h->have)
		return 0;
	if (same_epoch && u->gen < h->gen)
		return svrcert_fail(err, errlen, -ESTALE, "rollback refused: "
				    "generation %llu is older than the held "
				    "%llu", (unsigned long long)u->gen,
				    (unsigned long long)h->gen);
	/* A new epoch's state is made after everything of the old one; an
	 * older one is a replay of a past epoch's document. */
	if (!same_epoch && u->kind == SVRCERT_GEN_FULL && u->time < h->time)
		return svrcert_fail(err, errlen, -ESTALE, "rollback refused: "
				    "a full set of another epoch made at %lld, "
				    "before the held state (%lld)",
				    (long long)u->time, (long long)h->time);
	return 0;
}

/* Why the delta U does not apply to H (a full resync is needed), or 0. */
static int mismatch(const struct svrcert_gen_held *h,
		    const struct svrcert_gen_update *u, bool same_epoch,
		    char *err, size_t errlen)
{
	char he[33], ue[33];

	if (!h->have)
		return svrcert_fail(err, errlen, -EXDEV, "a delta, and no "
				    "state is held: a full set is needed");
	if (!same_epoch) {
		epoch_hex(h->epoch, he);
		epoch_hex(u->epoch, ue);
		return svrcert_fail(err, errlen, -EXDEV, "a delta of epoch %s, "
				    "the held state is of epoch %s: a full set "
				    "is needed", ue, he);
	}
	if (u->base != h->gen)
		return svrcert_fail(err, errlen, -EXDEV, "a delta from "
				    "generation %llu, the held one is %llu: a "
				    "full set is needed",
				    (unsigned long long)u->base,
				    (unsigned long long)h->gen);
	return 0;
}

static void take(struct svrcert_gen_held *h, const struct svrcert_gen_update *u,
		 svrcert_revkey_t *keys, size_t n)
{
	free(h->keys);
	h->keys = keys;
	h->n = n;
	h->have = true;
	memcpy(h->epoch, u->epoch, SVRCERT_GEN_EPOCH_LEN);
	h->gen = u->gen;
	h->time = u->time;
}

static int apply_full(struct svrcert_gen_held *h,
		      const struct svrcert_gen_update *u)
{
	svrcert_revkey_t *k = NULL;

	if (u->nadded && !(k = malloc(u->nadded * SVRCERT_REVKEY_LEN)))
		return -ENOMEM;
	if (u->nadded)
		memcpy(k, u->added, u->nadded * SVRCERT_REVKEY_LEN);
	take(h, u, k, u->nadded);
	return 0;
}

static int apply_delta(struct svrcert_gen_held *h,
		       const struct svrcert_gen_update *u, char *err,
		       size_t errlen)
{
	svrcert_revkey_t *k = NULL;
	size_t n = 0, missing = 0, present = 0;
	int rc = svrcert_revkeys_patch(h->keys, h->n, u->removed, u->nremoved,
				       u->added, u->nadded, &k, &n, &missing,
				       &present);

	if (rc)
		return rc;
	if (missing || present) {
		free(k);
		return svrcert_fail(err, errlen, -EXDEV, "the delta to "
				    "generation %llu disagrees with the held "
				    "set (%zu removed keys not held, %zu added "
				    "keys already held): a full set is needed",
				    (unsigned long long)u->gen, missing,
				    present);
	}
	take(h, u, k, n);
	return 0;
}

int svrcert_gen_held_apply(struct svrcert_gen_held *h,
			   const struct svrcert_gen_update *u, char *err,
			   size_t errlen)
{
	bool same = h->have && !memcmp(h->epoch, u->epoch,
				       SVRCERT_GEN_EPOCH_LEN);
	int rc = rollback(h, u, same, err, errlen);

	if (rc)
		return rc;
	/* Already there: a repeat, or "nothing new" (an empty delta). */
	if (same && u->gen == h->gen)
		return 0;
	if (u->kind == SVRCERT_GEN_FULL)
		return apply_full(h, u);
	return mismatch(h, u, same, err, errlen) ?:
	       apply_delta(h, u, err, errlen);
}
