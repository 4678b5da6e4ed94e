// SPDX-License-Identifier: GPL-2.0
/*
 * The master list and its file. The keys live right behind a header-sized
 * gap in one buffer, so writing master.bin is one atomic write of that
 * buffer and loading it is one read, with no 32 MiB copy either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <endian.h>
#include <openssl/evp.h>

#include "crl_master.h"
#include "lib/store.h"
#include "lib/util.h"

#define OFF_MAGIC	0
#define OFF_VERSION	8
#define OFF_HDRLEN	12
#define OFF_COUNT	16
#define OFF_SHA256	SVRCERT_MASTER_OFF_SHA256
#define OFF_GENERATED	56

static int master_alloc(struct svrcert_master *m, size_t n)
{
	memset(m, 0, sizeof(*m));
	if (n > (SIZE_MAX - SVRCERT_MASTER_HDR_LEN) / SVRCERT_REVKEY_LEN)
		return -ENOMEM;
	m->buf = calloc(1, SVRCERT_MASTER_HDR_LEN + n * SVRCERT_REVKEY_LEN);
	if (!m->buf)
		return -ENOMEM;
	m->keys = (svrcert_revkey_t *)(m->buf + SVRCERT_MASTER_HDR_LEN);
	m->n = n;
	return 0;
}

void svrcert_master_release(struct svrcert_master *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

static size_t add_held_keys(struct svrcert_master *m, size_t at,
			    const struct svrcert_crl_held *h)
{
	size_t n;
	const svrcert_revkey_t *k = svrcert_crl_held_keys(h, &n);

	if (n)
		memcpy(m->keys[at], k, n * SVRCERT_REVKEY_LEN);
	return at + n;
}

/* The current CRL's keys, its delta CRL applied. */
static size_t add_source_keys(struct svrcert_master *m, size_t at,
			      const struct svrcert_crl_source *s)
{
	size_t n;
	const svrcert_revkey_t *k = svrcert_crl_source_keys(s, &n);

	if (n)
		memcpy(m->keys[at], k, n * SVRCERT_REVKEY_LEN);
	return at + n;
}

int svrcert_master_build(struct svrcert_crl_source *const *srcs, size_t nsrc,
			 const svrcert_revkey_t *extra, size_t nextra,
			 time_t now, struct svrcert_master *out)
{
	size_t total = nextra, i, j, at = 0;
	uint8_t *shrunk;
	int rc;

	/* Every issuer's CRL a source holds: the current one and those of
	 * issuers its URL served before (no rollback, crl_source.h). */
	for (i = 0; i < nsrc; i++) {
		if (srcs[i]->has_good)
			total += srcs[i]->has_delta ? srcs[i]->neff :
				 srcs[i]->crl.nkeys;
		for (j = 0; j < srcs[i]->nprev; j++) {
			size_t n;

			svrcert_crl_held_keys(&srcs[i]->prev[j], &n);
			total += n;
		}
	}
	rc = master_alloc(out, total);
	if (rc)
		return rc;
	for (i = 0; i < nsrc; i++) {
		if (srcs[i]->has_good)
			at = add_source_keys(out, at, srcs[i]);
		for (j = 0; j < srcs[i]->nprev; j++)
			at = add_held_keys(out, at, &srcs[i]->prev[j]);
	}
	if (nextra)
		memcpy(out->keys[at], extra, nextra * SVRCERT_REVKEY_LEN);
	out->n = svrcert_revkeys_sort_unique(out->keys, total);
	out->generated = now;
	shrunk = realloc(out->buf, SVRCERT_MASTER_HDR_LEN + out->n * SVRCERT_REVKEY_LEN);
	if (shrunk) {
		out->buf = shrunk;
		out->keys = (svrcert_revkey_t *)(shrunk + SVRCERT_MASTER_HDR_LEN);
	}
	return 0;
}

