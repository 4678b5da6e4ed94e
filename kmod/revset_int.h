/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the revocation set: what revset.c and revset_delta.c share. The
 * slab cache and the hash parameters stay in revset.c, behind the helpers.
 */
#ifndef _SVRCERT_REVSET_INT_H
#define _SVRCERT_REVSET_INT_H

#include "revset.h"

struct svrcert_key {
	struct rhash_head node;
	u8 key[SVRCERT_KEY_LEN];
};

/*
 * The delta in progress on a table, for readers: @ent holds the entries it
 * adds (@n_added, invisible to views before @epoch), then those it removes
 * (@n_gone, invisible from @epoch on), each part sorted by address. Never
 * changed once published; freed after a grace period.
 */
struct svrcert_revpend {
	struct rcu_head rcu;
	u32 epoch;
	u32 n_added;
	u32 n_gone;
	struct svrcert_key *ent[];
};

/* Is @e among @v[0..n), sorted by address? Compares addresses only. */
static inline bool svrcert_ent_in(struct svrcert_key *const *v, u32 n,
			   const struct svrcert_key *e)
{
	u32 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == e)
			return true;
		if ((unsigned long)v[mid] < (unsigned long)e)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

struct svrcert_revset *svrcert_revset_view(struct svrcert_revtab *tab,
					   u32 epoch, u32 max_keys);
int svrcert_revset_insert(struct svrcert_revset *set, struct svrcert_key *entry);
struct svrcert_key *svrcert_tab_lookup(struct svrcert_revtab *tab,
				       const u8 *key);
int svrcert_tab_remove(struct svrcert_revtab *tab, struct svrcert_key *e);
/* @n entries from the slab into @v, all or none. */
bool svrcert_keys_alloc(struct svrcert_key **v, u32 n);
/* Back to the slab; the bulk free writes to @v. */
void svrcert_keys_free(struct svrcert_key **v, u32 n);
void svrcert_key_free_one(struct svrcert_key *e);

#endif /* _SVRCERT_REVSET_INT_H */
