// SPDX-License-Identifier: GPL-2.0
/*
 * Step 1 of an import: the file holds no private key (see validate.h,
 * svrcert_check_no_private_key). Cheap on hostile input: every candidate
 * DER SEQUENCE is first judged by the shape of its elements, read here
 * without allocating or touching OpenSSL's error queue, and only a shape
 * some key container can have reaches OpenSSL's decoders.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "lib/util.h"
#include "validate.h"

static bool seq_int_is(ASN1_SEQUENCE_ANY *seq, int i, long want)
{
	const ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, i);

	return t->type == V_ASN1_INTEGER && ASN1_INTEGER_get(t->value.integer) == want;
}

/*
 * The traditional key structures by shape, decoded as a generic SEQUENCE:
 * RSAPrivateKey (version 0|1 and 8 more INTEGERs), ECPrivateKey (version 1,
 * OCTET STRING, ...), DSA (version 0 and 5 more INTEGERs).
 * d2i_AutoPrivateKey would do this too, but through OpenSSL 3's decoder
 * framework it costs milliseconds per attempt even on garbage.
 */
static bool traditional_key_shape(const unsigned char *der, long len, bool whole)
{
	const unsigned char *p = der;
	ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
	int n = seq ? sk_ASN1_TYPE_num(seq) : 0, ints = 0;
	bool found = false;

	if (!seq || (whole && p != der + len))
		goto out;
	for (int i = 0; i < n; i++)
		ints += sk_ASN1_TYPE_value(seq, i)->type == V_ASN1_INTEGER;
	if (n >= 9 && ints == n && (seq_int_is(seq, 0, 0) || seq_int_is(seq, 0, 1)))
		found = true;	/* RSA (two- or multi-prime) */
	else if (n == 6 && ints == 6 && seq_int_is(seq, 0, 0))
		found = true;	/* DSA */
	else if (n >= 2 && n <= 4 && seq_int_is(seq, 0, 1) &&
		 sk_ASN1_TYPE_value(seq, 1)->type == V_ASN1_OCTET_STRING)
		found = true;	/* EC */
out:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return found;
}

#define TAG_NONE	(-1)	/* no such element, or not a universal tag */
#define TAG_ANY		(-2)	/* cannot tell: let the decoder judge */

/*
 * ASN1_get_object, line for line (the same tag, class, length, pointer
 * step and return bits: 0x20 constructed, 0x01 indefinite length, 0x80
 * error), but silent: OpenSSL queues an error, with a strdup()ed function
 * name, for every bad header, and queueing and clearing those for each of
 * the thousands of candidate bytes in a binary file cost more than the
 * reading itself.
 */
static int der_get_object(const uint8_t **pp, long *plength, int *ptag,
			  int *pclass, long omax)
{
	const uint8_t *p = *pp;
	unsigned long l = 0;
	long max = omax;
	int ret, tag, i, inf = 0;

	if (max <= 0)
		return 0x80;
	ret = *p & V_ASN1_CONSTRUCTED;
	i = *p & V_ASN1_PRIMITIVE_TAG;
	if (i == V_ASN1_PRIMITIVE_TAG) {	/* high tag number form */
		p++;
		if (--max == 0)
			return 0x80;
		while (*p & 0x80) {
			l = (l << 7) | (*p++ & 0x7f);
			if (--max == 0 || l > (INT_MAX >> 7))
				return 0x80;
		}
		l = (l << 7) | (*p++ & 0x7f);
		tag = (int)l;
	} else {
		tag = i;
		p++;
	}
	if (--max == 0)
		return 0x80;
	*ptag = tag;
	*pclass = **pp & V_ASN1_PRIVATE;
	/* the length: short, indefinite (0x80) or long form */
	if (*p == 0x80) {
		inf = 1;
		p++;
		l = 0;
	} else if (*p & 0x80) {
		i = *p++ & 0x7f;
		if (max - 1 < i + 1)
			return 0x80;
		while (i > 0 && *p == 0) {	/* leading zeroes */
			p++;
			i--;
		}
		if (i > (int)sizeof(long))
			return 0x80;
		for (l = 0; i > 0; i--)
			l = (l << 8) | *p++;
		if (l > LONG_MAX)
			return 0x80;
	} else {
		l = *p++;
	}
	*plength = (long)l;
	if (inf && !(ret & V_ASN1_CONSTRUCTED))
		return 0x80;
	if (*plength > omax - (p - *pp))
		ret |= 0x80;	/* longer than the bytes there are */
	*pp = p;
	return ret | inf;
}