static int dup_keys(const svrcert_revkey_t *src, const size_t *idx, size_t n,
		    svrcert_revkey_t **out)
{
	size_t i;

	*out = NULL;
	if (!n)
		return 0;
	*out = malloc(n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		memcpy((*out)[i], src[idx[i]], SVRCERT_REVKEY_LEN);
	return 0;
}

/* Walk both sorted lists once; collect indexes, then copy. */
int svrcert_revkeys_diff(const svrcert_revkey_t *old, size_t nold,
			 const svrcert_revkey_t *nw, size_t nnew,
			 svrcert_revkey_t **added, size_t *nadded,
			 svrcert_revkey_t **removed, size_t *nremoved)
{
	size_t i = 0, j = 0, na = 0, nr = 0;
	size_t *ai = added ? malloc((nnew + 1) * sizeof(*ai)) : NULL;
	size_t *ri = removed ? malloc((nold + 1) * sizeof(*ri)) : NULL;
	int rc = 0;

	if ((added && !ai) || (removed && !ri))
		rc = -ENOMEM;
	while (!rc && (i < nold || j < nnew)) {
		int c = i == nold ? 1 : j == nnew ? -1 :
			memcmp(old[i], nw[j], SVRCERT_REVKEY_LEN);

		if (c < 0) {
			if (ri)
				ri[nr] = i;
			nr++, i++;
		} else if (c > 0) {
			if (ai)
				ai[na] = j;
			na++, j++;
		} else {
			i++, j++;
		}
	}
	if (!rc && added)
		rc = dup_keys(nw, ai, na, added);
	if (!rc && removed)
		rc = dup_keys(old, ri, nr, removed);
	free(ai);
	free(ri);
	*nadded = na;
	*nremoved = nr;
	return rc;
}

bool svrcert_revkeys_contains(const svrcert_revkey_t *keys, size_t n,
			      const uint8_t key[SVRCERT_REVKEY_LEN])
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(keys[mid], key, SVRCERT_REVKEY_LEN);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int payload_sha256(const struct svrcert_master *m, uint8_t out[32])
{
	return EVP_Digest(m->keys, m->n * SVRCERT_REVKEY_LEN, out, NULL,
			  EVP_sha256(), NULL) ? 0 : -ENOMEM;
}

int svrcert_master_write(const char *path, const struct svrcert_master *m)
{
	uint8_t *h = m->buf;
	uint32_t v32;
	uint64_t v64;
	int rc;

	memcpy(h + OFF_MAGIC, SVRCERT_MASTER_MAGIC, 8);
	v32 = htobe32(SVRCERT_MASTER_VERSION);
	memcpy(h + OFF_VERSION, &v32, 4);
	v32 = htobe32(SVRCERT_MASTER_HDR_LEN);
	memcpy(h + OFF_HDRLEN, &v32, 4);
	v64 = htobe64((uint64_t)m->n);
	memcpy(h + OFF_COUNT, &v64, 8);
	v64 = htobe64((uint64_t)m->generated);
	memcpy(h + OFF_GENERATED, &v64, 8);
	rc = payload_sha256(m, h + OFF_SHA256);
	if (rc)
		return rc;
	return atomic_write_file(path, h, SVRCERT_MASTER_HDR_LEN +
				 m->n * SVRCERT_REVKEY_LEN, STORE_MODE_PUBLIC);
}

static int check_header(const uint8_t *h, off_t size, size_t *n,
			char *err, size_t errlen)
{
	uint32_t version, hdrlen;
	uint64_t count;

	memcpy(&version, h + OFF_VERSION, 4);
	memcpy(&hdrlen, h + OFF_HDRLEN, 4);
	memcpy(&count, h + OFF_COUNT, 8);
	version = be32toh(version);
	hdrlen = be32toh(hdrlen);
	count = be64toh(count);
	if (memcmp(h + OFF_MAGIC, SVRCERT_MASTER_MAGIC, 8))
		return svrcert_fail(err, errlen, -EBADMSG, "not a master list (bad magic)");
	if (version != SVRCERT_MASTER_VERSION || hdrlen != SVRCERT_MASTER_HDR_LEN)
		return svrcert_fail(err, errlen, -EBADMSG,
			    "unsupported master list version %u (header %u)",
			    version, hdrlen);
	if (count > (uint64_t)(size - SVRCERT_MASTER_HDR_LEN) / SVRCERT_REVKEY_LEN ||
	    (uint64_t)size != SVRCERT_MASTER_HDR_LEN + count * SVRCERT_REVKEY_LEN)
		return svrcert_fail(err, errlen, -EBADMSG,
			    "master list size %lld does not match its count %llu (truncated?)",
			    (long long)size, (unsigned long long)count);
	*n = (size_t)count;
	return 0;
}

static int check_payload(const struct svrcert_master *m, char *err,
			 size_t errlen)
{
	uint8_t md[32];
	size_t i;

	if (payload_sha256(m, md))
		return svrcert_fail(err, errlen, -ENOMEM, "out of memory");
	if (memcmp(md, m->buf + OFF_SHA256, 32))
		return svrcert_fail(err, errlen, -EBADMSG,
			    "master list checksum mismatch (corrupt)");
	for (i = 1; i < m->n; i++)
		if (memcmp(m->keys[i - 1], m->keys[i], SVRCERT_REVKEY_LEN) >= 0)
			return svrcert_fail(err, errlen, -EBADMSG,
				    "master list keys not strictly ascending at %zu", i);
	return 0;
}

static int load_base(const char *path, struct svrcert_master *m, char *err,
		     size_t errlen)
{
	uint8_t h[SVRCERT_MASTER_HDR_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	struct stat st;
	uint64_t gen;
	size_t n = 0;

	memset(m, 0, sizeof(*m));
	if (fd < 0)
		return svrcert_fail(err, errlen, -errno, "cannot open %s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st))
		rc = -errno;
	else if (st.st_size < SVRCERT_MASTER_HDR_LEN)
		rc = svrcert_fail(err, errlen, -EBADMSG, "master list %s is truncated (%lld bytes)",
			  path, (long long)st.st_size);
	else
		rc = svrcert_read_full(fd, h, sizeof(h)) ?:
		     check_header(h, st.st_size, &n, err, errlen) ?:
		     master_alloc(m, n);
	if (!rc) {
		memcpy(m->buf, h, sizeof(h));
		rc = svrcert_read_full(fd, m->buf + sizeof(h), n * SVRCERT_REVKEY_LEN);
		if (rc == -EBADMSG)
			svrcert_fail(err, errlen, rc, "master list %s shrank while reading", path);
	}
	close(fd);
	if (!rc)
		rc = check_payload(m, err, errlen);
	if (rc) {
		if (err && !err[0])
			svrcert_fail(err, errlen, rc, "cannot read %s: %s", path, strerror(-rc));
		svrcert_master_release(m);
		return rc;
	}
	memcpy(&gen, h + OFF_GENERATED, 8);
	m->generated = (time_t)be64toh(gen);
	return 0;
}

/* D (HAVE_D: read) applied to the base M when it names it; LOG resumed. */
static int take_delta(struct svrcert_master *m, const struct svrcert_keydelta *d,
		      bool have_d, struct svrcert_keylog *log, char *err,
		      size_t errlen)
{
	uint8_t check[32];
	uint64_t gen;
	bool taken;
	int rc;

	memcpy(check, m->buf + OFF_SHA256, 32);
	rc = svrcert_keydelta_take(have_d ? d : NULL, check, &m->buf,
				   SVRCERT_MASTER_HDR_LEN, &m->keys, &m->n, log,
				   &taken, err, errlen);
	if (!rc && taken) {
		memcpy(&gen, d->state, 8);
		m->generated = (time_t)be64toh(gen);
	}
	return rc;
}

/*
 * The delta is read before the base: a writer that replaces the base
 * (compaction) removes the delta after, so a reader then holds an old
 * delta and the new base, which it tells apart (the delta names another
 * base) and takes the new base alone: never a base older than the delta.
 */
int svrcert_master_load_log(const char *path, struct svrcert_master *m,
			    struct svrcert_keylog *log, char *err,
			    size_t errlen)
{
	struct svrcert_keydelta d = { 0 };
	char dpath[PATH_MAX];
	int rc = svrcert_keydelta_path(path, dpath, sizeof(dpath));
	bool have_d = false;

	memset(m, 0, sizeof(*m));
	if (log)
		svrcert_keylog_unbase(log);
	if (!rc) {
		rc = svrcert_keydelta_read(dpath, &d, err, errlen);
		have_d = !rc;
		if (rc == -ENOENT)
			rc = 0;
	}
	if (!rc)
		rc = load_base(path, m, err, errlen);
	if (!rc)
		rc = take_delta(m, &d, have_d, log, err, errlen);
	svrcert_keydelta_release(&d);
	if (rc && m->buf)
		svrcert_master_release(m);
	if (rc && log)
		svrcert_keylog_unbase(log);
	return rc;
}

int svrcert_master_load(const char *path, struct svrcert_master *m,
			char *err, size_t errlen)
{
	return svrcert_master_load_log(path, m, NULL, err, errlen);
}

int svrcert_master_patch(struct svrcert_master *m,
			 const svrcert_revkey_t *minus, size_t nminus,
			 const svrcert_revkey_t *plus, size_t nplus)
{
	return svrcert_revkeys_patch_in_place(&m->buf, SVRCERT_MASTER_HDR_LEN,
					      &m->keys, &m->n, minus, nminus,
					      plus, nplus, false, NULL, NULL);
}

void svrcert_crl_time_text(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) ||
	    !strftime(buf, len, "%b %e %H:%M:%S %Y GMT", &tm))
		snprintf(buf, len, "%s", "");
}

json_t *svrcert_crl_update_detail(const struct svrcert_crl_update *u)
{
	const struct svrcert_crl_source *s = u->src;
	const struct svrcert_crl *c = s->has_good ? &s->crl : NULL;
	char last[40] = "", next[40] = "";

	if (c) {
		svrcert_crl_time_text(c->this_update, last, sizeof(last));
		svrcert_crl_time_text(c->next_update, next, sizeof(next));
	}
	return json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:s}",
			 "forced", u->forced,
			 "last_updated", last,
			 "next_update", next,
			 "crl_url", s->url,
			 "size", (json_int_t)u->size,
			 "total_entries", (json_int_t)(c ? c->entries : 0),
			 "added_entries", (json_int_t)u->added,
			 "removed_entries", (json_int_t)u->removed,
			 "success", u->success,
			 "certificate_authority", c ? c->issuer_text : "");
}
