// SPDX-License-Identifier: GPL-2.0
/*
 * Verify-and-walk a CRL without materialising an X509_CRL.
 *
 * d2i_X509_CRL allocates several objects per revoked entry (serial, time,
 * extensions, the entry itself) and keeps them all, which is what makes a
 * million-entry CRL cost seconds and hundreds of MiB. Here the structure is
 * stepped through with ASN1_get_object(), only the few singleton fields are
 * decoded with d2i_*, the signature is checked over the original TBS bytes,
 * and each entry leaves nothing behind but its 32-byte revocation key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crl_walk.h"
#include "crl_walk_int.h"
#include "crl_verify.h"

int crlw_fail(struct crl_walker *w, int rc, const char *fmt, ...)
{
	va_list ap;

	if (w->err && w->errlen) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return rc;
}

/* One TLV header via ASN1_get_object; names the field and offset on error. */
int crlw_read(struct crl_walker *w, const unsigned char **pp,
	      const unsigned char *end, struct crlw_tlv *t, const char *what)
{
	const unsigned char *p = *pp;
	unsigned long reason;
	int ret;

	if (p >= end)
		return crlw_fail(w, -EBADMSG, "truncated: %s missing at offset %zu",
				 what, crlw_off(w, p));
	ret = ASN1_get_object(&p, &t->len, &t->tag, &t->cls, end - *pp);
	if (ret & 0x80) {
		reason = ERR_GET_REASON(ERR_peek_last_error());
		if (reason == ASN1_R_TOO_LONG || reason == ASN1_R_HEADER_TOO_LONG)
			return crlw_fail(w, -EBADMSG,
					 "truncated at offset %zu (%s runs past the end of its container)",
					 crlw_off(w, *pp), what);
		return crlw_fail(w, -EBADMSG, "malformed %s at offset %zu",
				 what, crlw_off(w, *pp));
	}
	if (ret == 0x21)
		return crlw_fail(w, -EBADMSG,
				 "indefinite length %s at offset %zu (DER required)",
				 what, crlw_off(w, *pp));
	t->hdr = *pp;
	t->val = p;
	t->cons = ret & V_ASN1_CONSTRUCTED;
	*pp = p + t->len;
	return 0;
}

int crlw_expect(struct crl_walker *w, const unsigned char **pp,
		const unsigned char *end, struct crlw_tlv *t, int tag,
		const char *what)
{
	const unsigned char *at = *pp;
	int rc = crlw_read(w, pp, end, t, what);

	if (rc)
		return rc;
	if (t->cls != V_ASN1_UNIVERSAL || t->tag != tag)
		return crlw_fail(w, -EBADMSG, "expected %s at offset %zu",
				 what, crlw_off(w, at));
	return 0;
}

static bool tlv_is_time(const struct crlw_tlv *t)
{
	return t->cls == V_ASN1_UNIVERSAL && !t->cons &&
	       (t->tag == V_ASN1_UTCTIME || t->tag == V_ASN1_GENERALIZEDTIME);
}

static int parse_time(struct crl_walker *w, const struct crlw_tlv *t,
		      time_t *out, const char *what)
{
	const unsigned char *p = t->hdr;
	ASN1_TIME *tm = d2i_ASN1_TIME(NULL, &p, crlw_tlv_size(t));
	struct tm parts;
	int ok = tm && ASN1_TIME_to_tm(tm, &parts);

	ASN1_TIME_free(tm);
	if (!ok)
		return crlw_fail(w, -EBADMSG, "invalid %s at offset %zu",
				 what, crlw_off(w, t->hdr));
	*out = timegm(&parts);
	return 0;
}

/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, sig } */
static int parse_outer(struct crl_walker *w, const unsigned char *der,
		       size_t len, struct crlw_tlv *tbs, struct crlw_tlv *alg,
		       struct crlw_tlv *sig)
{
	const unsigned char *p = der, *end = der + len;
	struct crlw_tlv cl;
	int rc;

	rc = crlw_read(w, &p, end, &cl, "CertificateList");
	if (rc)
		return rc;
	if (cl.cls != V_ASN1_UNIVERSAL || cl.tag != V_ASN1_SEQUENCE || !cl.cons)
		return crlw_fail(w, -EBADMSG, "not a CRL: no CertificateList SEQUENCE at offset 0");
	if (p != end)
		return crlw_fail(w, -EBADMSG, "trailing data after the CRL at offset %zu",
				 crlw_off(w, p));
	p = cl.val;
	end = cl.val + cl.len;
	rc = crlw_expect(w, &p, end, tbs, V_ASN1_SEQUENCE, "tbsCertList") ?:
	     crlw_expect(w, &p, end, alg, V_ASN1_SEQUENCE, "signatureAlgorithm") ?:
	     crlw_expect(w, &p, end, sig, V_ASN1_BIT_STRING, "signatureValue");
	if (!rc && p != end)
		rc = crlw_fail(w, -EBADMSG, "unexpected data after signatureValue at offset %zu",
			       crlw_off(w, p));
	return rc;
}

