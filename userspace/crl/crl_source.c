// SPDX-License-Identifier: GPL-2.0
/* One CRL URL's state; see crl_source.h for the rules. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crl_master.h"
#include "crl_source.h"
#include "crl_walk_int.h"
#include "lib/util.h"

int svrcert_crl_source_init(struct svrcert_crl_source *s, const char *url)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	memset(s, 0, sizeof(*s));
	if (!url || strlen(url) >= sizeof(s->url))
		return -EINVAL;
	snprintf(s->url, sizeof(s->url), "%s", url);
	if (!EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL))
		return -ENOMEM;
	for (i = 0; i < 16; i++)
		snprintf(s->name + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void held_release(struct svrcert_crl_held *h)
{
	svrcert_crl_release(&h->crl);
	free(h->der);
	free(h->delta_der);
	free(h->eff);
	memset(h, 0, sizeof(*h));
}

void svrcert_crl_source_release(struct svrcert_crl_source *s)
{
	size_t i;

	svrcert_crl_release(&s->crl);
	free(s->der);
	s->der = NULL;
	s->der_len = 0;
	s->has_good = false;
	for (i = 0; i < s->nprev; i++)
		held_release(&s->prev[i]);
	s->nprev = 0;
	held_release(&s->delta);
	free(s->eff);
	s->eff = NULL;
	s->neff = 0;
	s->has_delta = false;
}

static bool same_issuer(const struct svrcert_crl *a, const struct svrcert_crl *b)
{
	return a->issuer_der_len == b->issuer_der_len &&
	       !memcmp(a->issuer_der, b->issuer_der, a->issuer_der_len);
}

/* The previous issuer's CRL of NW's issuer, -1 when none is held. */
static int find_prev(const struct svrcert_crl_source *s,
		     const struct svrcert_crl *nw)
{
	size_t i;

	for (i = 0; i < s->nprev; i++)
		if (same_issuer(&s->prev[i].crl, nw))
			return (int)i;
	return -1;
}

/*
 * May NW be held? The order rules of crl_source.h against HELD, the CRL
 * held of the same issuer (NULL: none). CRL numbers and dates order the
 * CRLs of one issuer only; each issuer's sequence is kept apart.
 */
static int check_order(const struct svrcert_crl *held,
		       const struct svrcert_crl *nw, time_t now,
		       char *err, size_t errlen)
{
	char a[48], b[48];

	if (nw->this_update > now + SVRCERT_CRL_MAX_SKEW)
		return svrcert_fail(err, errlen, -ERANGE,
			    "thisUpdate is more than %d h in the future",
			    SVRCERT_CRL_MAX_SKEW / 3600);
	if (!held)
		return 0;
	if (svrcert_crl_number_cmp(nw, held) < 0) {
		svrcert_crl_number_hex(nw, a, sizeof(a));
		svrcert_crl_number_hex(held, b, sizeof(b));
		return svrcert_fail(err, errlen, -ESTALE,
			    "CRL number %s is lower than the held CRL number %s",
			    a[0] ? a : "(none)", b);
	}
	if (nw->this_update < held->this_update)
		return svrcert_fail(err, errlen, -ESTALE,
			    "thisUpdate is older than the held CRL's");
	return 0;
}

/* The CRL NW of S's URL is checked against (NULL: none), and whether there
 * is room for it: -EMLINK when it would be one issuer too many. */
static int held_for(const struct svrcert_crl_source *s,
		    const struct svrcert_crl *nw, const struct svrcert_crl **held,
		    char *err, size_t errlen)
{
	int k;

	*held = NULL;
	if (!s->has_good)
		return 0;
	if (same_issuer(nw, &s->crl)) {
		*held = &s->crl;
		return 0;
	}
	k = find_prev(s, nw);
	if (k >= 0)
		*held = &s->prev[k].crl;
	else if (s->nprev >= SVRCERT_CRL_PREV_MAX)
		return svrcert_fail(err, errlen, -EMLINK, "this URL served %d "
				    "other issuers already; %s not held",
				    SVRCERT_CRL_PREV_MAX, nw->issuer_text);
	return 0;
}

static bool same_keys(const struct svrcert_crl *a, const struct svrcert_crl *b)
{
	return a->nkeys == b->nkeys &&
	       (!a->nkeys || !memcmp(a->keys, b->keys, a->nkeys * sizeof(*a->keys)));
}

