// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the verdict for every combination of peer state, revocation
 * (none, by revocation key, by fingerprint), time (before, within, after
 * the validity window, and its two edges), failure mode, peer-validation,
 * own state and an unprotected packet (esp_test.c finds that one on real
 * skbs), checked against an expectation written independently:
 * an own certificate known to be bad first, then every condition that
 * applies as a bit per reason, the lowest one winning, relying only on
 * the UAPI promise that the reasons are numbered in the order they are
 * checked. Then the same table through the data path's entry point,
 * svrcert_judge(), for packets from and to the peer: verdict, reason and
 * exactly which counters move.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "policy.h"
#include "env.h"
#include "hooks.h"
#include "netns.h"
#include "revset.h"
#include "verdict.h"

#define NB	1000000000LL		/* notBefore */
#define NA	1100000000LL		/* notAfter */

enum revoked_how { NOT_REVOKED, BY_REVKEY, BY_FINGERPRINT, REVOKED_HOW_N };

static const time64_t times[] = { NB - 1, NB, (NB + NA) / 2, NA, NA + 1 };

static enum svrcert_reason expected_reason(u8 state, enum revoked_how how,
					   time64_t now,
					   const struct svrcert_policy *pol,
					   bool unprotected)
{
	unsigned long applies = 0;

	/* Fail-hard severs a router whose own certificate is bad, always. */
	if (pol->self_state != SVRCERT_STATE_VALID &&
	    pol->self_state != SVRCERT_STATE_UNKNOWN)
		return SVRCERT_REASON_SELF_INVALID;
	if (!pol->peer_validation)
		applies |= BIT(SVRCERT_REASON_DISABLED);
	if (pol->self_state != SVRCERT_STATE_VALID)
		applies |= BIT(SVRCERT_REASON_SELF_INVALID);
	switch (state) {
	case SVRCERT_STATE_UNKNOWN:
		applies |= BIT(SVRCERT_REASON_UNAUTHENTICATED);
		break;
	case SVRCERT_STATE_INVALID:
		applies |= BIT(SVRCERT_REASON_INVALID);
		break;
	case SVRCERT_STATE_REVOKED:
		applies |= BIT(SVRCERT_REASON_REVOKED);
		break;
	case SVRCERT_STATE_EXPIRED:
		applies |= BIT(SVRCERT_REASON_EXPIRED);
		break;
	case SVRCERT_STATE_NOT_YET_VALID:
		applies |= BIT(SVRCERT_REASON_NOT_YET_VALID);
		break;
	}
	if (how != NOT_REVOKED)
		applies |= BIT(SVRCERT_REASON_REVOKED);
	if (now < NB)
		applies |= BIT(SVRCERT_REASON_NOT_YET_VALID);
	if (now > NA)
		applies |= BIT(SVRCERT_REASON_EXPIRED);
	if (unprotected)
		applies |= BIT(SVRCERT_REASON_UNPROTECTED);
	if (!applies)
		return SVRCERT_REASON_OK;
	return __ffs(applies);
}

static bool expected_drop(enum svrcert_reason reason,
			  const struct svrcert_policy *pol)
{
	if (reason == SVRCERT_REASON_OK || reason == SVRCERT_REASON_DISABLED)
		return false;
	return pol->failure_mode == SVRCERT_FAIL_HARD;
}

struct verdict_ctx {
	struct svrcert_revset *set;
	struct svrcert_peer_cert cert;
	u8 other_key[SVRCERT_KEY_LEN];
};

/* One set holds the fingerprint of "fp" peers, one the revkey of others. */
static void make_cert(struct verdict_ctx *ctx, u8 state, enum revoked_how how)
{
	memset(&ctx->cert, 0, sizeof(ctx->cert));
	ctx->cert.state = state;
	ctx->cert.not_before = NB;
	ctx->cert.not_after = NA;
	memset(ctx->cert.fingerprint, 0x11, SVRCERT_KEY_LEN);
	memset(ctx->cert.revkey, 0x22, SVRCERT_KEY_LEN);
	if (how == BY_REVKEY)
		memset(ctx->cert.revkey, 0xaa, SVRCERT_KEY_LEN);
	if (how == BY_FINGERPRINT)
		memset(ctx->cert.fingerprint, 0xbb, SVRCERT_KEY_LEN);
}

