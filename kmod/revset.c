// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation set.
 *
 * An rhashtable of 32-byte keys. Entries come from a dedicated slab cache
 * and carry the hash link, the key and two epoch tags (48 bytes), so that
 * with the bucket table (8 bytes per bucket, load factor 0.375..0.75) a key
 * costs at most ~70 bytes. There is no rcu_head in an entry for that
 * reason: a writer that removes entries from a set readers can see waits
 * for a grace period per request before freeing them, and a whole set is
 * destroyed from an rcu_work.
 *
 * Atomic deltas. Readers reach the table through a view (struct
 * svrcert_revset) whose epoch never changes. A delta to epoch T inserts
 * its new entries tagged born = T and tags the entries it removes dies = T;
 * a view at epoch T-1 (the live one) ignores the first and still sees the
 * second. Publishing the view at T (one pointer store) flips the whole
 * delta at once, and a packet reads that pointer once, so all its lookups
 * agree. After a grace period no reader holds the old view: the removed
 * entries are unlinked, the born tags cleared (so tags only ever live for
 * one delta and the u32 epoch cannot alias), and after a second grace
 * period the removed entries are freed. Outside a delta every tag is 0.
 *
 * Writers are serialised by the caller (the netns config mutex); readers
 * only need rcu_read_lock().
 */
#include <linux/delay.h>
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <asm/unaligned.h>

#include "main.h"
#include "revset.h"

struct svrcert_key {
	struct rhash_head node;
	u8 key[SVRCERT_KEY_LEN];
	u32 born;	/* visible from this epoch on; 0: always */
	u32 dies;	/* invisible from this epoch on; 0: never */
};

/*
 * Tags are 0 or the epoch of the delta in progress, and a reader's epoch
 * is that one or the one before: the signed difference orders them across
 * a wrap of the u32.
 */
static bool svrcert_key_visible(const struct svrcert_key *e, u32 epoch)
{
	u32 born = READ_ONCE(e->born), dies = READ_ONCE(e->dies);

	return (!born || (s32)(epoch - born) >= 0) &&
	       (!dies || (s32)(epoch - dies) < 0);
}

/*
 * Keys are SHA-256 digests, uniform already, so their first 64 bits
 * through jhash's final mix with the table's random seed spread them as
 * well as jhash over all 32 bytes, at a third of the cost (two lookups
 * per packet whose peer's answer is not cached, one per key loaded). The
 * seed still keeps hostile CRL contents from being steered into one
 * chain: that would take many SHA-256 outputs agreeing in 64 bits.
 */
static u32 svrcert_key_hash(const void *data, u32 len, u32 seed)
{
	const u32 *w = data;

	return jhash_2words(get_unaligned(&w[0]), get_unaligned(&w[1]), seed);
}

