// SPDX-License-Identifier: GPL-2.0
/* One CRL URL's state; see crl_source.h for the rules. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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

void svrcert_crl_source_release(struct svrcert_crl_source *s)
{
	svrcert_crl_release(&s->crl);
	free(s->der);
	s->der = NULL;
	s->der_len = 0;
	s->has_good = false;
}

/* May NEW replace the held CRL? The order rules of crl_source.h. */
static int check_order(const struct svrcert_crl_source *s,
		       const struct svrcert_crl *nw, time_t now,
		       char *err, size_t errlen)
{
	char a[48], b[48];

	if (nw->this_update > now + SVRCERT_CRL_MAX_SKEW)
		return svrcert_fail(err, errlen, -ERANGE,
			    "thisUpdate is more than %d h in the future",
			    SVRCERT_CRL_MAX_SKEW / 3600);
	/* CRL numbers and dates order the CRLs of one issuer only; a URL that
	 * now serves another (trusted) issuer's CRL starts a new sequence. */
	if (!s->has_good || strcmp(nw->issuer_text, s->crl.issuer_text) ||
	    nw->issuer_der_len != s->crl.issuer_der_len ||
	    memcmp(nw->issuer_der, s->crl.issuer_der, nw->issuer_der_len))
		return 0;
	if (svrcert_crl_number_cmp(nw, &s->crl) < 0) {
		svrcert_crl_number_hex(nw, a, sizeof(a));
		svrcert_crl_number_hex(&s->crl, b, sizeof(b));
		return svrcert_fail(err, errlen, -ESTALE,
			    "CRL number %s is lower than the held CRL number %s",
			    a[0] ? a : "(none)", b);
	}
	if (nw->this_update < s->crl.this_update)
		return svrcert_fail(err, errlen, -ESTALE,
			    "thisUpdate is older than the held CRL's");
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

static void hold(struct svrcert_crl_source *s, struct svrcert_crl *nw,
		 uint8_t *der, size_t der_len, const char *etag,
		 const char *last_modified)
{
	svrcert_crl_source_release(s);
	s->crl = *nw;
	s->der = der;
	s->der_len = der_len;
	s->has_good = true;
	snprintf(s->etag, sizeof(s->etag), "%s", etag ? etag : "");
	snprintf(s->last_modified, sizeof(s->last_modified), "%s",
		 last_modified ? last_modified : "");
}

int svrcert_crl_source_offer(struct svrcert_crl_source *s, const uint8_t *buf,
			     size_t len, STACK_OF(X509) *trusted, time_t now,
			     const char *etag, const char *last_modified,
			     bool *replaced, char *err, size_t errlen)
{
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
		     check_order(s, &nw, now, err, errlen);
	if (rc) {
		svrcert_crl_release(&nw);
		free(der);
		svrcert_crl_source_failed(s, rc, err, now);
		return rc;
	}
	*replaced = !s->has_good || !same_keys(&nw, &s->crl);
	hold(s, &nw, der, der_len, etag, last_modified);
	if (*replaced)
		s->last_change = now;
	svrcert_crl_source_not_modified(s, now);
	return 0;
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
		return svrcert_fail(err, errlen, rc, "cannot read %s: %s", path, strerror(-rc));
	rc = svrcert_crl_source_offer(s, buf, len, trusted, now, NULL, NULL,
				      &replaced, err, errlen);
	free(buf);
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
