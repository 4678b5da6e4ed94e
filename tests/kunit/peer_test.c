// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the peer table under a concurrent reader, and its address hash.
 *
 * A kthread plays the data path: under rcu_read_lock() with BHs off it
 * looks the peer's addresses up and counts a packet into whatever record
 * it finds, as svrcert_judge() does. Meanwhile the test replaces the peer
 * over and over, adding and removing an address, and makes replaces and
 * adds fail half-way (a duplicate address: the first copy was already
 * visible when the second is refused). Every packet the reader counted
 * must show in the peer's counters, exactly: a record published before
 * its counters were handed over counts into nowhere, and one freed at
 * once after a failed insert is a use-after-free KASAN reports.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "env.h"
#include "peer.h"

#define PEER_ROUNDS	1500

struct peer_ctx {
	struct svrcert_peers peers;
	struct in6_addr a, b, c;
	struct completion started;
	u64 counted;		/* packets counted into peer "p" */
	u64 lookups;
};

static void count_one(struct peer_ctx *ctx, const struct in6_addr *addr,
		      bool mine)
{
	struct svrcert_peer *peer = svrcert_peer_lookup(&ctx->peers, addr);

	ctx->lookups++;
	if (!peer)
		return;
	svrcert_peer_count(peer, SVRCERT_DIR_RX, false);
	if (mine)
		ctx->counted++;
}

static int peer_reader(void *arg)
{
	struct peer_ctx *ctx = arg;

	complete(&ctx->started);
	while (!kthread_should_stop()) {
		local_bh_disable();
		rcu_read_lock();
		count_one(ctx, &ctx->a, true);
		count_one(ctx, &ctx->b, true);
		count_one(ctx, &ctx->c, false);
		rcu_read_unlock();
		local_bh_enable();
		cond_resched();
	}
	return 0;
}

/* A record named @name with @n addresses from @addrs; NULL on ENOMEM. */
static struct svrcert_peer *make_peer(const char *name,
				      const struct in6_addr *const *addrs,
				      u32 n)
{
	struct svrcert_peer *peer = svrcert_peer_alloc();
	u32 i;

	if (!peer)
		return NULL;
	strscpy(peer->name, name, sizeof(peer->name));
	peer->cert.state = SVRCERT_STATE_VALID;
	for (i = 0; i < n; i++)
		peer->addrs[i] = *addrs[i];
	peer->naddrs = n;
	return peer;
}

static int publish(struct peer_ctx *ctx, const char *name,
		   const struct in6_addr *const *addrs, u32 n)
{
	struct svrcert_peer *peer = make_peer(name, addrs, n);

	if (!peer)
		return -ENOMEM;
	return svrcert_peer_publish(&ctx->peers, peer,
				    svrcert_peer_find(&ctx->peers, name),
				    SVRCERT_PEER_ADDRS_MAX, NULL);
}

/* One round: grow to {A, B}, shrink to {A}, two replaces and an add fail. */
static void peer_round(struct kunit *test, struct peer_ctx *ctx)
{
	const struct in6_addr *ab[] = { &ctx->a, &ctx->b };
	const struct in6_addr *a[] = { &ctx->a };
	const struct in6_addr *abb[] = { &ctx->a, &ctx->b, &ctx->b };
	const struct in6_addr *cc[] = { &ctx->c, &ctx->c };

	/* EXPECT, not ASSERT: the reader must be stopped on failure too. */
	KUNIT_EXPECT_EQ(test, publish(ctx, "p", ab, 2), 0);
	KUNIT_EXPECT_EQ(test, publish(ctx, "p", a, 1), 0);
	/* B goes in, its duplicate is refused: B was visible meanwhile. */
	KUNIT_EXPECT_EQ(test, publish(ctx, "p", abb, 3), -EEXIST);
	KUNIT_EXPECT_EQ(test, publish(ctx, "q", cc, 2), -EEXIST);
}

