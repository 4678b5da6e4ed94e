// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation set.
 *
 * An rhashtable of 32-byte keys. Entries come from a dedicated slab cache
 * and carry nothing but the hash link and the key (40 bytes), so that with
 * the bucket table (8 bytes per bucket, load factor 0.375..0.75) a key
 * costs at most ~62 bytes. There is no rcu_head in an entry for that
 * reason: a writer that removes entries from a set readers can see waits
 * for one grace period per request before freeing them, and a whole set is
 * destroyed from an rcu_work.
 *
 * A set is a view of a table (revset.h); atomic deltas: revset_delta.c.
 *
 * Writers are serialised by the caller (the netns config mutex); readers
 * only need rcu_read_lock().
 */
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <asm/unaligned.h>

#include "main.h"
#include "revset_int.h"

/*
 * Keys are SHA-256 digests, uniform already, so their first 64 bits
 * through jhash's final mix with the table's random seed spread them as
 * well as jhash over all 32 bytes, at a third of the cost (two lookups
 * per packet whose peer's answer is not cached, one per key loaded). The
 * seed still keeps hostile CRL contents from being steered into one
 * chain: that would take many SHA-256 outputs agreeing in 64 bits.
 */
static __always_inline u32 svrcert_key_hash(const void *data, u32 len,
					    u32 seed)
{
	const u32 *w = data;

	return jhash_2words(get_unaligned(&w[0]), get_unaligned(&w[1]), seed);
}

/*
 * 0 when @obj holds the key. rhashtable's default is an out-of-line
 * memcmp() per chain entry; two different keys here almost always differ
 * in their first word already.
 */
static __always_inline int svrcert_key_cmp(struct rhashtable_compare_arg *arg,
					   const void *obj)
{
	const u64 *a = arg->key;
	const u64 *b = (const u64 *)((const struct svrcert_key *)obj)->key;

	if (get_unaligned(&a[0]) != get_unaligned(&b[0]))
		return 1;
	return ((get_unaligned(&a[1]) ^ get_unaligned(&b[1])) |
		(get_unaligned(&a[2]) ^ get_unaligned(&b[2])) |
		(get_unaligned(&a[3]) ^ get_unaligned(&b[3]))) != 0;
}

static const struct rhashtable_params svrcert_key_params = {
	.head_offset = offsetof(struct svrcert_key, node),
	.key_offset = offsetof(struct svrcert_key, key),
	.key_len = SVRCERT_KEY_LEN,
	.hashfn = svrcert_key_hash,
	.obj_cmpfn = svrcert_key_cmp,
	.automatic_shrinking = true,
};

/*
 * One rhashtable starts at 2^17 buckets at most (rhashtable_params.
 * nelem_hint is 16 bits wide) and grows by doubling in its deferred
 * worker: every doubling moves all keys inserted so far, and inserts
 * meanwhile take rhashtable's slow path. Loading 10^6 keys into one table
 * grew it four times and cost 1.6 times the instructions per key of a
 * load the table could hold (Documentation/performance.md). So a set made
 * for a larger bulk load is spread over shards, rhashtables presized to
 * 2^17 buckets each, as many as keep each under its 75 % growth threshold
 * (98 304 keys) by 2 048, over 6 standard deviations of a random split:
 * the load never resizes, with the public rhashtable API only. The count
 * need not be a power of two: a table of 2^17 buckets (1 MiB and a header)
 * comes from kmalloc, rounded up to 2 MiB, so buckets cost 2 MiB per
 * 96 256 keys, 21.8 B per key, whereas a power of two of shards would
 * leave them as little as 37.5 % full (over 64 B per key in all). A key's
 * shard comes from its bits 64..95, which its shard's own hash does not
 * read, xor a per-set random seed, multiplied (a multiply: jhash here cost
 * a load 40 instructions per key) and scaled to the count, so a CRL cannot
 * simply pick its keys' shard (and if one did fill, it would just grow as
 * any table does).
 */
#define SVRCERT_SHARD_KEYS	96256U
#define SVRCERT_SHARDS_MAX	256U	/* presized up to 24 641 536 keys */

/*
 * How a set for @size_hint keys is cut: shards, and the nelem_hint of
 * each. Up to U16_MAX keys one table, sized by the hint as rhashtable
 * does it; beyond, shards of 2^17 buckets (nelem_hint U16_MAX).
 */
