// SPDX-License-Identifier: GPL-2.0
/*
 * Peer table.
 *
 * A peer record is immutable once published: a replace publishes a new
 * record and retires the old one after a grace period, so a reader holding
 * a record sees one consistent certificate. Per address the switch is one
 * rcu_assign_pointer(), so a packet sees either the old or the new record,
 * never none. The per-CPU packet counters move to the replacement.
 */
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/ipv6.h>

#include "peer.h"

/*
 * Names are looked up by every peer command: a hash, not a list walk, so
 * loading n peers costs O(n). Keys are the NUL-terminated names.
 */
static u32 svrcert_name_hash(const void *data, u32 len, u32 seed)
{
	return jhash(data, strlen(data), seed);
}

static u32 svrcert_name_obj_hash(const void *obj, u32 len, u32 seed)
{
	const struct svrcert_peer *peer = obj;

	return jhash(peer->name, strlen(peer->name), seed);
}

static int svrcert_name_cmp(struct rhashtable_compare_arg *arg,
			    const void *obj)
{
	const struct svrcert_peer *peer = obj;

	return strcmp(peer->name, arg->key);
}

static const struct rhashtable_params svrcert_name_params = {
	.head_offset = offsetof(struct svrcert_peer, name_node),
	.key_offset = offsetof(struct svrcert_peer, name),
	.hashfn = svrcert_name_hash,
	.obj_hashfn = svrcert_name_obj_hash,
	.obj_cmpfn = svrcert_name_cmp,
	.automatic_shrinking = true,
};

int svrcert_peers_init(struct svrcert_peers *peers)
{
	int err;

	INIT_LIST_HEAD(&peers->list);
	peers->count = 0;
	peers->gen = 1;
	peers->next_id = 0;
	xa_init_flags(&peers->ids, XA_FLAGS_ALLOC);
	err = rhashtable_init(&peers->names, &svrcert_name_params);
	if (err)
		return err;
	err = rhashtable_init(&peers->addrs, &svrcert_addr_params);
	if (err)
		rhashtable_destroy(&peers->names);
	return err;
}

struct svrcert_peer *svrcert_peer_alloc(void)
{
	return kzalloc(sizeof(struct svrcert_peer), GFP_KERNEL_ACCOUNT);
}

/* A record that was never published, or after a grace period. */
void svrcert_peer_free(struct svrcert_peer *peer)
{
	if (!peer)
		return;
	if (peer->owns_counters)
		free_percpu(peer->counters);
	kfree(peer);
}

static void svrcert_peer_free_rcu(struct rcu_head *rcu)
{
	svrcert_peer_free(container_of(rcu, struct svrcert_peer, rcu));
}

/* Caller holds the config mutex. */
struct svrcert_peer *svrcert_peer_find(struct svrcert_peers *peers,
				       const char *name)
{
	return rhashtable_lookup_fast(&peers->names, name, svrcert_name_params);
}

/*
 * The peer with the lowest id >= *@cursor, and *@cursor moved past it;
 * NULL at the end. Ids grow with insertion and a replacement keeps its
 * predecessor's, so a dump resumed this way after peers were added,
 * replaced or deleted sends every peer that stayed exactly once. Caller
 * holds the config mutex.
 */
struct svrcert_peer *svrcert_peer_next(struct svrcert_peers *peers,
				       unsigned long *cursor)
{
	struct svrcert_peer *peer;

	peer = xa_find(&peers->ids, cursor, U32_MAX, XA_PRESENT);
	if (peer)
		(*cursor)++;
	return peer;
}

static struct svrcert_addr *svrcert_addr_get(struct svrcert_peers *peers,
					     const struct in6_addr *addr)
{
	return rhashtable_lookup_fast(&peers->addrs, addr, svrcert_addr_params);
}

static bool svrcert_peer_has_addr(const struct svrcert_peer *peer,
				  const struct in6_addr *addr)
{
	u32 i;

	for (i = 0; peer && i < peer->naddrs; i++)
		if (ipv6_addr_equal(&peer->addrs[i], addr))
			return true;
	return false;
}

static void svrcert_addr_drop(struct svrcert_peers *peers,
			      struct svrcert_addr *a)
{
	rhashtable_remove_fast(&peers->addrs, &a->node, svrcert_addr_params);
	kfree_rcu(a, rcu);
}

