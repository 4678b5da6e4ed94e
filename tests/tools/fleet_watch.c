// SPDX-License-Identifier: GPL-2.0
/*
 * fleet_watch - when did each router's published list reach a state, for
 * scripts/bench-fleet.
 *
 *   fleet_watch [-t SECS] (-c COND_MASTER | -n COUNT) [-x TRIGGER] DIR...
 *
 * (No DIR with -c -x: only the conductor's ingest is timed.)
 *
 * Each DIR is a router's state directory; its published list is
 * DIR/master.bin (the base, crl/crl_master.h) and, when there is one,
 * DIR/master.delta beside it (the keys added to and removed from that
 * base since, crl/crl_keydelta.h): the list is base + added - removed. A
 * delta naming another base than master.bin's header checksum is one a
 * compaction left behind: ignored, master.bin alone is the list.
 *
 * A list is known by its key count and XOR-fold (the XOR of its 32-byte
 * keys): fold(base + added - removed) = fold(base) ^ fold(added) ^
 * fold(removed), since added keys are not in the base and removed ones
 * are. A base's fold is computed once per base (keyed by its header
 * checksum, shared by every DIR: the routers and the conductor mostly hold
 * the same bases) by reading it once, its payload SHA-256 checked; after
 * that a change costs a stat of both files per poll and a read of the
 * small delta, not a read and hash of 100 copies of a 32 MB list, which
 * would load the host the measurement runs on. (The fold identifies a set
 * of hash-derived keys for this purpose; it is not a defence against keys
 * chosen to collide.)
 *
 *   -c FILE   the conductor's master.bin (its delta: FILE with .bin ->
 *             .delta). With -x: its list is read, the TRIGGER run (sh -c),
 *             then the watch waits until the conductor publishes another
 *             list (its ingest of the new CRL); t0 is that list's publish
 *             time (below), the target its count and fold. Without -x: the
 *             target is the conductor's current list, t0 now (a sync).
 *   -n COUNT  the target is a list of COUNT keys (the baseline, routers
 *             fetching the CA's CRL themselves); t0 is when TRIGGER ended.
 *             Only the headers are read.
 *   -t SECS   give up after SECS (default 120) past t0.
 *
 * A router reaches the target when its list has the target's count and
 * fold (-c) or count (-n); its latency is the list's publish time - t0:
 * the mtime of the newer of the two files that make it (master.bin alone
 * when there is no delta or it is stale), the moment the router published
 * it, not when this tool saw it (the 5 ms poll adds nothing). Files are
 * read again only when their inode, size or mtime changed; a file
 * replaced while it was read, a delta not yet there or one that does not
 * add up leaves the list unknown until the next change.
 * Output, one line each:
 *   ingest trigger_s=S keys=N          (-c -x: trigger start to ingest)
 *   router DIR latency_s=L
 *   missing DIR                        (not reached within -t)
 *   summary routers=N reached=R max_s=M
 * Exit 0 when every router reached it, 1 otherwise, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "crl/crl_master.h"

#define KEY SVRCERT_REVKEY_LEN
/* the delta's format (crl/crl_keydelta.h), read here on its own */
#define DELTA_MAGIC "SVRCDLT"		/* + NUL: 8 bytes */
#define DELTA_VERSION 1
#define DELTA_HDR_LEN 136
#define DELTA_SUFFIX ".delta"
#define FOLD_CACHE 16		/* bases remembered; a run sees a few */
#define CHUNK_KEYS 32768	/* 1 MiB per read of a base */