void svrcert_revset_shape(u32 size_hint, u32 *nshards, u32 *shard_hint)
{
	u64 want = div_u64((u64)size_hint + SVRCERT_SHARD_KEYS - 1,
			   SVRCERT_SHARD_KEYS);

	*nshards = size_hint <= U16_MAX ? 1 :
		   (u32)min_t(u64, want, SVRCERT_SHARDS_MAX);
	*shard_hint = min_t(u32, size_hint, U16_MAX);
}

/* The shard that holds @key, if any does. */
static __always_inline struct rhashtable *
svrcert_shard(const struct svrcert_revtab *tab, const u8 *key)
{
	u32 w;

	if (tab->nshards == 1)
		return tab->shards;
	w = get_unaligned((const u32 *)key + 2);
	return &tab->shards[reciprocal_scale((w ^ tab->shard_seed) *
					     GOLDEN_RATIO_32, tab->nshards)];
}

/* Source of set generations; 0 is never handed out (an empty cache). */
static atomic_long_t svrcert_revset_gen_last = ATOMIC_LONG_INIT(0);

/* After a change readers can see: publish a new generation. */
static void svrcert_revset_changed(struct svrcert_revset *set)
{
	/* Pairs with svrcert_revset_gen(): the change is visible first. */
	smp_store_release(&set->gen,
			  atomic_long_inc_return(&svrcert_revset_gen_last));
}

/* How often an insert is retried while the table is being resized. */
#define SVRCERT_INSERT_RETRIES	50	/* 20 ms each */

static struct kmem_cache *svrcert_key_cache;

int svrcert_revset_module_init(void)
{
	svrcert_key_cache = kmem_cache_create("svrcert_key",
					      sizeof(struct svrcert_key),
					      __alignof__(struct svrcert_key),
					      SLAB_ACCOUNT, NULL);
	return svrcert_key_cache ? 0 : -ENOMEM;
}

void svrcert_revset_module_exit(void)
{
	kmem_cache_destroy(svrcert_key_cache);
	svrcert_key_cache = NULL;
}

/* A view of @tab at @epoch; the caller accounts for it in tab->views. */
struct svrcert_revset *svrcert_revset_view(struct svrcert_revtab *tab,
					   u32 epoch, u32 max_keys)
{
	struct svrcert_revset *set = kzalloc(sizeof(*set), GFP_KERNEL_ACCOUNT);

	if (!set)
		return NULL;
	set->tab = tab;
	set->epoch = epoch;
	set->max_keys = max_keys;
	refcount_set(&set->ref, 1);
	set->gen = atomic_long_inc_return(&svrcert_revset_gen_last);
	return set;
}

static void svrcert_key_free(void *ptr, void *arg)
{
	kmem_cache_free(svrcert_key_cache, ptr);
}

/* The first @inited shards of @tab were set up: free them and their keys. */
static void svrcert_revtab_free(struct svrcert_revtab *tab, u32 inited)
{
	while (inited--)
		rhashtable_free_and_destroy(&tab->shards[inited],
					    svrcert_key_free, NULL);
	kvfree(tab->shards);
	kvfree(tab->batch);
	kfree(tab);
}

/*
 * An empty set sized for @size_hint keys (at most @max_keys count): its
 * shards' tables are allocated now, so a bulk load of that many keys
 * never resizes them.
 */
struct svrcert_revset *svrcert_revset_create(u32 size_hint, u32 max_keys)
{
	struct rhashtable_params params = svrcert_key_params;
	struct svrcert_revtab *tab;
	struct svrcert_revset *set;
	u32 i = 0, n, per;

	svrcert_revset_shape(min(size_hint, max_keys), &n, &per);
	tab = kzalloc(sizeof(*tab), GFP_KERNEL_ACCOUNT);
	if (!tab)
		return NULL;
	tab->shards = kvcalloc(n, sizeof(*tab->shards), GFP_KERNEL_ACCOUNT);
	if (!tab->shards)
		goto err;
	if (size_hint > SVRCERT_KEYS_PER_ATTR_MAX) {
		tab->batch = kvmalloc_array(SVRCERT_KEYS_PER_ATTR_MAX,
					    sizeof(*tab->batch),
					    GFP_KERNEL_ACCOUNT);
		if (!tab->batch)
			goto err;
	}
	params.nelem_hint = per;
	for (; i < n; i++)
		if (rhashtable_init(&tab->shards[i], &params))
			goto err;
	tab->nshards = n;
	tab->shard_seed = get_random_u32();
	tab->epoch = 1;
	refcount_set(&tab->views, 1);
	set = svrcert_revset_view(tab, tab->epoch, max_keys);
	if (set)
		return set;
err:
	svrcert_revtab_free(tab, i);
	return NULL;
}

