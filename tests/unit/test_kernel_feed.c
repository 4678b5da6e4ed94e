// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for how svrcertd moves the kernel's revocation set to a new
 * master list (svrcert_nl_feed_plan() with svrcert_revkeys_diff()): the
 * delta/load threshold at its edges, and over randomised list changes a
 * model of the kernel fed the way svrcertd feeds it always ends up equal
 * to the new list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crl/crl_master.h"
#include "netlink/nl.h"

#define MAXK SVRCERT_KEYS_PER_ATTR_MAX

static void test_plan_threshold(void **state)
{
	(void)state;
	/* A kernel whose content is unknown always gets the whole list. */
	assert_int_equal(svrcert_nl_feed_plan(false, 0, 0), SVRCERT_FEED_LOAD);
	assert_int_equal(svrcert_nl_feed_plan(false, 1, 0), SVRCERT_FEED_LOAD);
	assert_int_equal(svrcert_nl_feed_plan(true, 0, 0), SVRCERT_FEED_NONE);
	assert_int_equal(svrcert_nl_feed_plan(true, 1, 0), SVRCERT_FEED_DELTA);
	assert_int_equal(svrcert_nl_feed_plan(true, 0, 1), SVRCERT_FEED_DELTA);
	/* One message each way, at most: one message is one atomic step. */
	assert_int_equal(svrcert_nl_feed_plan(true, MAXK, MAXK),
			 SVRCERT_FEED_DELTA);
	assert_int_equal(svrcert_nl_feed_plan(true, MAXK + 1, 0),
			 SVRCERT_FEED_LOAD);
	assert_int_equal(svrcert_nl_feed_plan(true, 0, MAXK + 1),
			 SVRCERT_FEED_LOAD);
	assert_int_equal(svrcert_nl_feed_plan(true, SIZE_MAX, 0),
			 SVRCERT_FEED_LOAD);
}

/* A delta larger than one message is refused before anything is sent. */
static void test_delta_too_big(void **state)
{
	(void)state;
	assert_int_equal(svrcert_nl_keys_delta(NULL, NULL, MAXK + 1, NULL, 0,
					       NULL), -E2BIG);
	assert_int_equal(svrcert_nl_keys_delta(NULL, NULL, 0, NULL, MAXK + 1,
					       NULL), -E2BIG);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SVRCERT_REVKEY_LEN);
}

/* Sort and drop duplicates; returns the new count. */
static size_t sort_unique(svrcert_revkey_t *k, size_t n)
{
	size_t i, out = 0;

	qsort(k, n, sizeof(*k), key_cmp);
	for (i = 0; i < n; i++)
		if (!out || memcmp(k[out - 1], k[i], SVRCERT_REVKEY_LEN))
			memmove(k[out++], k[i], SVRCERT_REVKEY_LEN);
	return out;
}

static void random_key(svrcert_revkey_t k)
{
	size_t i;

	for (i = 0; i < SVRCERT_REVKEY_LEN; i += 8) {
		uint64_t v = next_rand();

		memcpy(k + i, &v, 8);
	}
}

/* NEW = OLD minus about DROP random keys plus ADD random new ones. */
static size_t mutate(const svrcert_revkey_t *old, size_t nold,
		     svrcert_revkey_t *nw, size_t drop, size_t add)
{
	size_t i, n = 0;

	for (i = 0; i < nold; i++)
		if (!drop || next_rand() % nold >= drop)
			memcpy(nw[n++], old[i], SVRCERT_REVKEY_LEN);
	for (i = 0; i < add; i++)
		random_key(nw[n++]);
	return sort_unique(nw, n);
}

/*
 * The kernel model after a delta: present keys added and absent keys
 * removed are no-ops, as APPLY_KEYS_DELTA defines them.
 */
static size_t model_delta(svrcert_revkey_t *set, size_t n,
			  const svrcert_revkey_t *added, size_t na,
			  const svrcert_revkey_t *removed, size_t nr)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++)
		if (!svrcert_revkeys_contains(removed, nr, set[i]))
			memmove(set[out++], set[i], SVRCERT_REVKEY_LEN);
	memcpy(set + out, added, na * sizeof(*added));
	return sort_unique(set, out + na);
}

#define ROUNDS		60
#define LIST_MAX	12000

/*
 * Small and large changes alternate; each is fed by plan, and the model of
 * the kernel must equal the new list after every one. Deltas are taken
 * only within the threshold, and large changes do take the load.
 */
static void test_random_changes(void **state)
{
	svrcert_revkey_t *cur = calloc(LIST_MAX * 2, sizeof(*cur));
	svrcert_revkey_t *nw = calloc(LIST_MAX * 2, sizeof(*nw));
	svrcert_revkey_t *kernel = calloc(LIST_MAX * 4, sizeof(*kernel));
	size_t ncur = 0, nnew, nk = 0, r, deltas = 0, loads = 0;

	(void)state;
	assert_non_null(cur);
	assert_non_null(nw);
	assert_non_null(kernel);
	for (r = 0; r < ROUNDS; r++) {
		bool big = r % 5 == 4;
		size_t cap = big ? 3 * MAXK : 40;
		size_t drop = ncur ? next_rand() % (cap < ncur ? cap : ncur) : 0;
		size_t add = next_rand() % cap, na, nr;
		svrcert_revkey_t *added, *removed;

		if (ncur + add > LIST_MAX)
			add = 0;
		nnew = mutate(cur, ncur, nw, drop, add);
		assert_int_equal(svrcert_revkeys_diff(cur, ncur, nw, nnew, &added,
						      &na, &removed, &nr), 0);
		switch (svrcert_nl_feed_plan(r > 0, na, nr)) {
		case SVRCERT_FEED_NONE:
			assert_int_equal(na + nr, 0);
			break;
		case SVRCERT_FEED_DELTA:
			assert_true(na <= MAXK && nr <= MAXK);
			nk = model_delta(kernel, nk, added, na, removed, nr);
			deltas++;
			break;
		case SVRCERT_FEED_LOAD:
			assert_true(r == 0 || na > MAXK || nr > MAXK);
			memcpy(kernel, nw, nnew * sizeof(*nw));
			nk = nnew;
			loads++;
			break;
		}
		assert_int_equal(nk, nnew);
		assert_memory_equal(kernel, nw, nnew * sizeof(*nw));
		memcpy(cur, nw, nnew * sizeof(*nw));
		ncur = nnew;
		free(added);
		free(removed);
	}
	assert_true(deltas > ROUNDS / 2);
	assert_true(loads > 1);
	free(cur);
	free(nw);
	free(kernel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_threshold),
		cmocka_unit_test(test_delta_too_big),
		cmocka_unit_test(test_random_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
