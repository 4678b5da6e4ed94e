// SPDX-License-Identifier: GPL-2.0
/*
 * The hot half of the CRL walker: CRL-level extensions (decoded once with
 * d2i_X509_EXTENSIONS) and the revokedCertificates loop, which steps each
 * entry with ASN1_get_object and hashes the serial's TLV bytes straight out
 * of the buffer. Per entry nothing is allocated unless the entry carries a
 * certificateIssuer (indirect CRLs).
 */
/*
 * SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP,
 * but they are the one interface whose state is a plain struct: the key of
 * every entry starts with the same issuer Name, so the midstate after the
 * issuer is computed once and copied per entry, with no allocation and no
 * provider dispatch. Measured on a 1 M-entry CRL: EVP_DigestInit_ex2 +
 * Update + Final per entry costs ~1.7x as much as this. EVP is still used
 * for everything else (signature verification).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "crl_revkey.h"
#include "crl_walk_int.h"

struct crlw_sha256 {
	SHA256_CTX ctx;
};

static int set_prefix(struct crl_walker *w, const unsigned char *issuer,
		      size_t len)
{
	if (!SHA256_Init(&w->prefix->ctx) ||
	    !SHA256_Update(&w->prefix->ctx, issuer, len))
		return crlw_fail(w, -ENOMEM, "SHA-256 failed");
	return 0;
}

/* Smallest possible entry: SEQ hdr (2) + INTEGER (3) + empty time TLV (2). */
#define MIN_ENTRY_SIZE 7

enum entry_ext { EXT_REASON, EXT_INVALIDITY, EXT_HOLD, EXT_CERT_ISSUER,
		 EXT_KNOWN };

static const int entry_ext_nid[EXT_KNOWN] = {
	[EXT_REASON] = NID_crl_reason,
	[EXT_INVALIDITY] = NID_invalidity_date,
	[EXT_HOLD] = NID_hold_instruction_code,
	[EXT_CERT_ISSUER] = NID_certificate_issuer,
};

/* DER of the OIDs above, so an entry's extnID is matched by memcmp. */
struct entry_oids {
	unsigned char der[EXT_KNOWN][16];
	int len[EXT_KNOWN];
};

static void entry_oids_init(struct entry_oids *o)
{
	int i;

	for (i = 0; i < EXT_KNOWN; i++) {
		unsigned char *p = o->der[i];

		o->len[i] = i2d_ASN1_OBJECT(OBJ_nid2obj(entry_ext_nid[i]), &p);
	}
}

/* cRLNumber, or with DELTA deltaCRLIndicator's BaseCRLNumber (the same
 * syntax: a non-negative INTEGER of at most 20 octets). */
static int set_crl_number(struct crl_walker *w, X509_EXTENSION *ex, bool delta)
{
	ASN1_INTEGER *num = X509V3_EXT_d2i(ex);
	const unsigned char *d;
	int len, rc = 0;

	if (!num)
		return crlw_fail(w, -EBADMSG, "malformed %s extension",
				 delta ? "deltaCRLIndicator" : "cRLNumber");
	d = ASN1_STRING_get0_data(num);
	len = ASN1_STRING_length(num);
	while (len > 0 && !d[0]) {
		d++;
		len--;
	}
	if (ASN1_STRING_type(num) == V_ASN1_NEG_INTEGER)
		rc = crlw_fail(w, -EBADMSG, "negative cRLNumber");
	else if (len > SVRCERT_CRL_NUMBER_MAX)
		rc = crlw_fail(w, -ERANGE, "cRLNumber longer than 20 octets");
	if (!rc && delta) {
		memcpy(w->out->base_number, d, (size_t)len);
		w->out->base_number_len = (size_t)len;
		w->out->delta = true;
	} else if (!rc) {
		memcpy(w->out->crl_number, d, (size_t)len);
		w->out->crl_number_len = (size_t)len;
		w->out->has_crl_number = true;
	}
	ASN1_INTEGER_free(num);
	return rc;
}

