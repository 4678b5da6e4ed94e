// SPDX-License-Identifier: GPL-2.0
/*
 * The CRL manager's master list (Documentation/crl.md, "The master
 * list"): the union of every source's keys, the keys learned revoked and
 * the conductor's held set, moved to the kernel, lent to the judges and
 * published.
 *
 * A new CRL is a full rebuild: its walk costs as much anyway. A delta
 * from the conductor is not (issue 15): a router holding 1 M keys spent
 * ~240 ms of CPU per one-key update rebuilding, diffing, hashing and
 * rewriting 32 MB lists. Such a change moves the master list in place
 * (svrcert_master_patch), the kernel by the same delta and master.delta
 * by the same keys: the work is a binary search per key and a memmove.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_crl_int.h"

int crl_publish(struct crl_mgr *crl, const struct svrcert_master *m)
{
	struct svrcert_crl_source *srcs[DAEMON_CRL_SOURCES_MAX];
	char err[512];
	size_t i;
	int ret;

	for (i = 0; i < crl->n; i++)
		srcs[i] = &crl->src[i].s;
	ret = svrcert_master_publish_log(crl->d->env.st.dir, srcs, crl->n,
					 &crl->learn.l, m, m == &crl->master ?
					 &crl->publog : NULL, time(NULL), err,
					 sizeof(err));
	crl->publish_pending = ret != 0;
	if (ret)
		syslog(LOG_ERR, "CRL: publishing failed (retrying): %s", err);
	else if (m == &crl->master)
		crl_held_vouch(crl);
	return ret;
}

static void feed_kernel(struct crl_mgr *crl, const svrcert_revkey_t *added,
			size_t na, const svrcert_revkey_t *removed, size_t nr,
			bool had)
{
	if (had && !na && !nr && crl->kernel.fed) {
		/* Nothing to feed. Callers log kernel.msg after a commit (a
		 * key learned that the list held already): the last feed's
		 * outcome would read as this commit's. */
		snprintf(crl->kernel.msg, sizeof(crl->kernel.msg), "kernel "
			 "holds the list already (%u keys)", crl->kernel.live);
		return;
	}
	if (crl_kernel_apply_change(&crl->kernel, added, na, removed, nr, had,
				    &crl->master))
		syslog(LOG_WARNING, "CRL: kernel not updated (retrying): %s",
		       crl->kernel.msg);
	else
		syslog(LOG_INFO, "CRL: %s", crl->kernel.msg);
}

/* The master list moved by ADDED / REMOVED: the kernel, the judges, the
 * published files (by the same change when small), the own certificate. */
static void master_moved(struct crl_mgr *crl, const svrcert_revkey_t *added,
			 size_t na, const svrcert_revkey_t *removed, size_t nr,
			 bool had)
{
	feed_kernel(crl, added, na, removed, nr, had);
	if (!had)
		svrcert_keylog_unbase(&crl->publog);
	else if (na || nr)
		svrcert_keylog_note(&crl->publog, added, na, removed, nr);
	crl_held_lend(crl);
	crl_publish(crl, &crl->master);
	/* A CRL or a learned key may revoke this router's own certificate:
	 * its alarm and the kernel's self-state follow now, not at the next
	 * periodic check (daemon_crl_own_check, once published). */
	if (!had || na || nr)
		crl->own_check_pending = true;
}

static int build(struct crl_mgr *crl, struct svrcert_master *nw)
{
	struct svrcert_crl_source *srcs[DAEMON_CRL_SOURCES_MAX];
	svrcert_revkey_t *learned = NULL;
	size_t i, nl = 0;
	int ret;

	for (i = 0; i < crl->n; i++)
		srcs[i] = &crl->src[i].s;
	ret = svrcert_learned_master_keys(&crl->learn.l, &learned, &nl) ?:
	      crl_cond_add_keys(crl, &learned, &nl);
	if (!ret)
		ret = svrcert_master_build(srcs, crl->n, learned, nl, time(NULL),
					   nw);
	free(learned);
	return ret;
}

/*
 * Rebuild the master from every held CRL, the keys learned revoked and
 * the conductor's, move the kernel to it, publish. ADDED/REMOVED
 * (optional) receive the change. The previous master stays in force when
 * the new one cannot be built.
 */
