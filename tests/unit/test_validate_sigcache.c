// SPDX-License-Identifier: GPL-2.0
/*
 * The signature cache (validate.h, svrcert_sigcache) against the real test
 * PKI (tests/pki/mkpki.sh): a known chain is walked without its signatures
 * (shown by a tampered signature made known by hand, which then passes),
 * a tampered signature fails on a miss and is not learned, dates are still
 * judged on a hit with the same problems as without a cache, and the size
 * bound evicts the least recently used pair.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "pki/validate.h"
#include "../pki/testpki.h"

#define DAY	86400L

static X509_STORE *store;
static X509 *intermediate;

static int group_setup(void **state)
{
	STACK_OF(X509) *certs = NULL;
	struct svrcert_problems p;
	uint8_t *buf;
	size_t len;

	if (testpki_setup())
		return -1;
	svrcert_problems_init(&p);
	buf = testpki_read("bundle.pem", &len);
	if (!buf || svrcert_bundle_check(buf, len, SVRCERT_MODE_STRICT, 0, &certs, &p))
		return -1;
	free(buf);
	store = svrcert_store_new();
	if (!store || svrcert_store_add_certs(store, certs))
		return -1;
	sk_X509_pop_free(certs, X509_free);
	intermediate = testpki_cert("int.pem");
	return intermediate ? 0 : -1;
}

static int group_teardown(void **state)
{
	X509_STORE_free(store);
	X509_free(intermediate);
	testpki_teardown();
	return 0;
}

/* Judge LEAF as r1 at NOW (0: now) with cache C (may be NULL). */
static int judge(X509 *leaf, struct svrcert_sigcache *c, time_t now,
		 struct svrcert_problems *p)
{
	struct svrcert_validate_params vp = { .store = store, .now = now,
					      .expected_name = "r1",
					      .sigcache = c };
	struct svrcert_validated v;
	int ret;

	svrcert_problems_init(p);
	ret = svrcert_validate_cert(leaf, NULL, &vp, &v, p);
	svrcert_validated_free(&v);
	return ret;
}

static struct svrcert_sigcache_stats stats(struct svrcert_sigcache *c)
{
	struct svrcert_sigcache_stats st;

	svrcert_sigcache_get_stats(c, &st);
	return st;
}

/* The same certificate with the last byte of its signature changed. */
static X509 *tampered(const char *file)
{
	X509 *x = testpki_cert(file), *t;
	unsigned char *der = NULL;
	const unsigned char *q;
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	der[len - 1] ^= 0x01;
	q = der;
	t = d2i_X509(NULL, &q, len);
	assert_non_null(t);
	OPENSSL_free(der);
	X509_free(x);
	return t;
}

static void test_hit_skips_signature(void **state)
{
	struct svrcert_sigcache *c = svrcert_sigcache_new(64);
	X509 *r1 = testpki_cert("r1.pem"), *bad = tampered("r1.pem");
	struct svrcert_problems p;

	assert_non_null(c);
	/* First judgement: OpenSSL's walk, both links learned. */
	assert_int_equal(judge(r1, c, 0, &p), 0);
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).misses, 1);
	assert_int_equal(stats(c).hits, 0);
	assert_int_equal(stats(c).added, 2);	/* r1 <- int, int <- root */
	/* Again: every link known, no signature computed, still valid. */
	assert_int_equal(judge(r1, c, 0, &p), 0);
	assert_int_equal(p.n, 0);
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).hits, 1);
	assert_int_equal(stats(c).misses, 1);
	assert_int_equal(stats(c).added, 2);

	/* A tampered signature is other bytes: a miss, fails, not learned. */
	assert_int_equal(judge(bad, c, 0, &p), -EKEYREJECTED);
	assert_int_equal(svrcert_problems_first(&p), SVRCERT_P_UNTRUSTED);
	assert_non_null(strstr(p.v[0].msg, "certificate signature failure"));
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).misses, 2);
	assert_int_equal(stats(c).added, 2);
	/* Without a cache the same problem. */
	assert_int_equal(judge(bad, NULL, 0, &p), -EKEYREJECTED);
	assert_non_null(strstr(p.v[0].msg, "certificate signature failure"));
	svrcert_problems_free(&p);

	/* Made known by hand, the bad signature passes: on a hit the
	 * signature is not computed (what the cache is for; only verified
	 * pairs are ever added by validation). */
	assert_int_equal(svrcert_sigcache_add(c, bad, intermediate), 0);
	assert_int_equal(judge(bad, c, 0, &p), 0);
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).hits, 2);

	X509_free(r1);
	X509_free(bad);
	svrcert_sigcache_free(c);
}

