// SPDX-License-Identifier: GPL-2.0
/*
 * The generation journal and its file (format in crl_gen.h). A new
 * generation is built beside the current one, written, and only then
 * swapped in: what a router can be told is always on disk first.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crl_gen.h"
#include "crl_master.h"
#include "lib/store.h"
#include "lib/util.h"

#define OFF_VERSION	8
#define OFF_HDRLEN	12
#define OFF_EPOCH	16
#define OFF_GEN		32
#define OFF_TIME	40
#define OFF_NKEYS	48
#define OFF_NREC	56
#define OFF_DIGEST	64
#define OFF_CHECK	96
#define REC_HDR		24
/* A file past this is not ours (the defaults make ~4 MiB). */
#define GEN_FILE_MAX	(256u << 20)

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static int keys_sha256(const svrcert_revkey_t *k, size_t n, uint8_t out[32])
{
	return EVP_Digest(n ? (const void *)k : "", n * SVRCERT_REVKEY_LEN,
			  out, NULL, EVP_sha256(), NULL) ? 0 : -ENOMEM;
}

/* Header bytes 0..95 and the records after the header. */
static int file_check(const uint8_t *buf, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(c, buf, OFF_CHECK) &&
		 EVP_DigestUpdate(c, buf + SVRCERT_GEN_HDR_LEN,
				  len - SVRCERT_GEN_HDR_LEN) &&
		 EVP_DigestFinal_ex(c, out, NULL);

	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}

static void delta_free(struct svrcert_gen_delta *d)
{
	free(d->keys);
	memset(d, 0, sizeof(*d));
}

void svrcert_gen_close(struct svrcert_gen_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		delta_free(&j->d[i]);
	free(j->d);
	j->d = NULL;
	j->n = 0;
	j->held_keys = 0;
}

uint64_t svrcert_gen_oldest_base(const struct svrcert_gen_journal *j)
{
	return j->n ? j->d[0].gen - 1 : j->gen;
}

static size_t delta_keys(const struct svrcert_gen_delta *d)
{
	return d->nadded + d->nremoved;
}

/* How many of the oldest deltas to drop so that the FIRST.. plus EXTRA
 * keys (the one being added, 0 for none) fit the bounds. */
static size_t over_bounds(const struct svrcert_gen_journal *j, size_t first,
			  size_t extra_recs, size_t extra_keys)
{
	size_t keys = extra_keys, recs = extra_recs, i, drop = first;

	for (i = first; i < j->n; i++)
		keys += delta_keys(&j->d[i]);
	recs += j->n - first;
	while (drop < j->n && (recs > j->max_gens || keys > j->max_keys)) {
		keys -= delta_keys(&j->d[drop++]);
		recs--;
	}
	return drop;
}

/*
 * The file image of J with deltas FROM.. and NEXT (may be NULL) appended,
 * HDR giving the generation, time, count and digest to record.
 */
static int image(const struct svrcert_gen_journal *j, size_t from,
		 const struct svrcert_gen_delta *next,
		 const struct svrcert_gen_journal *hdr, uint8_t **out,
		 size_t *outlen)
{
	size_t i, len = SVRCERT_GEN_HDR_LEN, nrec = j->n - from + !!next;
	uint8_t *b, *p;

	for (i = from; i <= j->n; i++) {
		const struct svrcert_gen_delta *d = i < j->n ? &j->d[i] : next;

		if (d)
			len += REC_HDR + delta_keys(d) * SVRCERT_REVKEY_LEN;
	}
	b = calloc(1, len);
	if (!b)
		return -ENOMEM;
	memcpy(b, SVRCERT_GEN_MAGIC, 8);
	put32(b + OFF_VERSION, SVRCERT_GEN_VERSION);
	put32(b + OFF_HDRLEN, SVRCERT_GEN_HDR_LEN);
	memcpy(b + OFF_EPOCH, hdr->epoch, SVRCERT_GEN_EPOCH_LEN);
	put64(b + OFF_GEN, hdr->gen);
	put64(b + OFF_TIME, (uint64_t)hdr->time);
	put64(b + OFF_NKEYS, hdr->nkeys);
	put32(b + OFF_NREC, (uint32_t)nrec);
	memcpy(b + OFF_DIGEST, hdr->digest, 32);
	p = b + SVRCERT_GEN_HDR_LEN;
	for (i = from; i <= j->n; i++) {
		const struct svrcert_gen_delta *d = i < j->n ? &j->d[i] : next;

		if (!d)
			continue;
		put64(p, d->gen);
		put64(p + 8, (uint64_t)d->time);
		put32(p + 16, (uint32_t)d->nadded);
		put32(p + 20, (uint32_t)d->nremoved);
		if (delta_keys(d))
			memcpy(p + REC_HDR, d->keys, delta_keys(d) * SVRCERT_REVKEY_LEN);
		p += REC_HDR + delta_keys(d) * SVRCERT_REVKEY_LEN;
	}
	if (file_check(b, len, b + OFF_CHECK)) {
		free(b);
		return -ENOMEM;
	}
	*out = b;
	*outlen = len;
	return 0;
}