/*
 * What the element headers of DER's outer SEQUENCE say, read as the
 * template decoders read them. Each key container has mandatory first
 * fields of fixed tags, a least number of fields, an OBJECT first in its
 * AlgorithmIdentifier or ContentInfo, and (WHOLE) spans exactly the bytes
 * given: a SEQUENCE that cannot be one fails that decoder on these bytes,
 * so the decoder need not run. What cannot be read here (an indefinite
 * length, a broken header) is TAG_ANY or unknown, and the decoder judges.
 */
struct der_shape {
	int tag[3];		/* universal tags of the first elements */
	int inner[2];		/* first tag inside elements 0 and 1 */
	long n;			/* number of elements, -1 unknown; 5: five or
				 * more, when not all INTEGERs (no container
				 * but RSA has more than four) */
	bool all_int;		/* every element an INTEGER */
	int version;		/* element 0 INTEGER 0 or 1; -1 other; TAG_ANY */
};

static int universal(int tag, int cls)
{
	return cls == V_ASN1_UNIVERSAL ? tag : TAG_NONE;
}

/* Tag of the first element inside a definite constructed element. */
static int inner_tag(int r, const uint8_t *p, long clen)
{
	int tag = -1, cls = -1;
	long ilen;

	if ((r & 0x81) || !(r & V_ASN1_CONSTRUCTED))
		return TAG_ANY;
	if (clen == 0)
		return TAG_NONE;
	der_get_object(&p, &ilen, &tag, &cls, clen);
	return universal(tag, cls);
}

/*
 * Fills S from the elements in [P, END). False when no container can
 * decode them: the first is neither INTEGER nor SEQUENCE, or (DEFINITE:
 * they fill a SEQUENCE of definite length, which the decoders read to its
 * end) a header is broken or runs past the end, which fails every decoder
 * ("bad object header").
 */
static bool shape_elements(const uint8_t *p, const uint8_t *end,
			   bool definite, struct der_shape *s)
{
	int r, tag, cls, t;
	long clen, i;

	for (i = 0; p < end; i++) {
		tag = cls = -1;
		r = der_get_object(&p, &clen, &tag, &cls, (long)(end - p));
		t = universal(tag, cls);
		if ((definite && (r & 0x80)) ||
		    (i == 0 && t != V_ASN1_INTEGER && t != V_ASN1_SEQUENCE))
			return false;
		if (i < 3)
			s->tag[i] = t;
		if (i < 2)
			s->inner[i] = inner_tag(r, p, clen);
		if (i == 0)
			s->version = t != V_ASN1_INTEGER ? -1 :
				     r & 0x81 ? TAG_ANY :
				     clen == 1 && p[0] <= 1 ? p[0] : -1;
		s->all_int &= t == V_ASN1_INTEGER;
		if (r & 0x81) {	/* cannot step over it: the rest unknown */
			while (++i < 3)
				s->tag[i] = TAG_ANY;
			s->n = -1;
			return true;
		}
		p += clen;
		if (i + 1 >= 5 && !s->all_int) {
			s->n = 5;
			return true;
		}
	}
	s->n = definite ? i : -1;
	return true;
}

/* False when DER is no SEQUENCE a decoder could take (in full: WHOLE). */
static bool der_shape_read(const uint8_t *der, long len, bool whole,
			   struct der_shape *s)
{
	const uint8_t *p = der;
	int tag = -1, cls = -1, r;
	long clen;

