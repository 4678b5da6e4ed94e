// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the revocation set. Incremental add/delete, the bound (-ENOSPC
 * with the set untouched), memory per key, the dump cursor, and the swap
 * semantics: a reader looking up a key that is in every set it can see
 * never misses, however often the sets are swapped under it. Atomic
 * deltas: the live view sees none of a prepared delta, the published one
 * all of it, a failing delta changes nothing, and a reader never sees half
 * of one.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "env.h"
#include "main.h"
#include "revset.h"

static void fill_keys(u8 *keys, u32 n, u32 seed)
{
	u32 i;

	/* Distinct, deterministic keys: the index in the first 8 bytes. */
	memset(keys, 0x5a, n * SVRCERT_KEY_LEN);
	for (i = 0; i < n; i++) {
		u64 v = ((u64)seed << 32) | i;

		memcpy(keys + i * SVRCERT_KEY_LEN, &v, sizeof(v));
	}
}

static u8 *alloc_keys(struct kunit *test, u32 n, u32 seed)
{
	u8 *keys = kunit_kzalloc(test, n * SVRCERT_KEY_LEN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, keys);
	fill_keys(keys, n, seed);
	return keys;
}

static bool contains(struct svrcert_revset *set, const u8 *key)
{
	bool hit;

	rcu_read_lock();
	hit = svrcert_revset_contains(set, key);
	rcu_read_unlock();
	return hit;
}

static void revset_add_del(struct kunit *test)
{
	struct svrcert_revset *set = svrcert_revset_create(0, 1000);
	u8 *keys = alloc_keys(test, 10, 1);
	u32 added, removed;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(set, keys, 10, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 10U);
	KUNIT_EXPECT_TRUE(test, contains(set, keys + 9 * SVRCERT_KEY_LEN));
	/* Present keys and a duplicate inside one batch are not errors. */
	memcpy(keys + SVRCERT_KEY_LEN, keys, SVRCERT_KEY_LEN);
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(set, keys, 10, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 0U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 10U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_del(set, keys, 3, &removed), 0);
	KUNIT_EXPECT_EQ(test, removed, 2U);	/* key 0 (given twice), key 2 */
	KUNIT_EXPECT_FALSE(test, contains(set, keys));
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 8U);
	svrcert_revset_destroy(set);
}

static void revset_bound(struct kunit *test)
{
	struct svrcert_revset *set = svrcert_revset_create(0, 100);
	u8 *keys = alloc_keys(test, 101, 2);
	u32 added = 0;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(set, keys, 100, &added), 0);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 100U);
	/* 9 present + 1 new: the new one does not fit, nothing changes. */
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(set, keys + 91 * SVRCERT_KEY_LEN,
						 10, &added), -ENOSPC);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 100U);
	KUNIT_EXPECT_FALSE(test, contains(set, keys + 100 * SVRCERT_KEY_LEN));
	KUNIT_EXPECT_TRUE(test, contains(set, keys + 99 * SVRCERT_KEY_LEN));
	/* Only present keys: fits. */
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(set, keys, 50, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 0U);
	svrcert_revset_destroy(set);
}

/*
 * The worst case of a loaded set: one key past the 75% growth threshold of
 * a 16384-bucket table, so the table has just doubled to 32768 buckets.
 */
static void revset_memory_per_key(struct kunit *test)
{
	const u32 n = 16384 * 3 / 4 + 1;
	struct svrcert_revset *set = svrcert_revset_create(0, n);
	u8 *keys = alloc_keys(test, SVRCERT_KEYS_PER_ATTR_MAX, 3);
	u32 i, added;
	u64 mem;

	KUNIT_ASSERT_NOT_NULL(test, set);
	for (i = 0; i < n; i += SVRCERT_KEYS_PER_ATTR_MAX) {
		u32 chunk = min_t(u32, n - i, SVRCERT_KEYS_PER_ATTR_MAX);

		fill_keys(keys, chunk, 3000 + i);
		KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, keys, chunk, &added), 0);
	}
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), n);
	/* The doubling is rhashtable's deferred work: let it happen. */
	msleep(200);
	mem = svrcert_revset_mem(set);
	kunit_info(test, "%u keys: %llu bytes, %llu per key", n, mem, mem / n);
	KUNIT_EXPECT_LE(test, mem, 64ULL * n);
	svrcert_revset_destroy(set);
}