static int write_image(const struct svrcert_gen_journal *j, size_t from,
		       const struct svrcert_gen_delta *next,
		       const struct svrcert_gen_journal *hdr, char *err,
		       size_t errlen)
{
	uint8_t *b;
	size_t len;
	int rc = image(j, from, next, hdr, &b, &len);

	if (!rc) {
		rc = atomic_write_file(j->path, b, len, STORE_MODE_PUBLIC);
		free(b);
	}
	if (rc)
		svrcert_fail(err, errlen, rc, "cannot write %s: %s", j->path,
			     strerror(-rc));
	return rc;
}

/* Drop the oldest DROP deltas (the file no longer has them). */
static void drop_oldest(struct svrcert_gen_journal *j, size_t drop)
{
	for (size_t i = 0; i < drop; i++) {
		j->held_keys -= delta_keys(&j->d[i]);
		delta_free(&j->d[i]);
	}
	memmove(j->d, j->d + drop, (j->n - drop) * sizeof(*j->d));
	j->n -= drop;
}

static int new_delta(uint64_t gen, time_t now, svrcert_revkey_t *added,
		     size_t na, svrcert_revkey_t *removed, size_t nr,
		     struct svrcert_gen_delta *d)
{
	memset(d, 0, sizeof(*d));
	d->gen = gen;
	d->time = now;
	d->nadded = na;
	d->nremoved = nr;
	if (!na && !nr)
		return 0;
	d->keys = malloc((na + nr) * SVRCERT_REVKEY_LEN);
	if (!d->keys)
		return -ENOMEM;
	if (na)
		memcpy(d->keys, added, na * SVRCERT_REVKEY_LEN);
	if (nr)
		memcpy(d->keys + na, removed, nr * SVRCERT_REVKEY_LEN);
	return 0;
}

/* The delta of OLD -> NEW when OLD is the current set, in *D; *KNOWN
 * false (nothing in *D) when it is not. */
static int make_delta(const struct svrcert_gen_journal *j,
		      const svrcert_revkey_t *old, size_t nold,
		      const svrcert_revkey_t *nw, size_t nnew, time_t now,
		      struct svrcert_gen_delta *d, bool *known)
{
	svrcert_revkey_t *added = NULL, *removed = NULL;
	size_t na = 0, nr = 0;
	uint8_t dig[32];
	int rc = keys_sha256(old, nold, dig);

	memset(d, 0, sizeof(*d));
	*known = !rc && nold == j->nkeys && !memcmp(dig, j->digest, 32);
	if (!rc && *known)
		rc = svrcert_revkeys_diff(old, nold, nw, nnew, &added, &na,
					  &removed, &nr);
	if (!rc && *known)
		rc = new_delta(j->gen + 1, now, added, na, removed, nr, d);
	free(added);
	free(removed);
	return rc;
}

int svrcert_gen_advance(struct svrcert_gen_journal *j,
			const svrcert_revkey_t *old, size_t nold,
			const svrcert_revkey_t *nw, size_t nnew, time_t now,
			char *err, size_t errlen)
{
	struct svrcert_gen_journal hdr = *j;
	struct svrcert_gen_delta d;
	bool known, keep;
	size_t drop;
	int rc = make_delta(j, old, nold, nw, nnew, now, &d, &known);

	if (!rc && known && !delta_keys(&d))
		return 0;
	if (!rc)
		rc = keys_sha256(nw, nnew, hdr.digest);
	if (rc) {
		delta_free(&d);
		return svrcert_fail(err, errlen, rc, "out of memory");
	}
	hdr.gen = j->gen + 1;
	hdr.time = now;
	hdr.nkeys = nnew;
	/* An unknown change, or one over the bound alone, leaves no delta:
	 * every router behind the new generation resyncs in full. */
	keep = known && delta_keys(&d) <= j->max_keys;
	drop = keep ? over_bounds(j, 0, 1, delta_keys(&d)) : j->n;
	rc = write_image(j, drop, keep ? &d : NULL, &hdr, err, errlen);
	if (rc || !keep)
		delta_free(&d);
	if (rc)
		return rc;
	drop_oldest(j, drop);
	if (d.gen) {
		/* room was made by over_bounds: j->n < max_gens here */
		j->d[j->n++] = d;
		j->held_keys += delta_keys(&d);
	}
	memcpy(j->digest, hdr.digest, 32);
	j->gen = hdr.gen;
	j->time = now;
	j->nkeys = nnew;
	return 1;
}

