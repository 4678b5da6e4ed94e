// SPDX-License-Identifier: GPL-2.0
/*
 * A published list (master.bin + master.delta) read cheaply and known by
 * its count and XOR-fold: see publist.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "crl/crl_master.h"
#include "lib/util.h"
#include "publist.h"

#define KEY PUBLIST_KEY
/* the delta's format (crl/crl_keydelta.h), read here on its own */
#define DELTA_MAGIC "SVRCDLT"		/* + NUL: 8 bytes */
#define DELTA_VERSION 1
#define DELTA_HDR_LEN 136
#define DELTA_SUFFIX ".delta"
#define CHUNK_KEYS 32768	/* 1 MiB per read of a base */

struct delta_head {
	uint8_t base_check[32];
	uint64_t count, nadd, nrem;
	uint8_t fold[KEY];		/* of the added and removed keys */
};

static double ts_s(struct timespec t)
{
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void fold_in(uint8_t fold[KEY], const uint8_t *keys, size_t n)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++)
		for (j = 0; j < KEY; j++)
			fold[j] ^= keys[i * KEY + j];
}

static void fid_of(const struct stat *st, struct publist_fid *f)
{
	f->present = true;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = st->st_size;
	f->mtime = st->st_mtim;
}

static bool fid_same(const struct publist_fid *a, const struct publist_fid *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtime.tv_sec == b->mtime.tv_sec &&
		a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* PATH as it is now; absent is a state too. -errno on other errors. */
static int fid_stat(const char *path, struct publist_fid *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	fid_of(&st, f);
	return 0;
}

/* Open PATH and say what it is (F->present false when there is none):
 * the fd or -errno. */
static int open_fid(const char *path, struct publist_fid *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(f, 0, sizeof(*f));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -EIO;
	}
	fid_of(&st, f);
	return fd;
}

/* master.bin's header: its count and checksum field. */
static int read_base_head(int fd, const struct publist_fid *f, uint64_t *count,
			  uint8_t check[32])
{
	uint8_t h[SVRCERT_MASTER_HDR_LEN];

	if (svrcert_read_full(fd, h, sizeof(h)) ||
	    memcmp(h, SVRCERT_MASTER_MAGIC, 8))
		return -EBADMSG;
	*count = be64(h + 16);
	if (*count > (uint64_t)(f->size - sizeof(h)) / KEY ||
	    (uint64_t)f->size != sizeof(h) + *count * KEY)
		return -EBADMSG;
	memcpy(check, h + SVRCERT_MASTER_OFF_SHA256, 32);
	return 0;
}

/* A delta file, whole (a few keys up to the compaction bound): its header
 * checked against its size and its own SHA-256, the keys folded. */
static int read_delta(int fd, const struct publist_fid *f, struct delta_head *d)
{
	uint8_t h[DELTA_HDR_LEN], md[32], *keys = NULL;
	size_t nkeys, len;
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int rc = -EBADMSG;

	if (svrcert_read_full(fd, h, sizeof(h)) ||
	    memcmp(h, DELTA_MAGIC, 8) ||
	    be64(h + 8) >> 32 != DELTA_VERSION ||
	    (be64(h + 8) & 0xffffffff) != DELTA_HDR_LEN)
		return -EBADMSG;
	memcpy(d->base_check, h + 16, 32);
	d->count = be64(h + 48);
	d->nadd = be64(h + 56);
	d->nrem = be64(h + 64);
	nkeys = (size_t)(f->size - sizeof(h)) / KEY;
	if (d->nadd > nkeys || d->nrem != nkeys - d->nadd ||
	    (uint64_t)f->size != sizeof(h) + (uint64_t)nkeys * KEY)
		return -EBADMSG;
	len = nkeys * KEY;
	if (!(keys = malloc(len ? len : 1)) || !(ctx = EVP_MD_CTX_new())) {
		free(keys);
		return -ENOMEM;
	}
	if (!svrcert_read_full(fd, keys, len) &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, h, 104) && EVP_DigestUpdate(ctx, keys, len) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) && !memcmp(md, h + 104, 32)) {
		memset(d->fold, 0, KEY);
		fold_in(d->fold, keys, nkeys);
		rc = 0;
	}
	EVP_MD_CTX_free(ctx);
	free(keys);
	return rc;
}

/* The fold of FD's keys (N after the header), its payload SHA-256 checked
 * against CHECK: a base is read whole once, so read it right. */