static void verdict_all_combinations(struct kunit *test)
{
	struct verdict_ctx *ctx = test->priv;
	struct svrcert_policy pol;
	enum svrcert_reason reason, want;
	enum svrcert_verdict verdict;
	unsigned int state, how, t, mode, val, self, unprot, checked = 0;

	for (unprot = 0; unprot <= 1; unprot++)
	for (state = 0; state <= SVRCERT_STATE_MAX; state++)
	for (how = 0; how < REVOKED_HOW_N; how++)
	for (t = 0; t < ARRAY_SIZE(times); t++)
	for (mode = 0; mode <= SVRCERT_FAIL_MAX; mode++)
	for (val = 0; val <= 1; val++)
	for (self = 0; self <= SVRCERT_STATE_MAX; self++) {
		svrcert_policy_defaults(&pol);
		pol.peer_validation = val;
		pol.failure_mode = mode;
		pol.self_state = self;
		make_cert(ctx, state, how);
		want = expected_reason(state, how, times[t], &pol, unprot);
		rcu_read_lock();
		verdict = svrcert_verdict(&ctx->cert, ctx->set, times[t], &pol,
					  unprot, &reason);
		rcu_read_unlock();
		KUNIT_EXPECT_EQ_MSG(test, reason, want,
				    "state=%u revoked=%u t=%u mode=%u val=%u self=%u unprot=%u",
				    state, how, t, mode, val, self, unprot);
		KUNIT_EXPECT_EQ_MSG(test, verdict == SVRCERT_VERDICT_DROP,
				    expected_drop(want, &pol),
				    "state=%u revoked=%u t=%u mode=%u val=%u self=%u unprot=%u",
				    state, how, t, mode, val, self, unprot);
		checked++;
	}
	KUNIT_EXPECT_EQ(test, checked, 2U * 6 * 3 * 5 * 2 * 2 * 6);
}

/* The set is looked up under RCU, as on the data path. */
static enum svrcert_verdict judge(struct verdict_ctx *ctx, time64_t now,
				  const struct svrcert_policy *pol,
				  enum svrcert_reason *reason)
{
	enum svrcert_verdict verdict;

	rcu_read_lock();
	verdict = svrcert_verdict(&ctx->cert, ctx->set, now, pol, false, reason);
	rcu_read_unlock();
	return verdict;
}

/* A few cases spelled out, so a reader sees the rules without the loop. */
static void verdict_spot_checks(struct kunit *test)
{
	struct verdict_ctx *ctx = test->priv;
	struct svrcert_policy pol;
	enum svrcert_reason reason;

	svrcert_policy_defaults(&pol);
	make_cert(ctx, SVRCERT_STATE_REVOKED, BY_REVKEY);
	KUNIT_EXPECT_EQ(test, judge(ctx, NA + 5, &pol, &reason),
			SVRCERT_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_DISABLED);

	pol.peer_validation = true;
	pol.self_state = SVRCERT_STATE_VALID;
	pol.failure_mode = SVRCERT_FAIL_HARD;
	make_cert(ctx, SVRCERT_STATE_VALID, NOT_REVOKED);
	KUNIT_EXPECT_EQ(test, judge(ctx, NA, &pol, &reason),
			SVRCERT_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_OK);
	KUNIT_EXPECT_EQ(test, judge(ctx, NA + 1, &pol, &reason),
			SVRCERT_VERDICT_DROP);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_EXPIRED);

	make_cert(ctx, SVRCERT_STATE_VALID, BY_FINGERPRINT);
	pol.failure_mode = SVRCERT_FAIL_SOFT;
	KUNIT_EXPECT_EQ(test, judge(ctx, NB, &pol, &reason),
			SVRCERT_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_REVOKED);

	pol.self_state = SVRCERT_STATE_EXPIRED;
	pol.failure_mode = SVRCERT_FAIL_HARD;
	KUNIT_EXPECT_EQ(test, judge(ctx, NB, &pol, &reason),
			SVRCERT_VERDICT_DROP);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_SELF_INVALID);

	/* Own certificate revoked: dropped even with validation off ... */
	pol.peer_validation = false;
	pol.self_state = SVRCERT_STATE_REVOKED;
	KUNIT_EXPECT_EQ(test, judge(ctx, NB, &pol, &reason),
			SVRCERT_VERDICT_DROP);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_SELF_INVALID);
	/* ... passed and counted under fail-soft ... */
	pol.failure_mode = SVRCERT_FAIL_SOFT;
	KUNIT_EXPECT_EQ(test, judge(ctx, NB, &pol, &reason),
			SVRCERT_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_SELF_INVALID);
	/* ... but one not yet judged (UNKNOWN) is no reason to sever. */
	pol.failure_mode = SVRCERT_FAIL_HARD;
	pol.self_state = SVRCERT_STATE_UNKNOWN;
	KUNIT_EXPECT_EQ(test, judge(ctx, NB, &pol, &reason),
			SVRCERT_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, reason, SVRCERT_REASON_DISABLED);
}