/* Walk @w to its end in pieces of 7 keys, marking each key in @seen. */
static u32 walk_rest(struct kunit *test, struct svrcert_revset_walk *w,
		     u8 *seen, u32 n, u32 pieces, bool *resized)
{
	u8 out[7 * SVRCERT_KEY_LEN];
	u32 got, i, idx, total = 0;

	while (pieces-- && (got = svrcert_revset_walk_next(w, out, 7, resized))) {
		for (i = 0; i < got; i++) {
			memcpy(&idx, out + i * SVRCERT_KEY_LEN, sizeof(idx));
			KUNIT_ASSERT_LT(test, idx, n);
			seen[idx]++;
		}
		total += got;
	}
	return total;
}

/*
 * One rhashtable starts at 2^17 buckets at most (nelem_hint is 16 bits),
 * so a set made for a larger load is cut into shards of 2^17 buckets, at
 * most 96 256 keys each. The cut at its edges, and past INT_MAX: nothing
 * wraps, at most 256 shards.
 */
static void revset_shape(struct kunit *test)
{
	static const u32 cases[][3] = {	/* hint, shards, hint per shard */
		{ 0, 1, 0 },
		{ 1000, 1, 1000 },
		{ U16_MAX, 1, U16_MAX },
		{ U16_MAX + 1, 1, U16_MAX },
		{ 96256, 1, U16_MAX },
		{ 96257, 2, U16_MAX },
		{ 1000000, 11, U16_MAX },
		{ 10000000, 104, U16_MAX },
		{ U32_MAX, 256, U16_MAX },
	};
	u32 i, n, per;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		svrcert_revset_shape(cases[i][0], &n, &per);
		KUNIT_EXPECT_EQ_MSG(test, n, cases[i][1], "hint %u", cases[i][0]);
		KUNIT_EXPECT_EQ_MSG(test, per, cases[i][2], "hint %u", cases[i][0]);
	}
}

/*
 * A set made for 10^6 keys holds tables for them from the start: 11
 * shards of 2^17 buckets, not one table of 2^17 that the load doubles four
 * times (each doubling moving every key so far). Keys spread over the
 * shards are each found by lookup, sent once by a dump in pieces that
 * cross shards, and deleted.
 */
static void revset_presized(struct kunit *test)
{
	const u32 n = 5000;
	struct svrcert_revset *set = svrcert_revset_create(1000000, U32_MAX);
	u8 *keys = alloc_keys(test, n, 8);
	u8 *seen = kunit_kzalloc(test, n, GFP_KERNEL);
	u32 i, added, removed, missing = 0, twice = 0;
	struct svrcert_revset_walk w;
	bool resized = false;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_EXPECT_EQ(test, set->tab->nshards, 11U);
	KUNIT_EXPECT_GE(test, svrcert_revset_mem(set), 11ULL * 8 << 17);
	/* Bytes 8.. choose the shard: random, unlike fill_keys()' 0x5a. */
	for (i = 0; i < n; i++)
		get_random_bytes(keys + i * SVRCERT_KEY_LEN + 8,
				 SVRCERT_KEY_LEN - 8);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, keys, n, &added), 0);
	KUNIT_EXPECT_EQ(test, added, n);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), n);
	for (i = 0; i < n; i++)
		missing += !contains(set, keys + i * SVRCERT_KEY_LEN);
	KUNIT_EXPECT_EQ(test, missing, 0U);
	svrcert_revset_walk_begin(&w, set);
	KUNIT_EXPECT_EQ(test, walk_rest(test, &w, seen, n, U32_MAX, &resized), n);
	svrcert_revset_walk_end(&w);
	for (i = 0; i < n; i++) {
		missing += !seen[i];
		twice += seen[i] > 1;
	}
	KUNIT_EXPECT_EQ(test, missing, 0U);
	KUNIT_EXPECT_EQ(test, twice, 0U);
	KUNIT_EXPECT_FALSE(test, resized);
	KUNIT_EXPECT_EQ(test, svrcert_revset_del(set, keys, n, &removed), 0);
	KUNIT_EXPECT_EQ(test, removed, n);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 0U);
	KUNIT_EXPECT_FALSE(test, contains(set, keys));
	svrcert_revset_destroy(set);
}