static void peer_replace_under_reader(struct kunit *test)
{
	struct peer_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	const struct in6_addr *a[1];
	struct task_struct *reader;
	struct svrcert_peer *p;
	struct svrcert_peer_sums n;
	u32 r;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, svrcert_peers_init(&ctx->peers), 0);
	ipv6_addr_set_v4mapped(htonl(0x0a090001), &ctx->a);
	ipv6_addr_set_v4mapped(htonl(0x0a090002), &ctx->b);
	ipv6_addr_set_v4mapped(htonl(0x0a090003), &ctx->c);
	a[0] = &ctx->a;
	KUNIT_ASSERT_EQ(test, publish(ctx, "p", a, 1), 0);
	init_completion(&ctx->started);
	reader = kthread_run(peer_reader, ctx, "svrcert-peer-test");
	KUNIT_ASSERT_FALSE(test, IS_ERR(reader));
	wait_for_completion(&ctx->started);
	for (r = 0; r < PEER_ROUNDS && test->status == KUNIT_SUCCESS; r++)
		peer_round(test, ctx);
	kthread_stop(reader);

	/* The failed publishes left the table as it was: p = {A}, no q. */
	p = svrcert_peer_find(&ctx->peers, "p");
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, p->naddrs, 1U);
	KUNIT_EXPECT_NULL(test, svrcert_peer_find(&ctx->peers, "q"));
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, svrcert_peer_lookup(&ctx->peers, &ctx->a), p);
	KUNIT_EXPECT_NULL(test, svrcert_peer_lookup(&ctx->peers, &ctx->b));
	KUNIT_EXPECT_NULL(test, svrcert_peer_lookup(&ctx->peers, &ctx->c));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, ctx->peers.count, 1U);
	svrcert_peer_counters_read(p, &n);
	KUNIT_EXPECT_EQ(test, n.accepted[SVRCERT_DIR_RX], ctx->counted);
	KUNIT_EXPECT_EQ(test, n.dropped[SVRCERT_DIR_RX], 0ULL);
	KUNIT_EXPECT_EQ(test, n.accepted[SVRCERT_DIR_TX], 0ULL);
	KUNIT_EXPECT_EQ(test, n.dropped[SVRCERT_DIR_TX], 0ULL);
	kunit_info(test, "%u rounds, %llu lookups, %llu packets counted",
		   r, ctx->lookups, ctx->counted);
	svrcert_peers_exit(&ctx->peers);
	rcu_barrier();		/* the retired records, before the test ends */
}

/* Peer "p<i>" on 10.(100 + i / 65536).(i / 256 % 256).(i % 256). */
static int add_nth(struct svrcert_peers *peers, u32 i, const char *prefix)
{
	struct svrcert_peer *peer = svrcert_peer_alloc();

	if (!peer)
		return -ENOMEM;
	snprintf(peer->name, sizeof(peer->name), "%s%u", prefix, i);
	ipv6_addr_set_v4mapped(htonl(((100 + (prefix[0] == 'n')) << 24) + i),
			       &peer->addrs[0]);
	peer->naddrs = 1;
	return svrcert_peer_publish(peers, peer,
				    svrcert_peer_find(peers, peer->name),
				    U32_MAX, NULL);
}

#define NAMES_PEERS	16384

/*
 * Adding peers costs the same per peer however many there are (a name
 * hash, not a list walk): the second half of the load may not take much
 * longer than the first (a list walk per add makes it about 3 times).
 */
static void peer_load_is_linear(struct kunit *test)
{
	struct svrcert_peers *peers = kunit_kzalloc(test, sizeof(*peers),
						    GFP_KERNEL);
	char name[SVRCERT_PEER_NAME_MAX + 1];
	struct svrcert_peer *peer;
	u64 t0, t1 = 0, t2;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, peers);
	KUNIT_ASSERT_EQ(test, svrcert_peers_init(peers), 0);
	t0 = ktime_get_ns();
	for (i = 0; i < NAMES_PEERS && test->status == KUNIT_SUCCESS; i++) {
		if (i == NAMES_PEERS / 2)
			t1 = ktime_get_ns();
		KUNIT_EXPECT_EQ(test, add_nth(peers, i, "p"), 0);
		/*
		 * The debug kernel is PREEMPT_NONE: 16 384 adds take ~9 s
		 * under KASAN and TCG, and over the 21 s RCU stall limit
		 * when the host starves the guest's vCPU.
		 */
		cond_resched();
	}
	t2 = ktime_get_ns();
	for (i = 0; i < NAMES_PEERS; i += 97) {
		snprintf(name, sizeof(name), "p%u", i);
		peer = svrcert_peer_find(peers, name);
		KUNIT_EXPECT_TRUE_MSG(test, peer && !strcmp(peer->name, name),
				      "peer %s", name);
	}
	KUNIT_EXPECT_NULL(test, svrcert_peer_find(peers, "p"));
	KUNIT_EXPECT_EQ(test, peers->count, (u32)NAMES_PEERS);
	kunit_info(test, "%u peers: first half %llu ms, second half %llu ms",
		   NAMES_PEERS, (t1 - t0) / 1000000, (t2 - t1) / 1000000);
	KUNIT_EXPECT_LT(test, (t2 - t1) * 10, (t1 - t0) * 22);
	svrcert_peers_exit(peers);
	rcu_barrier();
}