/* Held and published form is DER; a PEM body is unwrapped first. */
static int to_der(const uint8_t *buf, size_t len, uint8_t **der,
		  size_t *der_len)
{
	const uint8_t *p = buf;
	unsigned char *d = NULL;
	long dl = 0;
	BIO *bio;
	int ok;

	while (p < buf + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if ((size_t)(buf + len - p) < 10 || memcmp(p, "-----BEGIN", 10)) {
		*der = malloc(len ? len : 1);
		if (!*der)
			return -ENOMEM;
		memcpy(*der, buf, len);
		*der_len = len;
		return 0;
	}
	bio = BIO_new_mem_buf(buf, len > INT_MAX ? INT_MAX : (int)len);
	ok = bio && PEM_bytes_read_bio(&d, &dl, NULL, PEM_STRING_X509_CRL, bio,
				       NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!ok)
		return -EBADMSG;
	*der = malloc(dl ? (size_t)dl : 1);
	if (*der)
		memcpy(*der, d, (size_t)dl);
	*der_len = (size_t)dl;
	OPENSSL_free(d);
	return *der ? 0 : -ENOMEM;
}

/* A delta CRL is never a source's complete CRL. */
static int not_delta(const struct svrcert_crl *nw, char *err, size_t errlen)
{
	if (!nw->delta)
		return 0;
	return svrcert_fail(err, errlen, -EPROTONOSUPPORT, "delta CRL "
			    "(deltaCRLIndicator) served as a complete CRL: "
			    "configure the base CRL's URL (its freshestCRL "
			    "names the delta)");
}

/* Big-endian minimal unsigned integers A and B compared. */
static int num_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		   size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen ? memcmp(a, b, alen) : 0;
}

/* Does delta D apply to base B (RFC 5280 5.2.4)? Same issuer, B's number
 * at least D's BaseCRLNumber, D's number above B's. */
static bool delta_applies(const struct svrcert_crl *d,
			  const struct svrcert_crl *b)
{
	return same_issuer(d, b) && b->has_crl_number && d->has_crl_number &&
	       num_cmp(b->crl_number, b->crl_number_len, d->base_number,
		       d->base_number_len) >= 0 &&
	       svrcert_crl_number_cmp(d, b) > 0;
}

/* *EFF = (B's keys - D's removed) + D's keys, sorted, unique. */
static int combine(const struct svrcert_crl *b, const struct svrcert_crl *d,
		   svrcert_revkey_t **out, size_t *nout)
{
	svrcert_revkey_t *eff;
	size_t i, n = 0;

	eff = malloc((b->nkeys + d->nkeys + 1) * sizeof(*eff));
	if (!eff)
		return -ENOMEM;
	for (i = 0; i < b->nkeys; i++)
		if (!svrcert_revkeys_contains(d->removed, d->nremoved,
					      b->keys[i]))
			memcpy(eff[n++], b->keys[i], SVRCERT_REVKEY_LEN);
	if (d->nkeys)
		memcpy(eff[n], d->keys, d->nkeys * SVRCERT_REVKEY_LEN);
	*out = eff;
	*nout = svrcert_revkeys_sort_unique(eff, n + d->nkeys);
	return 0;
}

static int delta_apply(struct svrcert_crl_source *s)
{
	svrcert_revkey_t *eff;
	size_t n;
	int rc = combine(&s->crl, &s->delta.crl, &eff, &n);

	if (rc)
		return rc;
	free(s->eff);
	s->eff = eff;
	s->neff = n;
	return 0;
}

const svrcert_revkey_t *svrcert_crl_held_keys(const struct svrcert_crl_held *h,
					      size_t *n)
{
	*n = h->eff ? h->neff : h->crl.nkeys;
	return h->eff ? h->eff : h->crl.keys;
}

static void delta_drop(struct svrcert_crl_source *s)
{
	held_release(&s->delta);
	free(s->eff);
	s->eff = NULL;
	s->neff = 0;
	s->has_delta = false;
	s->delta_etag[0] = s->delta_last_modified[0] = '\0';
}

/* A new current CRL: the held delta still applies to it, or it goes (a
 * newer base includes what the delta said). */