/*
 * A dump walks in pieces; between them keys are deleted and added and
 * the table doubles (twice the keys). Every key that stayed is sent; it
 * is sent exactly once unless the walk reported a resize. The walk pins
 * the set: destroyed (as a swap does) while the walk is open, it is freed
 * only when the walk ends (KASAN/kmemleak watch).
 */
static void revset_dump_cursor(struct kunit *test)
{
	const u32 n = 1000, more = 2000;
	struct svrcert_revset *set = svrcert_revset_create(0, n + more);
	struct svrcert_revset_walk w;
	u8 *keys = alloc_keys(test, n + more, 4);
	u8 *seen = kunit_kzalloc(test, n + more, GFP_KERNEL);
	u32 i, added, removed, twice = 0, lost = 0;
	bool resized = false;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, keys, n, &added), 0);
	svrcert_revset_walk_begin(&w, set);
	walk_rest(test, &w, seen, n + more, 20, &resized);
	/* Delete keys 900..999, add 1000..2999: the table grows. */
	KUNIT_EXPECT_EQ(test, svrcert_revset_del(set, keys + 900 * SVRCERT_KEY_LEN,
						 100, &removed), 0);
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(set, keys + n * SVRCERT_KEY_LEN,
						 more, &added), 0);
	msleep(200);		/* rhashtable's deferred resize */
	walk_rest(test, &w, seen, n + more, U32_MAX, &resized);
	for (i = 0; i < 900; i++) {
		lost += !seen[i];
		twice += seen[i] > 1;
	}
	KUNIT_EXPECT_EQ(test, lost, 0U);
	if (!resized)
		KUNIT_EXPECT_EQ(test, twice, 0U);
	kunit_info(test, "resized during the walk: %d, keys sent twice: %u",
		   resized, twice);
	svrcert_revset_destroy_rcu(set);	/* the walk still holds it */
	svrcert_revset_walk_end(&w);
	rcu_barrier();
	flush_workqueue(svrcert_wq);
}

struct swap_ctx {
	struct svrcert_revset __rcu *live;
	u8 key[SVRCERT_KEY_LEN];
	atomic_long_t lookups;
	atomic_long_t hits;
	struct completion started;
};

static int swap_reader(void *arg)
{
	struct swap_ctx *ctx = arg;
	bool first = true;

	while (!kthread_should_stop()) {
		rcu_read_lock();
		if (svrcert_revset_contains(rcu_dereference(ctx->live), ctx->key))
			atomic_long_inc(&ctx->hits);
		rcu_read_unlock();
		atomic_long_inc(&ctx->lookups);
		if (first) {
			complete(&ctx->started);
			first = false;
		}
		cond_resched();
	}
	return 0;
}

/* Keys per swapped set besides K: enough for several buckets per set. */
#define SWAP_SET_KEYS	256
/* Swaps per case: the guest suite does 100 under traffic; these run at every insmod. */
#define SWAP_ROUNDS	30