/*
 * Only for a view no reader can reach (never published, or after a GP);
 * the table goes with its last view.
 */
void svrcert_revset_destroy(struct svrcert_revset *set)
{
	if (!set)
		return;
	if (refcount_dec_and_test(&set->tab->views))
		svrcert_revtab_free(set->tab, set->tab->nshards);
	kfree(set);
}

static void svrcert_revset_destroy_work(struct work_struct *work)
{
	struct svrcert_revset *set = container_of(to_rcu_work(work),
						  struct svrcert_revset,
						  destroy_work);

	svrcert_revset_destroy(set);
}

/*
 * For a set that was live: readers may still walk it until a grace period
 * has passed, and freeing millions of entries may sleep, hence rcu_work.
 * A dump in progress holds a reference (its walker is registered on the
 * table); the last one to let go queues the destruction.
 */
void svrcert_revset_destroy_rcu(struct svrcert_revset *set)
{
	if (!set || !refcount_dec_and_test(&set->ref))
		return;
	INIT_RCU_WORK(&set->destroy_work, svrcert_revset_destroy_work);
	queue_rcu_work(svrcert_wq, &set->destroy_work);
}

/* Caller holds rcu_read_lock(). */
bool svrcert_revset_contains(struct svrcert_revset *set, const u8 *key)
{
	struct svrcert_revpend *p;
	struct svrcert_key *e;

	e = rhashtable_lookup(svrcert_shard(set->tab, key), key,
			      svrcert_key_params);
	if (!e)
		return false;
	/*
	 * A delta publishes its record before it inserts an entry (release
	 * in rcu_assign_pointer()), and clears it only when no reader can
	 * find an entry it names: having found @e, we see the record.
	 */
	smp_rmb();
	p = rcu_dereference(set->tab->pending);
	if (likely(!p))
		return true;
	/* Only epochs T-1 and T are in use while a record exists. */
	if ((s32)(set->epoch - p->epoch) < 0)
		return !svrcert_ent_in(p->ent, p->n_added, e);
	return !svrcert_ent_in(p->ent + p->n_added, p->n_gone, e);
}

/* The set's own count: writers are serialised by the caller. */
u32 svrcert_revset_count(const struct svrcert_revset *set)
{
	return READ_ONCE(set->tab->count);
}

/*
 * rhashtable_lookup_insert_fast() failed with -EBUSY or -ENOMEM: the table
 * is over 100% and its atomic emergency resize failed; rhashtable's
 * deferred resize runs in process context with GFP_KERNEL. Give it time
 * instead of failing the load.
 */
static noinline int svrcert_insert_retry(struct svrcert_revtab *tab,
					 struct svrcert_key *entry)
{
	int tries = SVRCERT_INSERT_RETRIES;
	int err;

	do {
		msleep(20);
		err = rhashtable_lookup_insert_fast(svrcert_shard(tab, entry->key),
						    &entry->node,
						    svrcert_key_params);
	} while ((err == -EBUSY || err == -ENOMEM) && --tries);
	return err;
}

/*
 * Inlined into the bulk loop: a call per key, with the registers the
 * inlined rhashtable insert saves, cost ~10 instructions per key.
 */
static __always_inline int svrcert_insert_one(struct svrcert_revtab *tab,
					      struct svrcert_key *entry)
{
	int err = rhashtable_lookup_insert_fast(svrcert_shard(tab, entry->key),
						&entry->node,
						svrcert_key_params);

	if (unlikely(err == -EBUSY || err == -ENOMEM))
		err = svrcert_insert_retry(tab, entry);
	return err;
}

int svrcert_revset_insert(struct svrcert_revset *set, struct svrcert_key *entry)
{
	return svrcert_insert_one(set->tab, entry);
}

/* Undo part of a batch: the entries were visible, so wait a grace period. */
static void svrcert_revset_rollback(struct svrcert_revset *set,
				    struct svrcert_key **entries, u32 inserted)
{
	u32 i;

	for (i = 0; i < inserted; i++)
		svrcert_tab_remove(set->tab, entries[i]);
	/* A reader may have cached an answer from a key seen meanwhile. */
	svrcert_revset_changed(set);
	synchronize_rcu();
}