/* freshestCRL: the first http or https URI among its full names. */
static int set_freshest(struct crl_walker *w, X509_EXTENSION *ex)
{
	CRL_DIST_POINTS *dps = X509V3_EXT_d2i(ex);
	int i, j;

	if (!dps)
		return crlw_fail(w, -EBADMSG, "malformed freshestCRL extension");
	for (i = 0; !w->out->freshest[0] && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *gns = dp->distpoint && dp->distpoint->type == 0 ?
				     dp->distpoint->name.fullname : NULL;

		for (j = 0; !w->out->freshest[0] && j < sk_GENERAL_NAME_num(gns);
		     j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, j);
			const char *u;
			int ulen;

			if (gn->type != GEN_URI)
				continue;
			u = (const char *)ASN1_STRING_get0_data(gn->d.ia5);
			ulen = ASN1_STRING_length(gn->d.ia5);
			if (ulen > 0 && (size_t)ulen < sizeof(w->out->freshest) &&
			    (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) &&
			    !memchr(u, '\0', (size_t)ulen)) {
				memcpy(w->out->freshest, u, (size_t)ulen);
				w->out->freshest[ulen] = '\0';
			}
		}
	}
	CRL_DIST_POINTS_free(dps);
	return 0;
}

static int set_idp(struct crl_walker *w, X509_EXTENSION *ex)
{
	ISSUING_DIST_POINT *idp = X509V3_EXT_d2i(ex);

	if (!idp)
		return crlw_fail(w, -EBADMSG,
				 "malformed issuingDistributionPoint extension");
	w->out->indirect = idp->indirectCRL != 0;
	ISSUING_DIST_POINT_free(idp);
	return 0;
}

static int crl_extension(struct crl_walker *w, X509_EXTENSION *ex)
{
	int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));
	char oid[80];

	switch (nid) {
	case NID_crl_number:
		return set_crl_number(w, ex, false);
	case NID_delta_crl:
		return set_crl_number(w, ex, true);
	case NID_freshest_crl:
		return set_freshest(w, ex);
	case NID_issuing_distribution_point:
		return set_idp(w, ex);
	case NID_authority_key_identifier:
	case NID_issuer_alt_name:
	case NID_info_access:
		return 0;
	}
	if (!X509_EXTENSION_get_critical(ex))
		return 0;
	OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ex), 1);
	return crlw_fail(w, -EPROTONOSUPPORT,
			 "unsupported critical CRL extension %s", oid);
}

int crlw_crl_extensions(struct crl_walker *w, const struct crlw_tlv *exts)
{
	const unsigned char *p = exts->val;
	STACK_OF(X509_EXTENSION) *sk = d2i_X509_EXTENSIONS(NULL, &p, exts->len);
	int i, rc = 0;

	if (!sk || p != exts->val + exts->len)
		rc = crlw_fail(w, -EBADMSG, "malformed crlExtensions at offset %zu",
			       crlw_off(w, exts->hdr));
	for (i = 0; !rc && i < sk_X509_EXTENSION_num(sk); i++) {
		X509_EXTENSION *ex = sk_X509_EXTENSION_value(sk, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));

		if (nid != NID_undef && X509v3_get_ext_by_NID(sk, nid, i) >= 0)
			rc = crlw_fail(w, -EBADMSG, "duplicate CRL extension %s",
				       OBJ_nid2sn(nid));
		else
			rc = crl_extension(w, ex);
	}
	sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	return rc;
}

/* The directoryName of a certificateIssuer value, or NULL. */
static X509_NAME *cert_issuer_dirname(GENERAL_NAMES *gns)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);

		if (gn->type == GEN_DIRNAME)
			return gn->d.directoryName;
	}
	return NULL;
}

/*
 * Indirect CRL: the entry's certificateIssuer names whose serial this is.
 * A CRL that is not indirect may still carry one naming the CRL issuer
 * itself (some CAs write it on every entry): harmless, the key stays the
 * CRL issuer's. Naming anyone else there would be an unmarked indirect CRL.
 */