/* Swap @rounds sets under a reader; @in_all: K is in every set, or none. */
static void swap_rounds(struct kunit *test, bool in_all, u32 rounds)
{
	struct swap_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u8 *keys = alloc_keys(test, SWAP_SET_KEYS, 5);
	struct svrcert_revset *set;
	struct task_struct *reader;
	u32 r, added;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	memset(ctx->key, 0xee, SVRCERT_KEY_LEN);
	init_completion(&ctx->started);
	set = svrcert_revset_create(0, SWAP_SET_KEYS + 1);
	KUNIT_ASSERT_NOT_NULL(test, set);
	if (in_all)
		KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, ctx->key, 1, &added), 0);
	RCU_INIT_POINTER(ctx->live, set);
	reader = kthread_run(swap_reader, ctx, "svrcert-swap-test");
	KUNIT_ASSERT_FALSE(test, IS_ERR(reader));
	wait_for_completion(&ctx->started);
	for (r = 0; r < rounds; r++) {
		/* No ASSERT while the reader runs: it must be stopped first. */
		set = svrcert_revset_create(0, SWAP_SET_KEYS + 1);
		if (!set)
			break;
		fill_keys(keys, SWAP_SET_KEYS, 100 + r);
		if (svrcert_revset_add(set, keys, SWAP_SET_KEYS, &added) ||
		    (in_all && svrcert_revset_add(set, ctx->key, 1, &added))) {
			svrcert_revset_destroy(set);
			break;
		}
		set = rcu_replace_pointer(ctx->live, set, true);
		svrcert_revset_destroy_rcu(set);
		cond_resched();
	}
	kthread_stop(reader);
	KUNIT_EXPECT_EQ(test, r, rounds);
	kunit_info(test, "%ld lookups across %u swaps", atomic_long_read(&ctx->lookups),
		   rounds);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->lookups), 0L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->hits),
			in_all ? atomic_long_read(&ctx->lookups) : 0L);
	svrcert_revset_destroy_rcu(rcu_dereference_protected(ctx->live, true));
	rcu_barrier();	/* the queued destroys run before the test ends */
}

static void revset_swap_always_hits(struct kunit *test)
{
	swap_rounds(test, true, SWAP_ROUNDS);
}

static void revset_swap_never_hits(struct kunit *test)
{
	swap_rounds(test, false, SWAP_ROUNDS);
}

/* Keys @from..@to of @keys (seed order): how many @set sees. */
static u32 seen_range(struct svrcert_revset *set, const u8 *keys, u32 from,
		      u32 to)
{
	u32 i, n = 0;

	for (i = from; i < to; i++)
		n += contains(set, keys + i * SVRCERT_KEY_LEN);
	return n;
}

/* Publish a prepared delta the way the netlink command does, minus netns. */
static struct svrcert_revset *delta_publish(struct svrcert_revset *live,
					    struct svrcert_revset_delta *d)
{
	svrcert_revset_delta_finish(d);
	svrcert_revset_destroy(live);	/* no reader in this test */
	return d->next;
}

/*
 * Keys 0..9 in the set; a delta adds 10..14 and removes 0..2. Prepared,
 * the live view still sees exactly 0..9 and the view to publish exactly
 * 3..14; after finishing, the new view is unchanged, count 12.
 */
static void revset_delta_atomic(struct kunit *test)
{
	struct svrcert_revset *set = svrcert_revset_create(0, 100);
	u8 *keys = alloc_keys(test, 15, 7);
	struct svrcert_revset_delta d;
	u32 added;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, keys, 10, &added), 0);
	KUNIT_ASSERT_EQ(test, svrcert_revset_delta_prepare(set,
			keys + 10 * SVRCERT_KEY_LEN, 5, keys, 3, &d), 0);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 0, 10), 10U);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 10, 15), 0U);
	KUNIT_EXPECT_EQ(test, seen_range(d.next, keys, 0, 3), 0U);
	KUNIT_EXPECT_EQ(test, seen_range(d.next, keys, 3, 15), 12U);
	/* A peer's cached answer is invalidated by the new view. */
	KUNIT_EXPECT_NE(test, svrcert_revset_gen(set), svrcert_revset_gen(d.next));
	set = delta_publish(set, &d);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 0, 3), 0U);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 3, 15), 12U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 12U);
	/* A second delta on the new view: the first's record is gone. */
	KUNIT_ASSERT_EQ(test, svrcert_revset_delta_prepare(set, keys, 3,
			keys + 10 * SVRCERT_KEY_LEN, 5, &d), 0);
	set = delta_publish(set, &d);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 0, 10), 10U);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 10, 15), 0U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 10U);
	svrcert_revset_destroy(set);
}