	*s = (struct der_shape){ .tag = { TAG_NONE, TAG_NONE, TAG_NONE },
				 .inner = { TAG_NONE, TAG_NONE },
				 .all_int = true, .version = -1 };
	/* Not "constructed" too: d2i_ASN1_SEQUENCE_ANY takes the primitive
	 * form (0x10), and an EC key in it was always refused. */
	r = der_get_object(&p, &clen, &tag, &cls, len);
	if ((r & 0x80) || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
		return false;
	/* indefinite: the end is not known here, nor what follows it */
	if (r & 1)
		return shape_elements(p, der + len, false, s);
	if (whole && p + clen != der + len)
		return false;
	return shape_elements(p, p + clen, true, s);
}

static bool tag_is(int tag, int want)
{
	return tag == want || tag == TAG_ANY;
}

/* N elements could be between MIN and MAX: a SEQUENCE of definite
 * length with fewer fields is missing one, with more fails as "sequence
 * length mismatch". */
static bool count_in(long n, long min, long max)
{
	return n < 0 || (n >= min && n <= max);
}

/* PKCS#8 {version, AlgorithmIdentifier {OBJECT ...}, OCTET STRING,
 * [0] attributes OPTIONAL} */
static bool may_be_pkcs8(const struct der_shape *s)
{
	return tag_is(s->tag[0], V_ASN1_INTEGER) &&
	       tag_is(s->tag[1], V_ASN1_SEQUENCE) &&
	       tag_is(s->tag[2], V_ASN1_OCTET_STRING) &&
	       tag_is(s->inner[1], V_ASN1_OBJECT) && count_in(s->n, 3, 4);
}

/* PKCS#12 {version, ContentInfo {OBJECT ...}, MacData OPTIONAL} */
static bool may_be_pkcs12(const struct der_shape *s)
{
	return tag_is(s->tag[0], V_ASN1_INTEGER) &&
	       tag_is(s->tag[1], V_ASN1_SEQUENCE) &&
	       tag_is(s->inner[1], V_ASN1_OBJECT) && count_in(s->n, 2, 3);
}

/* encrypted PKCS#8 {AlgorithmIdentifier {OBJECT ...}, OCTET STRING} */
static bool may_be_x509_sig(const struct der_shape *s)
{
	return tag_is(s->tag[0], V_ASN1_SEQUENCE) &&
	       tag_is(s->tag[1], V_ASN1_OCTET_STRING) &&
	       tag_is(s->inner[0], V_ASN1_OBJECT) && count_in(s->n, 2, 2);
}

/* What traditional_key_shape finds: RSA, DSA or EC by their INTEGER
 * version (one content byte: OpenSSL refuses an empty or padded INTEGER). */
static bool may_be_traditional(const struct der_shape *s)
{
	if (!tag_is(s->tag[0], V_ASN1_INTEGER) || s->version == -1)
		return false;
	if (s->n < 0)
		return true;
	if (s->all_int && (s->n >= 9 || (s->n == 6 && s->version != 1)))
		return true;
	return s->n >= 2 && s->n <= 4 && s->version != 0 &&
	       tag_is(s->tag[1], V_ASN1_OCTET_STRING);
}

/* DER decodes as @it (filling all of it when @whole): one template-driven
 * d2i for the key containers, as their d2i_* functions are. */
static bool decodes_as(const unsigned char *der, long len, bool whole,
		       const ASN1_ITEM *it)
{
	const unsigned char *p = der;
	ASN1_VALUE *v = ASN1_item_d2i(NULL, &p, len, it);
	bool ok = v && (!whole || p == der + len);

	ASN1_item_free(v, it);
	return ok;
}

/* DER that decodes as any private-key container: in full (WHOLE), or as
 * a prefix of the buffer (a key followed by other bytes). */
static bool der_is_private_key(const unsigned char *der, long len, bool whole)
{
	struct der_shape s;
	bool found = false, decoded = false;

	if (!der_shape_read(der, len, whole, &s))
		return false;
	if (may_be_pkcs8(&s)) {
		found = decodes_as(der, len, whole, ASN1_ITEM_rptr(PKCS8_PRIV_KEY_INFO));
		decoded = true;
	}
	if (!found && may_be_pkcs12(&s)) {
		found = decodes_as(der, len, whole, ASN1_ITEM_rptr(PKCS12));
		decoded = true;
	}
	if (!found && may_be_x509_sig(&s)) {
		found = decodes_as(der, len, whole, ASN1_ITEM_rptr(X509_SIG));
		decoded = true;
	}
	if (!found && may_be_traditional(&s)) {
		found = traditional_key_shape(der, len, whole);
		decoded = true;
	}
	if (decoded)
		ERR_clear_error();
	return found;
}

/*
 * DER keys appended to other data, in [FROM, TO): walk SEQUENCE TLVs, each
 * one decoded once and then skipped, so the cost stays linear in the input
 * (trying a decode at every 0x30 byte would be quadratic on hostile files).
 */
static bool scan_embedded_der(const uint8_t *buf, size_t from, size_t to,
			      struct svrcert_problems *p)
{
	size_t i = from;

	while (i < to) {
		const unsigned char *q = memchr(buf + i, 0x30, to - i);
		long clen = 0;
		int tag, cls, r;
		size_t tlv;

		if (!q)
			break;
		i = (size_t)(q - buf);
		r = der_get_object(&q, &clen, &tag, &cls, (long)(to - i));
		if (r != V_ASN1_CONSTRUCTED) {	/* error, or indefinite length */
			i++;
			continue;
		}
		tlv = (size_t)(q - (buf + i)) + (size_t)clen;
		if (der_is_private_key(buf + i, (long)tlv, true)) {
			svrcert_problems_add(p, SVRCERT_P_PRIVATE_KEY, false, -1,
					     "file holds a private key (DER at byte %zu); a certificate file must not contain any key",
					     i);
			return false;
		}
		i += tlv;
	}
	return true;
}

/* Text between PEM blocks (before the first, between, after the last) that
 * holds binary bytes: where an appended DER key would be. */
static bool scan_between_pem_blocks(const uint8_t *buf, size_t len,
				    struct svrcert_problems *p)
{
	size_t start = 0;

