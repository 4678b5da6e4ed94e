// SPDX-License-Identifier: GPL-2.0
/*
 * The learned revocation source (crl_learned.h) with a real CA: keys of
 * real certificates learned revoked / expired, the upgrade rule, the merge
 * into the master list (revoked only) next to a real signed CRL, publishing
 * (index.json's "learned" section, master.bin), a "restart" that reads
 * learned.json back and rebuilds the same master list, malformed files
 * refused with their own message, and saves killed with SIGKILL never
 * leaving a file that does not load.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "crl/crl_learned.h"
#include "crl/crl_master.h"
#include "crl/crl_source.h"
#include "pki/pki.h"

static uint8_t key_a[32], key_b[32];	/* revkeys of leaf certs a and b */

static void revkey_of(const char *pem, uint8_t out[32])
{
	char path[PATH_MAX];
	FILE *f;
	X509 *x;

	fx_path(path, sizeof(path), pem);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	assert_int_equal(svrcert_revkey_from_cert(x, out), 0);
	X509_free(x);
}

static int setup(void **state)
{
	(void)state;
	if (fx_setup_dir("crllearned"))
		return -1;
	fx_make_ca("ca", "/C=US/O=svrcert test/CN=Learned Test CA");
	fx_mkcrl("n5.der", "ca", 40, "--number 5 --seed 5");
	for (const char *n = "a"; n; n = *n == 'a' ? "b" : NULL)
		fx_run("openssl req -newkey rsa:2048 -nodes -keyout %s.key "
		       "-subj /CN=%s -out %s.csr && openssl x509 -req -in %s.csr "
		       "-CA ca.pem -CAkey ca.key -set_serial 0x%s1234 -days 2 "
		       "-out %s.pem", n, n, n, n, *n == 'a' ? "0A" : "0B", n);
	revkey_of("a.pem", key_a);
	revkey_of("b.pem", key_b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fx_teardown();
}

static void test_add_and_upgrade(void **state)
{
	struct svrcert_learned l;
	svrcert_revkey_t *keys;
	size_t n;

	(void)state;
	svrcert_learned_init(&l);
	assert_int_equal(svrcert_learned_add(&l, key_a, SVRCERT_LEARNED_EXPIRED,
					     "pa", "kernel", 100), 1);
	assert_int_equal(svrcert_learned_add(&l, key_a, SVRCERT_LEARNED_EXPIRED,
					     "pa", "kernel", 101), 0);
	assert_int_equal(svrcert_learned_master_keys(&l, &keys, &n), 0);
	assert_int_equal(n, 0);		/* expired: recorded, not enforced */
	assert_null(keys);
	/* found revoked later: upgraded, now in the master list */
	assert_int_equal(svrcert_learned_add(&l, key_a, SVRCERT_LEARNED_REVOKED,
					     "pa", "peer-authentication", 102), 1);
	assert_int_equal(svrcert_learned_add(&l, key_a, SVRCERT_LEARNED_EXPIRED,
					     "pa", "kernel", 103), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].reason, SVRCERT_LEARNED_REVOKED);
	assert_int_equal(l.v[0].learned, 102);
	assert_string_equal(l.v[0].via, "peer-authentication");
	assert_int_equal(svrcert_learned_add(&l, key_b, SVRCERT_LEARNED_EXPIRED,
					     NULL, NULL, 104), 1);
	assert_int_equal(svrcert_learned_add(&l, key_b, 7, NULL, NULL, 1), -EINVAL);
	assert_int_equal(svrcert_learned_count(&l, 0), 2);
	assert_int_equal(svrcert_learned_count(&l, SVRCERT_LEARNED_REVOKED), 1);
	assert_int_equal(svrcert_learned_count(&l, SVRCERT_LEARNED_EXPIRED), 1);
	assert_int_equal(svrcert_learned_master_keys(&l, &keys, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(keys[0], key_a, 32);
	free(keys);
	svrcert_learned_release(&l);
}

static void good_source(struct svrcert_crl_source *s)
{
	STACK_OF(X509) *sk = fx_trust("ca");
	char err[256];
	size_t len;
	uint8_t *buf = fx_load("n5.der", &len);
	bool rep;

	assert_int_equal(svrcert_crl_source_init(s, "http://h/ca.crl"), 0);
	if (svrcert_crl_source_offer(s, buf, len, sk, time(NULL), NULL, NULL,
				     &rep, err, sizeof(err)))
		fail_msg("n5.der: %s", err);
	free(buf);
	sk_X509_pop_free(sk, X509_free);
}

static void build(struct svrcert_crl_source *s, const struct svrcert_learned *l,
		  struct svrcert_master *m)
{
	struct svrcert_crl_source *all[] = { s };
	svrcert_revkey_t *keys;
	size_t n;

	assert_int_equal(svrcert_learned_master_keys(l, &keys, &n), 0);
	assert_int_equal(svrcert_master_build(all, 1, keys, n, 1700000000, m), 0);
	free(keys);
}

static json_t *load_json(const char *name)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *j;

	fx_path(path, sizeof(path), name);
	j = json_load_file(path, 0, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

/* learn -> save -> merge -> publish -> "restart" (load) -> same master */
static void test_merge_publish_restart(void **state)
{
	struct svrcert_crl_source s;
	struct svrcert_crl_source *all[] = { &s };
	struct svrcert_learned l, back;
	struct svrcert_master m, m2, disk;
	char pub[PATH_MAX], path[PATH_MAX + 64], err[256];
	json_t *idx, *lj;

	(void)state;
	good_source(&s);
	svrcert_learned_init(&l);
	assert_int_equal(svrcert_learned_add(&l, key_a, SVRCERT_LEARNED_REVOKED,
					     "pa", "kernel", 1000), 1);
	assert_int_equal(svrcert_learned_add(&l, key_b, SVRCERT_LEARNED_EXPIRED,
					     "pb", "kernel", 1001), 1);
	fx_path(pub, sizeof(pub), "pub");
	snprintf(path, sizeof(path), "%s/%s", pub, SVRCERT_LEARNED_FILE);
	fx_run("mkdir -p pub");
	assert_int_equal(svrcert_learned_save(path, &l, err, sizeof(err)), 0);
	build(&s, &l, &m);
	assert_int_equal(m.n, 40 + 1);
	assert_true(svrcert_revkeys_contains(m.keys, m.n, key_a));
	assert_false(svrcert_revkeys_contains(m.keys, m.n, key_b));
	assert_int_equal(svrcert_master_publish_learned(pub, all, 1, &l, &m,
							time(NULL), err,
							sizeof(err)), 0);

	idx = load_json("pub/index.json");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(idx, "master"), "keys")), 41);
	lj = json_object_get(idx, "learned");
	assert_string_equal(json_string_value(json_object_get(lj, "file")),
			    "learned.json");
	assert_int_equal(json_integer_value(json_object_get(lj, "revoked")), 1);
	assert_int_equal(json_integer_value(json_object_get(lj, "expired")), 1);
	assert_int_equal(json_integer_value(json_object_get(lj, "in_master")), 1);
	json_decref(idx);
	lj = load_json("pub/learned.json");
	assert_int_equal(json_array_size(json_object_get(lj, "keys")), 2);
	json_decref(lj);

	/* restart: what is on disk gives the same master list */
	svrcert_learned_init(&back);
	assert_int_equal(svrcert_learned_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[1].peer, "pb");
	assert_int_equal(back.v[1].learned, 1001);
	build(&s, &back, &m2);
	assert_int_equal(m2.n, m.n);
	assert_memory_equal(m2.keys, m.keys, m.n * 32);
	snprintf(path, sizeof(path), "%s/master.bin", pub);
	assert_int_equal(svrcert_master_load(path, &disk, err, sizeof(err)), 0);
	assert_int_equal(disk.n, m.n);
	assert_memory_equal(disk.keys, m.keys, m.n * 32);
	svrcert_master_release(&disk);
	svrcert_master_release(&m);
	svrcert_master_release(&m2);
	svrcert_learned_release(&l);
	svrcert_learned_release(&back);
	svrcert_crl_source_release(&s);
}