static int bad(char *err, size_t errlen, const char *path, const char *what)
{
	return svrcert_fail(err, errlen, -EBADMSG, "generation journal %s: %s",
			    path, what);
}

static int check_header(const struct svrcert_gen_journal *j,
			const uint8_t *b, size_t len, char *err, size_t errlen)
{
	uint8_t sum[32];

	if (len < SVRCERT_GEN_HDR_LEN)
		return bad(err, errlen, j->path, "truncated header");
	if (memcmp(b, SVRCERT_GEN_MAGIC, 8))
		return bad(err, errlen, j->path, "bad magic");
	if (get32(b + OFF_VERSION) != SVRCERT_GEN_VERSION ||
	    get32(b + OFF_HDRLEN) != SVRCERT_GEN_HDR_LEN)
		return bad(err, errlen, j->path, "unsupported version");
	if (file_check(b, len, sum))
		return svrcert_fail(err, errlen, -ENOMEM, "out of memory");
	if (memcmp(sum, b + OFF_CHECK, 32))
		return bad(err, errlen, j->path,
			   "checksum mismatch (corrupt or cut short)");
	return 0;
}

static bool ascending(const svrcert_revkey_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(k[i - 1], k[i], SVRCERT_REVKEY_LEN) >= 0)
			return false;
	return true;
}

/* One record at *P (END bounds it) into D; *P moves past it. */
static int read_record(const struct svrcert_gen_journal *j, const uint8_t **p,
		       const uint8_t *end, struct svrcert_gen_delta *d,
		       char *err, size_t errlen)
{
	size_t na, nr, missing = 0;
	int rc;

	if ((size_t)(end - *p) < REC_HDR)
		return bad(err, errlen, j->path, "a delta is cut short");
	na = get32(*p + 16);
	nr = get32(*p + 20);
	if ((size_t)(end - *p - REC_HDR) / SVRCERT_REVKEY_LEN < na + nr)
		return bad(err, errlen, j->path, "a delta's keys are cut short");
	if (!na && !nr)
		return bad(err, errlen, j->path, "an empty delta");
	rc = new_delta(get64(*p), (time_t)get64(*p + 8),
		       (svrcert_revkey_t *)(*p + REC_HDR), na,
		       (svrcert_revkey_t *)(*p + REC_HDR + na * SVRCERT_REVKEY_LEN),
		       nr, d);
	if (rc)
		return svrcert_fail(err, errlen, rc, "out of memory");
	*p += REC_HDR + (na + nr) * SVRCERT_REVKEY_LEN;
	if (!ascending(d->keys, na) || !ascending(d->keys + na, nr))
		return bad(err, errlen, j->path, "a delta's keys are not ascending");
	/* added and removed are disjoint: nothing of one is in the other */
	svrcert_revkeys_patch(d->keys, na, d->keys + na, nr, NULL, 0, NULL,
			      NULL, &missing, NULL);
	if (missing != nr)
		return bad(err, errlen, j->path, "a key is both added and removed");
	return 0;
}