/* After a failed delta: 0..9 seen, 10..14 not, count 10. */
static void expect_unchanged(struct kunit *test, struct svrcert_revset *set,
			     const u8 *keys)
{
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 0, 10), 10U);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 10, 15), 0U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 10U);
}

/*
 * All or nothing: past max_keys (-ENOSPC) and with a key both added and
 * removed (-EINVAL) the set is as before, and the next delta still works
 * (the failed one left no record behind). Exactly at the bound the delta
 * fits, removals counted. Freed entries: kmemleak.
 */
static void revset_delta_all_or_nothing(struct kunit *test)
{
	struct svrcert_revset *set = svrcert_revset_create(0, 12);
	u8 *keys = alloc_keys(test, 15, 8);
	u8 *both = alloc_keys(test, 2, 8);	/* keys 0 and 1 */
	struct svrcert_revset_delta d;
	u32 added;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, keys, 10, &added), 0);
	/* 10 - 2 + 5 = 13 > 12 */
	KUNIT_EXPECT_EQ(test, svrcert_revset_delta_prepare(set,
			keys + 10 * SVRCERT_KEY_LEN, 5, keys, 2, &d), -ENOSPC);
	expect_unchanged(test, set, keys);
	/* Key 0 added and removed; key 12 would be added. */
	memcpy(both + SVRCERT_KEY_LEN, keys + 12 * SVRCERT_KEY_LEN,
	       SVRCERT_KEY_LEN);
	KUNIT_EXPECT_EQ(test, svrcert_revset_delta_prepare(set, both, 2,
			keys, 3, &d), -EINVAL);
	expect_unchanged(test, set, keys);
	/* 10 - 3 + 5 = 12: fits. */
	KUNIT_ASSERT_EQ(test, svrcert_revset_delta_prepare(set,
			keys + 10 * SVRCERT_KEY_LEN, 5, keys, 3, &d), 0);
	set = delta_publish(set, &d);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 0, 3), 0U);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 3, 15), 12U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 12U);
	svrcert_revset_destroy(set);
}

/*
 * Removing absent keys and adding present ones are no-ops, duplicates in
 * either list count once, and a delta with only one list works.
 */
static void revset_delta_noops(struct kunit *test)
{
	struct svrcert_revset *set = svrcert_revset_create(0, 100);
	u8 *keys = alloc_keys(test, 15, 9);
	u8 *dup = alloc_keys(test, 4, 9);	/* keys 0..3 */
	struct svrcert_revset_delta d;
	u32 added;

	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, keys, 10, &added), 0);
	/* Add present 0..4, remove absent 10..14: nothing changes. */
	KUNIT_ASSERT_EQ(test, svrcert_revset_delta_prepare(set, keys, 5,
			keys + 10 * SVRCERT_KEY_LEN, 5, &d), 0);
	set = delta_publish(set, &d);
	expect_unchanged(test, set, keys);
	/* Remove 0, 1, 0, 1: two keys gone; count 8. */
	memcpy(dup + 2 * SVRCERT_KEY_LEN, dup, 2 * SVRCERT_KEY_LEN);
	KUNIT_ASSERT_EQ(test, svrcert_revset_delta_prepare(set, NULL, 0,
			dup, 4, &d), 0);
	set = delta_publish(set, &d);
	KUNIT_EXPECT_EQ(test, seen_range(set, keys, 0, 2), 0U);
	KUNIT_EXPECT_EQ(test, svrcert_revset_count(set), 8U);
	/* Add 0, 1, 0, 1: back to 10. */
	KUNIT_ASSERT_EQ(test, svrcert_revset_delta_prepare(set, dup, 4,
			NULL, 0, &d), 0);
	set = delta_publish(set, &d);
	expect_unchanged(test, set, keys);
	svrcert_revset_destroy(set);
}

struct delta_ctx {
	struct svrcert_revset __rcu *live;
	u8 keys[3 * SVRCERT_KEY_LEN];	/* K (kept), X, Y */
	atomic_long_t lookups;
	atomic_long_t torn;
	struct completion started;
};

