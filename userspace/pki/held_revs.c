// SPDX-License-Identifier: GPL-2.0
/* The revocations a judge checks against: see held_revs.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crl/crl_master.h"
#include "held_revs.h"
#include "import_trust.h"

_Static_assert(sizeof(TRUST_DIR_CRL "/") == sizeof("crl/"),
	       "SVRCERT_HELD_NAME_MAX counts \"crl/\"");

struct svrcert_held_file {
	char name[SVRCERT_HELD_NAME_MAX];	/* relative to the state dir */
	struct svrcert_file_id id;
	struct svrcert_keyset keys;
	bool fresh;			/* parsed by this refresh */
	bool kept;			/* taken over by this refresh */
};

/* The files of one refresh. */
struct held_list {
	struct svrcert_held_file *v;
	size_t n, cap;
};

void svrcert_held_init(struct svrcert_held *h)
{
	memset(h, 0, sizeof(*h));
	svrcert_keyset_init(&h->read);
}

static void files_free(struct svrcert_held_file *v, size_t n, bool fresh_only)
{
	for (size_t i = 0; i < n; i++)
		if (!fresh_only || v[i].fresh)
			svrcert_keyset_free(&v[i].keys);
	free(v);
}

void svrcert_held_free(struct svrcert_held *h)
{
	files_free(h->files, h->nfiles, false);
	svrcert_keyset_free(&h->read);
	free(h->vouched);
	svrcert_held_init(h);
}

static int file_id(const char *path, struct svrcert_file_id *id)
{
	struct stat sb;

	if (stat(path, &sb))
		return -errno;
	*id = (struct svrcert_file_id){
		.dev = sb.st_dev, .ino = sb.st_ino, .size = (uint64_t)sb.st_size,
		.mtime_ns = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
			    (uint64_t)sb.st_mtim.tv_nsec,
	};
	return 0;
}

/* NAME's version; the master list's is master.bin's and master.delta's. */
static int name_id(const struct svrcert_store *st, const char *name,
		   char *path, size_t len, struct svrcert_file_id *id)
{
	struct svrcert_file_id side;
	char dpath[4400];
	int ret;

	if (store_path(st, name, path, len))
		return -EINVAL;
	ret = file_id(path, id);
	if (ret || strcmp(name, SVRCERT_MASTER_FILE))
		return ret;
	if (store_path(st, SVRCERT_MASTER_DELTA, dpath, sizeof(dpath)))
		return -EINVAL;
	ret = file_id(dpath, &side);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	id->side_ino = side.ino;
	id->side_size = side.size;
	id->side_mtime_ns = side.mtime_ns;
	return 0;
}