static void delta_rebase(struct svrcert_crl_source *s)
{
	if (s->has_delta && (!delta_applies(&s->delta.crl, &s->crl) ||
			     delta_apply(s)))
		delta_drop(s);
}

const svrcert_revkey_t *svrcert_crl_source_keys(const struct svrcert_crl_source *s,
						size_t *n)
{
	*n = s->has_delta ? s->neff : s->crl.nkeys;
	return s->has_delta ? s->eff : s->crl.keys;
}

static int check_delta(const struct svrcert_crl_source *s,
		       const struct svrcert_crl *d, char *err, size_t errlen)
{
	char a[48], b[48];

	if (!d->delta)
		return svrcert_fail(err, errlen, -EBADMSG, "the freshestCRL URL "
				    "served a complete CRL, not a delta CRL");
	if (!s->has_good || !same_issuer(d, &s->crl))
		return svrcert_fail(err, errlen, -EBADMSG, "delta CRL of %s is "
				    "not of the base CRL's issuer", d->issuer_text);
	svrcert_crl_number_hex(d, a, sizeof(a));
	svrcert_crl_number_hex(&s->crl, b, sizeof(b));
	if (!delta_applies(d, &s->crl))
		return svrcert_fail(err, errlen, -ESTALE, "delta CRL %s does "
				    "not apply to the held base CRL %s (its "
				    "base is newer, or it is not newer)", a, b);
	if (s->has_delta && svrcert_crl_number_cmp(d, &s->delta.crl) < 0)
		return svrcert_fail(err, errlen, -ESTALE, "delta CRL number %s "
				    "is lower than the held delta's", a);
	return 0;
}

int svrcert_crl_source_offer_delta(struct svrcert_crl_source *s,
				   const uint8_t *buf, size_t len,
				   STACK_OF(X509) *trusted, time_t now,
				   const char *etag, const char *last_modified,
				   bool *replaced, char *err, size_t errlen)
{
	struct svrcert_crl_held h = { 0 }, old = s->delta;
	const svrcert_revkey_t *k0;
	svrcert_revkey_t *oldeff = s->eff;
	size_t n0, n1;
	bool had = s->has_delta;
	int rc;

	*replaced = false;
	err[0] = '\0';
	k0 = svrcert_crl_source_keys(s, &n0);
	rc = to_der(buf, len, &h.der, &h.der_len);
	if (rc)
		svrcert_fail(err, errlen, rc, "delta: not a CRL");
	else
		rc = svrcert_crl_walk(h.der, h.der_len, trusted, &h.crl, err,
				      errlen) ?: check_delta(s, &h.crl, err,
							    errlen);
	if (!rc) {
		s->delta = h;
		s->eff = NULL;	/* the old one is compared below */
		s->has_delta = true;
		rc = delta_apply(s);
		if (rc) {
			s->delta = old;
			s->eff = oldeff;
			s->has_delta = had;
			svrcert_fail(err, errlen, rc, "out of memory");
		}
	}
	if (rc) {
		held_release(&h);
		return rc;
	}
	svrcert_crl_source_keys(s, &n1);
	*replaced = n0 != n1 || (n1 && memcmp(k0, s->eff, n1 * sizeof(*k0)));
	held_release(&old);
	free(oldeff);
	snprintf(s->delta_etag, sizeof(s->delta_etag), "%s", etag ? etag : "");
	snprintf(s->delta_last_modified, sizeof(s->delta_last_modified), "%s",
		 last_modified ? last_modified : "");
	(void)now;
	return 0;
}

/* NW becomes the current CRL. One of another issuer than the current does
 * not remove the current one: it moves to prev[], replacing the older CRL
 * of its own issuer held there (no rollback, crl_source.h). */