static int parse(struct svrcert_gen_journal *j, const uint8_t *b, size_t len,
		 char *err, size_t errlen)
{
	const uint8_t *p = b + SVRCERT_GEN_HDR_LEN, *end = b + len;
	size_t nrec, i;
	int rc = check_header(j, b, len, err, errlen);

	if (rc)
		return rc;
	memcpy(j->epoch, b + OFF_EPOCH, SVRCERT_GEN_EPOCH_LEN);
	j->gen = get64(b + OFF_GEN);
	j->time = (time_t)get64(b + OFF_TIME);
	j->nkeys = get64(b + OFF_NKEYS);
	memcpy(j->digest, b + OFF_DIGEST, 32);
	nrec = get32(b + OFF_NREC);
	if (nrec > (len - SVRCERT_GEN_HDR_LEN) / REC_HDR)
		return bad(err, errlen, j->path, "more deltas than bytes");
	j->d = calloc(j->max_gens + nrec, sizeof(*j->d));
	if (!j->d)
		return svrcert_fail(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < nrec; i++) {
		rc = read_record(j, &p, end, &j->d[j->n], err, errlen);
		if (rc) {
			delta_free(&j->d[j->n]);
			return rc;
		}
		j->held_keys += delta_keys(&j->d[j->n++]);
		if (j->d[i].gen != (i ? j->d[i - 1].gen + 1 : j->gen - nrec + 1))
			return bad(err, errlen, j->path,
				   "delta generations do not lead to the current one");
	}
	if (p != end)
		return bad(err, errlen, j->path, "bytes after the last delta");
	drop_oldest(j, over_bounds(j, 0, 0, 0));
	return 0;
}

/* A new epoch at generation 0 (the empty set), on disk. */
static int create(struct svrcert_gen_journal *j, time_t now, char *err,
		  size_t errlen)
{
	int rc;

	svrcert_gen_close(j);
	j->d = calloc(j->max_gens, sizeof(*j->d));
	if (!j->d || RAND_bytes(j->epoch, SVRCERT_GEN_EPOCH_LEN) != 1 ||
	    keys_sha256(NULL, 0, j->digest))
		return svrcert_fail(err, errlen, -ENOMEM,
				    "cannot make a new epoch");
	j->gen = 0;
	j->time = now;
	j->nkeys = 0;
	rc = write_image(j, 0, NULL, j, err, errlen);
	return rc;
}

/* Temp files of writes killed before their rename: never read, gone. */
static void remove_temps(const char *path)
{
	char dir[PATH_MAX], pre[NAME_MAX + 8], full[PATH_MAX + NAME_MAX + 2];
	const char *slash = strrchr(path, '/');
	struct dirent *e;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	snprintf(pre, sizeof(pre), "%s.tmp.", slash ? slash + 1 : path);
	dp = opendir(dir);
	while (dp && (e = readdir(dp)))
		if (!strncmp(e->d_name, pre, strlen(pre))) {
			snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
			unlink(full);
		}
	if (dp)
		closedir(dp);
}

int svrcert_gen_open(struct svrcert_gen_journal *j, const char *path,
		     size_t max_gens, size_t max_keys, time_t now,
		     enum svrcert_gen_opened *how, char *err, size_t errlen)
{
	enum svrcert_gen_opened h = SVRCERT_GEN_LOADED;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(j, 0, sizeof(*j));
	if (snprintf(j->path, sizeof(j->path), "%s", path) >= (int)sizeof(j->path))
		return svrcert_fail(err, errlen, -ENAMETOOLONG, "path too long");
	j->max_gens = max_gens ? max_gens : SVRCERT_GEN_MAX_GENS_DEFAULT;
	j->max_keys = max_keys ? max_keys : SVRCERT_GEN_MAX_KEYS_DEFAULT;
	remove_temps(path);
	rc = svrcert_read_file(path, GEN_FILE_MAX, &buf, &len);
	if (!rc)
		rc = parse(j, buf, len, err, errlen);
	else if (rc == -EFBIG || rc == -EINVAL)
		rc = bad(err, errlen, path, rc == -EFBIG ? "too large" :
			 "not a regular file");
	else if (rc != -ENOENT)
		svrcert_fail(err, errlen, rc, "cannot read %s: %s", path,
			     strerror(-rc));
	free(buf);
	/* Unreadable: a new epoch, so no generation number is reused. */
	if (rc == -ENOENT || rc == -EBADMSG) {
		char why[256];

		h = rc == -ENOENT ? SVRCERT_GEN_CREATED : SVRCERT_GEN_RESET;
		rc = create(j, now, why, sizeof(why));
		/* RESET keeps ERR saying what was wrong with the file */
		if (rc || h == SVRCERT_GEN_CREATED)
			svrcert_fail(err, errlen, rc, "%s", rc ? why : "");
	}
	if (rc)
		svrcert_gen_close(j);
	else if (how)
		*how = h;
	return rc;
}