static int set_cert_issuer(struct crl_walker *w, const struct crlw_tlv *val)
{
	const unsigned char *p = val->val;
	GENERAL_NAMES *gns = d2i_GENERAL_NAMES(NULL, &p, val->len);
	X509_NAME *dirn = gns ? cert_issuer_dirname(gns) : NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = 0;

	if (!gns || p != val->val + val->len)
		rc = crlw_fail(w, -EBADMSG, "malformed certificateIssuer at offset %zu",
			       crlw_off(w, val->hdr));
	else if (!w->out->indirect &&
		 (!dirn || X509_NAME_cmp(dirn, w->issuer_name)))
		rc = crlw_fail(w, -EBADMSG,
			       "certificateIssuer entry extension at offset %zu names another issuer in a CRL that is not indirect",
			       crlw_off(w, val->hdr));
	else if (!w->out->indirect)
		goto out;	/* the CRL issuer itself: nothing changes */
	else if (!dirn)
		rc = crlw_fail(w, -EPROTONOSUPPORT,
			       "certificateIssuer at offset %zu has no directoryName",
			       crlw_off(w, val->hdr));
	if (!rc && svrcert_name_canon_der(dirn, &der, &len))
		rc = crlw_fail(w, -EBADMSG, "cannot canonicalise certificateIssuer at offset %zu",
			       crlw_off(w, val->hdr));
	if (!rc) {
		OPENSSL_free(w->cert_issuer);
		w->cert_issuer = der;
		rc = set_prefix(w, der, len);
	}
out:
	GENERAL_NAMES_free(gns);
	return rc;
}

static int match_entry_ext(const struct entry_oids *o, const struct crlw_tlv *oid)
{
	long size = crlw_tlv_size(oid);
	int i;

	for (i = 0; i < EXT_KNOWN; i++)
		if (o->len[i] == size && !memcmp(o->der[i], oid->hdr, (size_t)size))
			return i;
	return EXT_KNOWN;
}

static int entry_extension(struct crl_walker *w, const struct entry_oids *o,
			   const struct crlw_tlv *ext)
{
	const unsigned char *q = ext->val, *qe = ext->val + ext->len;
	struct crlw_tlv oid, t;
	bool critical = false;
	int rc, kind;

	rc = crlw_expect(w, &q, qe, &oid, V_ASN1_OBJECT, "entry extension OID") ?:
	     crlw_read(w, &q, qe, &t, "entry extension value");
	if (!rc && t.cls == V_ASN1_UNIVERSAL && t.tag == V_ASN1_BOOLEAN) {
		critical = t.len == 1 && t.val[0];
		rc = crlw_expect(w, &q, qe, &t, V_ASN1_OCTET_STRING,
				 "entry extension value");
	} else if (!rc && (t.cls != V_ASN1_UNIVERSAL || t.tag != V_ASN1_OCTET_STRING)) {
		rc = crlw_fail(w, -EBADMSG, "expected entry extension value at offset %zu",
			       crlw_off(w, t.hdr));
	}
	if (!rc && q != qe)
		rc = crlw_fail(w, -EBADMSG, "unexpected data in entry extension at offset %zu",
			       crlw_off(w, q));
	if (rc)
		return rc;
	kind = match_entry_ext(o, &oid);
	if (kind == EXT_CERT_ISSUER)
		return set_cert_issuer(w, &t);
	/* reasonCode ENUMERATED removeFromCRL (8), DER 0a 01 08 */
	if (kind == EXT_REASON && t.len == 3 && t.val[0] == V_ASN1_ENUMERATED &&
	    t.val[1] == 1 && t.val[2] == CRL_REASON_REMOVE_FROM_CRL)
		w->entry_remove = true;
	if (kind == EXT_KNOWN && critical)
		return crlw_fail(w, -EPROTONOSUPPORT,
				 "unsupported critical entry extension at offset %zu",
				 crlw_off(w, ext->hdr));
	return 0;
}

static int entry_extensions(struct crl_walker *w, const struct entry_oids *o,
			    const struct crlw_tlv *exts)
{
	const unsigned char *q = exts->val, *qe = exts->val + exts->len;
	struct crlw_tlv ext;
	int rc = 0;

	while (!rc && q < qe) {
		rc = crlw_expect(w, &q, qe, &ext, V_ASN1_SEQUENCE, "entry extension");
		if (!rc)
			rc = entry_extension(w, o, &ext);
	}
	return rc;
}

static int revkey_finish(struct crl_walker *w, const struct crlw_tlv *serial,
			 uint8_t *key)
{
	SHA256_CTX h = w->prefix->ctx;

	if (!SHA256_Update(&h, serial->hdr, (size_t)crlw_tlv_size(serial)) ||
	    !SHA256_Final(key, &h))
		return crlw_fail(w, -ENOMEM, "SHA-256 failed");
	return 0;
}

/*
 * The key hashes the serial TLV as found, so it must be the DER that
 * i2d_ASN1_INTEGER would give for the certificate's serial: minimal length
 * header and no redundant leading 0x00/0xFF octet (X.690 8.3.2).
 */
