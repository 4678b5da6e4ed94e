/* SPDX-License-Identifier: GPL-2.0 */
/*
 * All state of svrcert lives in one struct per network namespace: each
 * netns is its own router with its own policy, peers and revocation set.
 *
 * Locking: @lock (the config mutex) serialises every writer of this netns:
 * netlink commands, the event worker, the netlink release notifier and
 * netns exit. It nests inside genl_mutex (netlink commands) and is never
 * held while taking another svrcert lock, so the order is simply
 * genl_mutex -> svrcert_net.lock -> rhashtable internal locks.
 * The data path takes no lock: it reads @policy, @revset and the peer
 * address table under RCU.
 */
#ifndef _SVRCERT_NETNS_H
#define _SVRCERT_NETNS_H

#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "events.h"
#include "hooks.h"
#include "peer.h"
#include "policy.h"
#include "revset.h"
#include "stats.h"

struct svrcert_net {
	struct net *net;
	struct mutex lock;	/* the config mutex: see above */
	struct svrcert_policy __rcu *policy;	/* never NULL */
	struct svrcert_revset __rcu *revset;	/* live set, never NULL */
	struct svrcert_revset *staging;		/* bulk load in progress */
	u32 staging_portid;			/* netlink socket that owns it */
	u32 keys_gen;				/* bumped on every set change */
	u64 keys_deltas;			/* APPLY_KEYS_DELTAs applied */
	u64 keys_loads;				/* bulk loads committed */
	struct svrcert_peers peers;
	struct svrcert_stats stats;
	struct svrcert_events events;
	struct nf_hook_ops hook_ops[SVRCERT_HOOKS];
	bool active;		/* hooks and event ring up (first config) */
};

extern unsigned int svrcert_net_id;

static inline struct svrcert_net *svrcert_pernet(const struct net *net)
{
	return net_generic(net, svrcert_net_id);
}

int svrcert_netns_register(void);
void svrcert_netns_unregister(void);

/* Hooks and event ring, on first configuration; caller holds sn->lock. */
int svrcert_netns_activate(struct svrcert_net *sn);
/* Drop a bulk load in progress; caller holds sn->lock. */
void svrcert_netns_abort_load(struct svrcert_net *sn);
/* Swap @set in as the live set; caller holds sn->lock. */
void svrcert_netns_swap_revset(struct svrcert_net *sn,
			       struct svrcert_revset *set);

#endif /* _SVRCERT_NETNS_H */
