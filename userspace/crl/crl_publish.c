// SPDX-License-Identifier: GPL-2.0
/*
 * Publish the verified CRLs, the master list and index.json to a directory
 * (layout in crl_master.h). Every file goes through atomic_write_file, and
 * index.json is written last: whoever reads the index finds the files it
 * names complete, and a crash anywhere leaves the previous set readable.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "crl_master.h"
#include "lib/store.h"
#include "lib/util.h"

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	int i;

	out[0] = '\0';
	if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
		return;
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%s", "");
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* One held CRL in index.json; PREV: of an issuer the URL served before. */
static json_t *crl_entry(const struct svrcert_crl_source *s,
			 const struct svrcert_crl *crl, const uint8_t *der,
			 size_t der_len, const char *fname, bool prev,
			 time_t now)
{
	char file[128], num[48], hex[65], tu[32], nu[32];
	json_t *e;

	snprintf(file, sizeof(file), "%s/%s", SVRCERT_MASTER_CRL_DIR, fname);
	svrcert_crl_number_hex(crl, num, sizeof(num));
	sha256_hex(der, der_len, hex);
	iso_time(crl->this_update, tu, sizeof(tu));
	iso_time(crl->next_update, nu, sizeof(nu));
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:b}",
		      "file", file, "url", s->url, "issuer", crl->issuer_text,
		      "crl_number", num, "this_update", tu, "next_update", nu,
		      "entries", (json_int_t)crl->entries,
		      "size", (json_int_t)der_len, "sha256", hex,
		      "stale", now > crl->next_update);
	if (e && prev)
		json_object_set_new(e, "previous_issuer", json_true());
	return e;
}

/* S's held CRLs appended to CRLS: the current one, then prev[]. */
static int crl_entries(json_t *crls, const struct svrcert_crl_source *s,
		       time_t now)
{
	char fname[96];
	size_t j;

	json_t *e;

	snprintf(fname, sizeof(fname), "%s.crl", s->name);
	e = s->has_good ? crl_entry(s, &s->crl, s->der, s->der_len, fname,
				    false, now) : NULL;
	if (e && s->has_delta) {
		/* the combined state is master.bin; the delta as signed here */
		snprintf(fname, sizeof(fname), "%s" SVRCERT_CRL_DELTA_SUFFIX,
			 s->name);
		json_object_set_new(e, "delta", crl_entry(s, &s->delta.crl,
			s->delta.der, s->delta.der_len, fname, false, now));
		json_object_set_new(e, "effective_keys",
				    json_integer((json_int_t)s->neff));
	}
	if (s->has_good && json_array_append_new(crls, e))
		return -ENOMEM;
	for (j = 0; j < s->nprev; j++) {
		svrcert_crl_source_prev_file(s, &s->prev[j], fname,
					     sizeof(fname));
		if (json_array_append_new(crls, crl_entry(s, &s->prev[j].crl,
				s->prev[j].der, s->prev[j].der_len, fname,
				true, now)))
			return -ENOMEM;
	}
	return 0;
}

static json_t *learned_json(const struct svrcert_learned *l)
{
	size_t revoked = svrcert_learned_count(l, SVRCERT_LEARNED_REVOKED);

	return json_pack("{s:s, s:I, s:I, s:I}", "file", SVRCERT_LEARNED_FILE,
			 "revoked", (json_int_t)revoked,
			 "expired", (json_int_t)svrcert_learned_count(l,
						SVRCERT_LEARNED_EXPIRED),
			 "in_master", (json_int_t)revoked);
}

/* "master": the list's keys, master.bin's payload digest and size, and
 * master.delta's counts when the list is master.bin with it applied. */
static json_t *master_json(const struct svrcert_master *m,
			   const struct svrcert_keylog *delta)
{
	const uint8_t *base = delta ? delta->base_check :
			      m->buf + SVRCERT_MASTER_OFF_SHA256;
	char hex[65];
	json_t *j;

	svrcert_hex(base, 32, hex);
	j = json_pack("{s:s, s:I, s:s, s:I}", "file", SVRCERT_MASTER_FILE,
		      "keys", (json_int_t)m->n, "sha256", hex, "file_keys",
		      (json_int_t)(delta ? delta->base_n : m->n));
	if (j && delta)
		json_object_set_new(j, "delta", json_pack("{s:s, s:I, s:I}",
				    "file", SVRCERT_MASTER_DELTA,
				    "added", (json_int_t)delta->nadded,
				    "removed", (json_int_t)delta->nremoved));
	return j;
}