static int check_serial(struct crl_walker *w, const struct crlw_tlv *s)
{
	const unsigned char *v = s->val;
	bool padded = s->len > 1 &&
		      ((v[0] == 0x00 && !(v[1] & 0x80)) ||
		       (v[0] == 0xff && (v[1] & 0x80)));

	if (s->len < 1 || padded || s->cons ||
	    crlw_tlv_size(s) != ASN1_object_size(0, s->len, V_ASN1_INTEGER))
		return crlw_fail(w, -EBADMSG,
				 "serial number at offset %zu is not DER-encoded",
				 crlw_off(w, s->hdr));
	return 0;
}

static int walk_entry(struct crl_walker *w, const struct entry_oids *o,
		      const unsigned char **pp, const unsigned char *end,
		      uint8_t *key)
{
	const unsigned char *q, *qe;
	struct crlw_tlv e, serial, when, exts;
	int rc;

	rc = crlw_expect(w, pp, end, &e, V_ASN1_SEQUENCE, "revoked entry");
	if (rc)
		return rc;
	q = e.val;
	qe = e.val + e.len;
	rc = crlw_expect(w, &q, qe, &serial, V_ASN1_INTEGER, "entry serial number") ?:
	     check_serial(w, &serial) ?:
	     crlw_read(w, &q, qe, &when, "revocationDate");
	if (rc)
		return rc;
	if (when.cls != V_ASN1_UNIVERSAL || (when.tag != V_ASN1_UTCTIME &&
					      when.tag != V_ASN1_GENERALIZEDTIME))
		return crlw_fail(w, -EBADMSG, "expected revocationDate at offset %zu",
				 crlw_off(w, when.hdr));
	if (q < qe) {
		rc = crlw_expect(w, &q, qe, &exts, V_ASN1_SEQUENCE,
				 "crlEntryExtensions") ?:
		     entry_extensions(w, o, &exts);
		if (rc)
			return rc;
	}
	if (q != qe)
		return crlw_fail(w, -EBADMSG, "unexpected data in revoked entry at offset %zu",
				 crlw_off(w, q));
	return revkey_finish(w, &serial, key);
}

static int hash_setup(struct crl_walker *w)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int rc;

	w->prefix = malloc(sizeof(*w->prefix));
	if (!w->prefix)
		return crlw_fail(w, -ENOMEM, "out of memory");
	/* Keys hash the canonical issuer (crl_revkey.h), not its bytes. */
	if (svrcert_name_canon_der(w->issuer_name, &der, &len))
		return crlw_fail(w, -EBADMSG, "cannot canonicalise the CRL issuer name");
	rc = set_prefix(w, der, len);
	OPENSSL_free(der);
	return rc;
}

/* A removeFromCRL entry (at AT): in a delta CRL its key leaves the base's
 * revoked set (RFC 5280 5.3.1); anywhere else it is malformed. */
static int take_removed(struct crl_walker *w, const unsigned char *at,
			const uint8_t *key, size_t cap)
{
	struct svrcert_crl *c = w->out;

	if (!c->delta)
		return crlw_fail(w, -EBADMSG, "removeFromCRL entry at offset %zu "
				 "in a CRL that is not a delta CRL",
				 crlw_off(w, at));
	if (!c->removed)
		c->removed = malloc(cap * sizeof(*c->removed));
	if (!c->removed)
		return crlw_fail(w, -ENOMEM, "out of memory for %zu keys", cap);
	memcpy(c->removed[c->nremoved++], key, SVRCERT_REVKEY_LEN);
	return 0;
}

int crlw_walk_entries(struct crl_walker *w, const struct crlw_tlv *revoked)
{
	const unsigned char *p = revoked->val, *end = revoked->val + revoked->len;
	size_t cap = (size_t)revoked->len / MIN_ENTRY_SIZE + 1, n = 0;
	struct svrcert_crl *c = w->out;
	struct entry_oids oids;
	svrcert_revkey_t *shrunk;
	int rc;

	entry_oids_init(&oids);
	rc = hash_setup(w);
	if (rc)
		return rc;
	/* Sized for the worst case; pages never written are never resident. */
	c->keys = malloc(cap * sizeof(*c->keys));
	if (!c->keys)
		return crlw_fail(w, -ENOMEM, "out of memory for %zu keys", cap);
	while (!rc && p < end && n < cap) {
		const unsigned char *at = p;

		w->entry_remove = false;
		rc = walk_entry(w, &oids, &p, end, c->keys[n++]);
		if (!rc && w->entry_remove)
			rc = take_removed(w, at, c->keys[--n], cap);
	}
	if (rc)
		return rc;
	c->entries = n + c->nremoved;
	c->nkeys = svrcert_revkeys_sort_unique(c->keys, n);
	c->nremoved = svrcert_revkeys_sort_unique(c->removed, c->nremoved);
	shrunk = realloc(c->keys, (c->nkeys ? c->nkeys : 1) * sizeof(*c->keys));
	if (shrunk)
		c->keys = shrunk;
	return 0;
}

