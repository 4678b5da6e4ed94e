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

#include "crl_gendoc.h"
#include "lib/util.h"

void svrcert_gen_held_release(struct svrcert_gen_held *h)
{
	free(h->keys);
	memset(h, 0, sizeof(*h));
}

static void epoch_hex(const uint8_t *e, char out[2 * SVRCERT_GEN_EPOCH_LEN + 1])
{
	svrcert_hex(e, SVRCERT_GEN_EPOCH_LEN, out);
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
