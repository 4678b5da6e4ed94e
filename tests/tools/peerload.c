// SPDX-License-Identifier: GPL-2.0
/*
 * peerload - bind many peers at once, for the data-path benchmark.
 *
 *   peerload -c TEMPLATE.der -n COUNT -b BASE_ADDR [-p PREFIX] [-s STATE]
 *            [-e AUTH_PORT]
 *
 * Adds COUNT peers named PREFIX0 .. PREFIX<COUNT-1> (default prefix "b"),
 * peer i on address BASE_ADDR + i (IPv4; IPv6: +i in the low 32 bits), over
 * one netlink socket with libsvrcert's svrcert_nl_peer_add(). Peer i's
 * certificate is TEMPLATE with its serial number's last four content bytes
 * replaced by i, so every peer has its own fingerprint and revocation key
 * (the kernel reads the certificate's fields; it does not verify the
 * signature -- that is userspace's job -- so the patched copies load).
 * TEMPLATE's serial must be at least 5 bytes long. -e: every peer has ESP
 * required (all protocols, from its address), TCP to AUTH_PORT exempt, as
 * svrcertd binds a peer whose keys are installed (scripts/bench-esp).
 *
 * Prints "added N peers in S s (R peers/s)"; exit 0, or 1 on the first
 * error (reported with the kernel's message). The time is the kernel's
 * and the netlink exchange only: the peers' revocation keys (an OpenSSL
 * name canonicalisation and SHA-256 each, far dearer than the add under
 * TCG) are computed before the clock starts, from the template's issuer
 * parsed once; stderr says how long that took.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netlink/nl.h"
#include "netlink/nl_util.h"
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

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
static void set_serial(unsigned char *der, long off, size_t slen, unsigned int i)
{
	uint32_t be = htonl(i);

	memcpy(der + off + slen - 4, &be, 4);
}

/*
 * The revocation key the kernel takes with each certificate, for peers
 * 0..COUNT-1 into KEYS: the issuer of TMPL (parsed once) and each peer's
 * serial (the INTEGER at TLV, its content at OFF).
 */
static int peer_revkeys(unsigned char *tmpl, size_t n, size_t tlv, long off,
			size_t slen, unsigned int count,
			uint8_t (*keys)[SVRCERT_KEY_LEN])
{
	const unsigned char *p = tmpl;
	X509 *x = d2i_X509(NULL, &p, (long)n);
	ASN1_INTEGER *serial;
	unsigned int i;
	int err = x ? 0 : -EINVAL;

	for (i = 0; !err && i < count; i++) {
		set_serial(tmpl, off, slen, i);
		p = tmpl + tlv;
		serial = d2i_ASN1_INTEGER(NULL, &p, (long)(n - tlv));
		err = serial ? svrcert_revkey_from_issuer_serial(
				X509_get_issuer_name(x), serial, keys[i]) : -EINVAL;
		ASN1_INTEGER_free(serial);
	}
	X509_free(x);
	return err;
}

static int usage(void)
{
	fprintf(stderr, "usage: peerload -c TEMPLATE.der -n COUNT -b BASE_ADDR "
		"[-p PREFIX] [-s STATE] [-e AUTH_PORT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *tmpl = NULL, *prefix = "b", *base_s = NULL;
	struct svrcert_peer_info info;
	struct svrcert_nl_addr base;
	unsigned int count = 0, i;
	int c, err, state = SVRCERT_STATE_VALID, esp_port = -1;
	uint8_t (*revkeys)[SVRCERT_KEY_LEN];
	unsigned char *der;
	struct svrcert_nl *nl;
	size_t n, slen, tlv;
	long off;
	double t0, t;

	while ((c = getopt(argc, argv, "c:n:b:p:s:e:h")) != -1) {
		switch (c) {
		case 'c': tmpl = optarg; break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'b': base_s = optarg; break;
		case 'p': prefix = optarg; break;
		case 'e': esp_port = atoi(optarg); break;
		case 's':
			if (svrcert_nl_state_parse(optarg, &state) < 0)
				return usage();
			break;
		default: return usage();
		}
	}
	if (!tmpl || !count || !base_s || svrcert_nl_addr_parse(base_s, &base) < 0)
		return usage();
	der = read_all(tmpl, &n);
	if (!der || !n) {
		fprintf(stderr, "peerload: cannot read %s\n", tmpl);
		return 1;
	}
	off = serial_offset(der, n, &slen, &tlv);
	if (off < 0 || slen < 5) {
		fprintf(stderr, "peerload: %s: no serial number of 5+ bytes found\n", tmpl);
		return 1;
	}
	revkeys = calloc(count, sizeof(*revkeys));
	t0 = now_sec();
	if (!revkeys || peer_revkeys(der, n, tlv, off, slen, count, revkeys) < 0) {
		fprintf(stderr, "peerload: cannot compute the revocation keys\n");
		return 1;
	}
	fprintf(stderr, "peerload: %u revocation keys computed in %.3f s\n", count,
		now_sec() - t0);
	err = svrcert_nl_open(&nl);
	if (err < 0) {
		fprintf(stderr, "peerload: %s\n", svrcert_nl_open_errmsg());
		return 1;
	}
	t0 = now_sec();
	for (i = 0; i < count; i++) {
		set_serial(der, off, slen, i);
		memset(&info, 0, sizeof(info));
		snprintf(info.name, sizeof(info.name), "%s%u", prefix, i);
		info.state = state;
		info.n_addrs = 1;
		addr_nth(&base, i, &info.addrs[0]);
		info.cert_der = der;
		info.cert_der_len = n;
		if (esp_port >= 0) {
			info.esp_set = info.esp_required = true;
			info.auth_port = esp_port;
		}
		memcpy(info.revkey, revkeys[i], SVRCERT_KEY_LEN);
		err = svrcert_nl_peer_add(nl, &info, false);
		if (err < 0) {
			fprintf(stderr, "peerload: peer %s: %s%s%s\n", info.name, strerror(-err),
				*svrcert_nl_errmsg(nl) ? ": kernel says: " : "",
				svrcert_nl_errmsg(nl));
			svrcert_nl_close(nl);
			return 1;
		}
	}
	t = now_sec() - t0;
	printf("added %u peers in %.3f s (%.0f peers/s)\n", count, t, t > 0 ? count / t : 0);
	svrcert_nl_close(nl);
	free(revkeys);
	free(der);
	return 0;
}