/*
 * Map every address of @peer that @old does not have; all or nothing.
 * *@seen tells whether any address of @peer was visible to readers, even
 * if only until the rollback: then @peer may be held by one.
 */
static int svrcert_peer_insert_addrs(struct svrcert_peers *peers,
				     struct svrcert_peer *peer,
				     struct svrcert_peer *old, bool *seen)
{
	struct svrcert_addr *added[SVRCERT_PEER_ADDRS_MAX];
	u32 i, n = 0;
	int err = 0;

	for (i = 0; i < peer->naddrs; i++) {
		if (svrcert_peer_has_addr(old, &peer->addrs[i]))
			continue;
		added[n] = kzalloc(sizeof(*added[n]), GFP_KERNEL_ACCOUNT);
		if (!added[n]) {
			err = -ENOMEM;
			break;
		}
		added[n]->addr = peer->addrs[i];
		RCU_INIT_POINTER(added[n]->peer, peer);
		err = rhashtable_lookup_insert_fast(&peers->addrs,
						    &added[n]->node,
						    svrcert_addr_params);
		if (err) {
			kfree(added[n]);
			break;
		}
		n++;
	}
	*seen = n > 0;
	if (err)
		while (n--)
			svrcert_addr_drop(peers, added[n]);
	return err;
}

static int svrcert_peer_check(struct svrcert_peers *peers,
			      struct svrcert_peer *peer,
			      struct svrcert_peer *old, u32 max_peers,
			      struct netlink_ext_ack *extack)
{
	struct svrcert_addr *a;
	u32 i;

	if (!old && peers->count >= max_peers) {
		NL_SET_ERR_MSG(extack, "peer table full (module parameter max_peers)");
		return -ENOSPC;
	}
	for (i = 0; i < peer->naddrs; i++) {
		a = svrcert_addr_get(peers, &peer->addrs[i]);
		if (a && rcu_access_pointer(a->peer) != old) {
			NL_SET_ERR_MSG(extack, "address already belongs to another peer");
			return -EADDRINUSE;
		}
	}
	if (!old) {
		peer->counters = svrcert_pcpu_alloc(struct svrcert_peer_counters);
		if (!peer->counters)
			return -ENOMEM;
		peer->owns_counters = true;
	}
	return 0;
}

/*
 * Share what must survive a replace before any address of @peer is
 * published: a packet may reach @peer as soon as one is, and counts into
 * peer->counters. @old keeps owning the counters until the switch is done.
 */
static void svrcert_peer_inherit(struct svrcert_peer *peer,
				 struct svrcert_peer *old)
{
	peer->counters = old->counters;
	peer->owns_counters = false;
	peer->base = old->base;
	if (!memcmp(peer->cert.fingerprint, old->cert.fingerprint,
		    SVRCERT_KEY_LEN))
		peer->seen = READ_ONCE(old->seen);
}

/* Name and id of a new peer; invisible to the data path. */
static int svrcert_peer_index(struct svrcert_peers *peers,
			      struct svrcert_peer *peer)
{
	int err;

	/* _key: a table with obj_hashfn may not use lookup_insert_fast */
	err = rhashtable_lookup_insert_key(&peers->names, peer->name,
					   &peer->name_node,
					   svrcert_name_params);
	if (err)
		return err;
	err = xa_alloc_cyclic(&peers->ids, &peer->id, peer, xa_limit_32b,
			      &peers->next_id, GFP_KERNEL_ACCOUNT);
	if (err < 0) {
		rhashtable_remove_fast(&peers->names, &peer->name_node,
				       svrcert_name_params);
		return err;
	}
	return 0;
}

static void svrcert_peer_unindex(struct svrcert_peers *peers,
				 struct svrcert_peer *peer)
{
	rhashtable_remove_fast(&peers->names, &peer->name_node,
			       svrcert_name_params);
	xa_erase(&peers->ids, peer->id);
}

/* @peer takes @old's place in the name hash and the id order. */
static void svrcert_peer_reindex(struct svrcert_peers *peers,
				 struct svrcert_peer *peer,
				 struct svrcert_peer *old)
{
	peer->id = old->id;
	WARN_ON_ONCE(rhashtable_replace_fast(&peers->names, &old->name_node,
					     &peer->name_node,
					     svrcert_name_params));
	/* The slot exists: storing over it allocates nothing. */
	xa_store(&peers->ids, peer->id, peer, GFP_KERNEL);
}

