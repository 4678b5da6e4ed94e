// SPDX-License-Identifier: GPL-2.0
#include "policy.h"
#include "revset.h"
#include "verdict.h"

/*
 * The set lookups behind svrcert_revoked(), when its cache is stale: the
 * first packet of a peer after a change of the set. @gen was read before
 * them (acquire), so the answer is never newer than the generation stored
 * with it.
 */
bool svrcert_revoked_lookup(struct svrcert_peer_cert *cert,
			    struct svrcert_revset *live, unsigned long gen)
{
	bool revoked;

	revoked = svrcert_revset_contains(live, cert->revkey) ||
		  svrcert_revset_contains(live, cert->fingerprint);
	WRITE_ONCE(cert->revoked_cache, (gen << 1) | revoked);
	return revoked;
}

/* The control path's and KUnit's copy of the data path's inline verdict. */
enum svrcert_verdict svrcert_verdict(struct svrcert_peer_cert *cert,
				     struct svrcert_revset *live,
				     time64_t now,
				     const struct svrcert_policy *pol,
				     bool unprotected,
				     enum svrcert_reason *reason)
{
	return svrcert_verdict_inline(cert, live, now, pol, unprotected,
				      reason);
}