static bool id_eq(const struct svrcert_file_id *a,
		  const struct svrcert_file_id *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool is_vouched(const struct svrcert_held *h, const char *name,
		       const struct svrcert_file_id *id)
{
	for (size_t i = 0; h->lending && i < h->nvouched; i++)
		if (!strcmp(h->vouched[i].name, name))
			return id_eq(&h->vouched[i].id, id);
	return false;
}

static int parse_crl(const char *path, struct svrcert_keyset *ks, char *err,
		     size_t errlen)
{
	X509_CRL *crl = trust_crl_load(path);
	int ret;

	/* A held CRL that no longer parses must not silently un-revoke. */
	if (!crl) {
		snprintf(err, errlen, "held CRL %s does not parse", path);
		return -EBADMSG;
	}
	ret = svrcert_keyset_add_crl(ks, crl);
	X509_CRL_free(crl);
	return ret;
}

static int parse_master(const char *path, struct svrcert_keyset *ks,
			char *err, size_t errlen)
{
	struct svrcert_master m = { 0 };
	char why[200];
	int ret = svrcert_master_load(path, &m, why, sizeof(why));

	if (ret) {
		/* A damaged list must not silently un-revoke anything. */
		snprintf(err, errlen, "master revocation list %s: %s", path, why);
		return ret;
	}
	for (size_t i = 0; !ret && i < m.n; i++)
		ret = svrcert_keyset_add(ks, m.keys[i]);
	svrcert_master_release(&m);
	return ret;
}

static struct svrcert_held_file *list_add(struct held_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *v = reallocarray(l->v, cap, sizeof(*l->v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

/* NAME (relative to ST) into L: skipped when vouched for or gone, taken
 * over from H when read in this version before, else parsed. */
static int take(struct svrcert_held *h, const struct svrcert_store *st,
		const char *name, struct held_list *l, char *err,
		size_t errlen)
{
	struct svrcert_held_file *f;
	struct svrcert_file_id id;
	char path[4400];
	int ret;

	ret = name_id(st, name, path, sizeof(path), &id);
	if (ret == -ENOENT)
		return 0;	/* replaced or removed since the readdir */
	if (!ret && is_vouched(h, name, &id))
		return 0;
	f = ret ? NULL : list_add(l);
	if (!f)
		return ret ? ret : -ENOMEM;
	for (size_t i = 0; i < h->nfiles; i++) {
		if (!h->files[i].kept && !strcmp(h->files[i].name, name) &&
		    id_eq(&h->files[i].id, &id)) {
			*f = h->files[i];
			f->fresh = false;
			h->files[i].kept = true;
			return 0;
		}
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->id = id;
	f->fresh = true;
	svrcert_keyset_init(&f->keys);
	h->parsed++;
	return strcmp(name, SVRCERT_MASTER_FILE) ?
	       parse_crl(path, &f->keys, err, errlen) :
	       parse_master(path, &f->keys, err, errlen);
}

/* Every held CRL (the names a completed write leaves) and the master list. */
static int take_all(struct svrcert_held *h, const struct svrcert_store *st,
		    struct held_list *l, char *err, size_t errlen)
{
	char dir[4200], name[SVRCERT_HELD_NAME_MAX];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (store_path(st, TRUST_DIR_CRL, dir, sizeof(dir)))
		return -EINVAL;
	d = opendir(dir);
	if (!d && errno != ENOENT)
		ret = -errno;
	while (!ret && d && (de = readdir(d))) {
		if (!svrcert_master_crl_name_ok(de->d_name))
			continue;
		/* d_name is at most NAME_MAX: every held CRL is read */
		snprintf(name, sizeof(name), TRUST_DIR_CRL "/%s", de->d_name);
		ret = take(h, st, name, l, err, errlen);
	}
	if (d)
		closedir(d);
	return ret ? ret : take(h, st, SVRCERT_MASTER_FILE, l, err, errlen);
}

/* The union of the files' keys, searched by svrcert_held_contains. */
static int rebuild_read(struct svrcert_held *h)
{
	struct svrcert_keyset ks;
	int ret = 0;

	svrcert_keyset_init(&ks);
	for (size_t i = 0; !ret && i < h->nfiles; i++)
		for (size_t k = 0; !ret && k < h->files[i].keys.n; k++)
			ret = svrcert_keyset_add(&ks, h->files[i].keys.keys[k]);
	if (ret) {
		svrcert_keyset_free(&ks);
		return ret;
	}
	svrcert_keyset_free(&h->read);
	h->read = ks;
	return 0;
}

int svrcert_held_refresh(struct svrcert_held *h, const struct svrcert_store *st,
			 char *err, size_t errlen)
{
	struct held_list l = { 0 };
	bool changed = false;
	int ret;

	err[0] = '\0';
	for (size_t i = 0; i < h->nfiles; i++)
		h->files[i].kept = false;
	ret = take_all(h, st, &l, err, errlen);
	if (!ret) {
		for (size_t i = 0; i < l.n; i++)
			changed |= l.v[i].fresh;
		for (size_t i = 0; i < h->nfiles; i++) {
			changed |= !h->files[i].kept;
			if (!h->files[i].kept)
				svrcert_keyset_free(&h->files[i].keys);
		}
		free(h->files);
		h->files = l.v;
		h->nfiles = l.n;
		l.v = NULL;
		l.n = 0;
		ret = changed ? rebuild_read(h) : 0;
		h->gen += changed;
	}
	if (ret && !err[0])
		snprintf(err, errlen, "held revocations: %s", strerror(-ret));
	/* What this refresh had parsed; H's files are as they were. */
	files_free(l.v, l.n, true);
	return ret;
}

bool svrcert_held_contains(struct svrcert_held *h,
			   const uint8_t key[SVRCERT_DIGEST_LEN])
{
	return (h->lending && svrcert_revkeys_contains(h->lent, h->nlent, key)) ||
	       svrcert_keyset_contains(&h->read, key);
}

bool svrcert_held_revoked(const uint8_t revkey[SVRCERT_DIGEST_LEN],
			  const uint8_t fp[SVRCERT_DIGEST_LEN], void *ctx)
{
	struct svrcert_held *h = ctx;

	return svrcert_held_contains(h, revkey) || svrcert_held_contains(h, fp);
}

void svrcert_held_lend(struct svrcert_held *h, const svrcert_revkey_t *keys,
		       size_t n)
{
	h->lent = keys;
	h->nlent = n;
	h->lending = true;
	h->nvouched = 0;
	h->gen++;
}

void svrcert_held_unlend(struct svrcert_held *h)
{
	h->lent = NULL;
	h->nlent = 0;
	h->lending = false;
	h->nvouched = 0;
	h->gen++;
}

/* Every key of A (ascending) in B (ascending): one merge walk. */
static bool subset(const svrcert_revkey_t *a, size_t na,
		   const svrcert_revkey_t *b, size_t nb)
{
	size_t j = 0;

	if (a == b && na <= nb)	/* the lent list itself: master.bin */
		return true;
	for (size_t i = 0; i < na; i++) {
		while (j < nb && memcmp(b[j], a[i], sizeof(a[i])) < 0)
			j++;
		if (j == nb || memcmp(b[j], a[i], sizeof(a[i])))
			return false;
	}
	return true;
}

bool svrcert_held_vouch(struct svrcert_held *h, const struct svrcert_store *st,
			const char *name, const svrcert_revkey_t *fkeys,
			size_t nf)
{
	struct svrcert_file_id id;
	char path[4400];
	size_t i;

	if (!h->lending || strlen(name) >= sizeof(h->vouched[0].name) ||
	    !subset(fkeys, nf, h->lent, h->nlent) ||
	    name_id(st, name, path, sizeof(path), &id))
		return false;
	for (i = 0; i < h->nvouched; i++)
		if (!strcmp(h->vouched[i].name, name))
			break;
	if (i == h->capvouched) {
		size_t cap = i ? i * 2 : 8;
		void *v = reallocarray(h->vouched, cap, sizeof(*h->vouched));

		if (!v)
			return false;
		h->vouched = v;
		h->capvouched = cap;
	}
	snprintf(h->vouched[i].name, sizeof(h->vouched[i].name), "%s", name);
	h->vouched[i].id = id;
	h->nvouched += i == h->nvouched;
	h->gen++;
	return true;
}