static void expect_refused(const char *text, const char *why)
{
	struct svrcert_learned l;
	char path[PATH_MAX], err[400] = "";

	fx_save("bad.json", text, strlen(text));
	fx_path(path, sizeof(path), "bad.json");
	svrcert_learned_init(&l);
	svrcert_learned_add(&l, key_a, SVRCERT_LEARNED_REVOKED, NULL, NULL, 1);
	assert_int_equal(svrcert_learned_load(path, &l, err, sizeof(err)),
			 -EBADMSG);
	if (!strstr(err, why))
		fail_msg("\"%s\" lacks \"%s\"", err, why);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
}

static void test_refused(void **state)
{
	struct svrcert_learned l;
	char path[PATH_MAX], err[400];
	static const char k64[] =
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char text[512];

	(void)state;
	expect_refused("{\"version\": 1, \"keys\": [", "not JSON");
	expect_refused("{\"version\": 2, \"keys\": []}", "unsupported version 2");
	expect_refused("{\"keys\": []}", "version and keys required");
	expect_refused("{\"version\": 1, \"keys\": [{\"key\": \"00\", "
		       "\"reason\": \"revoked\"}]}", "entry 0: key is not 64 hex");
	snprintf(text, sizeof(text), "{\"version\": 1, \"keys\": [{\"key\": "
		 "\"%s\", \"reason\": \"revoked\"}, {\"key\": \"%s\", "
		 "\"reason\": \"lost\"}]}", k64, k64);
	expect_refused(text, "entry 1: unknown reason \"lost\"");
	snprintf(text, sizeof(text), "{\"version\": 1, \"keys\": [{\"reason\": "
		 "\"revoked\"}]}");
	expect_refused(text, "entry 0: key and reason required");
	fx_path(path, sizeof(path), "missing.json");
	svrcert_learned_init(&l);
	assert_int_equal(svrcert_learned_load(path, &l, err, sizeof(err)), -ENOENT);
	/* an empty list is a valid list */
	fx_save("empty.json", "{\"version\": 1, \"keys\": []}", 26);
	fx_path(path, sizeof(path), "empty.json");
	assert_int_equal(svrcert_learned_load(path, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	svrcert_learned_release(&l);
}

/* Saves killed at random moments: the file always loads, whole. */
static void test_save_survives_sigkill(void **state)
{
	struct svrcert_learned small, big, back;
	char path[PATH_MAX], err[256];
	unsigned int seed = (unsigned int)time(NULL);
	uint8_t k[32] = { 0 };

	(void)state;
	svrcert_learned_init(&small);
	svrcert_learned_init(&big);
	svrcert_learned_add(&small, key_a, SVRCERT_LEARNED_REVOKED, "pa", "k", 1);
	for (uint32_t i = 0; i < 5000; i++) {
		memcpy(k, &i, sizeof(i));
		svrcert_learned_add(&big, k, SVRCERT_LEARNED_EXPIRED, "p", "k", i);
	}
	fx_path(path, sizeof(path), "kill.json");
	assert_int_equal(svrcert_learned_save(path, &small, err, sizeof(err)), 0);
	for (int round = 0; round < 25; round++) {
		pid_t pid = fork();

		if (pid == 0)
			for (int i = 0;; i++)
				svrcert_learned_save(path, i & 1 ? &big : &small,
						     err, sizeof(err));
		usleep(1000 + rand_r(&seed) % 30000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		svrcert_learned_init(&back);
		if (svrcert_learned_load(path, &back, err, sizeof(err)))
			fail_msg("round %d: %s", round, err);
		assert_true(back.n == 1 || back.n == 5000);
		svrcert_learned_release(&back);
	}
	svrcert_learned_release(&small);
	svrcert_learned_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_upgrade),
		cmocka_unit_test(test_merge_publish_restart),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_save_survives_sigkill),
	};

	(void)fx_start_server;	/* shared fixture; no server needed here */
	return cmocka_run_group_tests(tests, setup, teardown);
}
