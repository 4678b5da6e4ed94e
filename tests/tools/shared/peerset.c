// SPDX-License-Identifier: GPL-2.0
/*
 * Generated peers for the test tools: see peerset.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peerset.h"
#include "pki/pki.h"
#include <openssl/x509.h>

/* Header of the DER TLV at P (within END): sets *hl, *len; 0 or -1. */
static int der_header(const unsigned char *p, const unsigned char *end,
		      size_t *hl, size_t *len)
{
	size_t i, n;

	if (end - p < 2)
		return -1;
	if (!(p[1] & 0x80)) {
		*hl = 2;
		*len = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - p) < 2 + n)
			return -1;
		*len = 0;
		for (i = 0; i < n; i++)
			*len = (*len << 8) | p[2 + i];
		*hl = 2 + n;
	}
	return (size_t)(end - p) - *hl >= *len ? 0 : -1;
}

/*
 * Offset and length of the serialNumber INTEGER's content, or -1; *TLV:
 * the offset of the INTEGER itself.
 */
static long serial_offset(const unsigned char *der, size_t n, size_t *slen,
			  size_t *tlv)
{
	const unsigned char *p = der, *end = der + n;
	size_t hl, len;

	if (der_header(p, end, &hl, &len) < 0 || p[0] != 0x30)	/* Certificate */
		return -1;
	p += hl;
	if (der_header(p, end, &hl, &len) < 0 || p[0] != 0x30)	/* tbsCertificate */
		return -1;
	p += hl;
	if (der_header(p, end, &hl, &len) < 0)
		return -1;
	if (p[0] == 0xa0) {					/* [0] version */
		p += hl + len;
		if (der_header(p, end, &hl, &len) < 0)
			return -1;
	}
	if (p[0] != 0x02)					/* serialNumber */
		return -1;
	*slen = len;
	*tlv = (size_t)(p - der);
	return (long)(p + hl - der);
}

static unsigned char *read_all(const char *path, size_t *n)
{
	unsigned char *buf = malloc(SVRCERT_CERT_DER_MAX);
	FILE *f = fopen(path, "rb");

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	*n = fread(buf, 1, SVRCERT_CERT_DER_MAX, f);
	fclose(f);
	return buf;
}

static void addr_nth(const struct svrcert_nl_addr *base, unsigned int i, struct svrcert_nl_addr *a)
{
	uint32_t low;

	*a = *base;
	if (a->family == AF_INET) {
		a->v4.s_addr = htonl(ntohl(a->v4.s_addr) + i);
	} else {
		memcpy(&low, &a->v6.s6_addr[12], 4);
		low = htonl(ntohl(low) + i);
		memcpy(&a->v6.s6_addr[12], &low, 4);
	}
}

/* Peer I's serial: the last four content bytes of the INTEGER are I. */
static void set_serial(struct peerset *ps, unsigned int i)
{
	uint32_t be = htonl(i);

	memcpy(ps->der + ps->serial_off + ps->serial_len - 4, &be, 4);
}

/*
 * The revocation key the kernel takes with each certificate: the issuer of
 * the template (parsed once) and each peer's serial.
 */
static int peer_revkeys(struct peerset *ps)
{
	const unsigned char *p = ps->der;
	X509 *x = d2i_X509(NULL, &p, (long)ps->der_len);
	ASN1_INTEGER *serial;
	unsigned int i;
	int err = x ? 0 : -EINVAL;

	for (i = 0; !err && i < ps->count; i++) {
		set_serial(ps, i);
		p = ps->der + ps->serial_tlv;
		serial = d2i_ASN1_INTEGER(NULL, &p, (long)(ps->der_len - ps->serial_tlv));
		err = serial ? svrcert_revkey_from_issuer_serial(
				X509_get_issuer_name(x), serial, ps->revkeys[i]) : -EINVAL;
		ASN1_INTEGER_free(serial);
	}
	X509_free(x);
	return err;
}

int peerset_load(struct peerset *ps, const char *tmpl, unsigned int count,
		 char *err, size_t errlen)
{
	ps->count = count;
	ps->der = read_all(tmpl, &ps->der_len);
	ps->revkeys = NULL;
	if (!ps->der || !ps->der_len) {
		snprintf(err, errlen, "cannot read %s", tmpl);
		return -1;
	}
	ps->serial_off = serial_offset(ps->der, ps->der_len, &ps->serial_len,
				       &ps->serial_tlv);
	if (ps->serial_off < 0 || ps->serial_len < 5) {
		snprintf(err, errlen, "%s: no serial number of 5+ bytes found", tmpl);
		return -1;
	}
	ps->revkeys = calloc(count, sizeof(*ps->revkeys));
	if (!ps->revkeys || peer_revkeys(ps) < 0) {
		snprintf(err, errlen, "cannot compute the revocation keys");
		return -1;
	}
	return 0;
}

int peerset_add(struct peerset *ps, struct svrcert_nl *nl, char *err,
		size_t errlen)
{
	struct svrcert_peer_info info;
	unsigned int i;
	int ret;

	for (i = 0; i < ps->count; i++) {
		set_serial(ps, i);
		memset(&info, 0, sizeof(info));
		snprintf(info.name, sizeof(info.name), "%s%u", ps->prefix, i);
		info.state = ps->state;
		info.n_addrs = 1;
		addr_nth(&ps->base, i, &info.addrs[0]);
		info.cert_der = ps->der;
		info.cert_der_len = ps->der_len;
		if (ps->esp_port >= 0) {
			info.esp_set = info.esp_required = true;
			info.auth_port = ps->esp_port;
		}
		memcpy(info.revkey, ps->revkeys[i], SVRCERT_KEY_LEN);
		ret = svrcert_nl_peer_add(nl, &info, false);
		if (ret < 0) {
			snprintf(err, errlen, "peer %s: %s%s%s", info.name, strerror(-ret),
				 *svrcert_nl_errmsg(nl) ? ": kernel says: " : "",
				 svrcert_nl_errmsg(nl));
			return ret;
		}
	}
	return 0;
}

void peerset_free(struct peerset *ps)
{
	free(ps->revkeys);
	free(ps->der);
	ps->revkeys = NULL;
	ps->der = NULL;
}
