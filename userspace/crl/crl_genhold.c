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
	svrcert_keylog_release(&h->log);
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

struct base_ctx {
	const char *path;
	const struct svrcert_gen_held *h;
};

/* The whole set to the base file; CHECK its checksum field. */
static int save_base(void *ctx, uint8_t check[32], char *err, size_t errlen)
{
	const char *path = ((const struct base_ctx *)ctx)->path;
	const struct svrcert_gen_held *h = ((const struct base_ctx *)ctx)->h;
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
		memcpy(check, b + H_CHECK, 32);
	}
	free(b);
	return rc ? svrcert_fail(err, errlen, rc, "cannot write %s: %s", path,
				 strerror(-rc)) : 0;
}

/* The delta's state: the header's bytes 16..47. */
static void delta_state(const struct svrcert_gen_held *h,
			uint8_t state[SVRCERT_KEYDELTA_STATE_LEN])
{
	memcpy(state, h->epoch, SVRCERT_GEN_EPOCH_LEN);
	put_be(state + 16, h->gen, 8);
	put_be(state + 24, (uint64_t)h->time, 8);
}

/* The change since the base when small, else a new base
 * (svrcert_keylog_write decides, and in which order). */
int svrcert_gen_held_save(const char *path, struct svrcert_gen_held *h,
			  char *err, size_t errlen)
{
	uint8_t state[SVRCERT_KEYDELTA_STATE_LEN];
	struct base_ctx c = { .path = path, .h = h };
	char dpath[4200];
	bool wrote_delta;
	int rc = svrcert_keydelta_path(path, dpath, sizeof(dpath));

	if (rc)
		return svrcert_fail(err, errlen, rc, "%s: name too long", path);
	delta_state(h, state);
	return svrcert_keylog_write(&h->log, dpath, h->n, state, save_base, &c,
				    &wrote_delta, err, errlen);
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

/* The delta beside the base PATH (of checksum CHECK), if any, applied
 * to H, and H's log resumed from both. */
static int load_delta(const char *path, struct svrcert_gen_held *h,
		      const uint8_t check[32], char *err, size_t errlen)
{
	struct svrcert_keydelta d;
	uint8_t *buf = (uint8_t *)h->keys;
	char dpath[4200];
	bool have_d, taken;
	int rc = svrcert_keydelta_path(path, dpath, sizeof(dpath)) ?:
		 svrcert_keydelta_read(dpath, &d, err, errlen);

	have_d = !rc;
	if (rc && rc != -ENOENT)
		return rc;
	rc = svrcert_keydelta_take(have_d ? &d : NULL, check, &buf, 0, &h->keys,
				   &h->n, &h->log, &taken, err, errlen);
	if (!rc && taken) {
		memcpy(h->epoch, d.state, SVRCERT_GEN_EPOCH_LEN);
		h->gen = get_be(d.state + 16, 8);
		h->time = (time_t)get_be(d.state + 24, 8);
	}
	if (have_d)
		svrcert_keydelta_release(&d);
	return rc;
}

int svrcert_gen_held_load(const char *path, struct svrcert_gen_held *h,
			  char *err, size_t errlen)
{
	uint8_t *b = NULL, check[32];
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
		memcpy(check, b + H_CHECK, 32);
		rc = load_delta(path, h, check, err, errlen);
	}
	free(b);
	if (rc)
		svrcert_gen_held_release(h);
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

static void take_state(struct svrcert_gen_held *h,
		       const struct svrcert_gen_update *u)
{
	h->have = true;
	memcpy(h->epoch, u->epoch, SVRCERT_GEN_EPOCH_LEN);
	h->gen = u->gen;
	h->time = u->time;
}

/* A full set: a new base at the next save. */
static int apply_full(struct svrcert_gen_held *h,
		      const struct svrcert_gen_update *u)
{
	svrcert_revkey_t *k = NULL;

	if (u->nadded && !(k = malloc(u->nadded * SVRCERT_REVKEY_LEN)))
		return -ENOMEM;
	if (u->nadded)
		memcpy(k, u->added, u->nadded * SVRCERT_REVKEY_LEN);
	free(h->keys);
	h->keys = k;
	h->n = u->nadded;
	/* another generation or epoch: a base of another checksum */
	svrcert_keylog_force_base(&h->log);
	take_state(h, u);
	return 0;
}

/* In place: a binary search per key and a memmove, no copy of the set
 * (a router holding 1 M keys took 32 MB of fresh memory per update). */
static int apply_delta(struct svrcert_gen_held *h,
		       const struct svrcert_gen_update *u, char *err,
		       size_t errlen)
{
	uint8_t *buf = (uint8_t *)h->keys;
	svrcert_revkey_t *keys = h->keys;
	size_t n = h->n, missing = 0, present = 0;
	int rc = svrcert_revkeys_patch_in_place(&buf, 0, &keys, &n, u->removed,
						u->nremoved, u->added,
						u->nadded, true, &missing,
						&present);

	h->keys = keys;
	if (rc == -EXDEV)
		return svrcert_fail(err, errlen, -EXDEV, "the delta to "
				    "generation %llu disagrees with the held "
				    "set (%zu removed keys not held, %zu added "
				    "keys already held): a full set is needed",
				    (unsigned long long)u->gen, missing,
				    present);
	if (rc)
		return rc;
	h->n = n;
	svrcert_keylog_note(&h->log, u->added, u->nadded, u->removed,
			    u->nremoved);
	take_state(h, u);
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