int crl_commit(struct crl_mgr *crl, size_t *added, size_t *removed)
{
	svrcert_revkey_t *a = NULL, *r = NULL;
	struct svrcert_master nw = { 0 };
	bool had = crl->have_master;
	size_t na = 0, nr = 0;
	int ret = build(crl, &nw);

	if (!ret && had)
		ret = svrcert_revkeys_diff(crl->master.keys, crl->master.n,
					   nw.keys, nw.n, &a, &na, &r, &nr);
	if (ret) {
		svrcert_master_release(&nw);
		syslog(LOG_ERR, "CRL: cannot build the master list: %s",
		       strerror(-ret));
		return ret;
	}
	if (had)
		svrcert_master_release(&crl->master);
	crl->master = nw;
	crl->have_master = true;
	master_moved(crl, a, na, r, nr, had);
	free(a);
	free(r);
	if (added)
		*added = had ? na : crl->master.n;
	if (removed)
		*removed = nr;
	return 0;
}

/* Whether KEY stays in the master list without the conductor's set: a
 * source's CRL (current or a previous issuer's) or a key learned revoked. */
static bool held_elsewhere(const struct crl_mgr *crl, const uint8_t *key,
			   const svrcert_revkey_t *learned, size_t nl)
{
	const svrcert_revkey_t *k;
	size_t i, j, n;

	for (i = 0; i < crl->n; i++) {
		const struct svrcert_crl_source *s = &crl->src[i].s;

		k = s->has_good ? svrcert_crl_source_keys(s, &n) : NULL;
		if (k && svrcert_revkeys_contains(k, n, key))
			return true;
		for (j = 0; j < s->nprev; j++) {
			k = svrcert_crl_held_keys(&s->prev[j], &n);
			if (svrcert_revkeys_contains(k, n, key))
				return true;
		}
	}
	return svrcert_revkeys_contains(learned, nl, key);
}

/* The master's change when the conductor's set changed by ADDED and
 * REMOVED: added keys the list lacks, removed keys nothing else holds.
 * *PLUS and *MINUS malloc'd (NULL when empty). */
static int master_change(const struct crl_mgr *crl,
			 const svrcert_revkey_t *added, size_t nadded,
			 const svrcert_revkey_t *removed, size_t nremoved,
			 svrcert_revkey_t **plus, size_t *np,
			 svrcert_revkey_t **minus, size_t *nm)
{
	const struct svrcert_master *m = &crl->master;
	svrcert_revkey_t *learned = NULL;
	size_t i, nl = 0;
	int ret;

	*np = *nm = 0;
	*plus = nadded ? malloc(nadded * SVRCERT_REVKEY_LEN) : NULL;
	*minus = nremoved ? malloc(nremoved * SVRCERT_REVKEY_LEN) : NULL;
	ret = (nadded && !*plus) || (nremoved && !*minus) ? -ENOMEM :
	      svrcert_learned_master_keys(&crl->learn.l, &learned, &nl);
	if (!ret && nl)
		nl = svrcert_revkeys_sort_unique(learned, nl);
	for (i = 0; !ret && i < nadded; i++)
		if (!svrcert_revkeys_contains(m->keys, m->n, added[i]))
			memcpy((*plus)[(*np)++], added[i], SVRCERT_REVKEY_LEN);
	for (i = 0; !ret && i < nremoved; i++)
		if (svrcert_revkeys_contains(m->keys, m->n, removed[i]) &&
		    !held_elsewhere(crl, removed[i], learned, nl))
			memcpy((*minus)[(*nm)++], removed[i], SVRCERT_REVKEY_LEN);
	free(learned);
	return ret;
}

int crl_commit_held_change(struct crl_mgr *crl, const svrcert_revkey_t *added,
			   size_t nadded, const svrcert_revkey_t *removed,
			   size_t nremoved, size_t *madded, size_t *mremoved)
{
	svrcert_revkey_t *plus = NULL, *minus = NULL;
	size_t np = 0, nm = 0;
	int ret;

	if (!crl->have_master)
		return crl_commit(crl, madded, mremoved);
	ret = master_change(crl, added, nadded, removed, nremoved, &plus, &np,
			    &minus, &nm) ?:
	      svrcert_master_patch(&crl->master, minus, nm, plus, np);
	if (ret) {
		free(plus);
		free(minus);
		/* the master is as it was: the rebuild is always right */
		return crl_commit(crl, madded, mremoved);
	}
	crl->master.generated = time(NULL);
	master_moved(crl, plus, np, minus, nm, true);
	free(plus);
	free(minus);
	if (madded)
		*madded = np;
	if (mremoved)
		*mremoved = nm;
	return 0;
}