static void assert_same_problems(const struct svrcert_problems *a,
				 const struct svrcert_problems *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->n_errors, b->n_errors);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].code, b->v[i].code);
		assert_int_equal(a->v[i].depth, b->v[i].depth);
		assert_string_equal(a->v[i].msg, b->v[i].msg);
	}
}

/* bad-expired.pem: valid from 30 days ago to 1 day ago. */
static void test_dates_judged_on_hit(void **state)
{
	struct svrcert_sigcache *c = svrcert_sigcache_new(64);
	X509 *leaf = testpki_cert("bad-expired.pem");
	time_t now = time(NULL), when[] = { now, now - 40 * DAY };
	enum svrcert_problem want[] = { SVRCERT_P_EXPIRED, SVRCERT_P_NOT_YET_VALID };
	struct svrcert_problems p, q;

	assert_int_equal(judge(leaf, c, now - 10 * DAY, &p), 0);
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).added, 2);
	for (size_t i = 0; i < 2; i++) {
		uint64_t hits = stats(c).hits;

		assert_int_equal(judge(leaf, c, when[i], &p), -EKEYREJECTED);
		assert_int_equal(stats(c).hits, hits + 1);
		assert_int_equal(svrcert_problems_first(&p), want[i]);
		/* Exactly what a judgement without the cache says. */
		assert_int_equal(judge(leaf, NULL, when[i], &q), -EKEYREJECTED);
		assert_same_problems(&p, &q);
		svrcert_problems_free(&p);
		svrcert_problems_free(&q);
	}
	X509_free(leaf);
	svrcert_sigcache_free(c);
}

static void test_size_bound(void **state)
{
	struct svrcert_sigcache *c = svrcert_sigcache_new(3);	/* one set of 4 */
	static const char *const more[] = { "r2.pem", "r1-san.pem", "r3-san.pem",
					    "bad-expired.pem" };
	X509 *r1 = testpki_cert("r1.pem"), *x[4];
	struct svrcert_problems p;

	assert_int_equal(stats(c).capacity, 4);
	for (size_t i = 0; i < 4; i++)
		assert_non_null(x[i] = testpki_cert(more[i]));
	assert_int_equal(judge(r1, c, 0, &p), 0);		/* 2 pairs */
	svrcert_problems_free(&p);
	assert_int_equal(svrcert_sigcache_add(c, x[0], intermediate), 0);
	assert_int_equal(svrcert_sigcache_add(c, x[1], intermediate), 0);
	assert_int_equal(stats(c).used, 4);
	assert_int_equal(stats(c).evicted, 0);
	assert_int_equal(judge(r1, c, 0, &p), 0);		/* r1's pairs used */
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).hits, 1);
	/* Two more: the least recently used two (r2's, r1-san's) go. */
	assert_int_equal(svrcert_sigcache_add(c, x[2], intermediate), 0);
	assert_int_equal(svrcert_sigcache_add(c, x[3], intermediate), 0);
	assert_int_equal(stats(c).used, 4);
	assert_int_equal(stats(c).evicted, 2);
	assert_int_equal(judge(r1, c, 0, &p), 0);		/* still known */
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).hits, 2);
	svrcert_problems_init(&p);
	{
		struct svrcert_validate_params vp = { .store = store, .sigcache = c };

		/* r2's pair was evicted: OpenSSL's walk again. */
		assert_int_equal(svrcert_validate_cert(x[0], NULL, &vp, NULL, &p), 0);
	}
	svrcert_problems_free(&p);
	assert_int_equal(stats(c).misses, 2);
	assert_true(stats(c).used <= stats(c).capacity);
	assert_int_equal(stats(c).used, 4);
	X509_free(r1);
	for (size_t i = 0; i < 4; i++)
		X509_free(x[i]);
	svrcert_sigcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_skips_signature),
		cmocka_unit_test(test_dates_judged_on_hit),
		cmocka_unit_test(test_size_bound),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