static enum svrcert_reason reason_in(struct verdict_ctx *ctx,
				     struct svrcert_revset *set,
				     const struct svrcert_policy *pol)
{
	enum svrcert_reason reason;

	rcu_read_lock();
	svrcert_verdict(&ctx->cert, set, NB, pol, false, &reason);
	rcu_read_unlock();
	return reason;
}

/*
 * The peer's cached "revoked?" answer follows every change: a key added
 * to the set, deleted again, and another set in its place.
 */
static void verdict_cache_follows_set(struct kunit *test)
{
	struct verdict_ctx *ctx = test->priv;
	struct svrcert_revset *other;
	struct svrcert_policy pol;
	u8 key[SVRCERT_KEY_LEN];
	u32 n = 0;

	svrcert_policy_defaults(&pol);
	pol.peer_validation = true;
	pol.self_state = SVRCERT_STATE_VALID;
	make_cert(ctx, SVRCERT_STATE_VALID, NOT_REVOKED);
	memset(key, 0x22, sizeof(key));		/* its revocation key */

	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_OK);
	KUNIT_EXPECT_NE(test, ctx->cert.revoked_cache, 0UL);	/* cached */
	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_OK);

	KUNIT_ASSERT_EQ(test, svrcert_revset_add(ctx->set, key, 1, &n), 0);
	KUNIT_ASSERT_EQ(test, n, 1U);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_REVOKED);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_REVOKED);

	KUNIT_ASSERT_EQ(test, svrcert_revset_del(ctx->set, key, 1, &n), 0);
	KUNIT_ASSERT_EQ(test, n, 1U);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_OK);

	/* A duplicate add changes nothing a reader can see. */
	memset(key, 0xaa, sizeof(key));
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(ctx->set, key, 1, &n), 0);
	KUNIT_EXPECT_EQ(test, n, 0U);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_OK);

	/* Another set: its own generation, never the first set's answer. */
	other = svrcert_revset_create(4, 16);
	KUNIT_ASSERT_NOT_NULL(test, other);
	memset(key, 0x11, sizeof(key));		/* the fingerprint */
	KUNIT_EXPECT_EQ(test, svrcert_revset_add(other, key, 1, &n), 0);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, other, &pol), SVRCERT_REASON_REVOKED);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, ctx->set, &pol), SVRCERT_REASON_OK);
	KUNIT_EXPECT_EQ(test, reason_in(ctx, other, &pol), SVRCERT_REASON_REVOKED);
	svrcert_revset_destroy(other);
}

/*
 * A namespace with what svrcert_judge() touches: the live set, the peer
 * table with one peer at 192.0.2.1 and the counters. The peer's first-seen
 * bits are all set, so no event is queued (this namespace has no ring).
 */
struct judge_env {
	struct svrcert_net *sn;
	struct svrcert_peer *peer;
	struct in6_addr addr, other;
	struct svrcert_stats_sum *before, *after, *want;
};

static void judge_env_init(struct kunit *test, struct verdict_ctx *ctx,
			   struct judge_env *env)
{
	struct svrcert_peer *peer;