static json_t *index_json(struct svrcert_crl_source *const *srcs, size_t nsrc,
			  const struct svrcert_learned *learned,
			  const struct svrcert_master *m,
			  const struct svrcert_keylog *delta, time_t now)
{
	char gen[32];
	json_t *crls = json_array(), *idx;
	size_t i;

	iso_time(now, gen, sizeof(gen));
	for (i = 0; crls && i < nsrc; i++)
		if (crl_entries(crls, srcs[i], now)) {
			json_decref(crls);
			return NULL;
		}
	idx = json_pack("{s:i, s:s, s:o, s:o}",
			"version", SVRCERT_MASTER_VERSION, "generated", gen,
			"master", master_json(m, delta), "crls", crls);
	if (idx && learned &&
	    json_object_set_new(idx, "learned", learned_json(learned))) {
		json_decref(idx);
		return NULL;
	}
	return idx;
}

bool svrcert_master_crl_name_ok(const char *name)
{
	size_t l = strlen(name);

	if (!l || name[0] == '.' || strstr(name, ".tmp."))
		return false;
	return (l > 4 && !strcmp(name + l - 4, ".crl")) ||
	       (l > 4 && !strcmp(name + l - 4, ".pem")) ||
	       (l > 4 && !strcmp(name + l - 4, ".der"));
}

/* atomic_write_file's temp name: "<final>.tmp." and mkostemp's 6 chars. */
static bool is_temp_of(const char *name, const char *final)
{
	size_t l = strlen(name), fl = final ? strlen(final) : 0;
	const char *t = l >= 11 ? name + l - 11 : NULL;

	if (!t || strncmp(t, ".tmp.", 5))
		return false;
	return !final || (fl == (size_t)(t - name) && !strncmp(name, final, fl));
}

/* Removes in DIR the temp files of FINALS (NULL-terminated; NULL: any). */
static int remove_temps(const char *dir, const char *const *finals)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		const char *const *f = finals;
		bool temp = !finals && is_temp_of(de->d_name, NULL);

		for (; f && *f && !temp; f++)
			temp = is_temp_of(de->d_name, *f);
		if (!temp || snprintf(path, sizeof(path), "%s/%s", dir,
				      de->d_name) >= (int)sizeof(path))
			continue;
		if (!unlink(path))
			n++;
	}
	closedir(d);
	return n;
}

int svrcert_master_cleanup(const char *dir)
{
	static const char *const top[] = { SVRCERT_MASTER_FILE,
		SVRCERT_MASTER_DELTA, SVRCERT_MASTER_INDEX, SVRCERT_LEARNED_FILE,
		NULL };
	char crldir[PATH_MAX];
	int a, b;

	if (snprintf(crldir, sizeof(crldir), "%s/%s", dir,
		     SVRCERT_MASTER_CRL_DIR) >= (int)sizeof(crldir))
		return -ENAMETOOLONG;
	a = remove_temps(crldir, NULL);
	b = remove_temps(dir, top);
	return a < 0 ? a : b < 0 ? b : a + b;
}

static bool is_current(const char *fname, struct svrcert_crl_source *const *srcs,
		       size_t nsrc)
{
	char prev[96];
	size_t i, j;

	for (i = 0; i < nsrc; i++) {
		if (srcs[i]->has_good && strlen(fname) == 36 &&
		    !strncmp(fname, srcs[i]->name, 32) && !strcmp(fname + 32, ".crl"))
			return true;
		if (srcs[i]->has_delta && !strncmp(fname, srcs[i]->name, 32) &&
		    !strcmp(fname + 32, SVRCERT_CRL_DELTA_SUFFIX))
			return true;
		for (j = 0; j < srcs[i]->nprev; j++) {
			svrcert_crl_source_prev_file(srcs[i], &srcs[i]->prev[j],
						     prev, sizeof(prev));
			if (!strcmp(fname, prev))
				return true;
			/* its delta: "<...>.crl" -> "<...>.delta" */
			if (srcs[i]->prev[j].delta_der &&
			    strlen(fname) == strlen(prev) + 2 &&
			    !strncmp(fname, prev, strlen(prev) - 4) &&
			    !strcmp(fname + strlen(prev) - 4,
				    SVRCERT_CRL_DELTA_SUFFIX))
				return true;
		}
	}
	return false;
}