static int fold_file(int fd, uint64_t n, const uint8_t check[32],
		     uint8_t fold[KEY])
{
	uint8_t *buf = malloc((size_t)CHUNK_KEYS * KEY), md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	int rc = buf && ctx ? 0 : -ENOMEM;

	if (!rc && !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		rc = -EIO;
	memset(fold, 0, KEY);
	while (!rc && n) {
		size_t k = n < CHUNK_KEYS ? (size_t)n : CHUNK_KEYS;

		rc = svrcert_read_full(fd, buf, k * KEY);
		if (!rc && !EVP_DigestUpdate(ctx, buf, k * KEY))
			rc = -EIO;
		fold_in(fold, buf, k);
		n -= k;
	}
	if (!rc && (!EVP_DigestFinal_ex(ctx, md, &mdlen) ||
		    memcmp(md, check, 32)))
		rc = -EBADMSG;
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

/* The fold of the base with header checksum CHECK, at PATH: from the cache,
 * or read once (-EAGAIN when PATH is another base by now). */
static int base_fold(struct publist_cache *c, const char *path,
		     const uint8_t check[32], uint8_t fold[KEY])
{
	uint8_t got[32];
	uint64_t n;
	struct publist_fid f;
	int i, fd, rc, slot = 0;

	for (i = 0; i < c->n; i++) {
		if (!memcmp(c->e[i].check, check, 32)) {
			c->e[i].used = ++c->tick;
			memcpy(fold, c->e[i].fold, KEY);
			return 0;
		}
		if (c->e[i].used < c->e[slot].used)
			slot = i;
	}
	if ((fd = open_fid(path, &f)) < 0)
		return -EAGAIN;		/* gone since its header was read */
	rc = read_base_head(fd, &f, &n, got);
	if (!rc)
		rc = memcmp(got, check, 32) ? -EAGAIN :
					      fold_file(fd, n, check, fold);
	close(fd);
	if (rc)
		return rc;
	if (c->n < PUBLIST_CACHE)
		slot = c->n++;
	memcpy(c->e[slot].check, check, 32);
	memcpy(c->e[slot].fold, fold, KEY);
	c->e[slot].used = ++c->tick;
	return 0;
}

/* Read L's delta, then its base's header (in that order: a compaction
 * between the two leaves a stale delta beside the new base, which is
 * right; the other order could pair the old base with no delta). Both are
 * read even when the delta is bad, so that BF and DF say what was seen. */
static int read_pair(struct publist *l, struct delta_head *d, bool *use_delta,
		     uint64_t *base_n, uint8_t check[32], struct publist_fid *bf,
		     struct publist_fid *df)
{
	int fd, rc = 0, brc;

	*use_delta = false;
	fd = open_fid(l->delta, df);
	if (fd >= 0) {
		rc = read_delta(fd, df, d);
		close(fd);
		*use_delta = !rc;
	} else if (fd != -ENOENT) {
		rc = fd;
	}
	fd = open_fid(l->base, bf);
	if (fd < 0)
		return fd;
	brc = read_base_head(fd, bf, base_n, check);
	close(fd);
	if (!rc && !brc && *use_delta && memcmp(d->base_check, check, 32))
		*use_delta = false;		/* stale: another base's */
	return brc ? brc : rc;
}

static const char *why(int rc)
{
	return rc == -EBADMSG ? "bad or inconsistent file" : strerror(-rc);
}

/* The files read are stat'ed again after: a file replaced meanwhile means
 * the pair may be of two moments, so L stays unknown and the next poll
 * reads it again. */
void publist_poll(struct publist *l, struct publist_cache *c, bool with_fold)
{
	struct publist_fid bnow, dnow, bf, df;
	struct delta_head d;
	uint8_t check[32], fold[KEY] = { 0 };
	uint64_t n;
	bool use_delta;
	int rc;

	if (fid_stat(l->delta, &dnow) || fid_stat(l->base, &bnow) ||
	    (fid_same(&dnow, &l->df) && fid_same(&bnow, &l->bf)))
		return;
	l->known = false;
	memset(&l->bf, 0, sizeof(l->bf));	/* until read in one piece */
	memset(&l->df, 0, sizeof(l->df));
	rc = read_pair(l, &d, &use_delta, &n, check, &bf, &df);
	if (rc == -ENOENT)		/* nothing published yet */
		return;
	if (fid_stat(l->delta, &dnow) || fid_stat(l->base, &bnow) ||
	    !fid_same(&dnow, &df) || !fid_same(&bnow, &bf))
		return;
	if (!rc && with_fold)
		rc = base_fold(c, l->base, check, fold);
	if (rc == -EAGAIN)
		return;
	l->bf = bf;			/* read in one piece: not again */
	l->df = df;
	if (!rc && use_delta && d.count != n + d.nadd - d.nrem)
		rc = -EBADMSG;
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n",
			program_invocation_short_name, l->name, why(rc));
		return;
	}
	l->count = use_delta ? d.count : n;
	if (use_delta)
		fold_in(fold, d.fold, 1);
	memcpy(l->fold, fold, KEY);
	l->published = ts_s(bf.mtime);
	if (use_delta && ts_s(df.mtime) > l->published)
		l->published = ts_s(df.mtime);
	l->known = true;
}

int publist_init(struct publist *l, const char *name, const char *base)
{
	size_t len = strlen(base);

	memset(l, 0, sizeof(*l));
	l->name = name;
	if (snprintf(l->base, sizeof(l->base), "%s", base) >=
	    (int)sizeof(l->base))
		return -ENAMETOOLONG;
	/* svrcert_keydelta_path's rule: "<dir>/x.bin" -> "<dir>/x.delta" */
	if (len > 4 && !strcmp(base + len - 4, ".bin"))
		len -= 4;
	if (snprintf(l->delta, sizeof(l->delta), "%.*s%s", (int)len, base,
		     DELTA_SUFFIX) >= (int)sizeof(l->delta))
		return -ENAMETOOLONG;
	return 0;
}