	env->sn = kunit_kzalloc(test, sizeof(*env->sn), GFP_KERNEL);
	env->before = kunit_kzalloc(test, 3 * sizeof(*env->before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->sn);
	KUNIT_ASSERT_NOT_NULL(test, env->before);
	env->after = env->before + 1;
	env->want = env->before + 2;
	RCU_INIT_POINTER(env->sn->revset, ctx->set);
	KUNIT_ASSERT_EQ(test, svrcert_peers_init(&env->sn->peers), 0);
	KUNIT_ASSERT_EQ(test, svrcert_stats_init(&env->sn->stats), 0);
	ipv6_addr_set_v4mapped(htonl(0xc0000201), &env->addr);
	ipv6_addr_set_v4mapped(htonl(0xc0000202), &env->other);
	peer = svrcert_peer_alloc();
	KUNIT_ASSERT_NOT_NULL(test, peer);
	strscpy(peer->name, "p", sizeof(peer->name));
	peer->addrs[0] = env->addr;
	peer->naddrs = 1;
	KUNIT_ASSERT_EQ(test, svrcert_peer_publish(&env->sn->peers, peer, NULL,
						   1, NULL), 0);
	env->peer = svrcert_peer_find(&env->sn->peers, "p");
	KUNIT_ASSERT_NOT_NULL(test, env->peer);
	env->peer->seen = ~0UL;
}

static void judge_env_exit(struct judge_env *env)
{
	svrcert_peers_exit(&env->sn->peers);
	rcu_barrier();		/* the peer record goes through call_rcu */
	svrcert_stats_exit(&env->sn->stats);
}

/*
 * One packet as a hook judges it, with the certificate's window placed so
 * that the real clock is where @t is in [NB, NA]. A second that ticks
 * in between would move an edge: then the packet is judged again, its
 * counters -- the namespace's and the peer's (@p0) -- taken anew.
 */
static enum svrcert_verdict judge_packet(struct verdict_ctx *ctx,
					 struct judge_env *env,
					 const struct svrcert_policy *pol,
					 time64_t t, enum svrcert_dir dir,
					 enum svrcert_reason *reason,
					 struct svrcert_peer_sums *p0)
{
	struct svrcert_peer_cert *cert = &env->peer->cert;
	enum svrcert_verdict verdict;
	time64_t now;