static void hold(struct svrcert_crl_source *s, struct svrcert_crl *nw,
		 uint8_t *der, size_t der_len)
{
	struct svrcert_crl_held cur = { .crl = s->crl, .der = s->der,
					.der_len = s->der_len };
	int k = s->has_good && !same_issuer(nw, &s->crl) ? find_prev(s, nw) : -1;

	s->issuer_changed = s->has_good && !same_issuer(nw, &s->crl);
	if (!s->issuer_changed) {
		held_release(&cur);
	} else {
		snprintf(s->prev_issuer, sizeof(s->prev_issuer), "%s",
			 cur.crl.issuer_text);
		if (s->has_delta) {	/* its delta's revocations stay too */
			cur.delta_der = s->delta.der;
			cur.delta_der_len = s->delta.der_len;
			cur.eff = s->eff;
			cur.neff = s->neff;
			s->delta.der = NULL;
			s->eff = NULL;
			delta_drop(s);
		}
		if (k >= 0) {
			held_release(&s->prev[k]);
			s->prev[k] = cur;
		} else {
			s->prev[s->nprev++] = cur;	/* room: held_for() */
		}
	}
	s->crl = *nw;
	s->der = der;
	s->der_len = der_len;
	s->has_good = true;
}

int svrcert_crl_source_offer(struct svrcert_crl_source *s, const uint8_t *buf,
			     size_t len, STACK_OF(X509) *trusted, time_t now,
			     const char *etag, const char *last_modified,
			     bool *replaced, char *err, size_t errlen)
{
	const struct svrcert_crl *held = NULL;
	struct svrcert_crl nw = { 0 };
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc;

	*replaced = false;
	err[0] = '\0';
	rc = to_der(buf, len, &der, &der_len);
	if (rc)
		svrcert_fail(err, errlen, rc, "not a CRL: %s", rc == -ENOMEM ?
		     "out of memory" : "PEM without a valid X509 CRL block");
	else
		rc = svrcert_crl_walk(der, der_len, trusted, &nw, err, errlen) ?:
		     not_delta(&nw, err, errlen) ?:
		     held_for(s, &nw, &held, err, errlen) ?:
		     check_order(held, &nw, now, err, errlen);
	if (rc) {
		svrcert_crl_release(&nw);
		free(der);
		svrcert_crl_source_failed(s, rc, err, now);
		return rc;
	}
	*replaced = !s->has_good || !same_issuer(&nw, &s->crl) ||
		    !same_keys(&nw, &s->crl);
	hold(s, &nw, der, der_len);
	delta_rebase(s);
	snprintf(s->etag, sizeof(s->etag), "%s", etag ? etag : "");
	snprintf(s->last_modified, sizeof(s->last_modified), "%s",
		 last_modified ? last_modified : "");
	if (*replaced)
		s->last_change = now;
	svrcert_crl_source_not_modified(s, now);
	return 0;
}

void svrcert_crl_source_prev_file(const struct svrcert_crl_source *s,
				  const struct svrcert_crl_held *h,
				  char *out, size_t len)
{
	unsigned char md[32];
	char hex[17] = "";
	int i;

	if (EVP_Digest(h->crl.issuer_der, h->crl.issuer_der_len, md, NULL,
		       EVP_sha256(), NULL))
		for (i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(out, len, "%s-%s.crl", s->name, hex);
}

/* The delta CRL published next to a previous issuer's CRL PATH
 * ("<...>.crl" -> "<...>.delta"), applied to H again when it still does. */
static void restore_prev_delta(struct svrcert_crl_held *h, const char *path,
			       STACK_OF(X509) *trusted)
{
	struct svrcert_crl d = { 0 };
	char dpath[PATH_MAX + 300], err[256];
	uint8_t *buf = NULL, *der = NULL;
	size_t len = 0, der_len = 0, l = strlen(path);

	if (l < 4 || l + 3 > sizeof(dpath))
		return;
	snprintf(dpath, sizeof(dpath), "%.*s" SVRCERT_CRL_DELTA_SUFFIX,
		 (int)(l - 4), path);
	if (crlw_read_file(dpath, &buf, &len))
		return;
	if (!to_der(buf, len, &der, &der_len) &&
	    !svrcert_crl_walk(der, der_len, trusted, &d, err, sizeof(err)) &&
	    d.delta && delta_applies(&d, &h->crl) &&
	    !combine(&h->crl, &d, &h->eff, &h->neff)) {
		h->delta_der = der;
		h->delta_der_len = der_len;
		der = NULL;
	}
	svrcert_crl_release(&d);
	free(der);
	free(buf);
}

/* A previous issuer's CRL published as PATH, held again (verified again);
 * one of the current issuer, or older than one held, is left out. */
static void restore_prev(struct svrcert_crl_source *s, const char *path,
			 STACK_OF(X509) *trusted)
{
	struct svrcert_crl_held h = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[256];
	int k;

	if (crlw_read_file(path, &buf, &len) ||
	    to_der(buf, len, &h.der, &h.der_len)) {
		free(buf);
		return;
	}
	free(buf);
	if (svrcert_crl_walk(h.der, h.der_len, trusted, &h.crl, err,
			     sizeof(err)) ||
	    (s->has_good && same_issuer(&h.crl, &s->crl))) {
		held_release(&h);
		return;
	}
	restore_prev_delta(&h, path, trusted);
	k = find_prev(s, &h.crl);
	if (k >= 0 && svrcert_crl_number_cmp(&h.crl, &s->prev[k].crl) > 0) {
		held_release(&s->prev[k]);
		s->prev[k] = h;
	} else if (k < 0 && s->nprev < SVRCERT_CRL_PREV_MAX) {
		s->prev[s->nprev++] = h;
	} else {
		held_release(&h);
	}
}

/* <pubdir>/crl/<name>-<16 hex>.crl: the previous issuers' CRLs. */
static void restore_prevs(struct svrcert_crl_source *s, const char *pubdir,
			  STACK_OF(X509) *trusted)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	size_t nl = strlen(s->name);
	struct dirent *de;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/crl", pubdir) >= (int)sizeof(dir))
		return;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l != nl + 21 || strncmp(de->d_name, s->name, nl) ||
		    de->d_name[nl] != '-' || strcmp(de->d_name + l - 4, ".crl"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		restore_prev(s, path, trusted);
	}
	if (d)
		closedir(d);
}