#define CURSOR_PEERS	600

static void del_named(struct svrcert_peers *peers, const char *prefix, u32 i)
{
	char name[SVRCERT_PEER_NAME_MAX + 1];
	struct svrcert_peer *peer;

	snprintf(name, sizeof(name), "%s%u", prefix, i);
	peer = svrcert_peer_find(peers, name);
	if (peer)
		svrcert_peer_remove(peers, peer);
}

/*
 * A dump cursor survives changes between its parts: every 7 peers the
 * walk pauses while the peer just sent and the next one are deleted, the
 * one after that is replaced and a new peer is added. Every peer that
 * was there all along is seen exactly once, in insertion order.
 */
static void peer_cursor_survives_changes(struct kunit *test)
{
	struct svrcert_peers *peers = kunit_kzalloc(test, sizeof(*peers),
						    GFP_KERNEL);
	u8 *seen = kunit_kzalloc(test, CURSOR_PEERS, GFP_KERNEL);
	bool *deleted = kunit_kzalloc(test, CURSOR_PEERS, GFP_KERNEL);
	unsigned long cursor = 0;
	struct svrcert_peer *peer;
	u32 i, n = 0, last = 0, added = 0, dels = 0;

	KUNIT_ASSERT_NOT_NULL(test, peers);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_ASSERT_NOT_NULL(test, deleted);
	KUNIT_ASSERT_EQ(test, svrcert_peers_init(peers), 0);
	for (i = 0; i < CURSOR_PEERS; i++)
		KUNIT_ASSERT_EQ(test, add_nth(peers, i, "p"), 0);
	while ((peer = svrcert_peer_next(peers, &cursor))) {
		if (peer->name[0] != 'p' || kstrtou32(peer->name + 1, 10, &i))
			continue;	/* added during the walk */
		KUNIT_EXPECT_FALSE(test, deleted[i]);
		KUNIT_EXPECT_TRUE(test, n == 0 || i > last);
		seen[i]++;
		last = i;
		if (++n % 7 || i + 2 >= CURSOR_PEERS)
			continue;
		del_named(peers, "p", i);
		del_named(peers, "p", i + 1);
		deleted[i] = true;
		deleted[i + 1] = true;
		dels++;
		KUNIT_EXPECT_EQ(test, add_nth(peers, i + 2, "p"), 0);
		KUNIT_EXPECT_EQ(test, add_nth(peers, added++, "n"), 0);
	}
	for (i = 0; i < CURSOR_PEERS; i++)
		if (!deleted[i] || seen[i])
			KUNIT_EXPECT_EQ_MSG(test, seen[i], 1, "peer p%u", i);
	KUNIT_EXPECT_GT(test, dels, 50U);
	KUNIT_EXPECT_EQ(test, peers->count, CURSOR_PEERS + added - 2 * dels);
	svrcert_peers_exit(peers);
	rcu_barrier();
}

#define MIXED_PEERS	4096

/* Peer m<i>'s address: 10.200.x.y (v4-mapped) for even i, fd00::i for odd. */
static void mixed_addr(u32 i, struct in6_addr *a)
{
	if (i % 2)
		ipv6_addr_set(a, htonl(0xfd000000), 0, 0, htonl(i));
	else
		ipv6_addr_set_v4mapped(htonl(0x0ac80000 + i), a);
}

/* Share of @n buckets that @n hashes fill, in percent. */
static u32 filled_pct(struct kunit *test, const struct in6_addr *addrs,
		      u32 n, u32 seed)
{
	unsigned long *used = kunit_kzalloc(test, BITS_TO_LONGS(n) *
					    sizeof(long), GFP_KERNEL);
	u32 i;

	if (!used)
		return 0;
	for (i = 0; i < n; i++)
		__set_bit(svrcert_addr_hash(&addrs[i], sizeof(addrs[i]), seed) &
			  (n - 1), used);
	return bitmap_weight(used, n) * 100 / n;
}

/*
 * The address table with IPv4 (v4-mapped, hashed by one word) and IPv6
 * peers through its resizes: each found as itself, look-alikes not (the
 * same 32 bits IPv4-compatible, NAT64, or v4-mapped without the prefix).
 * The hash spreads runs of addresses that differ in low bits only or in
 * high bits only over the buckets as a random function would (a table of
 * n filled with n random keys has ~63 % of its buckets used; an address
 * taken as its own hash fills 1 bucket with the second run), and depends
 * on the table's seed.
 */
