/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Revocation set: an RCU hash set of 32-byte keys (revocation keys and
 * certificate fingerprints).
 */
#ifndef _SVRCERT_REVSET_H
#define _SVRCERT_REVSET_H

#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/svrcert.h>

/*
 * The keys of a set: one hash table, shared by the set's views (see
 * struct svrcert_revset). Written only by the netns writer.
 */
struct svrcert_revpend;

struct svrcert_revtab {
	/*
	 * The keys, spread over @nshards hash tables (1 for any set not made
	 * for a bulk load of more than 65 535 keys; revset.c).
	 */
	struct rhashtable *shards;
	u32 nshards;
	u32 shard_seed;		/* random: which shard a key is in */
	/*
	 * Entry pointers of one svrcert_revset_add() batch (a bulk load's
	 * chunk), kept by a table made for a bulk load: allocating 16 KiB per
	 * chunk, zeroed by init_on_alloc, cost ~9 instructions per key.
	 */
	struct svrcert_key **batch;
	/* The delta in progress, for readers (revset.c); NULL outside one. */
	struct svrcert_revpend __rcu *pending;
	u32 count;		/* keys in the newest view */
	u32 epoch;		/* the newest view's epoch */
	refcount_t views;	/* views pointing here */
};

/*
 * What readers dereference: a view of a table at one epoch. A delta
 * publishes a new view (same table, next epoch) with one pointer store, so
 * a packet, which reads the live pointer once, judges all its lookups at
 * one epoch: the whole delta or none of it (see svrcert_revset_delta_*).
 */
struct svrcert_revset {
	struct svrcert_revtab *tab;
	u32 epoch;		/* fixed: before or after a delta in progress */
	/*
	 * Changes whenever the keys a reader can find change, and is unique
	 * among all sets: a peer's cached "revoked?" answer carries the
	 * generation it was computed at (see svrcert_verdict()).
	 */
	unsigned long gen;
	u32 max_keys;		/* insert beyond this fails with -ENOSPC */
	refcount_t ref;		/* the live/staging pointer, open dumps */
	struct rcu_work destroy_work;
};

struct svrcert_key;

/*
 * A prepared delta: @next is the view to publish in place of the live one;
 * the rest is for svrcert_revset_delta_finish().
 */
struct svrcert_revset_delta {
	struct svrcert_revset *next;
	struct svrcert_revpend *pend;	/* its record, published on the table */
	struct svrcert_key **own;	/* entries inserted: [0..n_added) */
	struct svrcert_key **spare;	/* entries not inserted */
	u32 n_added;
	u32 n_spare;
	u32 n_gone;			/* present keys it removes */
};

/* Resumable position of a dump (see svrcert_revset_walk_next()). */
struct svrcert_revset_walk {
	struct rhashtable_iter iter;	/* in shards[shard] */
	struct svrcert_revset *set;
	u32 shard;
};

int svrcert_revset_module_init(void);
void svrcert_revset_module_exit(void);

void svrcert_revset_shape(u32 size_hint, u32 *nshards, u32 *shard_hint);
struct svrcert_revset *svrcert_revset_create(u32 size_hint, u32 max_keys);
void svrcert_revset_destroy(struct svrcert_revset *set);
void svrcert_revset_destroy_rcu(struct svrcert_revset *set);

bool svrcert_revset_contains(struct svrcert_revset *set, const u8 *key);

/*
 * Read before looking keys up: a reader that sees a generation also sees
 * every insert and removal made before it was published.
 */
static inline unsigned long svrcert_revset_gen(const struct svrcert_revset *set)
{
	/* Pairs with the release in svrcert_revset_changed(). */
	return smp_load_acquire(&set->gen);
}

int svrcert_revset_add(struct svrcert_revset *set, const u8 *keys, u32 n,
		       u32 *added);
int svrcert_revset_del(struct svrcert_revset *set, const u8 *keys, u32 n,
		       u32 *removed);
int svrcert_revset_delta_prepare(struct svrcert_revset *live,
				 const u8 *add, u32 n_add,
				 const u8 *del, u32 n_del,
				 struct svrcert_revset_delta *d);
void svrcert_revset_delta_finish(struct svrcert_revset_delta *d);
u32 svrcert_revset_count(const struct svrcert_revset *set);
u64 svrcert_revset_mem(struct svrcert_revset *set);
void svrcert_revset_walk_begin(struct svrcert_revset_walk *w,
			       struct svrcert_revset *set);
u32 svrcert_revset_walk_next(struct svrcert_revset_walk *w, u8 *out, u32 max,
			     bool *resized);
void svrcert_revset_walk_end(struct svrcert_revset_walk *w);

#endif /* _SVRCERT_REVSET_H */
