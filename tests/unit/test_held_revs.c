// SPDX-License-Identifier: GPL-2.0
/*
 * The held revocations the judges check (pki/held_revs.c), against the
 * test PKI's real CRL (int.crl.*, revoking bad-revoked.pem) and real
 * master.bin files:
 *  - a held file is parsed once per version (dev, inode, size, mtime),
 *    not at every refresh; a new version is parsed again;
 *  - a held CRL or master list that does not load fails the refresh, also
 *    with a list lent, and a failed refresh keeps what was held;
 *  - the lent list revokes at once, and the files vouched for are not
 *    read again (the parse counter; and a vouched file made unreadable
 *    does not fail the refresh), until the next lend;
 *  - a file is vouched for only when every one of its keys is lent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include "crl/crl_master.h"
#include "pki/held_revs.h"
#include "pki/import_trust.h"
#include "lib/store.h"

struct fx {
	char dir[64];
	struct svrcert_store st;
	struct svrcert_held h;
	svrcert_revkey_t revoked;	/* bad-revoked.pem's key */
	svrcert_revkey_t r1;		/* r1.pem's key: not in the CRL */
};

static int group_setup(void **state)
{
	return testpki_setup();
}

static int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static void key_of(const char *name, svrcert_revkey_t out)
{
	X509 *c = testpki_cert(name);

	assert_non_null(c);
	assert_int_equal(svrcert_revkey_from_cert(c, out), 0);
	X509_free(c);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "heldrevs"), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(fixture_sh("mkdir %s/crl && cp %s %s/crl/int.crl",
				    f->dir, testpki_path("int.crl.der"), f->dir), 0);
	svrcert_held_init(&f->h);
	key_of("bad-revoked.pem", f->revoked);
	key_of("r1.pem", f->r1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	svrcert_held_free(&f->h);
	store_close(&f->st);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static int refresh(struct fx *f, char *err, size_t len)
{
	return svrcert_held_refresh(&f->h, &f->st, err, len);
}

static void write_master(struct fx *f, const svrcert_revkey_t *keys, size_t n,
			 struct svrcert_master *m)
{
	char path[4200];

	assert_int_equal(svrcert_master_build(NULL, 0, keys, n, time(NULL), m), 0);
	store_path(&f->st, SVRCERT_MASTER_FILE, path, sizeof(path));
	assert_int_equal(svrcert_master_write(path, m), 0);
}

static void test_parsed_once_per_version(void **state)
{
	struct fx *f = *state;
	char err[300];
	uint64_t gen;

	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_int_equal(f->h.parsed, 1);
	assert_true(svrcert_held_contains(&f->h, f->revoked));
	assert_false(svrcert_held_contains(&f->h, f->r1));
	gen = f->h.gen;
	/* Nothing changed: nothing parsed, the same generation. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_int_equal(f->h.parsed, 1);
	assert_int_equal(f->h.gen, gen);
	/* A new version (replaced by rename, as publish does): parsed. */
	assert_int_equal(fixture_sh("cp %s %s/crl/int.tmp && mv %s/crl/int.tmp "
				    "%s/crl/int.crl", testpki_path("int.crl.pem"),
				    f->dir, f->dir, f->dir), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_int_equal(f->h.parsed, 2);
	assert_true(f->h.gen > gen);
	assert_true(svrcert_held_contains(&f->h, f->revoked));
	/* Removed: no longer revokes. */
	assert_int_equal(fixture_sh("rm %s/crl/int.crl", f->dir), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_false(svrcert_held_contains(&f->h, f->revoked));
}

/* A held CRL under the longest name a file can have is read too. */
static void test_long_name_read(void **state)
{
	struct fx *f = *state;
	char err[300], name[256];

	memset(name, 'n', 251);
	memcpy(name + 251, ".crl", 5);		/* 255 characters */
	assert_int_equal(fixture_sh("mv %s/crl/int.crl %s/crl/%s", f->dir,
				    f->dir, name), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_int_equal(f->h.parsed, 1);
	assert_true(svrcert_held_contains(&f->h, f->revoked));
}

static void test_damaged_fails_closed(void **state)
{
	struct fx *f = *state;
	struct svrcert_master m;
	char err[300], path[4200];

	/* Start-up with a damaged held CRL: no judgement at all. */
	assert_int_equal(fixture_sh("head -c 100 %s > %s/crl/cut.der",
				    testpki_path("int.crl.der"), f->dir), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "cut.der does not parse"));
	/* A list lent does not make it judgeable: the file is not vouched. */
	write_master(f, &f->r1, 1, &m);
	svrcert_held_lend(&f->h, m.keys, m.n);
	assert_int_equal(refresh(f, err, sizeof(err)), -EBADMSG);
	assert_int_equal(fixture_sh("rm %s/crl/cut.der", f->dir), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_true(svrcert_held_revoked(f->revoked, f->r1, &f->h));
	/* A damaged master list fails too; what was held stays held. */
	store_path(&f->st, SVRCERT_MASTER_FILE, path, sizeof(path));
	assert_int_equal(fixture_sh("truncate -s 70 %s", path), 0);
	svrcert_held_unlend(&f->h);
	assert_true(refresh(f, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "master revocation list"));
	assert_true(svrcert_held_contains(&f->h, f->revoked));
	assert_true(svrcert_held_contains(&f->h, f->r1));
	svrcert_master_release(&m);
}

/* The master list is master.bin and master.delta: a judge that reads it
 * (nothing lent: svrcertctl, another process) sees a change that is only
 * in the delta, and a damaged delta fails it closed. */
static void test_master_delta_read(void **state)
{
	struct fx *f = *state;
	struct svrcert_keylog log = { 0 };
	struct svrcert_master m;
	svrcert_revkey_t both[2];
	char err[300], path[4200];

	memcpy(both[0], f->revoked, sizeof(both[0]));
	memcpy(both[1], f->r1, sizeof(both[1]));
	write_master(f, both, 1, &m);
	svrcert_keylog_rebase(&log, m.buf + SVRCERT_MASTER_OFF_SHA256, m.n);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_false(svrcert_held_contains(&f->h, f->r1));
	/* r1 revoked: only master.delta changes */
	assert_int_equal(svrcert_master_patch(&m, NULL, 0, &both[1], 1), 0);
	assert_int_equal(svrcert_keylog_note(&log, &both[1], 1, NULL, 0), 0);
	assert_int_equal(svrcert_master_publish_log(f->dir, NULL, 0, NULL, &m,
						    &log, time(NULL), err,
						    sizeof(err)), 0);
	assert_int_equal(fixture_sh("test -s %s/" SVRCERT_MASTER_DELTA,
				    f->dir), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_true(svrcert_held_revoked(f->r1, f->r1, &f->h));
	/* A damaged delta: no judgement, what was held stays held. */
	store_path(&f->st, SVRCERT_MASTER_DELTA, path, sizeof(path));
	assert_int_equal(fixture_sh("printf X | dd of=%s bs=1 seek=140 "
				    "conv=notrunc 2>/dev/null", path), 0);
	assert_true(refresh(f, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "checksum"));
	assert_true(svrcert_held_contains(&f->h, f->r1));
	svrcert_keylog_release(&log);
	svrcert_master_release(&m);
}

/* The CRL manager's way: lend the new list, write master.bin, vouch. */
static void test_lent_not_read(void **state)
{
	struct fx *f = *state;
	struct svrcert_master m1, m2;
	svrcert_revkey_t both[2];
	char err[300];
	unsigned long parsed;

	memcpy(both[0], f->revoked, sizeof(both[0]));
	memcpy(both[1], f->r1, sizeof(both[1]));
	write_master(f, both, 1, &m1);		/* the CRL's key only */
	svrcert_held_lend(&f->h, m1.keys, m1.n);
	assert_true(svrcert_held_vouch(&f->h, &f->st, SVRCERT_MASTER_FILE,
				       m1.keys, m1.n));
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	parsed = f->h.parsed;		/* the CRL file: not vouched for */
	assert_int_equal(parsed, 1);
	assert_false(svrcert_held_contains(&f->h, f->r1));
	/* A revocation added (learned, a new CRL): lent, seen at once. */
	write_master(f, both, 2, &m2);
	svrcert_held_lend(&f->h, m2.keys, m2.n);
	assert_true(svrcert_held_contains(&f->h, f->r1));
	assert_true(svrcert_held_vouch(&f->h, &f->st, SVRCERT_MASTER_FILE,
				       m2.keys, m2.n));
	svrcert_master_release(&m1);
	/* Vouched for: not read, even unreadable (not for root: its read
	 * would succeed, the counter still says). */
	assert_int_equal(fixture_sh("chmod 000 %s/" SVRCERT_MASTER_FILE,
				    f->dir), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_int_equal(f->h.parsed, parsed);
	assert_true(svrcert_held_revoked(f->r1, f->r1, &f->h));
	assert_true(svrcert_held_contains(&f->h, f->revoked));
	/* Lent again: the vouching is forgotten, the file read again. */
	svrcert_held_lend(&f->h, m2.keys, m2.n);
	assert_int_equal(fixture_sh("chmod 644 %s/" SVRCERT_MASTER_FILE,
				    f->dir), 0);
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_int_equal(f->h.parsed, parsed + 1);
	svrcert_held_unlend(&f->h);
	assert_false(f->h.lending);
	svrcert_master_release(&m2);
}

/* A file holding a key the lent list lacks is never vouched for: a delta
 * CRL's removeFromCRL, a commit that failed. It is read, and revokes. */
static void test_vouch_needs_every_key(void **state)
{
	struct fx *f = *state;
	struct svrcert_keyset crl;
	struct svrcert_master m;
	char err[300], path[4200];
	X509_CRL *x;

	store_path(&f->st, "crl/int.crl", path, sizeof(path));
	x = trust_crl_load(path);
	assert_non_null(x);
	svrcert_keyset_init(&crl);
	assert_int_equal(svrcert_keyset_add_crl(&crl, x), 0);
	X509_CRL_free(x);
	assert_true(svrcert_keyset_contains(&crl, f->revoked));	/* sorts */
	write_master(f, &f->r1, 1, &m);
	svrcert_held_lend(&f->h, m.keys, m.n);
	assert_false(svrcert_held_vouch(&f->h, &f->st, "crl/int.crl",
					(const svrcert_revkey_t *)crl.keys,
					crl.n));
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	assert_true(svrcert_held_contains(&f->h, f->revoked));
	/* With its keys lent it may be vouched for, and is not read. */
	svrcert_held_lend(&f->h, (const svrcert_revkey_t *)crl.keys, crl.n);
	assert_true(svrcert_held_vouch(&f->h, &f->st, "crl/int.crl",
				       (const svrcert_revkey_t *)crl.keys,
				       crl.n));
	assert_false(svrcert_held_vouch(&f->h, &f->st, SVRCERT_MASTER_FILE,
					m.keys, m.n));
	f->h.parsed = 0;
	assert_int_equal(refresh(f, err, sizeof(err)), 0);
	/* int.crl vouched for; master.bin read before in this version */
	assert_int_equal(f->h.parsed, 0);
	assert_true(svrcert_held_revoked(f->revoked, f->r1, &f->h));
	svrcert_held_unlend(&f->h);
	svrcert_keyset_free(&crl);
	svrcert_master_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parsed_once_per_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_name_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master_delta_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lent_not_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vouch_needs_every_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
