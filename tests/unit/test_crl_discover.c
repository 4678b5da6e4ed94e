// SPDX-License-Identifier: GPL-2.0
/*
 * CRL discovery's library half (crl/crl_discover.h, issue 15 item 5):
 * cRLDistributionPoints of real certificates made with the OpenSSL CLI --
 * none, one, several (http, https, ldap, file), the same URL from two
 * certificates, a configured URL, and the bound.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include <openssl/pem.h>

/* this test needs only part of the shared fixture */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_crl_fixture.h"
#include "crl/crl_discover.h"
#include "pki/pki.h"

/* What the daemon does per certificate: pki.h reads the URIs, the set
 * takes each. Returns how many http(s) URIs X names. */
static int svrcert_discover_cert(struct svrcert_discover *d, X509 *x,
				 const char *ref)
{
	char **urls;
	size_t n, i;
	int web = 0;

	assert_int_equal(svrcert_cert_crl_urls(x, &urls, &n), 0);
	for (i = 0; i < n; i++) {
		web += !strncasecmp(urls[i], "http://", 7) ||
		       !strncasecmp(urls[i], "https://", 8);
		assert_int_equal(svrcert_discover_add(d, urls[i], ref), 0);
	}
	svrcert_strv_free(urls, n);
	return web;
}

/* A self-signed certificate NAME.pem; CDP: the -addext value, or NULL. */
static X509 *cert(const char *name, const char *cdp)
{
	char path[PATH_MAX], file[64];
	X509 *x;
	FILE *f;

	fx_run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	       "-nodes -keyout %s.key -out %s.pem -days 2 -subj '/CN=%s' %s%s%s",
	       name, name, name, cdp ? "-addext 'crlDistributionPoints=" : "",
	       cdp ? cdp : "", cdp ? "'" : "");
	snprintf(file, sizeof(file), "%s.pem", name);
	fx_path(path, sizeof(path), file);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static X509 *none, *one, *several, *other_same, *three;

static int group_setup(void **state)
{
	if (fx_setup_dir("crldisc"))
		return -1;
	none = cert("none", NULL);
	one = cert("one", "URI:http://ca.example/one.crl");
	several = cert("several", "URI:http://ca.example/a.crl,"
		       "URI:ldap://ldap.example/cn=ca?certificateRevocationList,"
		       "URI:https://ca.example/b.crl,URI:file:///etc/c.crl");
	other_same = cert("same", "URI:http://ca.example/one.crl");
	three = cert("three", "URI:http://x.example/1.crl,"
		     "URI:http://x.example/2.crl,URI:http://x.example/3.crl");
	return 0;
}

static int group_teardown(void **state)
{
	X509_free(none);
	X509_free(one);
	X509_free(several);
	X509_free(other_same);
	X509_free(three);
	return fx_teardown();
}

static void test_none_and_one(void **state)
{
	struct svrcert_discover *d = svrcert_discover_new(16, NULL, 0);

	assert_non_null(d);
	assert_int_equal(svrcert_discover_cert(d, none, "own"), 0);
	assert_int_equal(d->n, 0);
	assert_int_equal(svrcert_discover_cert(d, one, "own"), 1);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->u[0].url, "http://ca.example/one.crl");
	assert_int_equal(d->u[0].nrefs, 1);
	assert_string_equal(d->u[0].refs[0], "own");
	assert_int_equal(d->nignored, 0);
	svrcert_discover_free(d);
}

/* http and https followed in the certificate's order; other schemes only
 * listed, each once however often seen. */
static void test_several_other_schemes_ignored(void **state)
{
	struct svrcert_discover *d = svrcert_discover_new(16, NULL, 0);

	assert_int_equal(svrcert_discover_cert(d, several, "peer r2"), 2);
	assert_int_equal(svrcert_discover_cert(d, several, "peer r3"), 2);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->u[0].url, "http://ca.example/a.crl");
	assert_string_equal(d->u[1].url, "https://ca.example/b.crl");
	assert_true(svrcert_discover_refers(&d->u[1], "peer r2"));
	assert_true(svrcert_discover_refers(&d->u[1], "peer r3"));
	assert_false(svrcert_discover_refers(&d->u[1], "peer r4"));
	assert_int_equal(d->nignored, 2);
	assert_string_equal(d->ignored,
			    "ldap://ldap.example/cn=ca?certificateRevocationList, "
			    "file:///etc/c.crl");
	svrcert_discover_free(d);
}

/* The same URL from two certificates is one entry referred to twice; a
 * configured URL is not discovered (it is fetched as configured). */
static void test_duplicates_and_configured(void **state)
{
	static const char *const cfg[] = { "http://ca.example/a.crl" };
	struct svrcert_discover *d = svrcert_discover_new(16, cfg, 1);

	svrcert_discover_cert(d, one, "own");
	svrcert_discover_cert(d, other_same, "peer r2");
	svrcert_discover_cert(d, several, "ca /CN=several");
	assert_int_equal(d->n, 2);
	assert_string_equal(d->u[0].url, "http://ca.example/one.crl");
	assert_int_equal(d->u[0].nrefs, 2);
	assert_string_equal(d->u[0].refs[1], "peer r2");
	assert_string_equal(d->u[1].url, "https://ca.example/b.crl");
	assert_null(svrcert_discover_find(d, "http://ca.example/a.crl"));
	svrcert_discover_free(d);
}

/* Past the bound: counted and listed, not followed; the first found win. */
static void test_bound(void **state)
{
	struct svrcert_discover *d = svrcert_discover_new(2, NULL, 0);

	svrcert_discover_cert(d, one, "own");
	assert_int_equal(svrcert_discover_cert(d, three, "peer r9"), 3);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->u[0].url, "http://ca.example/one.crl");
	assert_string_equal(d->u[1].url, "http://x.example/1.crl");
	assert_int_equal(d->over, 2);
	assert_string_equal(d->over_list,
			    "http://x.example/2.crl, http://x.example/3.crl");
	/* seen again: still two, listed once; a known URL still gains refs */
	svrcert_discover_cert(d, three, "peer r10");
	assert_int_equal(d->over, 2);
	assert_true(svrcert_discover_refers(&d->u[1], "peer r10"));
	/* no room at all: nothing followed */
	svrcert_discover_free(d);
	d = svrcert_discover_new(0, NULL, 0);
	assert_non_null(d);
	svrcert_discover_cert(d, one, "own");
	assert_int_equal(d->n, 0);
	assert_int_equal(d->over, 1);
	svrcert_discover_free(d);
}

static void test_add_checks(void **state)
{
	struct svrcert_discover *d = svrcert_discover_new(4, NULL, 0);
	char longurl[SVRCERT_DISCOVER_URL_MAX + 10];

	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	memcpy(longurl, "http://", 7);
	assert_int_equal(svrcert_discover_add(d, longurl, "own"), -EINVAL);
	assert_int_equal(svrcert_discover_add(d, "HTTPS://CA.example/x", "own"), 0);
	assert_int_equal(svrcert_discover_add(d, "ftp://ca.example/x", "own"), 0);
	assert_int_equal(d->n, 1);
	assert_int_equal(d->nignored, 1);
	svrcert_discover_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_and_one),
		cmocka_unit_test(test_several_other_schemes_ignored),
		cmocka_unit_test(test_duplicates_and_configured),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_add_checks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