/* Free @peer after a grace period: a reader may have reached it. */
static void svrcert_peer_retire(struct svrcert_peer *peer)
{
	call_rcu(&peer->rcu, svrcert_peer_free_rcu);
}

/*
 * Publish @peer, replacing @old (same name) when not NULL. Caller holds the
 * config mutex. @peer is consumed either way: on error nothing changed and
 * @peer is freed, through RCU if any of its addresses was ever visible.
 */
int svrcert_peer_publish(struct svrcert_peers *peers,
			 struct svrcert_peer *peer, struct svrcert_peer *old,
			 u32 max_peers, struct netlink_ext_ack *extack)
{
	struct svrcert_addr *a;
	bool seen = false;
	u32 i;
	int err;

	err = svrcert_peer_check(peers, peer, old, max_peers, extack);
	if (err)
		goto err_free;
	if (old)
		svrcert_peer_inherit(peer, old);
	else
		err = svrcert_peer_index(peers, peer);
	if (err)
		goto err_free;
	err = svrcert_peer_insert_addrs(peers, peer, old, &seen);
	if (err)
		goto err_unindex;
	if (!old) {
		list_add_tail(&peer->list, &peers->list);
		peers->count++;
		peers->gen++;
		return 0;
	}
	svrcert_peer_reindex(peers, peer, old);
	for (i = 0; i < old->naddrs; i++) {
		a = svrcert_addr_get(peers, &old->addrs[i]);
		if (WARN_ON_ONCE(!a))
			continue;
		if (svrcert_peer_has_addr(peer, &old->addrs[i]))
			rcu_assign_pointer(a->peer, peer);
		else
			svrcert_addr_drop(peers, a);
	}
	list_replace(&old->list, &peer->list);
	peer->owns_counters = true;
	old->owns_counters = false;
	peers->gen++;
	svrcert_peer_retire(old);
	return 0;

err_unindex:
	if (!old)
		svrcert_peer_unindex(peers, peer);
err_free:
	if (seen)
		svrcert_peer_retire(peer);
	else
		svrcert_peer_free(peer);
	return err;
}

void svrcert_peer_remove(struct svrcert_peers *peers,
			 struct svrcert_peer *peer)
{
	struct svrcert_addr *a;
	u32 i;

	for (i = 0; i < peer->naddrs; i++) {
		a = svrcert_addr_get(peers, &peer->addrs[i]);
		if (!WARN_ON_ONCE(!a))
			svrcert_addr_drop(peers, a);
	}
	svrcert_peer_unindex(peers, peer);
	list_del(&peer->list);
	peers->count--;
	peers->gen++;
	svrcert_peer_retire(peer);
}

/* Caller holds the config mutex; no reader can reach the table any more. */
void svrcert_peers_exit(struct svrcert_peers *peers)
{
	struct svrcert_peer *peer, *tmp;

	list_for_each_entry_safe(peer, tmp, &peers->list, list)
		svrcert_peer_remove(peers, peer);
	rhashtable_destroy(&peers->addrs);
	rhashtable_destroy(&peers->names);
	xa_destroy(&peers->ids);
}

static void svrcert_peer_counters_raw(const struct svrcert_peer *peer,
				      struct svrcert_peer_sums *sums)
{
	BUILD_BUG_ON(sizeof(*sums) !=
		     offsetof(struct svrcert_peer_counters, syncp));
	svrcert_pcpu_sum(peer->counters, struct svrcert_peer_counters,
			 (u64 *)sums);
}

/* Caller holds the config mutex (it protects the baseline). */
void svrcert_peer_counters_read(const struct svrcert_peer *peer,
				struct svrcert_peer_sums *sums)
{
	unsigned int d;

	svrcert_peer_counters_raw(peer, sums);
	for (d = 0; d < SVRCERT_DIR_COUNT; d++) {
		sums->accepted[d] -= peer->base.accepted[d];
		sums->dropped[d] -= peer->base.dropped[d];
	}
}

/*
 * Zero every peer's counters as readers see them: the current sums become
 * the baseline. A packet counted on another CPU while this runs lands
 * either in the baseline or after it, never in both, so the counters stay
 * exact from here on.
 */
void svrcert_peers_reset_counters(struct svrcert_peers *peers)
{
	struct svrcert_peer *peer;

	list_for_each_entry(peer, &peers->list, list)
		svrcert_peer_counters_raw(peer, &peer->base);
}