/* TBSCertList fields up to and including the optional extensions. */
static int parse_tbs(struct crl_walker *w, const struct crlw_tlv *tbs,
		     struct crlw_tbs *f)
{
	const unsigned char *p = tbs->val, *end = tbs->val + tbs->len;
	struct crlw_tlv t;
	int rc;

	rc = crlw_read(w, &p, end, &t, "tbsCertList version or signature");
	if (!rc && t.cls == V_ASN1_UNIVERSAL && t.tag == V_ASN1_INTEGER) {
		if (t.len != 1 || t.val[0] != 1)
			return crlw_fail(w, -EBADMSG, "unsupported CRL version at offset %zu",
					 crlw_off(w, t.hdr));
		rc = crlw_read(w, &p, end, &t, "tbsCertList signature");
	}
	if (rc)
		return rc;
	f->alg = t;
	rc = crlw_expect(w, &p, end, &f->issuer, V_ASN1_SEQUENCE, "issuer Name") ?:
	     crlw_read(w, &p, end, &f->this_update, "thisUpdate");
	if (rc)
		return rc;
	if (!tlv_is_time(&f->this_update))
		return crlw_fail(w, -EBADMSG, "expected thisUpdate time at offset %zu",
				 crlw_off(w, f->this_update.hdr));
	while (p < end) {
		const unsigned char *at = p;

		rc = crlw_read(w, &p, end, &t, "tbsCertList field");
		if (rc)
			return rc;
		if (tlv_is_time(&t) && !f->has_next && !f->has_revoked && !f->has_exts) {
			f->next_update = t;
			f->has_next = true;
		} else if (t.cls == V_ASN1_UNIVERSAL && t.tag == V_ASN1_SEQUENCE &&
			   !f->has_revoked && !f->has_exts) {
			f->revoked = t;
			f->has_revoked = true;
		} else if (t.cls == V_ASN1_CONTEXT_SPECIFIC && t.tag == 0 &&
			   t.cons && !f->has_exts) {
			f->exts = t;
			f->has_exts = true;
		} else {
			return crlw_fail(w, -EBADMSG, "unexpected field in tbsCertList at offset %zu",
					 crlw_off(w, at));
		}
	}
	return 0;
}

static int parse_issuer_and_times(struct crl_walker *w,
				  const struct crlw_tbs *f)
{
	struct svrcert_crl *c = w->out;
	const unsigned char *p = f->issuer.hdr;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, crlw_tlv_size(&f->issuer));
	int rc;

	if (!name)
		return crlw_fail(w, -EBADMSG, "invalid issuer Name at offset %zu",
				 crlw_off(w, f->issuer.hdr));
	X509_NAME_oneline(name, c->issuer_text, sizeof(c->issuer_text));
	w->issuer_name = name;
	c->issuer_der_len = crlw_tlv_size(&f->issuer);
	c->issuer_der = malloc(c->issuer_der_len);
	if (!c->issuer_der)
		return crlw_fail(w, -ENOMEM, "out of memory");
	memcpy(c->issuer_der, f->issuer.hdr, c->issuer_der_len);
	rc = parse_time(w, &f->this_update, &c->this_update, "thisUpdate");
	if (rc)
		return rc;
	if (!f->has_next)
		return crlw_fail(w, -EBADMSG, "CRL has no nextUpdate (RFC 5280 5.1.2.5 requires it)");
	rc = parse_time(w, &f->next_update, &c->next_update, "nextUpdate");
	if (rc)
		return rc;
	if (c->next_update <= c->this_update)
		return crlw_fail(w, -ERANGE, "nextUpdate is not after thisUpdate");
	return 0;
}

/* Try every trusted certificate named like the CRL issuer (key rollover). */
static int verify_signature(struct crl_walker *w, const struct crlw_tlv *tbs,
			    const struct crlw_tlv *alg, const struct crlw_tlv *sig)
{
	int rc = -ENOKEY, i;

	for (i = 0; w->trusted && i < sk_X509_num(w->trusted); i++) {
		X509 *ca = sk_X509_value(w->trusted, i);

		if (X509_NAME_cmp(X509_get_subject_name(ca), w->issuer_name))
			continue;
		if ((X509_get_extension_flags(ca) & EXFLAG_KUSAGE) &&
		    !(X509_get_key_usage(ca) & KU_CRL_SIGN)) {
			rc = crlw_fail(w, -EKEYREJECTED,
				       "trusted certificate %s lacks keyUsage cRLSign",
				       w->out->issuer_text);
			continue;
		}
		rc = svrcert_crl_verify_tbs(tbs->hdr, crlw_tlv_size(tbs),
					    alg->hdr, crlw_tlv_size(alg),
					    sig->hdr, crlw_tlv_size(sig),
					    X509_get0_pubkey(ca), &w->out->sig_nid,
					    w->err, w->errlen);
		if (rc != -EKEYREJECTED)
			break;
	}
	if (rc == -ENOKEY)
		return crlw_fail(w, rc, "no trusted CA certificate for CRL issuer %s",
				 w->out->issuer_text);
	return rc;
}