void crlw_walker_cleanup(struct crl_walker *w)
{
	free(w->prefix);
	OPENSSL_free(w->cert_issuer);
	X509_NAME_free(w->issuer_name);
}

static void key_swap(svrcert_revkey_t *a, svrcert_revkey_t *b)
{
	svrcert_revkey_t t;

	memcpy(t, a, sizeof(t));
	memcpy(a, b, sizeof(t));
	memcpy(b, t, sizeof(t));
}

/* Keys compared as four big-endian words: a memcmp call per comparison
 * was a third of the sort's time. */
static inline uint64_t key_word(const uint8_t *k, int i)
{
	uint64_t w;

	memcpy(&w, k + 8 * i, sizeof(w));
	return be64toh(w);
}

static inline int key_cmp(const uint8_t *a, const uint8_t *b)
{
	int i;

	for (i = 0; i < SVRCERT_REVKEY_LEN / 8; i++) {
		uint64_t x = key_word(a, i), y = key_word(b, i);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static void insertion_sort(svrcert_revkey_t *k, size_t n)
{
	svrcert_revkey_t t;
	size_t i, j;

	for (i = 1; i < n; i++) {
		if (key_cmp(k[i - 1], k[i]) <= 0)
			continue;
		memcpy(t, k[i], sizeof(t));
		for (j = i; j && key_cmp(k[j - 1], t) > 0; j--)
			memcpy(k[j], k[j - 1], sizeof(t));
		memcpy(k[j], t, sizeof(t));
	}
}

/*
 * In-place MSD radix sort (American flag sort), so sorting a million keys
 * needs no second 32 MiB buffer as glibc's merge-sort qsort would take.
 * Keys are SHA-256 output: two byte levels leave buckets of a dozen keys.
 */
static void radix_sort(svrcert_revkey_t *k, size_t n, size_t depth)
{
	size_t count[256] = { 0 }, start[256], next[256], i;
	int b;

	if (n < 32 || depth == SVRCERT_REVKEY_LEN) {
		if (depth < SVRCERT_REVKEY_LEN)
			insertion_sort(k, n);
		return;
	}
	for (i = 0; i < n; i++)
		count[k[i][depth]]++;
	for (b = 0, i = 0; b < 256; i += count[b], b++)
		next[b] = start[b] = i;
	for (b = 0; b < 256; b++) {
		while (next[b] < start[b] + count[b]) {
			uint8_t d = k[next[b]][depth];

			if (d == b)
				next[b]++;
			else
				key_swap(&k[next[b]], &k[next[d]++]);
		}
	}
	for (b = 0; b < 256; b++)
		radix_sort(k + start[b], count[b], depth + 1);
}

size_t svrcert_revkeys_sort_unique(svrcert_revkey_t *keys, size_t n)
{
	size_t i, out;

	/* Often sorted already (one source, or the conductor's set: every
	 * update's master list): one compare per key instead of the sort. */
	for (i = 1; i < n && key_cmp(keys[i - 1], keys[i]) <= 0; i++)
		;
	if (i < n)
		radix_sort(keys, n, 0);
	for (i = 0, out = 0; i < n; i++)
		if (!out || key_cmp(keys[out - 1], keys[i]))
			memmove(keys[out++], keys[i], SVRCERT_REVKEY_LEN);
	return out;
}

/*
 * Read, not mmap: a file truncated by someone else while it is walked must
 * give an error, not SIGBUS in the daemon. The copy costs a few percent.
 */
int crlw_read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat st;
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (!(*buf = malloc(st.st_size ? (size_t)st.st_size : 1)))
		rc = -ENOMEM;
	while (!rc && got < (size_t)st.st_size) {
		r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = r < 0 ? -errno : -EIO;
		else
			got += (size_t)r;
	}
	close(fd);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	*len = got;
	return rc;
}