/*
 * Reads the live pointer once per "packet", as the hooks do, and looks up
 * three keys: K is in every state; deltas alternate X and Y, so exactly
 * one of them is seen unless a packet saw half a delta.
 */
static int delta_reader(void *arg)
{
	struct delta_ctx *ctx = arg;
	struct svrcert_revset *set;
	bool first = true, k, x, y;

	while (!kthread_should_stop()) {
		rcu_read_lock();
		set = rcu_dereference(ctx->live);
		k = svrcert_revset_contains(set, ctx->keys);
		x = svrcert_revset_contains(set, ctx->keys + SVRCERT_KEY_LEN);
		y = svrcert_revset_contains(set, ctx->keys + 2 * SVRCERT_KEY_LEN);
		rcu_read_unlock();
		if (!k || x == y)
			atomic_long_inc(&ctx->torn);
		atomic_long_inc(&ctx->lookups);
		if (first) {
			complete(&ctx->started);
			first = false;
		}
		cond_resched();
	}
	return 0;
}

#define DELTA_ROUNDS	30

static void revset_delta_never_torn(struct kunit *test)
{
	struct delta_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u8 *others = alloc_keys(test, SWAP_SET_KEYS, 10);
	struct svrcert_revset *set, *old;
	struct svrcert_revset_delta d;
	struct task_struct *reader;
	u32 r, added;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	fill_keys(ctx->keys, 3, 11);
	init_completion(&ctx->started);
	set = svrcert_revset_create(0, SWAP_SET_KEYS + 3);
	KUNIT_ASSERT_NOT_NULL(test, set);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, others, SWAP_SET_KEYS,
						 &added), 0);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(set, ctx->keys, 2, &added), 0);
	RCU_INIT_POINTER(ctx->live, set);
	reader = kthread_run(delta_reader, ctx, "svrcert-delta-test");
	KUNIT_ASSERT_FALSE(test, IS_ERR(reader));
	wait_for_completion(&ctx->started);
	for (r = 0; r < DELTA_ROUNDS; r++) {
		/* Even rounds: X out, Y in; odd rounds the reverse. */
		const u8 *in = ctx->keys + (r & 1 ? 1 : 2) * SVRCERT_KEY_LEN;
		const u8 *out = ctx->keys + (r & 1 ? 2 : 1) * SVRCERT_KEY_LEN;

		if (svrcert_revset_delta_prepare(set, in, 1, out, 1, &d))
			break;
		old = rcu_replace_pointer(ctx->live, d.next, true);
		svrcert_revset_delta_finish(&d);
		svrcert_revset_destroy_rcu(old);
		set = d.next;
		cond_resched();
	}
	kthread_stop(reader);
	KUNIT_EXPECT_EQ(test, r, DELTA_ROUNDS);
	kunit_info(test, "%ld lookups across %u deltas",
		   atomic_long_read(&ctx->lookups), DELTA_ROUNDS);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->lookups), 0L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->torn), 0L);
	svrcert_revset_destroy_rcu(rcu_dereference_protected(ctx->live, true));
	rcu_barrier();
	flush_workqueue(svrcert_wq);
}

static struct kunit_case revset_test_cases[] = {
	KUNIT_CASE(revset_add_del),
	KUNIT_CASE(revset_bound),
	KUNIT_CASE(revset_memory_per_key),
	KUNIT_CASE(revset_shape),
	KUNIT_CASE(revset_presized),
	KUNIT_CASE(revset_dump_cursor),
	KUNIT_CASE(revset_swap_always_hits),
	KUNIT_CASE(revset_swap_never_hits),
	KUNIT_CASE(revset_delta_atomic),
	KUNIT_CASE(revset_delta_all_or_nothing),
	KUNIT_CASE(revset_delta_noops),
	KUNIT_CASE(revset_delta_never_torn),
	{}
};

static struct kunit_suite revset_test_suite = {
	.suite_init = svrcert_kunit_env_init,
	.suite_exit = svrcert_kunit_env_exit,
	.name = "svrcert_revset",
	.test_cases = revset_test_cases,
};

kunit_test_suite(revset_test_suite);