static int walk_der(struct crl_walker *w, const unsigned char *der, size_t len)
{
	struct crlw_tlv tbs, alg, sig;
	struct crlw_tbs f = { 0 };
	int rc;

	w->base = der;
	w->out->der_size = len;
	rc = parse_outer(w, der, len, &tbs, &alg, &sig) ?:
	     parse_tbs(w, &tbs, &f);
	if (rc)
		return rc;
	if (crlw_tlv_size(&f.alg) != crlw_tlv_size(&alg) ||
	    memcmp(f.alg.hdr, alg.hdr, crlw_tlv_size(&alg)))
		return crlw_fail(w, -EBADMSG,
				 "tbsCertList signature algorithm differs from signatureAlgorithm");
	rc = parse_issuer_and_times(w, &f) ?:
	     (f.has_exts ? crlw_crl_extensions(w, &f.exts) : 0) ?:
	     verify_signature(w, &tbs, &alg, &sig);
	if (rc || !f.has_revoked)
		return rc;
	return crlw_walk_entries(w, &f.revoked);
}

static const unsigned char *skip_space(const uint8_t *buf, size_t len)
{
	while (len && (*buf == ' ' || *buf == '\t' || *buf == '\r' || *buf == '\n')) {
		buf++;
		len--;
	}
	return buf;
}

/* PEM "X509 CRL" -> DER; the PEM layer only base64-decodes, no parse. */
static int pem_to_der(struct crl_walker *w, const uint8_t *buf, size_t len,
		      unsigned char **der, long *der_len)
{
	BIO *bio = BIO_new_mem_buf(buf, len > INT_MAX ? INT_MAX : (int)len);
	int ok = bio && PEM_bytes_read_bio(der, der_len, NULL, PEM_STRING_X509_CRL,
					   bio, NULL, NULL);

	BIO_free(bio);
	if (!ok)
		return crlw_fail(w, -EBADMSG, "not a CRL: PEM without a valid X509 CRL block");
	return 0;
}

int svrcert_crl_walk(const uint8_t *buf, size_t len, STACK_OF(X509) *trusted,
		     struct svrcert_crl *out, char *err, size_t errlen)
{
	struct crl_walker w = { .out = out, .trusted = trusted,
				.err = err, .errlen = errlen };
	const unsigned char *s = skip_space(buf, len);
	unsigned char *pem_der = NULL;
	long pem_len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if ((size_t)(buf + len - s) >= 10 && !memcmp(s, "-----BEGIN", 10)) {
		rc = pem_to_der(&w, buf, len, &pem_der, &pem_len);
		if (!rc)
			rc = walk_der(&w, pem_der, (size_t)pem_len);
	} else {
		rc = walk_der(&w, buf, len);
	}
	OPENSSL_free(pem_der);
	crlw_walker_cleanup(&w);
	if (rc)
		svrcert_crl_release(out);
	return rc;
}

int svrcert_crl_walk_file(const char *path, STACK_OF(X509) *trusted,
			  struct svrcert_crl *out, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = crlw_read_file(path, &buf, &len);

	if (rc) {
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = svrcert_crl_walk(buf, len, trusted, out, err, errlen);
	free(buf);
	return rc;
}

void svrcert_crl_release(struct svrcert_crl *crl)
{
	free(crl->removed);
	free(crl->keys);
	free(crl->issuer_der);
	memset(crl, 0, sizeof(*crl));
}

int svrcert_crl_number_cmp(const struct svrcert_crl *a,
			   const struct svrcert_crl *b)
{
	if (a->has_crl_number != b->has_crl_number)
		return a->has_crl_number ? 1 : -1;
	if (a->crl_number_len != b->crl_number_len)
		return a->crl_number_len < b->crl_number_len ? -1 : 1;
	return memcmp(a->crl_number, b->crl_number, a->crl_number_len);
}

void svrcert_crl_number_hex(const struct svrcert_crl *crl, char *buf,
			    size_t buflen)
{
	size_t i, o = 0;

	if (!buflen)
		return;
	buf[0] = '\0';
	for (i = 0; crl->has_crl_number && i < crl->crl_number_len &&
		    o + 3 <= buflen; i++)
		o += (size_t)snprintf(buf + o, buflen - o, "%02X", crl->crl_number[i]);
	if (crl->has_crl_number && !crl->crl_number_len && buflen >= 2)
		snprintf(buf, buflen, "0");
}