static void peer_addr_hash_mixed(struct kunit *test)
{
	struct svrcert_peers *peers = kunit_kzalloc(test, sizeof(*peers),
						    GFP_KERNEL);
	struct in6_addr *run = kunit_kcalloc(test, MIXED_PEERS, sizeof(*run),
					     GFP_KERNEL);
	struct svrcert_peer *peer, *found;
	struct in6_addr a, b;
	u32 i, same = 0, pct;
	__be32 v4;

	KUNIT_ASSERT_NOT_NULL(test, peers);
	KUNIT_ASSERT_NOT_NULL(test, run);
	KUNIT_ASSERT_EQ(test, svrcert_peers_init(peers), 0);
	for (i = 0; i < MIXED_PEERS && test->status == KUNIT_SUCCESS; i++) {
		peer = svrcert_peer_alloc();
		KUNIT_ASSERT_NOT_NULL(test, peer);
		snprintf(peer->name, sizeof(peer->name), "m%u", i);
		mixed_addr(i, &peer->addrs[0]);
		peer->naddrs = 1;
		KUNIT_EXPECT_EQ(test, svrcert_peer_publish(peers, peer, NULL,
							   U32_MAX, NULL), 0);
		cond_resched();
	}
	rcu_read_lock();
	for (i = 0; i < MIXED_PEERS; i++) {
		mixed_addr(i, &a);
		found = svrcert_peer_lookup(peers, &a);
		KUNIT_EXPECT_TRUE_MSG(test, found &&
				      ipv6_addr_equal(&found->addrs[0], &a),
				      "peer m%u", i);
		v4 = a.s6_addr32[3];
		ipv6_addr_set(&b, 0, 0, 0, v4);
		KUNIT_EXPECT_NULL(test, svrcert_peer_lookup(peers, &b));
		ipv6_addr_set(&b, htonl(0x0064ff9b), 0, 0, v4);
		KUNIT_EXPECT_NULL(test, svrcert_peer_lookup(peers, &b));
		ipv6_addr_set(&b, 0, 0, htonl(0xfffe), v4);
		KUNIT_EXPECT_NULL(test, svrcert_peer_lookup(peers, &b));
	}
	rcu_read_unlock();
	svrcert_peers_exit(peers);
	rcu_barrier();

	for (i = 0; i < MIXED_PEERS; i++)	/* 10.20.0.1 ... */
		ipv6_addr_set_v4mapped(htonl(0x0a140001 + i), &run[i]);
	pct = filled_pct(test, run, MIXED_PEERS, 1);
	KUNIT_EXPECT_GE_MSG(test, pct, 58U, "IPv4, low bits");
	for (i = 0; i < MIXED_PEERS; i++)	/* (i / 64).(i % 64).0.1 */
		ipv6_addr_set_v4mapped(htonl(((i / 64) << 24) |
					     ((i % 64) << 16) | 1), &run[i]);
	pct = filled_pct(test, run, MIXED_PEERS, 1);
	KUNIT_EXPECT_GE_MSG(test, pct, 58U, "IPv4, high bits");
	for (i = 0; i < MIXED_PEERS; i++)	/* fd30::1 ... */
		ipv6_addr_set(&run[i], htonl(0xfd300000), 0, 0, htonl(i + 1));
	pct = filled_pct(test, run, MIXED_PEERS, 1);
	KUNIT_EXPECT_GE_MSG(test, pct, 58U, "IPv6, low bits");
	for (i = 0; i < MIXED_PEERS; i++)	/* fd30:i::1 */
		ipv6_addr_set(&run[i], htonl(0xfd300000 | i), 0, 0, htonl(1));
	pct = filled_pct(test, run, MIXED_PEERS, 1);
	KUNIT_EXPECT_GE_MSG(test, pct, 58U, "IPv6, high bits");
	for (i = 0; i < MIXED_PEERS; i++) {
		mixed_addr(i, &a);
		same += svrcert_addr_hash(&a, sizeof(a), 1) ==
			svrcert_addr_hash(&a, sizeof(a), 2);
	}
	KUNIT_EXPECT_LE(test, same, 8U);
}

static struct kunit_case peer_test_cases[] = {
	KUNIT_CASE(peer_replace_under_reader),
	KUNIT_CASE(peer_load_is_linear),
	KUNIT_CASE(peer_cursor_survives_changes),
	KUNIT_CASE(peer_addr_hash_mixed),
	{}
};

static struct kunit_suite peer_test_suite = {
	.suite_init = svrcert_kunit_env_init,
	.suite_exit = svrcert_kunit_env_exit,
	.name = "svrcert_peer",
	.test_cases = peer_test_cases,
};

kunit_test_suite(peer_test_suite);
