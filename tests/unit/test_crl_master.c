// SPDX-License-Identifier: GPL-2.0
/*
 * crl_source, crl_master and publishing with real signed CRLs (mkcrl, a
 * real OpenSSL CA): last good CRL kept on every failure, CRL number and
 * thisUpdate order, staleness, union and diff, the system.crl_update
 * detail, master.bin round trip and corruption detection, publishing
 * (served back over HTTP and used as a CRL source), and publishes killed
 * with SIGKILL never leaving a list that does not load.
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "crl/crl_fetch.h"
#include "crl/crl_master.h"
#include "crl/crl_source.h"

static int setup(void **state)
{
	if (fx_setup_dir("crlmaster"))
		return -1;
	fx_make_ca("ca", "/C=US/O=svrcert test/CN=Master Test CA");
	fx_make_ca("twin", "/C=US/O=svrcert test/CN=Master Test CA");
	fx_make_ca("other", "/C=US/O=svrcert test/CN=Other CA");
	fx_mkcrl("n5.der", "ca", 100, "--number 5 --seed 5");
	fx_mkcrl("n5.pem", "ca", 100, "--number 5 --seed 5 --pem");
	fx_mkcrl("n4.der", "ca", 100, "--number 4 --seed 4");
	fx_mkcrl("n6.der", "ca", 120, "--number 6 --seed 6");
	fx_mkcrl("forged.der", "twin", 100, "--number 9 --seed 9");
	fx_mkcrl("other.der", "other", 50, "--number 1 --seed 77");
	/* base 10 (seed 21, freshestCRL), its delta 11 (+5 seed 22, removes
	 * the base's first 2), a delta 12 of base 11, base 12 */
	fx_mkcrl("b10.der", "ca", 8, "--number 10 --seed 21 "
		 "--freshest http://127.0.0.1/delta.crl");
	fx_mkcrl("d11.der", "ca", 5, "--number 11 --delta 10 --seed 22 "
		 "--remove 2 --remove-seed 21");
	fx_mkcrl("d12b11.der", "ca", 1, "--number 12 --delta 11 --seed 23");
	fx_mkcrl("b12.der", "ca", 11, "--number 12 --seed 24");
	return 0;
}

static int teardown(void **state)
{
	return fx_teardown();
}