/*
 * -ENOSPC if the keys not yet in the set would take it past max_keys.
 * Only near the bound is it worth looking them up first: further away,
 * rhashtable_lookup_insert_fast() tells duplicates apart on its own.
 */
static int svrcert_revset_room(struct svrcert_revset *set, const u8 *keys,
			       u32 n)
{
	u64 count = svrcert_revset_count(set);
	u32 i, fresh = 0;

	if (count + n <= set->max_keys)
		return 0;
	for (i = 0; i < n; i++)
		if (!svrcert_tab_lookup(set->tab, keys + i * SVRCERT_KEY_LEN))
			fresh++;
	return count + fresh > set->max_keys ? -ENOSPC : 0;
}

/*
 * Insert @entries[0..n), filled from @keys. On return the inserted ones
 * are packed at the front of @entries (*@done of them); duplicates, and on
 * error every entry not inserted, were freed.
 */
static int svrcert_revset_insert_all(struct svrcert_revset *set,
				     const u8 *keys, u32 n,
				     struct svrcert_key **entries, u32 *done)
{
	struct svrcert_revtab *tab = set->tab;
	struct svrcert_key *entry;
	u32 i, k = 0;
	int err = 0;

	for (i = 0; i < n; i++) {
		entry = entries[i];
		memcpy(entry->key, keys + i * SVRCERT_KEY_LEN, SVRCERT_KEY_LEN);
		err = svrcert_insert_one(tab, entry);
		if (err == -EEXIST) {	/* in the set, or twice in the batch */
			kmem_cache_free(svrcert_key_cache, entry);
			err = 0;
			continue;
		}
		if (err) {
			kmem_cache_free_bulk(svrcert_key_cache, n - i,
					     (void **)&entries[i]);
			break;
		}
		entries[k++] = entry;
		if (!(i % 512))
			cond_resched();
	}
	*done = k;
	return err;
}

/*
 * Add @n keys, all or nothing: the bound is checked before anything is
 * inserted, and an insert that fails takes the already inserted ones back
 * out. Keys already present are not an error. Entries come from the slab
 * in one bulk call per batch (a bulk load is batches of 2040 keys).
 */
int svrcert_revset_add(struct svrcert_revset *set, const u8 *keys, u32 n,
		       u32 *added)
{
	struct svrcert_key **entries = set->tab->batch;
	u32 done = 0;
	int err;

	if (!entries || n > SVRCERT_KEYS_PER_ATTR_MAX) {
		entries = kvmalloc_array(n, sizeof(*entries), GFP_KERNEL);
		if (!entries)
			return -ENOMEM;
	}
	err = svrcert_revset_room(set, keys, n);
	if (err)
		goto out;
	if (!kmem_cache_alloc_bulk(svrcert_key_cache, GFP_KERNEL, n,
				   (void **)entries)) {
		err = -ENOMEM;
		goto out;
	}
	err = svrcert_revset_insert_all(set, keys, n, entries, &done);
	if (err) {
		svrcert_revset_rollback(set, entries, done);
		if (done)	/* SLUB warns about an empty bulk free */
			kmem_cache_free_bulk(svrcert_key_cache, done,
					     (void **)entries);
		done = 0;
	} else if (done) {
		WRITE_ONCE(set->tab->count, set->tab->count + done);
		svrcert_revset_changed(set);
	}
	*added = done;
out:
	if (entries != set->tab->batch)
		kvfree(entries);
	return err;
}

int svrcert_revset_del(struct svrcert_revset *set, const u8 *keys, u32 n,
		       u32 *removed)
{
	struct svrcert_key **gone, *entry;
	u32 i, count = 0;

	gone = kvcalloc(n, sizeof(*gone), GFP_KERNEL);
	if (!gone)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		entry = svrcert_tab_lookup(set->tab, keys + i * SVRCERT_KEY_LEN);
		if (entry && !svrcert_tab_remove(set->tab, entry))
			gone[count++] = entry;
	}
	if (count) {
		WRITE_ONCE(set->tab->count, set->tab->count - count);
		svrcert_revset_changed(set);
		synchronize_rcu();	/* readers may still be on them */
	}
	for (i = 0; i < count; i++)
		kmem_cache_free(svrcert_key_cache, gone[i]);
	kvfree(gone);
	*removed = count;
	return 0;
}

