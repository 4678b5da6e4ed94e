// SPDX-License-Identifier: GPL-2.0
/*
 * A sorted key set as a base file and a small cumulative delta beside it
 * (crl_keydelta.h): the delta file, the in-place patch both a reader and
 * the writer's in-memory set use, and the writer's running delta.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "crl_gen.h"
#include "crl_keydelta.h"
#include "lib/store.h"
#include "lib/util.h"

#define OFF_VERSION	8
#define OFF_HDRLEN	12
#define OFF_BASE	16
#define OFF_COUNT	48
#define OFF_ADDED	56
#define OFF_REMOVED	64
#define OFF_STATE	72
#define OFF_CHECK	104
/* 2^25 keys (1 GiB), as a held file: never more than its base */
#define DELTA_MAX_KEYS	(1u << 25)

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int cmp(const void *a, const void *b)
{
	return memcmp(a, b, SVRCERT_REVKEY_LEN);
}

/* First index in KEYS[0..N) not below KEY. */
static size_t lower_bound(const svrcert_revkey_t *keys, size_t n,
			  const svrcert_revkey_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp(keys[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool has(const svrcert_revkey_t *keys, size_t n,
		const svrcert_revkey_t key)
{
	size_t i = lower_bound(keys, n, key);

	return i < n && !cmp(keys[i], key);
}

void svrcert_keydelta_release(struct svrcert_keydelta *d)
{
	free(d->added);
	free(d->removed);
	memset(d, 0, sizeof(*d));
}

int svrcert_keydelta_path(const char *base, char *out, size_t len)
{
	size_t l = strlen(base);

	if (l > 4 && !strcmp(base + l - 4, ".bin"))
		l -= 4;
	if (l + sizeof(SVRCERT_KEYDELTA_SUFFIX) > len)
		return -ENAMETOOLONG;
	memcpy(out, base, l);
	memcpy(out + l, SVRCERT_KEYDELTA_SUFFIX, sizeof(SVRCERT_KEYDELTA_SUFFIX));
	return 0;
}

/* SHA-256 of the header's first OFF_CHECK bytes and of the payload. */
static int delta_check(const uint8_t *b, size_t nkeys, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(c, b, OFF_CHECK) &&
		 EVP_DigestUpdate(c, b + SVRCERT_KEYDELTA_HDR_LEN,
				  nkeys * SVRCERT_REVKEY_LEN) &&
		 EVP_DigestFinal_ex(c, out, NULL);

	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}

int svrcert_keydelta_write(const char *path, const struct svrcert_keydelta *d,
			   char *err, size_t errlen)
{
	size_t nk = d->nadded + d->nremoved;
	size_t len = SVRCERT_KEYDELTA_HDR_LEN + nk * SVRCERT_REVKEY_LEN;
	uint8_t *b = calloc(1, len), *p;
	int rc = b ? 0 : -ENOMEM;

	if (!rc) {
		memcpy(b, SVRCERT_KEYDELTA_MAGIC, 8);
		b[OFF_VERSION + 3] = SVRCERT_KEYDELTA_VERSION;
		b[OFF_HDRLEN + 3] = SVRCERT_KEYDELTA_HDR_LEN;
		memcpy(b + OFF_BASE, d->base_check, 32);
		put_be64(b + OFF_COUNT, d->count);
		put_be64(b + OFF_ADDED, d->nadded);
		put_be64(b + OFF_REMOVED, d->nremoved);
		memcpy(b + OFF_STATE, d->state, SVRCERT_KEYDELTA_STATE_LEN);
		p = b + SVRCERT_KEYDELTA_HDR_LEN;
		if (d->nadded)
			memcpy(p, d->added, d->nadded * SVRCERT_REVKEY_LEN);
		if (d->nremoved)
			memcpy(p + d->nadded * SVRCERT_REVKEY_LEN, d->removed,
			       d->nremoved * SVRCERT_REVKEY_LEN);
		rc = delta_check(b, nk, b + OFF_CHECK) ?:
		     atomic_write_file(path, b, len, STORE_MODE_PUBLIC);
	}
	free(b);
	return rc ? svrcert_fail(err, errlen, rc, "cannot write %s: %s", path,
				 strerror(-rc)) : 0;
}

static bool ascending(const svrcert_revkey_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (cmp(k[i - 1], k[i]) >= 0)
			return false;
	return true;
}

/* Every check of the bytes but the fit to a base; A and D out. */
static int parse(const char *path, const uint8_t *b, size_t len, size_t *a,
		 size_t *d, char *err, size_t errlen)
{
	const svrcert_revkey_t *k = (const void *)(b + SVRCERT_KEYDELTA_HDR_LEN);
	uint64_t na, nr;
	uint8_t sum[32];

	if (len < SVRCERT_KEYDELTA_HDR_LEN || memcmp(b, SVRCERT_KEYDELTA_MAGIC, 8))
		return svrcert_fail(err, errlen, -EBADMSG, "%s: not a key delta "
				    "(bad magic or truncated)", path);
	if (get_be64(b + OFF_VERSION) != ((uint64_t)SVRCERT_KEYDELTA_VERSION << 32 |
					  SVRCERT_KEYDELTA_HDR_LEN))
		return svrcert_fail(err, errlen, -EBADMSG, "%s: unsupported key "
				    "delta version", path);
	na = get_be64(b + OFF_ADDED);
	nr = get_be64(b + OFF_REMOVED);
	if (na > DELTA_MAX_KEYS || nr > DELTA_MAX_KEYS ||
	    len != SVRCERT_KEYDELTA_HDR_LEN + (na + nr) * SVRCERT_REVKEY_LEN)
		return svrcert_fail(err, errlen, -EBADMSG, "%s: size %zu does "
				    "not match its %llu + %llu keys (cut short?)",
				    path, len, (unsigned long long)na,
				    (unsigned long long)nr);
	if (delta_check(b, (size_t)(na + nr), sum))
		return -ENOMEM;
	if (memcmp(sum, b + OFF_CHECK, 32))
		return svrcert_fail(err, errlen, -EBADMSG, "%s: checksum "
				    "mismatch (corrupt)", path);
	if (!ascending(k, na) || !ascending(k + na, nr))
		return svrcert_fail(err, errlen, -EBADMSG, "%s: keys not "
				    "strictly ascending", path);
	for (size_t i = 0; i < nr; i++)
		if (has(k, na, k[na + i]))
			return svrcert_fail(err, errlen, -EBADMSG, "%s: a key "
					    "both added and removed", path);
	*a = na;
	*d = nr;
	return 0;
}

static int copy_keys(const svrcert_revkey_t *src, size_t n,
		     svrcert_revkey_t **out)
{
	*out = NULL;
	if (!n)
		return 0;
	*out = malloc(n * SVRCERT_REVKEY_LEN);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, src, n * SVRCERT_REVKEY_LEN);
	return 0;
}

int svrcert_keydelta_read(const char *path, struct svrcert_keydelta *d,
			  char *err, size_t errlen)
{
	uint8_t *b = NULL;
	size_t len = 0, na = 0, nr = 0;
	const svrcert_revkey_t *k;
	int rc = svrcert_read_file(path, SVRCERT_KEYDELTA_HDR_LEN + 2ull *
				   DELTA_MAX_KEYS * SVRCERT_REVKEY_LEN, &b, &len);

	memset(d, 0, sizeof(*d));
	if (rc == -ENOENT)
		return rc;
	if (rc)
		return svrcert_fail(err, errlen, rc, "cannot read %s: %s", path,
				    strerror(-rc));
	rc = parse(path, b, len, &na, &nr, err, errlen);
	k = (const void *)(b + SVRCERT_KEYDELTA_HDR_LEN);
	if (!rc)
		rc = copy_keys(k, na, &d->added) ?:
		     copy_keys(k + na, nr, &d->removed);
	if (!rc) {
		memcpy(d->base_check, b + OFF_BASE, 32);
		d->count = get_be64(b + OFF_COUNT);
		memcpy(d->state, b + OFF_STATE, SVRCERT_KEYDELTA_STATE_LEN);
		d->nadded = na;
		d->nremoved = nr;
	} else {
		svrcert_keydelta_release(d);
	}
	free(b);
	return rc;
}

/* Drop the keys of MINUS found in KEYS[0..*N): one pass from the first. */
static void remove_keys(svrcert_revkey_t *keys, size_t *n,
			const svrcert_revkey_t *minus, size_t nminus)
{
	size_t w = SIZE_MAX, r = 0, i;

	for (i = 0; i < nminus; i++) {
		size_t at = lower_bound(keys, *n, minus[i]);

		if (at >= *n || cmp(keys[at], minus[i]))
			continue;
		if (w == SIZE_MAX) {
			w = r = at;
		} else {
			memmove(keys[w], keys[r], (at - r) * SVRCERT_REVKEY_LEN);
			w += at - r;
		}
		r = at + 1;
	}
	if (w == SIZE_MAX)
		return;
	memmove(keys[w], keys[r], (*n - r) * SVRCERT_REVKEY_LEN);
	*n = w + *n - r;
}

/* Insert the NPLUS keys of PLUS not in KEYS[0..*N) (room is there): from
 * the largest down, each block of keys moved once. */
static void insert_keys(svrcert_revkey_t *keys, size_t *n,
			const svrcert_revkey_t *plus, size_t nplus, size_t ins)
{
	size_t end = *n, total = *n + ins, j = nplus;

	while (j-- > 0 && ins) {
		size_t at = lower_bound(keys, end, plus[j]);

		if (at < end && !cmp(keys[at], plus[j]))
			continue;	/* already there */
		memmove(keys[at + ins], keys[at], (end - at) * SVRCERT_REVKEY_LEN);
		memcpy(keys[at + ins - 1], plus[j], SVRCERT_REVKEY_LEN);
		ins--;
		end = at;
	}
	*n = total;
}

int svrcert_revkeys_patch_in_place(uint8_t **buf, size_t hdr,
				   svrcert_revkey_t **keys, size_t *n,
				   const svrcert_revkey_t *minus, size_t nminus,
				   const svrcert_revkey_t *plus, size_t nplus,
				   bool strict, size_t *missing,
				   size_t *present)
{
	size_t miss = 0, pres = 0, gone = 0, i, need;
	uint8_t *nb;

	for (i = 0; i < nminus; i++)
		has(*keys, *n, minus[i]) ? gone++ : miss++;
	for (i = 0; i < nplus; i++)
		pres += has(*keys, *n, plus[i]) && !has(minus, nminus, plus[i]);
	if (missing)
		*missing = miss;
	if (present)
		*present = pres;
	if (strict && (miss || pres))
		return -EXDEV;
	need = *n - gone + (nplus - pres);
	if (need > *n) {
		nb = realloc(*buf, hdr + need * SVRCERT_REVKEY_LEN);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*keys = (svrcert_revkey_t *)(nb + hdr);
	}
	remove_keys(*keys, n, minus, nminus);
	insert_keys(*keys, n, plus, nplus, nplus - pres);
	return 0;
}

int svrcert_keydelta_apply(const struct svrcert_keydelta *d,
			   const uint8_t base_check[32], uint8_t **buf,
			   size_t hdr, svrcert_revkey_t **keys, size_t *n,
			   char *err, size_t errlen)
{
	size_t miss = 0, pres = 0;
	int rc;

	if (memcmp(d->base_check, base_check, 32))
		return -ESTALE;
	if (*n + d->nadded - d->nremoved != d->count)
		return svrcert_fail(err, errlen, -EBADMSG, "the delta's count "
				    "%llu is not its base's %zu + %zu - %zu",
				    (unsigned long long)d->count, *n,
				    d->nadded, d->nremoved);
	rc = svrcert_revkeys_patch_in_place(buf, hdr, keys, n, d->removed,
					    d->nremoved, d->added, d->nadded,
					    true, &miss, &pres);
	if (rc == -EXDEV)
		return svrcert_fail(err, errlen, -EBADMSG, "the delta does not "
				    "fit its base (%zu removed keys not in it, "
				    "%zu added keys already in it)", miss, pres);
	return rc ? svrcert_fail(err, errlen, rc, "out of memory") : 0;
}

int svrcert_keydelta_take(const struct svrcert_keydelta *d,
			  const uint8_t base_check[32], uint8_t **buf,
			  size_t hdr, svrcert_revkey_t **keys, size_t *n,
			  struct svrcert_keylog *log, bool *taken, char *err,
			  size_t errlen)
{
	size_t base_n = *n;
	int rc = d ? svrcert_keydelta_apply(d, base_check, buf, hdr, keys, n,
					    err, errlen) : -ESTALE;

	*taken = !rc;
	if (rc == -ESTALE)
		rc = 0;
	if (!rc && log)
		rc = svrcert_keylog_resume(log, base_check, base_n,
					   *taken ? d : NULL);
	return rc;
}

/* ---- the writer's running delta ---------------------------------------- */

void svrcert_keylog_release(struct svrcert_keylog *l)
{
	free(l->added);
	free(l->removed);
	memset(l, 0, sizeof(*l));
}

void svrcert_keylog_unbase(struct svrcert_keylog *l)
{
	svrcert_keylog_release(l);
}

void svrcert_keylog_force_base(struct svrcert_keylog *l)
{
	free(l->added);
	free(l->removed);
	l->added = l->removed = NULL;
	l->nadded = l->nremoved = 0;
	l->base_due = true;
}

void svrcert_keylog_rebase(struct svrcert_keylog *l, const uint8_t check[32],
			   size_t n)
{
	svrcert_keylog_release(l);
	l->based = true;
	memcpy(l->base_check, check, 32);
	l->base_n = n;
}

int svrcert_keylog_resume(struct svrcert_keylog *l,
			  const uint8_t base_check[32], size_t base_n,
			  const struct svrcert_keydelta *d)
{
	int rc;

	svrcert_keylog_rebase(l, base_check, base_n);
	if (!d)
		return 0;
	rc = copy_keys(d->added, d->nadded, &l->added) ?:
	     copy_keys(d->removed, d->nremoved, &l->removed);
	if (rc) {
		svrcert_keylog_unbase(l);
		return rc;
	}
	l->nadded = d->nadded;
	l->nremoved = d->nremoved;
	return 0;
}

static size_t bound_of(const struct svrcert_keylog *l)
{
	size_t bound = l->base_n / SVRCERT_KEYDELTA_DIV;

	return bound < SVRCERT_KEYDELTA_MIN_KEYS ? SVRCERT_KEYDELTA_MIN_KEYS :
	       bound;
}

/* KEYS not in NOT, malloc'd (NULL when none). */
static int without(const svrcert_revkey_t *keys, size_t n,
		   const svrcert_revkey_t *not, size_t nnot,
		   svrcert_revkey_t **out, size_t *nout)
{
	size_t i;

	*out = NULL;
	*nout = 0;
	if (n && !(*out = malloc(n * SVRCERT_REVKEY_LEN)))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (!has(not, nnot, keys[i]))
			memcpy((*out)[(*nout)++], keys[i], SVRCERT_REVKEY_LEN);
	return 0;
}

/*
 * A key added that the base had (it was removed since) leaves REMOVED; any
 * other joins ADDED. A key removed that the base lacked (added since)
 * leaves ADDED; any other joins REMOVED.
 */
int svrcert_keylog_note(struct svrcert_keylog *l,
			const svrcert_revkey_t *added, size_t nadded,
			const svrcert_revkey_t *removed, size_t nremoved)
{
	svrcert_revkey_t *new_a = NULL, *new_r = NULL, *a2 = NULL, *r2 = NULL;
	size_t nna = 0, nnr = 0, na2 = 0, nr2 = 0;
	int rc;

	if (!l->based || l->base_due)
		return 0;
	/* a change past the bound alone: the next write is a base anyway */
	if (nadded + nremoved > bound_of(l)) {
		svrcert_keylog_force_base(l);
		return 0;
	}
	rc = without(added, nadded, l->removed, l->nremoved, &new_a, &nna) ?:
	     without(removed, nremoved, l->added, l->nadded, &new_r, &nnr) ?:
	     svrcert_revkeys_patch(l->added, l->nadded, removed, nremoved,
				   new_a, nna, &a2, &na2, NULL, NULL) ?:
	     svrcert_revkeys_patch(l->removed, l->nremoved, added, nadded,
				   new_r, nnr, &r2, &nr2, NULL, NULL);
	free(new_a);
	free(new_r);
	if (rc) {
		free(a2);
		svrcert_keylog_force_base(l);
		return rc;
	}
	free(l->added);
	free(l->removed);
	l->added = a2;
	l->nadded = na2;
	l->removed = r2;
	l->nremoved = nr2;
	return 0;
}

bool svrcert_keylog_due(const struct svrcert_keylog *l)
{
	return !l->based || l->base_due ||
	       l->nadded + l->nremoved > bound_of(l);
}

void svrcert_keylog_delta(const struct svrcert_keylog *l, uint64_t count,
			  const uint8_t state[SVRCERT_KEYDELTA_STATE_LEN],
			  struct svrcert_keydelta *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->base_check, l->base_check, 32);
	d->count = count;
	memcpy(d->state, state, SVRCERT_KEYDELTA_STATE_LEN);
	d->added = l->added;
	d->nadded = l->nadded;
	d->removed = l->removed;
	d->nremoved = l->nremoved;
}

int svrcert_keylog_write(struct svrcert_keylog *l, const char *dpath,
			 uint64_t count,
			 const uint8_t state[SVRCERT_KEYDELTA_STATE_LEN],
			 int (*write_base)(void *ctx, uint8_t check[32],
					   char *err, size_t errlen),
			 void *ctx, bool *wrote_delta, char *err,
			 size_t errlen)
{
	struct svrcert_keydelta d;
	uint8_t check[32];
	int rc;

	*wrote_delta = !svrcert_keylog_due(l);
	if (*wrote_delta) {
		svrcert_keylog_delta(l, count, state, &d);
		rc = svrcert_keydelta_write(dpath, &d, err, errlen);
		*wrote_delta = !rc;
		return rc;
	}
	if (!l->based)
		unlink(dpath);
	rc = write_base(ctx, check, err, errlen);
	if (rc)
		return rc;
	if (l->based)
		unlink(dpath);
	svrcert_keylog_rebase(l, check, count);
	return 0;
}