static const struct rhashtable_params svrcert_key_params = {
	.head_offset = offsetof(struct svrcert_key, node),
	.key_offset = offsetof(struct svrcert_key, key),
	.key_len = SVRCERT_KEY_LEN,
	.hashfn = svrcert_key_hash,
	.automatic_shrinking = true,
};

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
static struct svrcert_revset *svrcert_revset_view(struct svrcert_revtab *tab,
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

/*
 * rhashtable_params.nelem_hint is 16 bits wide: a larger hint starts the
 * table at 2^17 buckets and the load grows it through rhashtable's own
 * deferred resize. Only the public API is used; the price is a few
 * doublings while a multi-million-key set loads.
 */
struct svrcert_revset *svrcert_revset_create(u32 size_hint, u32 max_keys)
{
	struct rhashtable_params params = svrcert_key_params;
	struct svrcert_revtab *tab;
	struct svrcert_revset *set;

	tab = kzalloc(sizeof(*tab), GFP_KERNEL_ACCOUNT);
	if (!tab)
		return NULL;
	params.nelem_hint = min3(size_hint, max_keys, (u32)U16_MAX);
	if (rhashtable_init(&tab->ht, &params)) {
		kfree(tab);
		return NULL;
	}
	tab->epoch = 1;
	refcount_set(&tab->views, 1);
	set = svrcert_revset_view(tab, tab->epoch, max_keys);
	if (!set) {
		rhashtable_destroy(&tab->ht);
		kfree(tab);
	}
	return set;
}

static void svrcert_key_free(void *ptr, void *arg)
{
	kmem_cache_free(svrcert_key_cache, ptr);
}

/*
 * Only for a view no reader can reach (never published, or after a GP);
 * the table goes with its last view.
 */
void svrcert_revset_destroy(struct svrcert_revset *set)
{
	if (!set)
		return;
	if (refcount_dec_and_test(&set->tab->views)) {
		rhashtable_free_and_destroy(&set->tab->ht, svrcert_key_free,
					    NULL);
		kfree(set->tab);
	}
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
	struct svrcert_key *e;

	e = rhashtable_lookup(&set->tab->ht, key, svrcert_key_params);
	return e && svrcert_key_visible(e, set->epoch);
}

/* The set's own count: writers are serialised by the caller. */
u32 svrcert_revset_count(const struct svrcert_revset *set)
{
	return READ_ONCE(set->tab->count);
}

static int svrcert_revset_insert(struct svrcert_revset *set,
				 struct svrcert_key *entry)
{
	int tries = SVRCERT_INSERT_RETRIES;
	int err;

	do {
		err = rhashtable_lookup_insert_fast(&set->tab->ht, &entry->node,
						    svrcert_key_params);
		if (err != -EBUSY && err != -ENOMEM)
			break;
		/*
		 * The table is over 100% and its atomic emergency resize
		 * failed; rhashtable's deferred resize runs in process
		 * context with GFP_KERNEL. Give it time instead of failing
		 * the load.
		 */
		msleep(20);
	} while (--tries);
	return err;
}

/* Undo part of a batch: the entries were visible, so wait a grace period. */
static void svrcert_revset_rollback(struct svrcert_revset *set,
				    struct svrcert_key **entries, u32 inserted)
{
	u32 i;

	for (i = 0; i < inserted; i++)
		rhashtable_remove_fast(&set->tab->ht, &entries[i]->node,
				       svrcert_key_params);
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
		if (!rhashtable_lookup_fast(&set->tab->ht, keys + i * SVRCERT_KEY_LEN,
					    svrcert_key_params))
			fresh++;
	return count + fresh > set->max_keys ? -ENOSPC : 0;
}

/*
 * Insert @entries[0..n), filled from @keys and tagged @born. On return the
 * inserted ones are packed at the front of @entries (*@done of them);
 * duplicates, and on error every entry not inserted, were freed.
 */
static int svrcert_revset_insert_all(struct svrcert_revset *set,
				     const u8 *keys, u32 n, u32 born,
				     struct svrcert_key **entries, u32 *done)
{
	struct svrcert_key *entry;
	u32 i;
	int err = 0;

	*done = 0;
	for (i = 0; i < n; i++) {
		entry = entries[i];
		memcpy(entry->key, keys + i * SVRCERT_KEY_LEN, SVRCERT_KEY_LEN);
		entry->born = born;
		entry->dies = 0;
		err = svrcert_revset_insert(set, entry);
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
		entries[(*done)++] = entry;
		if (!(i % 512))
			cond_resched();
	}
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
	struct svrcert_key **entries;
	u32 done = 0;
	int err;

	entries = kvmalloc_array(n, sizeof(*entries), GFP_KERNEL);
	if (!entries)
		return -ENOMEM;
	err = svrcert_revset_room(set, keys, n);
	if (err)
		goto out;
	if (!kmem_cache_alloc_bulk(svrcert_key_cache, GFP_KERNEL, n,
				   (void **)entries)) {
		err = -ENOMEM;
		goto out;
	}
	err = svrcert_revset_insert_all(set, keys, n, 0, entries, &done);
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
		entry = rhashtable_lookup_fast(&set->tab->ht,
					       keys + i * SVRCERT_KEY_LEN,
					       svrcert_key_params);
		if (entry && !rhashtable_remove_fast(&set->tab->ht, &entry->node,
						     svrcert_key_params))
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

/*
 * Delta step 1: tag the present keys of @del dies = @epoch, each once.
 * Views before @epoch still see them.
 */
static void svrcert_delta_mark(struct svrcert_revtab *tab, const u8 *del,
			       u32 n, u32 epoch, struct svrcert_revset_delta *d)
{
	struct svrcert_key *e;
	u32 i;

	for (i = 0; i < n; i++) {
		e = rhashtable_lookup_fast(&tab->ht, del + i * SVRCERT_KEY_LEN,
					   svrcert_key_params);
		if (e && e->dies != epoch) {	/* not listed twice */
			WRITE_ONCE(e->dies, epoch);
			d->gone[d->n_gone++] = e;
		}
	}
}

/* A key both added and removed is a malformed delta (-EINVAL). */
static int svrcert_delta_overlap(struct svrcert_revtab *tab, const u8 *add,
				 u32 n, u32 epoch)
{
	struct svrcert_key *e;
	u32 i;

	for (i = 0; i < n; i++) {
		e = rhashtable_lookup_fast(&tab->ht, add + i * SVRCERT_KEY_LEN,
					   svrcert_key_params);
		if (e && e->dies == epoch)
			return -EINVAL;
	}
	return 0;
}

/*
 * Undo a delta that was never published: no reader saw its entries (born
 * in the future) nor missed the marked ones (dying in the future), but a
 * reader may be walking a chain through an inserted entry, hence the grace
 * period before freeing.
 */
static void svrcert_delta_undo(struct svrcert_revtab *tab,
			       struct svrcert_revset_delta *d)
{
	u32 i;

	for (i = 0; i < d->n_gone; i++)
		WRITE_ONCE(d->gone[i]->dies, 0);
	for (i = 0; i < d->n_added; i++)
		rhashtable_remove_fast(&tab->ht, &d->added[i]->node,
				       svrcert_key_params);
	if (d->n_added) {
		synchronize_rcu();
		kmem_cache_free_bulk(svrcert_key_cache, d->n_added,
				     (void **)d->added);
	}
	kvfree(d->added);
	kvfree(d->gone);
	svrcert_revset_destroy(d->next);	/* never published */
	memset(d, 0, sizeof(*d));
}

/* The arrays, the entries to insert and the view to publish. */
static int svrcert_delta_alloc(struct svrcert_revset *live, u32 epoch,
			       u32 n_add, u32 n_del,
			       struct svrcert_revset_delta *d)
{
	d->next = svrcert_revset_view(live->tab, epoch, live->max_keys);
	if (!d->next)
		return -ENOMEM;
	refcount_inc(&live->tab->views);	/* d->next's */
	d->gone = kvcalloc(n_del, sizeof(*d->gone), GFP_KERNEL);
	d->added = kvcalloc(n_add, sizeof(*d->added), GFP_KERNEL);
	if (!d->gone || !d->added)
		return -ENOMEM;
	/* All or nothing: a failed bulk allocation frees what it got. */
	if (n_add && !kmem_cache_alloc_bulk(svrcert_key_cache, GFP_KERNEL,
					    n_add, (void **)d->added))
		return -ENOMEM;
	return 0;
}

/*
 * Prepare @add and @del as one change of the newest view @live, all or
 * nothing: on error the set is as it was. Adding a present key or removing
 * an absent one is not an error. On success the caller publishes d->next
 * in place of @live (one pointer store: the change is then seen whole) and
 * calls svrcert_revset_delta_finish(). Writers serialised by the caller.
 */
int svrcert_revset_delta_prepare(struct svrcert_revset *live,
				 const u8 *add, u32 n_add,
				 const u8 *del, u32 n_del,
				 struct svrcert_revset_delta *d)
{
	struct svrcert_revtab *tab = live->tab;
	u32 epoch = tab->epoch + 1 ?: 1;	/* 0 means "untagged" */
	u32 done = 0;
	int err;

	memset(d, 0, sizeof(*d));
	if (WARN_ON_ONCE(live->epoch != tab->epoch))
		return -EINVAL;		/* not the newest view */
	err = svrcert_delta_alloc(live, epoch, n_add, n_del, d);
	if (err)
		goto undo;
	svrcert_delta_mark(tab, del, n_del, epoch, d);
	err = svrcert_delta_overlap(tab, add, n_add, epoch);
	if (err) {
		if (n_add)	/* SLUB warns about an empty bulk free */
			kmem_cache_free_bulk(svrcert_key_cache, n_add,
					     (void **)d->added);
		goto undo;
	}
	err = svrcert_revset_insert_all(live, add, n_add, epoch, d->added,
					&done);
	d->n_added = done;
	if (!err && (u64)tab->count - d->n_gone + d->n_added > live->max_keys)
		err = -ENOSPC;
	if (err)
		goto undo;
	tab->epoch = epoch;
	return 0;
undo:
	svrcert_delta_undo(tab, d);
	return err;
}

/*
 * After d->next was published: once no reader holds an older view, the
 * removed entries can go and the new ones lose their tags.
 */
void svrcert_revset_delta_finish(struct svrcert_revset_delta *d)
{
	struct svrcert_revtab *tab = d->next->tab;
	u32 i;

	WRITE_ONCE(tab->count, tab->count + d->n_added - d->n_gone);
	synchronize_rcu();	/* readers of the view before are done */
	for (i = 0; i < d->n_added; i++)
		WRITE_ONCE(d->added[i]->born, 0);
	for (i = 0; i < d->n_gone; i++)
		rhashtable_remove_fast(&tab->ht, &d->gone[i]->node,
				       svrcert_key_params);
	if (d->n_gone) {
		synchronize_rcu();	/* nor on the unlinked entries */
		kmem_cache_free_bulk(svrcert_key_cache, d->n_gone,
				     (void **)d->gone);
	}
	kvfree(d->added);
	kvfree(d->gone);
	d->added = NULL;
	d->gone = NULL;
}

/* Bytes the set holds: entries, bucket table and the set itself. */
u64 svrcert_revset_mem(struct svrcert_revset *set)
{
	const struct bucket_table *tbl;
	u64 bytes;

	rcu_read_lock();
	tbl = rht_dereference_rcu(set->tab->ht.tbl, &set->tab->ht);
	bytes = sizeof(*tbl) + (u64)tbl->size * sizeof(tbl->buckets[0]);
	rcu_read_unlock();
	return bytes + sizeof(*set) + sizeof(*set->tab) +
	       (u64)svrcert_revset_count(set) * kmem_cache_size(svrcert_key_cache);
}

/*
 * A dump walks the set with rhashtable's walker, which the table keeps
 * informed of resizes, across as many netlink messages as it takes. The
 * walk pins the set: it may outlive its time as the live set.
 */
void svrcert_revset_walk_begin(struct svrcert_revset_walk *w,
			       struct svrcert_revset *set)
{
	refcount_inc(&set->ref);
	w->set = set;
	rhashtable_walk_enter(&set->tab->ht, &w->iter);
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
	struct svrcert_key *entry;
	u32 n = 0;

	if (rhashtable_walk_start_check(&w->iter) == -EAGAIN)
		*resized = true;
	while (n < max) {
		entry = rhashtable_walk_next(&w->iter);
		if (IS_ERR(entry)) {
			*resized = true;	/* -EAGAIN: started over */
			continue;
		}
		if (!entry)
			break;
		memcpy(out + n * SVRCERT_KEY_LEN, entry->key, SVRCERT_KEY_LEN);
		n++;
	}
	rhashtable_walk_stop(&w->iter);
	return n;
}

void svrcert_revset_walk_end(struct svrcert_revset_walk *w)
{
	rhashtable_walk_exit(&w->iter);
	svrcert_revset_destroy_rcu(w->set);
}
