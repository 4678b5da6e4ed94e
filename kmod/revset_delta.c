// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation set: atomic deltas (SVRCERT_CMD_APPLY_KEYS_DELTA).
 *
 * Readers reach a table through a view (struct svrcert_revset) whose epoch
 * never changes, and a packet reads the live view once. A delta to epoch T
 * first publishes a record of itself on the table (struct svrcert_revpend:
 * the addresses of the entries it adds and of those it removes, sorted),
 * then inserts its entries. A reader that finds an entry consults the
 * record, if any (svrcert_revset_contains()): a view before T does not see
 * the added entries, one at T does not see the removed ones. Publishing
 * the view at T (one pointer store, by the caller) flips the whole delta at
 * once. After a grace period no reader holds the old view: the removed
 * entries are unlinked; after another, none holds one of them, so the
 * record goes and they are freed. Entries carry no tag (40 bytes stay 40);
 * readers pay one load, and only for a key they found.
 *
 * Writers are serialised by the caller (the netns config mutex).
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "revset_int.h"

static int svrcert_ent_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Delta: the present entries of @del, each once, sorted (the record's). */
static void svrcert_delta_gone(struct svrcert_revtab *tab, const u8 *del,
			       u32 n, struct svrcert_revset_delta *d)
{
	struct svrcert_key **gone = d->pend->ent + d->pend->n_added;
	struct svrcert_key *e;
	u32 i, k = 0;

	for (i = 0; i < n; i++) {
		e = svrcert_tab_lookup(tab, del + i * SVRCERT_KEY_LEN);
		if (e)
			gone[k++] = e;
	}
	sort(gone, k, sizeof(*gone), svrcert_ent_cmp, NULL);
	for (i = 0, d->n_gone = 0; i < k; i++)
		if (!d->n_gone || gone[d->n_gone - 1] != gone[i])
			gone[d->n_gone++] = gone[i];
	d->pend->n_gone = d->n_gone;
}

/* A key both added and removed is a malformed delta (-EINVAL). */
static int svrcert_delta_overlap(struct svrcert_revtab *tab, const u8 *add,
				 u32 n, const struct svrcert_revset_delta *d)
{
	const struct svrcert_revpend *p = d->pend;
	struct svrcert_key *e;
	u32 i;

	for (i = 0; i < n; i++) {
		e = svrcert_tab_lookup(tab, add + i * SVRCERT_KEY_LEN);
		if (e && svrcert_ent_in(p->ent + p->n_added, p->n_gone, e))
			return -EINVAL;
	}
	return 0;
}

/*
 * Insert the delta's entries (d->own, in the order of @add). Inserted ones
 * are packed at the front of d->own, the rest (keys already present, and
 * after an error the untried ones) go to d->spare, freed at the end: the
 * published record names them all.
 */
static int svrcert_delta_insert(struct svrcert_revset *live, const u8 *add,
				u32 n, struct svrcert_revset_delta *d)
{
	struct svrcert_key *e;
	u32 i;
	int err = 0;

	for (i = 0; i < n; i++) {
		e = d->own[i];
		memcpy(e->key, add + i * SVRCERT_KEY_LEN, SVRCERT_KEY_LEN);
		if (!err)
			err = svrcert_revset_insert(live, e);
		if (!err)
			d->own[d->n_added++] = e;
		else
			d->spare[d->n_spare++] = e;
		if (err == -EEXIST)	/* present, or twice in @add */
			err = 0;
		if (!(i % 512))
			cond_resched();
	}
	return err;
}

/* The delta's record, arrays and entries, once no reader needs them. */
static void svrcert_delta_free(struct svrcert_revset_delta *d, bool published)
{
	svrcert_keys_free(d->spare, d->n_spare);
	if (published)
		kvfree_rcu(d->pend, rcu);	/* readers may hold it */
	else
		kvfree(d->pend);
	kvfree(d->own);
	kvfree(d->spare);
}

/*
 * Undo a delta that was never published: no view saw its entries (the
 * record hides them from every view before its epoch) nor missed the ones
 * it would remove. Readers may be on an inserted entry, or about to read
 * the record, until a grace period has passed.
 */
static void svrcert_delta_undo(struct svrcert_revtab *tab,
			       struct svrcert_revset_delta *d, bool published)
{
	u32 i;

	for (i = 0; i < d->n_added; i++)
		svrcert_tab_remove(tab, d->own[i]);
	if (published) {
		synchronize_rcu();
		RCU_INIT_POINTER(tab->pending, NULL);
	}
	svrcert_keys_free(d->own, d->n_added);
	svrcert_delta_free(d, published);
	svrcert_revset_destroy(d->next);	/* never published */
	memset(d, 0, sizeof(*d));
}

/* The view to publish, the record, the entries to insert. */
static int svrcert_delta_alloc(struct svrcert_revset *live, u32 epoch,
			       u32 n_add, u32 n_del,
			       struct svrcert_revset_delta *d)
{
	d->next = svrcert_revset_view(live->tab, epoch, live->max_keys);
	if (!d->next)
		return -ENOMEM;
	refcount_inc(&live->tab->views);	/* d->next's */
	d->pend = kvzalloc(struct_size(d->pend, ent, (size_t)n_add + n_del),
			   GFP_KERNEL);
	d->own = kvcalloc(n_add, sizeof(*d->own), GFP_KERNEL);
	d->spare = kvcalloc(n_add, sizeof(*d->spare), GFP_KERNEL);
	if (!d->pend || !d->own || !d->spare)
		return -ENOMEM;
	/* All or nothing: a failed bulk allocation frees what it got. */
	if (!svrcert_keys_alloc(d->own, n_add))
		return -ENOMEM;
	d->n_spare = 0;
	memcpy(d->pend->ent, d->own, n_add * sizeof(*d->own));
	sort(d->pend->ent, n_add, sizeof(*d->own), svrcert_ent_cmp, NULL);
	d->pend->n_added = n_add;
	d->pend->epoch = epoch;
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
	u32 epoch = tab->epoch + 1 ?: 1;	/* wraps: see contains() */
	bool published = false;
	int err;

	memset(d, 0, sizeof(*d));
	if (WARN_ON_ONCE(live->epoch != tab->epoch))
		return -EINVAL;		/* not the newest view */
	err = svrcert_delta_alloc(live, epoch, n_add, n_del, d);
	if (err)
		goto undo;
	svrcert_delta_gone(tab, del, n_del, d);
	err = svrcert_delta_overlap(tab, add, n_add, d);
	if (err) {
		svrcert_keys_free(d->own, n_add);
		goto undo;
	}
	rcu_assign_pointer(tab->pending, d->pend);
	published = true;
	err = svrcert_delta_insert(live, add, n_add, d);
	if (!err && (u64)tab->count - d->n_gone + d->n_added > live->max_keys)
		err = -ENOSPC;
	if (err)
		goto undo;
	tab->epoch = epoch;
	return 0;
undo:
	svrcert_delta_undo(tab, d, published);
	return err;
}

/*
 * After d->next was published: once no reader holds an older view, the
 * removed entries are unlinked; once none holds one of them, the record
 * goes and they are freed.
 */
void svrcert_revset_delta_finish(struct svrcert_revset_delta *d)
{
	struct svrcert_revtab *tab = d->next->tab;
	struct svrcert_key **gone = d->pend->ent + d->pend->n_added;
	u32 i;

	WRITE_ONCE(tab->count, tab->count + d->n_added - d->n_gone);
	synchronize_rcu();	/* readers of the view before are done */
	for (i = 0; i < d->n_gone; i++)
		svrcert_tab_remove(tab, gone[i]);
	if (d->n_gone)
		synchronize_rcu();	/* nor on the unlinked entries */
	RCU_INIT_POINTER(tab->pending, NULL);
	/* One by one: a bulk free writes to the array, which late readers
	 * of the record may still be searching. */
	for (i = 0; i < d->n_gone; i++)
		svrcert_key_free_one(gone[i]);
	svrcert_delta_free(d, true);
	d->pend = NULL;
	d->own = NULL;
	d->spare = NULL;
}