static int offer(struct svrcert_crl_source *s, const char *file, const char *ca,
		 bool *replaced, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = fx_trust(ca);
	size_t len;
	uint8_t *buf = fx_load(file, &len);
	int rc = svrcert_crl_source_offer(s, buf, len, sk, time(NULL), "\"e1\"",
					  "Mon, 01 Jan 2024 00:00:00 GMT",
					  replaced, err, errlen);

	free(buf);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* A second source holding the same CRL as S (own copies). */
static void good_source_init_copy(struct svrcert_crl_source *t,
				  const struct svrcert_crl_source *s)
{
	char err[256];
	bool rep;

	svrcert_crl_source_init(t, s->url);
	assert_int_equal(offer(t, "n5.der", "ca", &rep, err, sizeof(err)), 0);
	assert_int_equal(svrcert_crl_number_cmp(&t->crl, &s->crl), 0);
}

static int offer_delta(struct svrcert_crl_source *s, const char *file,
		       bool *replaced, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = fx_trust("ca");
	size_t len;
	uint8_t *buf = fx_load(file, &len);
	int rc = svrcert_crl_source_offer_delta(s, buf, len, sk, time(NULL),
						NULL, NULL, replaced, err,
						errlen);

	free(buf);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* Delta CRLs (RFC 5280 5.2.4): base + delta combined (removeFromCRL
 * honoured), in the master list, published and restored; a delta as a
 * complete CRL, for another base, or older, refused; a newer base makes
 * the delta go. */
static void test_delta_combined(void **state)
{
	struct svrcert_crl_source s, r;
	struct svrcert_crl_source *all[] = { &s };
	struct svrcert_crl b, d;
	struct svrcert_master m;
	STACK_OF(X509) *sk = fx_trust("ca");
	char err[256], dir[PATH_MAX];
	const svrcert_revkey_t *k;
	size_t n, i;
	bool rep;

	assert_int_equal(svrcert_crl_source_init(&s, "http://127.0.0.1/b.crl"), 0);
	assert_int_equal(offer(&s, "d11.der", "ca", &rep, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "delta CRL (deltaCRLIndicator) served as "
			       "a complete CRL"));
	assert_int_equal(offer_delta(&s, "d11.der", &rep, err, sizeof(err)),
			 -EBADMSG);	/* no base held */
	assert_int_equal(offer(&s, "b10.der", "ca", &rep, err, sizeof(err)), 0);
	assert_string_equal(s.crl.freshest, "http://127.0.0.1/delta.crl");
	assert_int_equal(offer_delta(&s, "b12.der", &rep, err, sizeof(err)),
			 -EBADMSG);	/* a complete CRL on the delta URL */
	assert_int_equal(offer_delta(&s, "d12b11.der", &rep, err, sizeof(err)),
			 -ESTALE);	/* needs base 11 */
	assert_int_equal(offer_delta(&s, "d11.der", &rep, err, sizeof(err)), 0);
	assert_true(rep && s.has_delta);
	fx_path(dir, sizeof(dir), "b10.der");
	assert_int_equal(svrcert_crl_walk_file(dir, sk, &b, err, sizeof(err)), 0);
	fx_path(dir, sizeof(dir), "d11.der");
	assert_int_equal(svrcert_crl_walk_file(dir, sk, &d, err, sizeof(err)), 0);
	k = svrcert_crl_source_keys(&s, &n);
	assert_int_equal(n, 8 - 2 + 5);
	for (i = 0; i < d.nremoved; i++)
		assert_false(svrcert_revkeys_contains(k, n, d.removed[i]));
	for (i = 0; i < d.nkeys; i++)
		assert_true(svrcert_revkeys_contains(k, n, d.keys[i]));
	assert_int_equal(svrcert_master_build(all, 1, NULL, 0, time(NULL), &m), 0);
	assert_int_equal(m.n, 11);
	assert_false(svrcert_revkeys_contains(m.keys, m.n, d.removed[0]));

	/* published (the delta as crl/<name>.delta) and held again */
	fx_path(dir, sizeof(dir), "pubdelta");
	assert_int_equal(svrcert_master_publish(dir, all, 1, &m, time(NULL), err,
						sizeof(err)), 0);
	fx_run("test -s pubdelta/crl/%s.delta && jq -e '.crls[0].delta.crl_number"
	       " == \"0B\" and .crls[0].effective_keys == 11' pubdelta/index.json",
	       s.name);
	svrcert_master_release(&m);
	assert_int_equal(svrcert_crl_source_init(&r, s.url), 0);
	assert_int_equal(svrcert_crl_source_restore(&r, dir, sk, time(NULL), err,
						    sizeof(err)), 0);
	assert_true(r.has_delta);
	assert_int_equal(r.neff, 11);

	/* the URL moves to another issuer: the base with its delta stays in
	 * force (prev[], its delta published and restored next to it) */
	{
		STACK_OF(X509) *both = fx_trust("ca"), *o = fx_trust("other");
		struct svrcert_crl_source *rr[] = { &r }, r2;
		uint8_t *buf;

		sk_X509_push(both, sk_X509_shift(o));
		sk_X509_free(o);
		buf = fx_load("other.der", &n);
		assert_int_equal(svrcert_crl_source_offer(&r, buf, n, both,
			time(NULL), NULL, NULL, &rep, err, sizeof(err)), 0);
		free(buf);
		assert_false(r.has_delta);
		assert_int_equal(r.nprev, 1);
		assert_int_equal(r.prev[0].neff, 11);
		assert_int_equal(svrcert_master_build(rr, 1, NULL, 0, time(NULL),
						      &m), 0);
		assert_int_equal(m.n, 11 + 50);
		fx_path(dir, sizeof(dir), "pubdelta2");
		assert_int_equal(svrcert_master_publish(dir, rr, 1, &m, time(NULL),
							err, sizeof(err)), 0);
		svrcert_master_release(&m);
		fx_run("ls pubdelta2/crl/%s-*.delta", r.name);
		assert_int_equal(svrcert_crl_source_init(&r2, r.url), 0);
		assert_int_equal(svrcert_crl_source_restore(&r2, dir, both,
			time(NULL), err, sizeof(err)), 0);
		assert_int_equal(r2.nprev, 1);
		assert_int_equal(r2.prev[0].neff, 11);
		rr[0] = &r2;
		assert_int_equal(svrcert_master_build(rr, 1, NULL, 0, time(NULL),
						      &m), 0);
		assert_int_equal(m.n, 11 + 50);
		svrcert_master_release(&m);
		svrcert_crl_source_release(&r2);
		sk_X509_pop_free(both, X509_free);
	}
	svrcert_crl_source_release(&r);

	/* a newer base includes what the delta said: the delta goes */
	assert_int_equal(offer(&s, "b12.der", "ca", &rep, err, sizeof(err)), 0);
	assert_true(rep);
	assert_false(s.has_delta);
	svrcert_crl_source_keys(&s, &n);
	assert_int_equal(n, 11);
	svrcert_crl_release(&b);
	svrcert_crl_release(&d);
	svrcert_crl_source_release(&s);
	sk_X509_pop_free(sk, X509_free);
}

static void test_source_keeps_last_good(void **state)
{
	struct svrcert_crl_source s;
	char err[256];
	bool rep;
	svrcert_revkey_t first;

	assert_int_equal(svrcert_crl_source_init(&s, "http://127.0.0.1/a.crl"), 0);
	assert_int_equal(strlen(s.name), 32);
	assert_int_equal(offer(&s, "n5.der", "ca", &rep, err, sizeof(err)), 0);
	assert_true(rep && s.has_good && s.crl.nkeys == 100);
	assert_string_equal(s.etag, "\"e1\"");
	memcpy(first, s.crl.keys[0], 32);

	/* the same CRL again (as PEM this time): accepted, nothing changed */
	assert_int_equal(offer(&s, "n5.pem", "ca", &rep, err, sizeof(err)), 0);
	assert_false(rep);
	assert_int_equal(s.der[0], 0x30);	/* held as DER */

	/* each failure: its own error, the held CRL untouched */
	assert_int_equal(offer(&s, "n4.der", "ca", &rep, err, sizeof(err)), -ESTALE);
	assert_string_equal(err, "CRL number 04 is lower than the held CRL number 05");
	assert_int_equal(offer(&s, "forged.der", "ca", &rep, err, sizeof(err)),
			 -EKEYREJECTED);
	assert_non_null(strstr(s.last_msg, "bad signature"));
	fx_save("garbage.bin", "garbage\n", 8);
	assert_int_equal(offer(&s, "garbage.bin", "ca", &rep, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(offer(&s, "other.der", "ca", &rep, err, sizeof(err)), -ENOKEY);
	assert_int_equal(s.failures, 4);
	assert_int_equal(s.last_err, -ENOKEY);
	assert_int_equal(s.crl.nkeys, 100);
	assert_memory_equal(s.crl.keys[0], first, 32);
	assert_int_equal(s.crl.crl_number[0], 5);

	/* the URL now serves another trusted issuer's CRL: a new sequence,
	 * even though its CRL number (1) is lower */
	{
		STACK_OF(X509) *both = fx_trust("ca");
		STACK_OF(X509) *o = fx_trust("other");
		struct svrcert_crl_source t;
		size_t len;
		uint8_t *buf = fx_load("other.der", &len);

		sk_X509_push(both, sk_X509_shift(o));
		sk_X509_free(o);
		good_source_init_copy(&t, &s);
		assert_int_equal(svrcert_crl_source_offer(&t, buf, len, both, time(NULL),
							  NULL, NULL, &rep, err,
							  sizeof(err)), 0);
		assert_true(rep);
		assert_string_equal(t.crl.issuer_text, "/C=US/O=svrcert test/CN=Other CA");
		/* no rollback: the first issuer's CRL 5 stays held, and its
		 * older CRL 4 is still refused on this URL */
		assert_true(t.issuer_changed);
		assert_int_equal(t.nprev, 1);
		assert_int_equal(t.prev[0].crl.nkeys, 100);
		assert_int_equal(offer(&t, "n4.der", "ca", &rep, err, sizeof(err)),
				 -ESTALE);
		assert_int_equal(t.nprev, 1);
		svrcert_crl_source_release(&t);
		sk_X509_pop_free(both, X509_free);
		free(buf);
	}

	/* a newer one replaces it and clears the failure state */
	assert_int_equal(offer(&s, "n6.der", "ca", &rep, err, sizeof(err)), 0);
	assert_true(rep);
	assert_int_equal(s.crl.nkeys, 120);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.last_err, 0);
	svrcert_crl_source_release(&s);
}

static void test_source_dates(void **state)
{
	struct svrcert_crl_source s;
	char err[256];
	bool rep;

	svrcert_crl_source_init(&s, "http://x/y.crl");
	fx_mkcrl("future.der", "ca", 3, "--this 172800 --next 259200");
	assert_int_equal(offer(&s, "future.der", "ca", &rep, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "future"));
	assert_false(s.has_good);

	fx_mkcrl("stale.der", "ca", 3, "--this -7200 --next -3600");
	assert_int_equal(offer(&s, "stale.der", "ca", &rep, err, sizeof(err)), 0);
	assert_true(svrcert_crl_source_stale(&s, time(NULL)));
	assert_false(svrcert_crl_source_stale(&s, time(NULL) - 4000));

	/* an older thisUpdate with no CRL numbers at all is still refused */
	fx_mkcrl("older.der", "ca", 3, "--this -9000 --next 3600");
	assert_int_equal(offer(&s, "older.der", "ca", &rep, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "thisUpdate is older"));
	svrcert_crl_source_release(&s);
}

static void good_source(struct svrcert_crl_source *s, const char *url,
			const char *file, const char *ca)
{
	char err[256];
	bool rep;

	assert_int_equal(svrcert_crl_source_init(s, url), 0);
	if (offer(s, file, ca, &rep, err, sizeof(err)))
		fail_msg("%s: %s", file, err);
}

static void test_union_and_diff(void **state)
{
	struct svrcert_crl_source a, b, a2;
	struct svrcert_crl_source *one[] = { &a }, *all[] = { &a, &b, &a2 };
	struct svrcert_master m1, m2;
	svrcert_revkey_t extra[2], *added, *removed;
	size_t na, nr, i;

	good_source(&a, "http://h/a.crl", "n5.der", "ca");
	good_source(&b, "http://h/b.crl", "other.der", "other");
	good_source(&a2, "http://mirror/a.crl", "n5.der", "ca");	/* overlap */
	memcpy(extra[0], a.crl.keys[3], 32);		/* duplicate */
	memset(extra[1], 0xab, 32);			/* learned at runtime */
	assert_int_equal(svrcert_master_build(one, 1, NULL, 0, 1, &m1), 0);
	assert_int_equal(m1.n, 100);
	assert_int_equal(svrcert_master_build(all, 3, extra, 2, 2, &m2), 0);
	assert_int_equal(m2.n, 100 + 50 + 1);
	for (i = 0; i < b.crl.nkeys; i++)
		assert_true(svrcert_revkeys_contains(m2.keys, m2.n, b.crl.keys[i]));
	assert_true(svrcert_revkeys_contains(m2.keys, m2.n, extra[1]));
	for (i = 1; i < m2.n; i++)
		assert_true(memcmp(m2.keys[i - 1], m2.keys[i], 32) < 0);

	assert_int_equal(svrcert_revkeys_diff(m1.keys, m1.n, m2.keys, m2.n,
					      &added, &na, &removed, &nr), 0);
	assert_int_equal(na, 51);
	assert_int_equal(nr, 0);
	assert_null(removed);
	for (i = 0; i < na; i++) {
		assert_false(svrcert_revkeys_contains(m1.keys, m1.n, added[i]));
		assert_true(svrcert_revkeys_contains(m2.keys, m2.n, added[i]));
	}
	free(added);
	assert_int_equal(svrcert_revkeys_diff(m2.keys, m2.n, m1.keys, m1.n,
					      NULL, &na, NULL, &nr), 0);
	assert_int_equal(na, 0);
	assert_int_equal(nr, 51);
	svrcert_master_release(&m1);
	svrcert_master_release(&m2);
	svrcert_crl_source_release(&a);
	svrcert_crl_source_release(&b);
	svrcert_crl_source_release(&a2);
}

static void expect_load_fails(const char *name, const char *why)
{
	struct svrcert_master m;
	char path[PATH_MAX], err[256] = "";

	fx_path(path, sizeof(path), name);
	assert_int_equal(svrcert_master_load(path, &m, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, why))
		fail_msg("%s: \"%s\" lacks \"%s\"", name, err, why);
	assert_null(m.keys);
}

static void corrupt(const uint8_t *good, size_t len, const char *name,
		    size_t at, uint8_t xor, size_t newlen)
{
	uint8_t *b = malloc(len);

	memcpy(b, good, len);
	if (at < len)
		b[at] ^= xor;
	fx_save(name, b, newlen);
	free(b);
}

static void test_master_file(void **state)
{
	struct svrcert_crl_source a, b;
	struct svrcert_crl_source *all[] = { &a, &b };
	struct svrcert_master m, back;
	char path[PATH_MAX], err[256];
	uint8_t *raw;
	size_t len;

	good_source(&a, "http://h/a.crl", "n6.der", "ca");
	good_source(&b, "http://h/b.crl", "other.der", "other");
	assert_int_equal(svrcert_master_build(all, 2, NULL, 0, 1700000000, &m), 0);
	fx_path(path, sizeof(path), "master.bin");
	assert_int_equal(svrcert_master_write(path, &m), 0);
	assert_int_equal(svrcert_master_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 170);
	assert_int_equal(back.generated, 1700000000);
	assert_memory_equal(back.keys, m.keys, m.n * 32);
	svrcert_master_release(&back);

	raw = fx_load("master.bin", &len);
	assert_int_equal(len, 64 + 170 * 32);
	assert_memory_equal(raw, "SVRCRLM", 8);
	corrupt(raw, len, "c-trunc.bin", len, 0, len - 1);
	expect_load_fails("c-trunc.bin", "does not match its count");
	corrupt(raw, len, "c-half.bin", len, 0, 64 + 85 * 32);
	expect_load_fails("c-half.bin", "does not match its count");
	corrupt(raw, len, "c-payload.bin", 64 + 100 * 32 + 7, 0x10, len);
	expect_load_fails("c-payload.bin", "checksum mismatch");
	corrupt(raw, len, "c-magic.bin", 0, 0x20, len);
	expect_load_fails("c-magic.bin", "bad magic");
	corrupt(raw, len, "c-version.bin", 11, 0x02, len);
	expect_load_fails("c-version.bin", "unsupported master list version 3");
	corrupt(raw, len, "c-count.bin", 23, 0x01, len);
	expect_load_fails("c-count.bin", "does not match its count");
	corrupt(raw, len, "c-short.bin", len, 0, 10);
	expect_load_fails("c-short.bin", "truncated");
	fx_path(path, sizeof(path), "missing.bin");
	assert_int_equal(svrcert_master_load(path, &back, err, sizeof(err)), -ENOENT);
	free(raw);

	/* an empty list is a valid list */
	svrcert_master_release(&m);
	assert_int_equal(svrcert_master_build(all, 0, NULL, 0, 5, &m), 0);
	fx_path(path, sizeof(path), "empty.bin");
	assert_int_equal(svrcert_master_write(path, &m), 0);
	assert_int_equal(svrcert_master_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	svrcert_master_release(&back);
	svrcert_master_release(&m);
	svrcert_crl_source_release(&a);
	svrcert_crl_source_release(&b);
}

static void test_audit_detail(void **state)
{
	struct svrcert_crl_source a;
	struct svrcert_crl_update u = { .src = &a, .forced = true, .success = true,
					.size = 4242, .added = 7, .removed = 2 };
	json_t *d;
	regex_t re;

	good_source(&a, "http://10.0.0.1/testCrl.pem", "n5.der", "ca");
	d = svrcert_crl_update_detail(&u);
	assert_non_null(d);
	assert_int_equal(json_object_size(d), 10);
	assert_true(json_is_true(json_object_get(d, "forced")));
	assert_true(json_is_true(json_object_get(d, "success")));
	assert_string_equal(json_string_value(json_object_get(d, "crl_url")),
			    "http://10.0.0.1/testCrl.pem");
	assert_int_equal(json_integer_value(json_object_get(d, "size")), 4242);
	assert_int_equal(json_integer_value(json_object_get(d, "total_entries")), 100);
	assert_int_equal(json_integer_value(json_object_get(d, "added_entries")), 7);
	assert_int_equal(json_integer_value(json_object_get(d, "removed_entries")), 2);
	assert_string_equal(json_string_value(json_object_get(d, "certificate_authority")),
			    "/C=US/O=svrcert test/CN=Master Test CA");
	assert_int_equal(regcomp(&re, "^[A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
				 "[0-9]{4} GMT$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, json_string_value(json_object_get(d, "last_updated")),
				 0, NULL, 0), 0);
	assert_int_equal(regexec(&re, json_string_value(json_object_get(d, "next_update")),
				 0, NULL, 0), 0);
	regfree(&re);
	json_decref(d);
	svrcert_crl_source_release(&a);
}

static json_t *load_index(const char *pubdir)
{
	char path[PATH_MAX + 32];
	json_error_t je;
	json_t *idx;

	snprintf(path, sizeof(path), "%s/index.json", pubdir);
	idx = json_load_file(path, 0, &je);
	if (!idx)
		fail_msg("index.json: %s", je.text);
	return idx;
}

static void test_publish_and_serve(void **state)
{
	struct svrcert_crl_source a, b, fromweb;
	struct svrcert_crl_source *all[] = { &a, &b };
	struct svrcert_master m, back;
	struct svrcert_fetch_req req = { 0 };
	struct svrcert_fetch_result res;
	char pub[PATH_MAX], path[PATH_MAX + 64], url[PATH_MAX], err[256];
	STACK_OF(X509) *sk = fx_trust("ca");
	json_t *idx, *crls;
	struct stat st;
	bool rep;

	good_source(&a, "http://h/a.crl", "n6.der", "ca");
	good_source(&b, "http://h/b.crl", "other.der", "other");
	assert_int_equal(svrcert_master_build(all, 2, NULL, 0, time(NULL), &m), 0);
	fx_path(pub, sizeof(pub), "pub");
	if (svrcert_master_publish(pub, all, 2, &m, time(NULL), err, sizeof(err)))
		fail_msg("publish: %s", err);

	snprintf(path, sizeof(path), "%s/master.bin", pub);
	assert_int_equal(svrcert_master_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, m.n);
	svrcert_master_release(&back);
	idx = load_index(pub);
	assert_int_equal(json_integer_value(json_object_get(idx, "version")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(idx, "master"),
							    "keys")), 170);
	crls = json_object_get(idx, "crls");
	assert_int_equal(json_array_size(crls), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(crls, 0), "url")),
			    "http://h/a.crl");
	json_decref(idx);

	/* another router fetches the published CRL over HTTP and uses it */
	snprintf(path, sizeof(path), "%s/crl", pub);
	assert_int_equal(fx_start_server(path), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/%s.crl", fx_port, a.name);
	req.url = url;
	assert_int_equal(svrcert_fetch_sync(&req, &res), 0);
	svrcert_crl_source_init(&fromweb, url);
	assert_int_equal(svrcert_crl_source_offer(&fromweb, res.body, res.body_len, sk,
						  time(NULL), res.etag, res.last_modified,
						  &rep, err, sizeof(err)), 0);
	assert_int_equal(fromweb.crl.nkeys, a.crl.nkeys);
	assert_memory_equal(fromweb.crl.keys, a.crl.keys, a.crl.nkeys * 32);
	svrcert_fetch_result_release(&res);

	/* a restarted daemon restores both sources from the published copies */
	{
		struct svrcert_crl_source ra, rb;
		STACK_OF(X509) *both = fx_trust("ca"), *o = fx_trust("other");

		sk_X509_push(both, sk_X509_shift(o));
		sk_X509_free(o);
		svrcert_crl_source_init(&ra, a.url);
		svrcert_crl_source_init(&rb, "http://never-published/x.crl");
		assert_int_equal(svrcert_crl_source_restore(&ra, pub, both, time(NULL),
							    err, sizeof(err)), 0);
		assert_int_equal(ra.crl.nkeys, a.crl.nkeys);
		assert_memory_equal(ra.crl.keys, a.crl.keys, a.crl.nkeys * 32);
		assert_int_equal(ra.last_success, 0);	/* not a fetch */
		assert_int_equal(svrcert_crl_source_restore(&rb, pub, both, time(NULL),
							    err, sizeof(err)), -ENOENT);
		assert_false(rb.has_good);
		svrcert_crl_source_release(&ra);
		sk_X509_pop_free(both, X509_free);
	}

	/* b is no longer configured: its published CRL goes away */
	svrcert_master_release(&m);
	assert_int_equal(svrcert_master_build(all, 1, NULL, 0, time(NULL), &m), 0);
	assert_int_equal(svrcert_master_publish(pub, all, 1, &m, time(NULL), err,
						sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/crl/%s.crl", pub, b.name);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/crl/%s.crl", pub, a.name);
	assert_int_equal(stat(path, &st), 0);
	idx = load_index(pub);
	assert_int_equal(json_array_size(json_object_get(idx, "crls")), 1);
	json_decref(idx);

	sk_X509_pop_free(sk, X509_free);
	svrcert_master_release(&m);
	svrcert_crl_source_release(&a);
	svrcert_crl_source_release(&b);
	svrcert_crl_source_release(&fromweb);
}

/* A child publishes two different lists in turn as fast as it can; it is
 * SIGKILLed at random moments. Whatever is on disk must load every time
 * and be one of the two lists. */
static void test_publish_survives_sigkill(void **state)
{
	struct svrcert_crl_source a, b;
	struct svrcert_crl_source *all[] = { &a, &b };
	struct svrcert_master m1, m2, back;
	char pub[PATH_MAX], path[PATH_MAX + 64], err[256], cmd[5 * PATH_MAX + 200];
	unsigned int seed = (unsigned int)time(NULL);
	int round;

	fx_mkcrl("big1.der", "ca", 60000, "--number 10 --seed 10");
	fx_mkcrl("big2.der", "ca", 80000, "--number 11 --seed 11");
	good_source(&a, "http://h/a.crl", "big1.der", "ca");
	good_source(&b, "http://h/a.crl", "big2.der", "ca");
	assert_int_equal(svrcert_master_build(all, 1, NULL, 0, 1, &m1), 0);
	assert_int_equal(svrcert_master_build(all + 1, 1, NULL, 0, 2, &m2), 0);
	fx_path(pub, sizeof(pub), "pub-kill");
	assert_int_equal(svrcert_master_publish(pub, all, 1, &m1, 1, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/master.bin", pub);
	for (round = 0; round < 25; round++) {
		pid_t pid = fork();

		if (pid == 0) {
			for (int i = 0;; i++)
				svrcert_master_publish(pub, i & 1 ? all + 1 : all, 1,
						       i & 1 ? &m2 : &m1, 1, err,
						       sizeof(err));
		}
		usleep(1000 + rand_r(&seed) % 40000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (svrcert_master_load(path, &back, err, sizeof(err)))
			fail_msg("round %d: %s", round, err);
		assert_true(back.n == m1.n || back.n == m2.n);
		svrcert_master_release(&back);
		json_decref(load_index(pub));
	}
	/* What the kills left half-written (and one truncated CRL temp for
	 * certain) goes at the next publish, which alone writes there. */
	snprintf(cmd, sizeof(cmd), "head -c 50 %s/master.bin > %s/crl/%s.crl.tmp.Zz9Yx8 && "
		 "head -c 50 %s/master.bin > %s/master.bin.tmp.Aa1Bb2", pub, pub,
		 a.name, pub, pub);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(svrcert_master_publish(pub, all, 1, &m1, 1, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "ls %s %s/crl | grep -q '\\.tmp\\.'", pub, pub);
	assert_int_equal(WEXITSTATUS(system(cmd)), 1);	/* none left */
	assert_int_equal(svrcert_master_cleanup(pub), 0);
	svrcert_master_release(&m1);
	svrcert_master_release(&m2);
	svrcert_crl_source_release(&a);
	svrcert_crl_source_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_combined),
		cmocka_unit_test(test_source_keeps_last_good),
		cmocka_unit_test(test_source_dates),
		cmocka_unit_test(test_union_and_diff),
		cmocka_unit_test(test_master_file),
		cmocka_unit_test(test_audit_detail),
		cmocka_unit_test(test_publish_and_serve),
		cmocka_unit_test(test_publish_survives_sigkill),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