/* <pubdir>/crl/<name>.delta, the delta CRL last applied. */
static void restore_delta(struct svrcert_crl_source *s, const char *pubdir,
			  STACK_OF(X509) *trusted, time_t now)
{
	char path[PATH_MAX], err[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	bool rep;

	if (!s->has_good || snprintf(path, sizeof(path), "%s/crl/%s"
			SVRCERT_CRL_DELTA_SUFFIX, pubdir, s->name) >=
	    (int)sizeof(path) || crlw_read_file(path, &buf, &len))
		return;
	svrcert_crl_source_offer_delta(s, buf, len, trusted, now, NULL, NULL,
				       &rep, err, sizeof(err));
	free(buf);
}

int svrcert_crl_source_restore(struct svrcert_crl_source *s, const char *pubdir,
			       STACK_OF(X509) *trusted, time_t now,
			       char *err, size_t errlen)
{
	struct svrcert_crl_source saved = *s;
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	bool replaced;
	int rc;

	if (snprintf(path, sizeof(path), "%s/crl/%s.crl", pubdir, s->name) >=
	    (int)sizeof(path))
		return svrcert_fail(err, errlen, -ENAMETOOLONG, "publish directory name too long");
	rc = crlw_read_file(path, &buf, &len);
	if (rc)
		svrcert_fail(err, errlen, rc, "cannot read %s: %s", path, strerror(-rc));
	else
		rc = svrcert_crl_source_offer(s, buf, len, trusted, now, NULL,
					      NULL, &replaced, err, errlen);
	free(buf);
	s->issuer_changed = false;
	restore_prevs(s, pubdir, trusted);
	restore_delta(s, pubdir, trusted, now);
	/* not a fetch: keep the fetch bookkeeping as it was */
	s->last_attempt = saved.last_attempt;
	s->last_success = saved.last_success;
	s->last_err = saved.last_err;
	s->failures = saved.failures;
	memcpy(s->last_msg, saved.last_msg, sizeof(s->last_msg));
	return rc;
}

void svrcert_crl_source_not_modified(struct svrcert_crl_source *s, time_t now)
{
	s->last_attempt = now;
	s->last_success = now;
	s->last_err = 0;
	s->last_msg[0] = '\0';
	s->failures = 0;
}

void svrcert_crl_source_failed(struct svrcert_crl_source *s, int err,
			       const char *msg, time_t now)
{
	s->last_attempt = now;
	s->last_err = err ? err : -EIO;
	snprintf(s->last_msg, sizeof(s->last_msg), "%s", msg ? msg : "");
	s->failures++;
}

bool svrcert_crl_source_stale(const struct svrcert_crl_source *s, time_t now)
{
	return s->has_good && now > s->crl.next_update;
}