	while (start < len) {
		const uint8_t *begin = memmem(buf + start, len - start, "-----BEGIN", 10);
		size_t end = begin ? (size_t)(begin - buf) : len;
		const uint8_t *fin, *nl;

		if (!svrcert_is_text(buf + start, end - start) &&
		    !scan_embedded_der(buf, start, end, p))
			return false;
		if (!begin)
			break;
		fin = memmem(begin, len - end, "-----END", 8);
		nl = fin ? memchr(fin, '\n', (size_t)(buf + len - fin)) : NULL;
		if (!nl)
			break;
		start = (size_t)(nl + 1 - buf);
	}
	return true;
}

/* Every "-----BEGIN <label>-----" whose label names a private key, even
 * when the block would not decode. */
static bool scan_pem_labels(const uint8_t *buf, size_t len,
			    struct svrcert_problems *p)
{
	const uint8_t *pos = buf, *end = buf + len;
	bool clean = true;

	while ((pos = memmem(pos, (size_t)(end - pos), "-----BEGIN ", 11))) {
		const uint8_t *lab = pos + 11;
		const uint8_t *stop = memmem(lab, (size_t)(end - lab), "-----", 5);
		size_t llen = stop ? (size_t)(stop - lab) : 0;

		pos = lab;
		if (!stop || llen > 64)
			continue;
		if (memmem(lab, llen, "PRIVATE KEY", 11) || memmem(lab, llen, "PKCS12", 6)) {
			svrcert_problems_add(p, SVRCERT_P_PRIVATE_KEY, false, -1,
					     "file holds a private key (PEM block \"%.*s\"); a certificate file must not contain any key",
					     (int)llen, (const char *)lab);
			clean = false;
		}
	}
	return clean;
}

/* Bodies of the other PEM blocks: a key under a harmless label. */
static bool scan_pem_bodies(const struct svrcert_input *in,
			    struct svrcert_problems *p)
{
	bool clean = true;

	for (size_t i = 0; i < in->n; i++) {
		const struct svrcert_pem_block *b = &in->blocks[i];

		if (!strstr(b->label, "PRIVATE KEY") &&
		    der_is_private_key(b->der, b->len, true)) {
			svrcert_problems_add(p, SVRCERT_P_PRIVATE_KEY, false, -1,
					     "file holds a private key (PEM block %zu, labelled \"%s\"); a certificate file must not contain any key",
					     i + 1, b->label);
			clean = false;
		}
	}
	return clean;
}

bool svrcert_check_no_private_key_in(const struct svrcert_input *in,
				     struct svrcert_problems *p)
{
	const uint8_t *buf = in->buf;
	size_t len = in->len;
	bool clean;

	if (len > INT32_MAX) {
		svrcert_problems_add(p, SVRCERT_P_PARSE, false, -1, "file too large");
		return false;
	}
	clean = scan_pem_labels(buf, len, p);
	if (!in->pem) {
		if (der_is_private_key(buf, (long)len, true)) {
			svrcert_problems_add(p, SVRCERT_P_PRIVATE_KEY, false, -1,
					     "file holds a private key (DER PKCS#8, PKCS#12 or traditional key); a certificate file must not contain any key");
			return false;
		}
		/* A key appended to a DER certificate. */
		return scan_embedded_der(buf, in->der_cert_len, len, p) && clean;
	}
	clean = scan_pem_bodies(in, p) && clean;
	/* PEM is text: binary bytes can only be something appended. */
	if (clean && !in->text)
		clean = scan_between_pem_blocks(buf, len, p);
	return clean;
}

bool svrcert_check_no_private_key(const uint8_t *buf, size_t len,
				  struct svrcert_problems *p)
{
	struct svrcert_input in;
	bool clean;

	if (svrcert_input_read(&in, buf, len)) {
		svrcert_problems_add(p, SVRCERT_P_INTERNAL, false, -1,
				     "out of memory reading the file");
		return false;
	}
	clean = svrcert_check_no_private_key_in(&in, p);
	svrcert_input_free(&in);
	return clean;
}
