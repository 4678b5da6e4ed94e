// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the certificate DER walk on real certificates (RSA and ECDSA,
 * v1 and v3, UTCTime and GeneralizedTime) against facts computed on the
 * host with OpenSSL and Python, then on every truncation and on targeted
 * and exhaustive single-byte mutations of a real certificate.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "x509.h"
#include "x509_test_certs.h"

struct cert_case {
	const char *name;
	const u8 *der;
	size_t len;
	const u8 *fp;
	time64_t not_before;
	time64_t not_after;
};

#define CERT_CASE(n, N) { #n, cert_##n##_der, sizeof(cert_##n##_der), \
	cert_##n##_fp, CERT_##N##_NOT_BEFORE, CERT_##N##_NOT_AFTER }

static const struct cert_case cert_cases[] = {
	CERT_CASE(ca, CA),
	CERT_CASE(rsa, RSA),
	CERT_CASE(gen, GEN),
	CERT_CASE(rsa3, RSA3),
};

static void x509_real_certificates(struct kunit *test)
{
	struct svrcert_cert_facts facts;
	const char *why = NULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cert_cases); i++) {
		const struct cert_case *c = &cert_cases[i];

		memset(&facts, 0, sizeof(facts));
		KUNIT_EXPECT_EQ_MSG(test, svrcert_x509_parse(c->der, c->len, &facts, &why),
				    0, "%s: %s", c->name, why);
		KUNIT_EXPECT_EQ_MSG(test, facts.not_before, c->not_before, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, facts.not_after, c->not_after, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(facts.fingerprint, c->fp, 32), 0,
				    "%s fingerprint", c->name);
	}
}

/* The outer SEQUENCE must span the buffer: every strict prefix fails. */
static void x509_every_truncation_fails(struct kunit *test)
{
	struct svrcert_cert_facts facts;
	const char *why;
	unsigned int i;
	size_t len;

	for (i = 0; i < ARRAY_SIZE(cert_cases); i++) {
		const struct cert_case *c = &cert_cases[i];
		/* A copy of exactly @len bytes, so KASAN sees any overread. */
		for (len = 0; len < c->len; len++) {
			u8 *buf = kmemdup(c->der, len ?: 1, GFP_KERNEL);

			KUNIT_ASSERT_NOT_NULL(test, buf);
			why = NULL;
			KUNIT_EXPECT_EQ_MSG(test, svrcert_x509_parse(buf, len, &facts, &why),
					    -EINVAL, "%s truncated to %zu", c->name, len);
			KUNIT_EXPECT_NOT_ERR_OR_NULL(test, why);
			kfree(buf);
		}
	}
}

static int parse_mutated(struct kunit *test, const struct cert_case *c,
			 size_t off, u8 val, const char **why)
{
	struct svrcert_cert_facts facts;
	u8 *buf = kmemdup(c->der, c->len, GFP_KERNEL);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	buf[off] = val;
	err = svrcert_x509_parse(buf, c->len, &facts, why);
	kfree(buf);
	return err;
}

static void x509_targeted_mutations(struct kunit *test)
{
	const struct cert_case *c = &cert_cases[0];	/* v3: 30 82 .. 30 82 .. a0 */
	const char *why;
	u8 *buf;

	/* Indefinite length on the outer SEQUENCE. */
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, 1, 0x80, &why), -EINVAL);
	/* Five length octets. */
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, 1, 0x85, &why), -EINVAL);
	/* Outer tag not a SEQUENCE. */
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, 0, 0x31, &why), -EINVAL);
	/* Multi-octet tag. */
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, 0, 0x3f, &why), -EINVAL);
	/* One trailing byte after the certificate. */
	buf = kzalloc(c->len + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memcpy(buf, c->der, c->len);
	{
		struct svrcert_cert_facts facts;

		KUNIT_EXPECT_EQ(test, svrcert_x509_parse(buf, c->len + 1, &facts, &why),
				-EINVAL);
		KUNIT_EXPECT_STREQ(test, why, "trailing data after certificate");
	}
	kfree(buf);
}

/* Find the first UTCTime (tag 0x17, length 13) of a certificate. */
static size_t find_utctime(const struct cert_case *c)
{
	size_t i;

	for (i = 0; i + 15 <= c->len; i++)
		if (c->der[i] == 0x17 && c->der[i + 1] == 13 &&
		    c->der[i + 14] == 'Z')
			return i + 2;
	return 0;
}

static void x509_bad_times(struct kunit *test)
{
	const struct cert_case *c = &cert_cases[1];
	size_t t = find_utctime(c);
	const char *why;

	KUNIT_ASSERT_GT(test, t, (size_t)0);
	/* YYMMDDHHMMSSZ: month 9x, day 4x, hour 3x, a letter, no Z. */
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, t + 2, '9', &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, t + 4, '4', &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, t + 6, '3', &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, t + 7, 'x', &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_mutated(test, c, t + 12, '0', &why), -EINVAL);
	KUNIT_EXPECT_STREQ(test, why, "malformed validity time");
}

/*
 * Every byte of the certificate head (through the validity) set to a few
 * values: the parser must return 0 or -EINVAL with a reason, and never
 * read outside the buffer (KASAN watches the exact-size copies).
 */
static void x509_exhaustive_head_mutations(struct kunit *test)
{
	static const u8 vals[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83,
				   0x84, 0xff };
	const struct cert_case *c = &cert_cases[3];
	size_t off, head = min_t(size_t, c->len, 160);
	unsigned int v, failed = 0;
	const char *why;
	int err;

	for (off = 0; off < head; off++) {
		for (v = 0; v < ARRAY_SIZE(vals); v++) {
			why = NULL;
			err = parse_mutated(test, c, off, vals[v], &why);
			KUNIT_EXPECT_TRUE(test, err == 0 || err == -EINVAL);
			if (err) {
				KUNIT_EXPECT_NOT_ERR_OR_NULL(test, why);
				failed++;
			}
		}
	}
	KUNIT_EXPECT_GT(test, failed, 0U);
}

static struct kunit_case x509_test_cases[] = {
	KUNIT_CASE(x509_real_certificates),
	KUNIT_CASE(x509_every_truncation_fails),
	KUNIT_CASE(x509_targeted_mutations),
	KUNIT_CASE(x509_bad_times),
	KUNIT_CASE(x509_exhaustive_head_mutations),
	{}
};

static struct kunit_suite x509_test_suite = {
	.name = "svrcert_x509",
	.test_cases = x509_test_cases,
};

kunit_test_suite(x509_test_suite);