/* CRLs of sources no longer configured (or no longer good) go away. */
static void prune(const char *crldir, struct svrcert_crl_source *const *srcs,
		  size_t nsrc)
{
	DIR *d = opendir(crldir);
	struct dirent *de;
	char path[PATH_MAX];

	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);

		bool delta = l > 6 && !strcmp(de->d_name + l - 6,
					      SVRCERT_CRL_DELTA_SUFFIX);

		if (((l < 5 || strcmp(de->d_name + l - 4, ".crl")) && !delta) ||
		    is_current(de->d_name, srcs, nsrc))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", crldir, de->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	if (d)
		closedir(d);
}

static int write_one(const char *path, const uint8_t *der, size_t len,
		     char *err, size_t errlen)
{
	int rc = atomic_write_file(path, der, len, STORE_MODE_PUBLIC);

	return rc ? svrcert_fail(err, errlen, rc, "cannot write %s: %s", path,
				 strerror(-rc)) : 0;
}

/* Each source's current CRL and its previous issuers' (prev[]): the
 * latter keep their CRL numbers across restarts (restore). */
static int write_crls(const char *crldir, struct svrcert_crl_source *const *srcs,
		      size_t nsrc, char *err, size_t errlen)
{
	char path[PATH_MAX + 128], name[96];
	size_t i, j;
	int rc;

	for (i = 0; i < nsrc; i++) {
		if (srcs[i]->has_good) {
			snprintf(path, sizeof(path), "%s/%s.crl", crldir,
				 srcs[i]->name);
			rc = write_one(path, srcs[i]->der, srcs[i]->der_len,
				       err, errlen);
			if (rc)
				return rc;
		}
		if (srcs[i]->has_delta) {
			snprintf(path, sizeof(path), "%s/%s"
				 SVRCERT_CRL_DELTA_SUFFIX, crldir, srcs[i]->name);
			rc = write_one(path, srcs[i]->delta.der,
				       srcs[i]->delta.der_len, err, errlen);
			if (rc)
				return rc;
		}
		for (j = 0; j < srcs[i]->nprev; j++) {
			svrcert_crl_source_prev_file(srcs[i], &srcs[i]->prev[j],
						     name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s", crldir, name);
			rc = write_one(path, srcs[i]->prev[j].der,
				       srcs[i]->prev[j].der_len, err, errlen);
			if (rc)
				return rc;
			if (!srcs[i]->prev[j].delta_der)
				continue;
			snprintf(path, sizeof(path), "%s/%.*s"
				 SVRCERT_CRL_DELTA_SUFFIX, crldir,
				 (int)strlen(name) - 4, name);
			rc = write_one(path, srcs[i]->prev[j].delta_der,
				       srcs[i]->prev[j].delta_der_len, err,
				       errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int svrcert_master_publish(const char *dir, struct svrcert_crl_source *const *srcs,
			   size_t nsrc, const struct svrcert_master *m,
			   time_t now, char *err, size_t errlen)
{
	return svrcert_master_publish_learned(dir, srcs, nsrc, NULL, m, now,
					      err, errlen);
}

int svrcert_master_publish_learned(const char *dir,
				   struct svrcert_crl_source *const *srcs,
				   size_t nsrc,
				   const struct svrcert_learned *learned,
				   const struct svrcert_master *m, time_t now,
				   char *err, size_t errlen)
{
	return svrcert_master_publish_log(dir, srcs, nsrc, learned, m, NULL,
					  now, err, errlen);
}

struct base_ctx {
	const char *path;
	const struct svrcert_master *m;
};

static int write_base(void *ctx, uint8_t check[32], char *err, size_t errlen)
{
	const struct base_ctx *c = ctx;
	int rc = svrcert_master_write(c->path, c->m);

	if (rc)
		return svrcert_fail(err, errlen, rc, "cannot write %s: %s",
				    c->path, strerror(-rc));
	memcpy(check, c->m->buf + SVRCERT_MASTER_OFF_SHA256, 32);
	return 0;
}

/*
 * The list: master.bin and master.delta as LOG says (svrcert_keylog_write;
 * without LOG, master.bin and no delta). *DELTA: LOG when the list is
 * master.bin with master.delta applied, else NULL.
 */
static int write_list(const char *dir, const struct svrcert_master *m,
		      struct svrcert_keylog *log,
		      const struct svrcert_keylog **delta, char *err,
		      size_t errlen)
{
	char path[PATH_MAX + 64], dpath[PATH_MAX + 64];
	uint8_t state[SVRCERT_KEYDELTA_STATE_LEN] = { 0 };
	uint64_t generated = htobe64((uint64_t)m->generated);
	struct base_ctx c = { .path = path, .m = m };
	struct svrcert_keylog none = { 0 };
	bool wrote_delta;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, SVRCERT_MASTER_FILE);
	snprintf(dpath, sizeof(dpath), "%s/%s", dir, SVRCERT_MASTER_DELTA);
	memcpy(state, &generated, sizeof(generated));
	rc = svrcert_keylog_write(log ? log : &none, dpath, m->n, state,
				  write_base, &c, &wrote_delta, err, errlen);
	svrcert_keylog_release(&none);
	*delta = !rc && wrote_delta ? log : NULL;
	return rc;
}

int svrcert_master_publish_log(const char *dir,
			       struct svrcert_crl_source *const *srcs,
			       size_t nsrc,
			       const struct svrcert_learned *learned,
			       const struct svrcert_master *m,
			       struct svrcert_keylog *log, time_t now,
			       char *err, size_t errlen)
{
	char crldir[PATH_MAX], path[PATH_MAX + 64];
	const struct svrcert_keylog *delta;
	json_t *idx;
	char *text;
	int rc;

	if (snprintf(crldir, sizeof(crldir), "%s/%s", dir, SVRCERT_MASTER_CRL_DIR) >=
	    (int)sizeof(crldir) - 64)
		return svrcert_fail(err, errlen, -ENAMETOOLONG, "publish directory name too long");
	rc = make_dir(dir) ?: make_dir(crldir);
	if (rc)
		return svrcert_fail(err, errlen, rc, "cannot create %s: %s", crldir, strerror(-rc));
	rc = write_crls(crldir, srcs, nsrc, err, errlen) ?:
	     write_list(dir, m, log, &delta, err, errlen);
	if (rc)
		return rc;
	idx = index_json(srcs, nsrc, learned, m, delta, now);
	text = idx ? json_dumps(idx, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(idx);
	if (!text)
		return svrcert_fail(err, errlen, -ENOMEM, "cannot build index.json");
	snprintf(path, sizeof(path), "%s/%s", dir, SVRCERT_MASTER_INDEX);
	rc = atomic_write_file(path, text, strlen(text), STORE_MODE_PUBLIC);
	free(text);
	if (rc)
		return svrcert_fail(err, errlen, rc, "cannot write %s: %s", path, strerror(-rc));
	prune(crldir, srcs, nsrc);
	/* Our own temp files are renamed by now: any left are a killed
	 * publish's (one publisher per directory). */
	svrcert_master_cleanup(dir);
	return 0;
}

json_t *svrcert_master_published_crls(const char *dir)
{
	char path[PATH_MAX];
	json_t *idx, *crls;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SVRCERT_MASTER_INDEX) >=
	    (int)sizeof(path))
		return json_array();
	idx = json_load_file(path, 0, NULL);
	crls = json_incref(json_object_get(idx, "crls"));
	json_decref(idx);
	if (json_is_array(crls))
		return crls;
	json_decref(crls);
	return json_array();
}
