/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict: a pure function of what is known about a peer, the live
 * revocation set, the time and the policy. No side effects, no locks of its
 * own (the caller holds rcu_read_lock() for the set), so KUnit can call it
 * with any combination of inputs.
 */
#ifndef _SVRCERT_VERDICT_H
#define _SVRCERT_VERDICT_H

#include <linux/time64.h>
#include <linux/types.h>
#include <linux/svrcert.h>

struct svrcert_policy;
struct svrcert_revset;

/* What the verdict needs to know about a peer. */
struct svrcert_peer_cert {
	u8 state;				/* enum svrcert_cert_state */
	time64_t not_before;
	time64_t not_after;
	u8 fingerprint[SVRCERT_KEY_LEN];
	u8 revkey[SVRCERT_KEY_LEN];
};

enum svrcert_verdict svrcert_verdict(const struct svrcert_peer_cert *cert,
				     struct svrcert_revset *live,
				     time64_t now,
				     const struct svrcert_policy *pol,
				     enum svrcert_reason *reason);

#endif /* _SVRCERT_VERDICT_H */