/* What a file was when read: a change of any of these is a new file. */
struct fid {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* The fold of each base seen, by its header checksum. */
struct fold_cache {
	struct {
		uint8_t check[32];
		uint8_t fold[KEY];
		unsigned long used;
	} e[FOLD_CACHE];
	int n;
	unsigned long tick;
};

/* One published list (a base and maybe a delta) and what it was last. */
struct list {
	const char *name;		/* for messages */
	char base[4200], delta[4200];
	struct fid bf, df;		/* the files as last read */
	bool known;			/* count, fold and published are valid */
	uint64_t count;
	uint8_t fold[KEY];
	double published;
};

struct delta_head {
	uint8_t base_check[32];
	uint64_t count, nadd, nrem;
	uint8_t fold[KEY];		/* of the added and removed keys */
};

static double ts_s(struct timespec t)
{
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return ts_s(t);
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

static void fid_of(const struct stat *st, struct fid *f)
{
	f->present = true;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = st->st_size;
	f->mtime = st->st_mtim;
}

static bool fid_same(const struct fid *a, const struct fid *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtime.tv_sec == b->mtime.tv_sec &&
		a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* PATH as it is now; absent is a state too. -errno on other errors. */
static int fid_stat(const char *path, struct fid *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	fid_of(&st, f);
	return 0;
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EBADMSG;
		got += (size_t)r;
	}
	return 0;
}

/* Open PATH and say what it is (F->present false when there is none):
 * the fd or -errno. */
static int open_fid(const char *path, struct fid *f)
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
static int read_base_head(int fd, const struct fid *f, uint64_t *count,
			  uint8_t check[32])
{
	uint8_t h[SVRCERT_MASTER_HDR_LEN];

	if (read_full(fd, h, sizeof(h)) ||
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
static int read_delta(int fd, const struct fid *f, struct delta_head *d)
{
	uint8_t h[DELTA_HDR_LEN], md[32], *keys = NULL;
	size_t nkeys, len;
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int rc = -EBADMSG;

	if (read_full(fd, h, sizeof(h)) ||
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
	if (!read_full(fd, keys, len) &&
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

		rc = read_full(fd, buf, k * KEY);
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
static int base_fold(struct fold_cache *c, const char *path,
		     const uint8_t check[32], uint8_t fold[KEY])
{
	uint8_t got[32];
	uint64_t n;
	struct fid f;
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
	if (c->n < FOLD_CACHE)
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
static int read_pair(struct list *l, struct delta_head *d, bool *use_delta,
		     uint64_t *base_n, uint8_t check[32], struct fid *bf,
		     struct fid *df)
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

/*
 * Look at L again: nothing is read while neither file changed. WITH_FOLD
 * false (-n): the count only, no base is ever read whole. The files read
 * are stat'ed again after: a file replaced meanwhile means the pair may be
 * of two moments, so L stays unknown and the next poll reads it again.
 */
static void list_poll(struct list *l, struct fold_cache *c, bool with_fold)
{
	struct fid bnow, dnow, bf, df;
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
		fprintf(stderr, "fleet_watch: %s: %s\n", l->name, why(rc));
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

/* L for master.bin at BASE; its delta is BASE with .bin -> .delta. */
static int list_init(struct list *l, const char *name, const char *base)
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

struct target {
	bool by_count;
	uint64_t count;
	uint8_t fold[KEY];
};

static bool reached(const struct list *l, const struct target *t)
{
	return l->known && l->count == t->count &&
	       (t->by_count || !memcmp(l->fold, t->fold, KEY));
}

/* Wait for the conductor's list to change from OLD (count and fold). */
static int await_ingest(struct list *cond, struct fold_cache *c,
			const struct target *old, double until)
{
	while (now_s() < until) {
		list_poll(cond, c, true);
		if (cond->known && (cond->count != old->count ||
				    memcmp(cond->fold, old->fold, KEY)))
			return 0;
		usleep(5000);
	}
	return -ETIMEDOUT;
}

static int watch(struct list *ls, int n, struct fold_cache *c,
		 const struct target *t, double t0, double until)
{
	double *lat = calloc(n, sizeof(*lat)), max = 0;
	int left = n, i;

	for (i = 0; i < n; i++)
		lat[i] = -1;
	while (left && now_s() < until) {
		for (i = 0; i < n; i++) {
			if (lat[i] >= 0)
				continue;
			list_poll(&ls[i], c, !t->by_count);
			if (!reached(&ls[i], t))
				continue;
			lat[i] = ls[i].published - t0;
			if (lat[i] < 0)		/* held it before t0 */
				lat[i] = 0;
			left--;
		}
		if (left)
			usleep(5000);
	}
	for (i = 0; i < n; i++) {
		if (lat[i] < 0) {
			printf("missing %s\n", ls[i].name);
			continue;
		}
		printf("router %s latency_s=%.4f\n", ls[i].name, lat[i]);
		if (lat[i] > max)
			max = lat[i];
	}
	printf("summary routers=%d reached=%d max_s=%.4f\n", n, n - left, max);
	free(lat);
	return left ? 1 : 0;
}

/* The routers' lists: DIR/master.bin (+ DIR/master.delta) for each DIR. */
static struct list *router_lists(char **dirs, int n)
{
	struct list *ls = calloc(n ? n : 1, sizeof(*ls));
	char path[4200];
	int i;

	for (i = 0; ls && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i],
			 SVRCERT_MASTER_FILE);
		if (list_init(&ls[i], dirs[i], path)) {
			fprintf(stderr, "fleet_watch: %s: name too long\n",
				dirs[i]);
			free(ls);
			return NULL;
		}
	}
	return ls;
}

/* The conductor's list now (L->known false: cannot be read in TIMEOUT). */
static void first_look(struct list *l, struct fold_cache *c, double timeout)
{
	double until = now_s() + timeout;

	for (list_poll(l, c, true); !l->known && now_s() < until;
	     list_poll(l, c, true))
		usleep(5000);
}

int main(int argc, char **argv)
{
	const char *cond = NULL, *trigger = NULL;
	struct fold_cache *cache = calloc(1, sizeof(*cache));
	struct target t = { 0 };
	struct list cl, *ls;
	double timeout = 120, t0, ts;
	int c;

	while ((c = getopt(argc, argv, "t:c:n:x:")) != -1) {
		switch (c) {
		case 't': timeout = atof(optarg); break;
		case 'c': cond = optarg; break;
		case 'n': t.by_count = true; t.count = strtoull(optarg, NULL, 10); break;
		case 'x': trigger = optarg; break;
		default: return 2;
		}
	}
	if ((optind >= argc && !(cond && trigger)) || !!cond == t.by_count) {
		fprintf(stderr, "usage: fleet_watch [-t SECS] (-c COND_MASTER | -n COUNT) [-x TRIGGER] DIR...\n");
		return 2;
	}
	if (!cache || !(ls = router_lists(argv + optind, argc - optind)))
		return 2;
	if (cond && (list_init(&cl, cond, cond) ||
		     (first_look(&cl, cache, 1), !cl.known))) {
		fprintf(stderr, "fleet_watch: cannot read %s\n", cond);
		return 2;
	}
	if (cond) {
		t.count = cl.count;
		memcpy(t.fold, cl.fold, KEY);
	}
	ts = now_s();
	if (trigger && system(trigger)) {
		fprintf(stderr, "fleet_watch: trigger failed: %s\n", trigger);
		return 2;
	}
	t0 = now_s();
	if (cond && trigger) {
		if (await_ingest(&cl, cache, &t, t0 + timeout)) {
			fprintf(stderr, "fleet_watch: the conductor published nothing new within %.0f s\n",
				timeout);
			return 1;
		}
		t0 = cl.published;
		printf("ingest trigger_s=%.4f keys=%llu\n", t0 - ts,
		       (unsigned long long)cl.count);
		t.count = cl.count;
		memcpy(t.fold, cl.fold, KEY);
	}
	fflush(stdout);
	return watch(ls, argc - optind, cache, &t, t0, now_s() + timeout);
}
