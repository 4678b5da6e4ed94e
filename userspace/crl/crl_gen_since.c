// SPDX-License-Identifier: GPL-2.0
/*
 * "since=GEN": the net change from GEN to the current generation, or the
 * reason a full set is the answer; and the one sorted-set merge the
 * journal and a router's apply use (svrcert_revkeys_patch). An answer
 * never looks at the full set: its cost is bounded by the journal's keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crl_gen.h"

static int cmp(const svrcert_revkey_t a, const svrcert_revkey_t b)
{
	return memcmp(a, b, SVRCERT_REVKEY_LEN);
}

/* Skip MINUS keys below A (they are missing from A); true when A is in
 * MINUS (and consumed). */
static bool in_minus(const svrcert_revkey_t a, const svrcert_revkey_t *minus,
		     size_t nminus, size_t *j, size_t *missing)
{
	while (*j < nminus && cmp(minus[*j], a) < 0) {
		(*missing)++;
		(*j)++;
	}
	if (*j < nminus && !cmp(minus[*j], a)) {
		(*j)++;
		return true;
	}
	return false;
}

int svrcert_revkeys_patch(const svrcert_revkey_t *a, size_t na,
			  const svrcert_revkey_t *minus, size_t nminus,
			  const svrcert_revkey_t *plus, size_t nplus,
			  svrcert_revkey_t **out, size_t *nout,
			  size_t *missing, size_t *present)
{
	size_t i = 0, j = 0, k = 0, n = 0, miss = 0, pres = 0;
	svrcert_revkey_t *o = NULL;

	if (out && na + nplus) {
		o = malloc((na + nplus) * SVRCERT_REVKEY_LEN);
		if (!o)
			return -ENOMEM;
	}
	while (i < na || k < nplus) {
		const uint8_t *take;
		int c;

		if (i < na && in_minus(a[i], minus, nminus, &j, &miss)) {
			i++;
			continue;
		}
		c = i == na ? 1 : k == nplus ? -1 : cmp(a[i], plus[k]);
		take = c <= 0 ? a[i] : plus[k];
		if (c <= 0)
			i++;
		if (c >= 0)
			k++;
		if (!c)
			pres++;
		if (o)
			memcpy(o[n], take, SVRCERT_REVKEY_LEN);
		n++;
	}
	miss += nminus - j;
	if (out) {
		if (!n) {
			free(o);
			o = NULL;
		}
		*out = o;
	}
	if (nout)
		*nout = n;
	if (missing)
		*missing = miss;
	if (present)
		*present = pres;
	return 0;
}

void svrcert_gen_update_release(struct svrcert_gen_update *u)
{
	if (u->own_added)
		free(u->added);
	free(u->removed);
	memset(u, 0, sizeof(*u));
}

/* One key's change in one generation. */
struct change {
	svrcert_revkey_t key;
	uint64_t gen;
	bool added;
};

static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int c = memcmp(x->key, y->key, SVRCERT_REVKEY_LEN);

	return c ? c : x->gen < y->gen ? -1 : x->gen > y->gen;
}

/* Every key change of the deltas after SINCE, sorted by key, then
 * generation. */
static int collect(const struct svrcert_gen_journal *j, uint64_t since,
		   struct change **out, size_t *n)
{
	size_t i, k, m = 0, total = 0;
	struct change *c;

	for (i = 0; i < j->n; i++)
		if (j->d[i].gen > since)
			total += j->d[i].nadded + j->d[i].nremoved;
	*out = NULL;
	*n = total;
	if (!total)
		return 0;
	c = malloc(total * sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (i = 0; i < j->n; i++) {
		const struct svrcert_gen_delta *d = &j->d[i];

		for (k = 0; d->gen > since && k < d->nadded + d->nremoved; k++) {
			memcpy(c[m].key, d->keys[k], SVRCERT_REVKEY_LEN);
			c[m].gen = d->gen;
			c[m++].added = k < d->nadded;
		}
	}
	qsort(c, total, sizeof(*c), change_cmp);
	*out = c;
	return 0;
}

/*
 * The net change of the deltas after SINCE. A key's changes alternate
 * (a delta adds only keys that are absent and removes only present ones),
 * so its first and last change say it all: added first and last, it is
 * new; removed first and last, it is gone; otherwise it is as it was.
 * One sort of at most the journal's keys: O(M log M), whatever the
 * number of generations.
 */
static int net_change(const struct svrcert_gen_journal *j, uint64_t since,
		      struct svrcert_gen_update *u)
{
	struct change *c;
	size_t n, i, first;
	int rc = collect(j, since, &c, &n);

	if (rc || !n)
		return rc;
	u->added = malloc(n * SVRCERT_REVKEY_LEN);
	u->removed = malloc(n * SVRCERT_REVKEY_LEN);
	if (!u->added || !u->removed) {
		free(c);
		return -ENOMEM;
	}
	for (i = 0; i < n; i = first) {
		size_t last = i;

		for (first = i + 1; first < n && !memcmp(c[first].key, c[i].key,
							 SVRCERT_REVKEY_LEN); first++)
			last = first;
		if (c[i].added && c[last].added)
			memcpy(u->added[u->nadded++], c[i].key, SVRCERT_REVKEY_LEN);
		else if (!c[i].added && !c[last].added)
			memcpy(u->removed[u->nremoved++], c[i].key,
			       SVRCERT_REVKEY_LEN);
	}
	free(c);
	return 0;
}

static int full(struct svrcert_gen_update *u, const svrcert_revkey_t *cur,
		size_t ncur, const char *why)
{
	if (u->own_added)
		free(u->added);
	free(u->removed);
	u->removed = NULL;
	u->nremoved = 0;
	u->own_added = false;
	u->base = 0;
	u->kind = SVRCERT_GEN_FULL;
	snprintf(u->why, sizeof(u->why), "%s", why);
	u->added = (svrcert_revkey_t *)cur;	/* borrowed: own_added false */
	u->nadded = ncur;
	return 0;
}

static const char *full_reason(const struct svrcert_gen_journal *j,
			       const uint8_t *epoch, uint64_t since)
{
	if (!epoch)
		return "no state held";
	if (memcmp(epoch, j->epoch, SVRCERT_GEN_EPOCH_LEN))
		return "another epoch (the conductor's state was reset)";
	if (since > j->gen)
		return "a generation this conductor never made";
	if (since < svrcert_gen_oldest_base(j))
		return "older than the journal";
	return NULL;
}

int svrcert_gen_since(const struct svrcert_gen_journal *j,
		      const uint8_t *epoch, uint64_t since,
		      const svrcert_revkey_t *cur, size_t ncur,
		      struct svrcert_gen_update *u)
{
	const char *why = full_reason(j, epoch, since);
	int rc;

	memset(u, 0, sizeof(*u));
	if (ncur != j->nkeys)
		return -EINVAL;
	memcpy(u->epoch, j->epoch, SVRCERT_GEN_EPOCH_LEN);
	u->gen = j->gen;
	u->time = j->time;
	if (why)
		return full(u, cur, ncur, why);
	u->kind = SVRCERT_GEN_DELTA;
	u->base = since;
	u->own_added = true;
	rc = net_change(j, since, u);
	if (rc) {
		svrcert_gen_update_release(u);
		return rc;
	}
	/* A change as large as the set itself travels better as the set. */
	if (ncur && u->nadded + u->nremoved >= ncur)
		return full(u, cur, ncur, "the delta is not smaller than the set");
	return 0;
}