struct svrcert_key *svrcert_tab_lookup(struct svrcert_revtab *tab,
				       const u8 *key)
{
	return rhashtable_lookup_fast(svrcert_shard(tab, key), key,
				      svrcert_key_params);
}

/* 0, or -ENOENT when @e is not in the set. */
int svrcert_tab_remove(struct svrcert_revtab *tab, struct svrcert_key *e)
{
	return rhashtable_remove_fast(svrcert_shard(tab, e->key), &e->node,
				      svrcert_key_params);
}

bool svrcert_keys_alloc(struct svrcert_key **v, u32 n)
{
	return !n || kmem_cache_alloc_bulk(svrcert_key_cache, GFP_KERNEL, n,
					   (void **)v);
}

void svrcert_keys_free(struct svrcert_key **v, u32 n)
{
	if (n)	/* SLUB warns about an empty bulk free */
		kmem_cache_free_bulk(svrcert_key_cache, n, (void **)v);
}

void svrcert_key_free_one(struct svrcert_key *e)
{
	kmem_cache_free(svrcert_key_cache, e);
}

/* Bytes the set holds: entries, bucket tables, shards and the set itself. */
u64 svrcert_revset_mem(struct svrcert_revset *set)
{
	struct svrcert_revtab *tab = set->tab;
	const struct bucket_table *tbl;
	u64 bytes = 0;
	u32 i;

	rcu_read_lock();
	for (i = 0; i < tab->nshards; i++) {
		tbl = rht_dereference_rcu(tab->shards[i].tbl, &tab->shards[i]);
		bytes += sizeof(*tbl) + (u64)tbl->size * sizeof(tbl->buckets[0]);
	}
	rcu_read_unlock();
	if (tab->batch)
		bytes += SVRCERT_KEYS_PER_ATTR_MAX * sizeof(tab->batch[0]);
	return bytes + sizeof(*set) + sizeof(*tab) +
	       (u64)tab->nshards * sizeof(tab->shards[0]) +
	       (u64)svrcert_revset_count(set) * kmem_cache_size(svrcert_key_cache);
}

/*
 * A dump walks the set's shards in turn with rhashtable's walker, which
 * the shard keeps informed of resizes, across as many netlink messages as
 * it takes. The walk pins the set: it may outlive its time as the live
 * set.
 */
void svrcert_revset_walk_begin(struct svrcert_revset_walk *w,
			       struct svrcert_revset *set)
{
	refcount_inc(&set->ref);
	w->set = set;
	w->shard = 0;
	rhashtable_walk_enter(set->tab->shards, &w->iter);
}

/* Up to @max keys of the current shard into @out; *@end: shard done. */
static u32 svrcert_revset_walk_shard(struct svrcert_revset_walk *w, u8 *out,
				     u32 max, bool *resized, bool *end)
{
	struct svrcert_key *entry;
	u32 n = 0;

	*end = false;
	if (rhashtable_walk_start_check(&w->iter) == -EAGAIN)
		*resized = true;
	while (n < max) {
		entry = rhashtable_walk_next(&w->iter);
		if (IS_ERR(entry)) {
			*resized = true;	/* -EAGAIN: started over */
			continue;
		}
		if (!entry) {
			*end = true;
			break;
		}
		memcpy(out + n * SVRCERT_KEY_LEN, entry->key, SVRCERT_KEY_LEN);
		n++;
	}
	rhashtable_walk_stop(&w->iter);
	return n;
}

/*
 * Copy up to @max keys into @out, going on where the last call stopped.
 * Returns the number copied; 0 means the walk is complete. *@resized is
 * set when the table was resized meanwhile: the walk then started over in
 * the new table, and keys may come twice.
 */
u32 svrcert_revset_walk_next(struct svrcert_revset_walk *w, u8 *out, u32 max,
			     bool *resized)
{
	struct svrcert_revtab *tab = w->set->tab;
	u32 n = 0;
	bool end;

	for (;;) {
		n += svrcert_revset_walk_shard(w, out + n * SVRCERT_KEY_LEN,
					       max - n, resized, &end);
		if (!end || w->shard + 1 == tab->nshards)
			return n;
		/* The next shard: a walker is registered on one table. */
		rhashtable_walk_exit(&w->iter);
		rhashtable_walk_enter(&tab->shards[++w->shard], &w->iter);
	}
}

void svrcert_revset_walk_end(struct svrcert_revset_walk *w)
{
	rhashtable_walk_exit(&w->iter);
	svrcert_revset_destroy_rcu(w->set);
}