	do {
		now = ktime_get_real_seconds();
		svrcert_stats_read(&env->sn->stats, env->before);
		svrcert_peer_counters_read(env->peer, p0);
		/* Test only: nobody else reads the record meanwhile. */
		*cert = ctx->cert;
		cert->not_before += now - t;
		cert->not_after += now - t;
		local_bh_disable();
		rcu_read_lock();
		/* No skb: this peer does not require ESP, none is looked at. */
		verdict = svrcert_judge(env->sn, pol, NULL, &env->addr, dir,
					reason);
		rcu_read_unlock();
		local_bh_enable();
	} while (ktime_get_real_seconds() != now);
	return verdict;
}

/* Exactly the counter of @dir, @dropped, @reason moved, by one. */
static void expect_counted(struct kunit *test, struct judge_env *env,
			   enum svrcert_dir dir, bool dropped,
			   enum svrcert_reason reason,
			   const struct svrcert_peer_sums *p0)
{
	struct svrcert_peer_sums p1, pw = *p0;
	const u64 *b = (const u64 *)env->before;
	u64 *w = (u64 *)env->want;
	unsigned int i;

	svrcert_stats_read(&env->sn->stats, env->after);
	svrcert_peer_counters_read(env->peer, &p1);
	for (i = 0; i < sizeof(*env->want) / sizeof(u64); i++)
		w[i] = b[i];
	if (dropped) {
		env->want->dropped[dir][reason]++;
		pw.dropped[dir]++;
	} else {
		env->want->accepted[dir][reason]++;
		pw.accepted[dir]++;
	}
	KUNIT_EXPECT_EQ(test, memcmp(env->after, env->want, sizeof(*env->want)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&p1, &pw, sizeof(pw)), 0);
}

static void judge_both_directions_all_combinations(struct kunit *test)
{
	struct verdict_ctx *ctx = test->priv;
	unsigned int state, how, t, mode, val, self, dir, checked = 0;
	struct svrcert_peer_sums p0;
	struct svrcert_policy pol;
	enum svrcert_reason reason, want;
	enum svrcert_verdict verdict;
	struct judge_env env;

	judge_env_init(test, ctx, &env);
	for (dir = 0; dir < SVRCERT_DIR_COUNT; dir++)
	for (state = 0; state <= SVRCERT_STATE_MAX; state++)
	for (how = 0; how < REVOKED_HOW_N; how++)
	for (t = 0; t < ARRAY_SIZE(times); t++)
	for (mode = 0; mode <= SVRCERT_FAIL_MAX; mode++)
	for (val = 0; val <= 1; val++)
	for (self = 0; self <= SVRCERT_STATE_MAX; self++) {
		svrcert_policy_defaults(&pol);
		pol.peer_validation = val;
		pol.failure_mode = mode;
		pol.self_state = self;
		make_cert(ctx, state, how);
		want = expected_reason(state, how, times[t], &pol, false);
		verdict = judge_packet(ctx, &env, &pol, times[t], dir, &reason,
				       &p0);
		KUNIT_EXPECT_EQ_MSG(test, reason, want,
				    "dir=%u state=%u revoked=%u t=%u mode=%u val=%u self=%u",
				    dir, state, how, t, mode, val, self);
		KUNIT_EXPECT_EQ_MSG(test, verdict == SVRCERT_VERDICT_DROP,
				    expected_drop(want, &pol),
				    "dir=%u state=%u revoked=%u t=%u mode=%u val=%u self=%u",
				    dir, state, how, t, mode, val, self);
		expect_counted(test, &env, dir, expected_drop(want, &pol), want,
			       &p0);
		if (test->status != KUNIT_SUCCESS)
			goto out;	/* one combination's report is enough */
		checked++;
	}
out:
	KUNIT_EXPECT_EQ(test, checked, 2U * 6 * 3 * 5 * 2 * 2 * 6);
	judge_env_exit(&env);
}

/* A packet from or to an address of no peer: accepted, counted as such. */
static void judge_not_peer_both_directions(struct kunit *test)
{
	struct verdict_ctx *ctx = test->priv;
	struct svrcert_policy pol;
	enum svrcert_reason reason;
	struct judge_env env;
	unsigned int dir;

	judge_env_init(test, ctx, &env);
	svrcert_policy_defaults(&pol);
	pol.peer_validation = true;
	pol.failure_mode = SVRCERT_FAIL_HARD;
	pol.self_state = SVRCERT_STATE_REVOKED;
	for (dir = 0; dir < SVRCERT_DIR_COUNT; dir++) {
		svrcert_stats_read(&env.sn->stats, env.before);
		local_bh_disable();
		rcu_read_lock();
		KUNIT_EXPECT_EQ(test, svrcert_judge(env.sn, &pol, NULL, &env.other,
						    dir, &reason),
				SVRCERT_VERDICT_ACCEPT);
		rcu_read_unlock();
		local_bh_enable();
		svrcert_stats_read(&env.sn->stats, env.after);
		*env.want = *env.before;
		env.want->not_peer[dir]++;
		KUNIT_EXPECT_EQ(test, memcmp(env.after, env.want,
					     sizeof(*env.want)), 0);
	}
	judge_env_exit(&env);
}

static int verdict_test_init(struct kunit *test)
{
	struct verdict_ctx *ctx;
	u8 keys[2 * SVRCERT_KEY_LEN];
	u32 added = 0;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->set = svrcert_revset_create(4, 16);
	KUNIT_ASSERT_NOT_NULL(test, ctx->set);
	memset(keys, 0xaa, SVRCERT_KEY_LEN);
	memset(keys + SVRCERT_KEY_LEN, 0xbb, SVRCERT_KEY_LEN);
	KUNIT_ASSERT_EQ(test, svrcert_revset_add(ctx->set, keys, 2, &added), 0);
	KUNIT_ASSERT_EQ(test, added, 2U);
	test->priv = ctx;
	return 0;
}

static void verdict_test_exit(struct kunit *test)
{
	struct verdict_ctx *ctx = test->priv;

	svrcert_revset_destroy(ctx->set);
}

static struct kunit_case verdict_test_cases[] = {
	KUNIT_CASE(verdict_all_combinations),
	KUNIT_CASE(verdict_spot_checks),
	KUNIT_CASE(verdict_cache_follows_set),
	KUNIT_CASE(judge_both_directions_all_combinations),
	KUNIT_CASE(judge_not_peer_both_directions),
	{}
};

static struct kunit_suite verdict_test_suite = {
	.suite_init = svrcert_kunit_env_init,
	.suite_exit = svrcert_kunit_env_exit,
	.name = "svrcert_verdict",
	.init = verdict_test_init,
	.exit = verdict_test_exit,
	.test_cases = verdict_test_cases,
};

kunit_test_suite(verdict_test_suite);
