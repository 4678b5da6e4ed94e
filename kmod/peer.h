/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Peer table: the peers of one network namespace on a list (writers, under
 * the config mutex) and every peer address in an rhashtable (readers, RCU).
 * IPv4 addresses are stored v4-mapped so one 16-byte key serves both.
 */
#ifndef _SVRCERT_PEER_H
#define _SVRCERT_PEER_H

#include <linux/in6.h>
#include <linux/jhash.h>
#include <linux/list.h>
#include <linux/netlink.h>
#include <linux/rhashtable.h>
#include <linux/u64_stats_sync.h>
#include <linux/xarray.h>
#include <net/ipv6.h>

#include "stats.h"
#include "verdict.h"

/* Per direction (enum svrcert_dir): packets passed and dropped. */
struct svrcert_peer_counters {
	u64_stats_t accepted[SVRCERT_DIR_COUNT];
	u64_stats_t dropped[SVRCERT_DIR_COUNT];
	struct u64_stats_sync syncp;
};

/* Their sums; mirrors struct svrcert_peer_counters. */
struct svrcert_peer_sums {
	u64 accepted[SVRCERT_DIR_COUNT];
	u64 dropped[SVRCERT_DIR_COUNT];
};

struct svrcert_peer {
	struct list_head list;			/* under the config mutex */
	struct rhash_head name_node;		/* peers->names, same */
	u32 id;		/* peers->ids; a replacement keeps it (dump cursor) */
	struct rcu_head rcu;
	/* Survive a replace: the replacement inherits them. */
	struct svrcert_peer_counters __percpu *counters;
	bool owns_counters;
	/*
	 * RESET_STATS does not write the per-CPU counters (the data path
	 * owns them); it records their sums here and reads subtract them.
	 * Under the config mutex; inherited by a replacement like @counters.
	 */
	struct svrcert_peer_sums base;
	struct svrcert_peer_cert cert;
	/*
	 * A bit per enum svrcert_first_seen, set by the data path on the
	 * first packet of that kind (and kept across a replace with the same
	 * certificate): it gates the event, which is queued as a copy.
	 */
	unsigned long seen;
	/*
	 * ESP: what svrcertd installed for this peer (UAPI's
	 * SVRCERT_PEER_A_ESP_*). Fixed for the record's life (a change is a
	 * replace), so the data path reads them plainly.
	 */
	bool esp_required;
	u8 esp_proto;			/* 0: all IP */
	u16 auth_port;			/* ours; 0: none */
	u16 peer_auth_port;		/* the peer's; 0: none */
	u32 n_esp_addrs;		/* 0: ESP covers all of addrs */
	struct in6_addr esp_addrs[SVRCERT_PEER_ADDRS_MAX];
	u32 naddrs;
	struct in6_addr addrs[SVRCERT_PEER_ADDRS_MAX];
	char name[SVRCERT_PEER_NAME_MAX + 1];
};

/* One address of a peer: the data path's key, in peers->addrs. */
struct svrcert_addr {
	struct rhash_head node;
	struct in6_addr addr;
	struct svrcert_peer __rcu *peer;
	struct rcu_head rcu;
};

struct svrcert_peers {
	struct list_head list;
	struct rhashtable addrs;	/* in6_addr -> struct svrcert_addr */
	/* Control path only, under the config mutex: */
	struct rhashtable names;	/* name -> struct svrcert_peer */
	struct xarray ids;		/* id -> peer, ids in insertion order */
	u32 next_id;
	u32 count;
	u32 gen;			/* bumped on every change, for dumps */
};

int svrcert_peers_init(struct svrcert_peers *peers);
void svrcert_peers_exit(struct svrcert_peers *peers);

struct svrcert_peer *svrcert_peer_alloc(void);
void svrcert_peer_free(struct svrcert_peer *peer);
struct svrcert_peer *svrcert_peer_find(struct svrcert_peers *peers,
				       const char *name);
struct svrcert_peer *svrcert_peer_next(struct svrcert_peers *peers,
				       unsigned long *cursor);
/* Consumes @peer, on error too. */
int svrcert_peer_publish(struct svrcert_peers *peers,
			 struct svrcert_peer *peer, struct svrcert_peer *old,
			 u32 max_peers, struct netlink_ext_ack *extack);
void svrcert_peer_remove(struct svrcert_peers *peers,
			 struct svrcert_peer *peer);
void svrcert_peer_counters_read(const struct svrcert_peer *peer,
				struct svrcert_peer_sums *sums);
void svrcert_peers_reset_counters(struct svrcert_peers *peers);

/*
 * Every packet in the port window looks its address up, peer or not. An
 * IPv4 address (v4-mapped) hashes its one word that varies with
 * jhash_1word, as nftables' hash set hashes a 4-byte key: mixing in the
 * three constant words cost ~35 instructions per packet. An IPv6 address
 * takes the socket-table hash (three words through jhash's final mix).
 * Both keyed by the table's random seed. The compare is inline, 16 bytes.
 */
static inline u32 svrcert_addr_hash(const void *data, u32 len, u32 seed)
{
	const struct in6_addr *a = data;

	if (ipv6_addr_v4mapped(a))
		return jhash_1word((__force u32)a->s6_addr32[3], seed);
	return __ipv6_addr_jhash(a, seed);
}

static inline int svrcert_addr_cmp(struct rhashtable_compare_arg *arg,
				   const void *obj)
{
	const struct svrcert_addr *a = obj;

	return !ipv6_addr_equal(&a->addr, arg->key);
}

static const struct rhashtable_params svrcert_addr_params = {
	.head_offset = offsetof(struct svrcert_addr, node),
	.key_offset = offsetof(struct svrcert_addr, addr),
	.key_len = sizeof(struct in6_addr),
	.hashfn = svrcert_addr_hash,
	.obj_cmpfn = svrcert_addr_cmp,
	.automatic_shrinking = true,
};

/*
 * The peer that owns @addr, or NULL. Caller holds rcu_read_lock(). Inline
 * into the hooks, with the hash and the compare: no call per packet.
 */
static __always_inline struct svrcert_peer *
svrcert_peer_lookup(struct svrcert_peers *peers, const struct in6_addr *addr)
{
	struct svrcert_addr *a;

	a = rhashtable_lookup(&peers->addrs, addr, svrcert_addr_params);
	return a ? rcu_dereference(a->peer) : NULL;
}

/* Data path only: see svrcert_stats_packet(). */
static inline void svrcert_peer_count(struct svrcert_peer *peer,
				      enum svrcert_dir dir, bool dropped)
{
	struct svrcert_peer_counters *c = this_cpu_ptr(peer->counters);

	u64_stats_update_begin(&c->syncp);
	u64_stats_inc(dropped ? &c->dropped[dir] : &c->accepted[dir]);
	u64_stats_update_end(&c->syncp);
}

#endif /* _SVRCERT_PEER_H */
