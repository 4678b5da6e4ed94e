// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: events. What the data path queues is a copy of everything the
 * event reports, so a peer deleted (its record freed) before the worker
 * ran still gets its events -- KASAN would flag any reference back into
 * the freed record. The ring's bound: events beyond it are counted as
 * suppressed, not lost silently.
 *
 * The suite holds the netns config mutex while it queues and pops, so the
 * real worker (queued by the data path code) cannot drain the ring first;
 * when it runs afterwards it finds the ring empty.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "env.h"
#include "netns.h"

#define T0	1700000000LL

static struct svrcert_net *fake_net(struct kunit *test)
{
	struct svrcert_net *sn = kunit_kzalloc(test, sizeof(*sn), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sn);
	sn->net = &init_net;
	mutex_init(&sn->lock);
	KUNIT_ASSERT_EQ(test, svrcert_stats_init(&sn->stats), 0);
	KUNIT_ASSERT_EQ(test, svrcert_events_init(sn), 0);
	return sn;
}

static void fake_net_free(struct svrcert_net *sn)
{
	svrcert_events_exit(sn);
	svrcert_stats_exit(&sn->stats);
	mutex_destroy(&sn->lock);
}

static struct svrcert_peer *fake_peer(const char *name, u8 fp)
{
	struct svrcert_peer *peer = kzalloc(sizeof(*peer), GFP_KERNEL);

	if (peer) {
		strscpy(peer->name, name, sizeof(peer->name));
		memset(peer->cert.fingerprint, fp, SVRCERT_KEY_LEN);
	}
	return peer;
}

/* As the data path calls it: BHs off (the per-CPU counters need that). */
static void note(struct svrcert_net *sn, struct svrcert_peer *peer,
		 enum svrcert_reason reason, bool dropped, time64_t now)
{
	local_bh_disable();
	svrcert_events_note(sn, peer, reason, dropped, now);
	local_bh_enable();
}

static void expect_event(struct kunit *test, struct svrcert_net *sn, u8 type,
			 const char *name, u8 fp, u8 reason, time64_t time)
{
	struct svrcert_event_rec rec;
	u8 want_fp[SVRCERT_KEY_LEN];

	memset(want_fp, fp, sizeof(want_fp));
	KUNIT_ASSERT_TRUE(test, svrcert_events_pop(&sn->events, &rec));
	KUNIT_EXPECT_EQ(test, rec.type, type);
	KUNIT_EXPECT_STREQ(test, rec.peer_name, name);
	KUNIT_EXPECT_EQ(test, rec.reason, reason);
	KUNIT_EXPECT_EQ(test, rec.time, time);
	KUNIT_EXPECT_EQ(test, memcmp(rec.fingerprint, want_fp, SVRCERT_KEY_LEN), 0);
}

static void events_outlive_deleted_peer(struct kunit *test)
{
	struct svrcert_net *sn = fake_net(test);
	struct svrcert_stats_sum sum;
	struct svrcert_peer *peer;
	struct svrcert_event_rec rec;

	peer = fake_peer("doomed", 0xa5);
	KUNIT_ASSERT_NOT_NULL(test, peer);
	mutex_lock(&sn->lock);
	/* First revoked packet under fail-hard: two events; later ones none. */
	note(sn, peer, SVRCERT_REASON_REVOKED, true, T0);
	note(sn, peer, SVRCERT_REASON_REVOKED, true, T0 + 1);
	/* The peer is deleted (and freed) before the worker could run. */
	kfree(peer);
	expect_event(test, sn, SVRCERT_EVENT_PEER_REVOKED, "doomed", 0xa5,
		     SVRCERT_REASON_REVOKED, T0);
	expect_event(test, sn, SVRCERT_EVENT_FAIL_HARD_DROP, "doomed", 0xa5,
		     SVRCERT_REASON_REVOKED, T0);
	KUNIT_EXPECT_FALSE(test, svrcert_events_pop(&sn->events, &rec));
	svrcert_stats_read(&sn->stats, &sum);
	KUNIT_EXPECT_EQ(test, sum.first_seen[SVRCERT_SEEN_REVOKED], 1ULL);
	KUNIT_EXPECT_EQ(test, sn->events.suppressed, 0ULL);
	mutex_unlock(&sn->lock);
	fake_net_free(sn);
}

/* A replacement with another certificate: both records' events, each its own. */
static void events_keep_order_across_peers(struct kunit *test)
{
	struct svrcert_net *sn = fake_net(test);
	struct svrcert_peer *a, *b;

	a = fake_peer("r1", 0x11);
	b = fake_peer("r1", 0x22);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	mutex_lock(&sn->lock);
	note(sn, a, SVRCERT_REASON_EXPIRED, false, T0);
	kfree(a);
	note(sn, b, SVRCERT_REASON_NOT_YET_VALID, false, T0 + 5);
	note(sn, b, SVRCERT_REASON_INVALID, false, T0 + 6);
	kfree(b);
	expect_event(test, sn, SVRCERT_EVENT_PEER_EXPIRED, "r1", 0x11,
		     SVRCERT_REASON_EXPIRED, T0);
	expect_event(test, sn, SVRCERT_EVENT_PEER_EXPIRED, "r1", 0x22,
		     SVRCERT_REASON_NOT_YET_VALID, T0 + 5);
	expect_event(test, sn, SVRCERT_EVENT_PEER_INVALID, "r1", 0x22,
		     SVRCERT_REASON_INVALID, T0 + 6);
	mutex_unlock(&sn->lock);
	fake_net_free(sn);
}

static void events_ring_bound(struct kunit *test)
{
	struct svrcert_net *sn = fake_net(test);
	struct svrcert_event_rec rec;
	struct svrcert_peer *peer;
	u32 i, n = 0;

	peer = fake_peer("many", 0x33);
	KUNIT_ASSERT_NOT_NULL(test, peer);
	mutex_lock(&sn->lock);
	for (i = 0; i < SVRCERT_EVENTS_QUEUE + 6; i++) {
		peer->seen = 0;		/* as if each were a new peer */
		note(sn, peer, SVRCERT_REASON_REVOKED, false, T0 + i);
	}
	kfree(peer);
	while (svrcert_events_pop(&sn->events, &rec)) {
		KUNIT_EXPECT_EQ(test, rec.time, T0 + n);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, (u32)SVRCERT_EVENTS_QUEUE);
	KUNIT_EXPECT_EQ(test, sn->events.suppressed, 6ULL);
	mutex_unlock(&sn->lock);
	fake_net_free(sn);
}

static struct kunit_case events_test_cases[] = {
	KUNIT_CASE(events_outlive_deleted_peer),
	KUNIT_CASE(events_keep_order_across_peers),
	KUNIT_CASE(events_ring_bound),
	{}
};

static struct kunit_suite events_test_suite = {
	.name = "svrcert_events",
	.suite_init = svrcert_kunit_env_init,
	.suite_exit = svrcert_kunit_env_exit,
	.test_cases = events_test_cases,
};

kunit_test_suite(events_test_suite);
