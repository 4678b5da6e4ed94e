// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's update document and a router's apply (crl_gendoc.h),
 * by hand-made updates: a DER round trip keeps every field; what breaks
 * the format is refused with its own message; the bytes of a 10-key delta;
 * the apply rules: no state, rollback (older generation), the same
 * generation again, a delta from another base, a delta whose keys disagree
 * with the held set, and the delta that fits; the held state saved and
 * loaded (a restarted router still refuses a rollback), a file cut short or
 * altered refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crl/crl_gendoc.h"
#include "lib/store.h"
#include "lib/util.h"

#define T0		1800000000

static void set_key(svrcert_revkey_t k, uint8_t v)
{
	memset(k, 0, SVRCERT_REVKEY_LEN);
	k[0] = v;
}

/* An update by hand: ADDED/REMOVED as lists of first bytes. */
static void mk(struct svrcert_gen_update *u, enum svrcert_gen_kind kind,
	       uint8_t epoch, uint64_t base, uint64_t gen, time_t t,
	       const uint8_t *add, size_t na, const uint8_t *rem, size_t nr)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	memset(u->epoch, epoch, SVRCERT_GEN_EPOCH_LEN);
	u->base = base;
	u->gen = gen;
	u->time = t;
	snprintf(u->conductor, sizeof(u->conductor), "c1");
	u->own_added = true;
	u->added = na ? calloc(na, SVRCERT_REVKEY_LEN) : NULL;
	u->removed = nr ? calloc(nr, SVRCERT_REVKEY_LEN) : NULL;
	for (size_t i = 0; i < na; i++)
		set_key(u->added[i], add[i]);
	for (size_t i = 0; i < nr; i++)
		set_key(u->removed[i], rem[i]);
	u->nadded = na;
	u->nremoved = nr;
}

static int apply(struct svrcert_gen_held *h, struct svrcert_gen_update *u,
		 char *err)
{
	int rc = svrcert_gen_held_apply(h, u, err, 256);

	svrcert_gen_update_release(u);
	return rc;
}

static void test_apply_rules(void **state)
{
	static const uint8_t k123[] = { 1, 2, 3 }, k4[] = { 4 }, k1[] = { 1 },
			     k9[] = { 9 }, k2[] = { 2 };
	struct svrcert_gen_held h = { 0 };
	struct svrcert_gen_update u;
	char err[256];

	mk(&u, SVRCERT_GEN_DELTA, 7, 0, 1, 100, k4, 1, NULL, 0);
	assert_int_equal(apply(&h, &u, err), -EXDEV);
	assert_non_null(strstr(err, "no state is held"));
	mk(&u, SVRCERT_GEN_FULL, 7, 0, 5, 100, k123, 3, NULL, 0);
	assert_int_equal(apply(&h, &u, err), 0);
	assert_int_equal(h.gen, 5);
	assert_int_equal(h.n, 3);
	/* older generation, same epoch: rollback, as delta or full */
	mk(&u, SVRCERT_GEN_FULL, 7, 0, 4, 200, k1, 1, NULL, 0);
	assert_int_equal(apply(&h, &u, err), -ESTALE);
	assert_non_null(strstr(err, "rollback refused: generation 4 is older "
				    "than the held 5"));
	mk(&u, SVRCERT_GEN_DELTA, 7, 3, 4, 200, k4, 1, NULL, 0);
	assert_int_equal(apply(&h, &u, err), -ESTALE);
	assert_int_equal(h.n, 3);
	/* the same generation again: nothing changes */
	mk(&u, SVRCERT_GEN_DELTA, 7, 5, 5, 100, NULL, 0, NULL, 0);
	assert_int_equal(apply(&h, &u, err), 0);
	assert_int_equal(h.gen, 5);
	/* a delta from another base */
	mk(&u, SVRCERT_GEN_DELTA, 7, 4, 6, 300, k4, 1, NULL, 0);
	assert_int_equal(apply(&h, &u, err), -EXDEV);
	assert_non_null(strstr(err, "a delta from generation 4, the held one "
				    "is 5"));
	/* right base, but it removes a key not held / adds one held */
	mk(&u, SVRCERT_GEN_DELTA, 7, 5, 6, 300, k4, 1, k9, 1);
	assert_int_equal(apply(&h, &u, err), -EXDEV);
	assert_non_null(strstr(err, "disagrees with the held set"));
	mk(&u, SVRCERT_GEN_DELTA, 7, 5, 6, 300, k2, 1, NULL, 0);
	assert_int_equal(apply(&h, &u, err), -EXDEV);
	assert_int_equal(h.gen, 5);
	assert_int_equal(h.n, 3);
	/* the right one: {1,2,3} - {1} + {4} */
	mk(&u, SVRCERT_GEN_DELTA, 7, 5, 6, 300, k4, 1, k1, 1);
	assert_int_equal(apply(&h, &u, err), 0);
	assert_int_equal(h.gen, 6);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.keys[0][0], 2);
	assert_int_equal(h.keys[2][0], 4);
	svrcert_gen_held_release(&h);
}

static void encode(struct svrcert_gen_update *u, uint8_t **der, size_t *len)
{
	assert_int_equal(svrcert_gendoc_encode(u, der, len), 0);
	svrcert_gen_update_release(u);
}

static void assert_refused(const uint8_t *der, size_t len, const char *why)
{
	struct svrcert_gen_update u;
	char err[256] = "";

	assert_int_equal(svrcert_gendoc_decode(der, len, &u, err, sizeof(err)),
			 -EBADMSG);
	if (!strstr(err, why))
		fail_msg("refused for \"%s\", expected \"%s\"", err, why);
}

/* The format: a round trip keeps everything; what breaks it is refused
 * with its own message; a 10-key delta is a few hundred bytes. */
static void test_format(void **state)
{
	static const uint8_t ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
			     unsorted[] = { 2, 1 }, k1[] = { 1 };
	struct svrcert_gen_update u, back;
	uint8_t *der = NULL, *big;
	size_t len = 0;
	char err[256];

	mk(&u, SVRCERT_GEN_DELTA, 3, 41, 42, T0, ten, 10, k1 + 0, 0);
	assert_int_equal(svrcert_gendoc_encode(&u, &der, &len), 0);
	print_message("10-key delta: %zu bytes of DER content\n", len);
	assert_true(len <= 32 * 10 + 100);
	assert_int_equal(svrcert_gendoc_decode(der, len, &back, err,
					       sizeof(err)), 0);
	assert_int_equal(back.kind, SVRCERT_GEN_DELTA);
	assert_int_equal(back.base, 41);
	assert_int_equal(back.gen, 42);
	assert_int_equal(back.time, T0);
	assert_string_equal(back.conductor, "c1");
	assert_memory_equal(back.epoch, u.epoch, SVRCERT_GEN_EPOCH_LEN);
	assert_int_equal(back.nadded, 10);
	assert_memory_equal(back.added, u.added, 10 * SVRCERT_REVKEY_LEN);
	svrcert_gen_update_release(&back);
	svrcert_gen_update_release(&u);
	assert_refused(der, len - 1, "malformed DER");
	big = malloc(len + 1);
	memcpy(big, der, len);
	big[len] = 0;
	assert_refused(big, len + 1, "1 bytes after the revocation update");
	free(big);
	free(der);
	mk(&u, SVRCERT_GEN_FULL, 3, 0, 42, T0, unsorted, 2, NULL, 0);
	encode(&u, &der, &len);
	assert_refused(der, len, "added keys are not strictly ascending");
	free(der);
	mk(&u, SVRCERT_GEN_DELTA, 3, 41, 42, T0, k1, 1, k1, 1);
	encode(&u, &der, &len);
	assert_refused(der, len, "a key is both added and removed");
	free(der);
	mk(&u, SVRCERT_GEN_DELTA, 3, 43, 42, T0, k1, 1, NULL, 0);
	encode(&u, &der, &len);
	assert_refused(der, len, "delta base 43 is after its generation 42");
	free(der);
	mk(&u, SVRCERT_GEN_DELTA, 3, 42, 42, T0, k1, 1, NULL, 0);
	encode(&u, &der, &len);
	assert_refused(der, len, "a generation to itself with keys");
	free(der);
}

/* The held state across a router restart: saved, loaded equal, and the
 * rollback rule still holds; what is not a complete file is refused. */
static void test_held_file(void **state)
{
	static const uint8_t k123[] = { 1, 2, 3 }, k1[] = { 1 };
	struct svrcert_gen_held h = { 0 }, back;
	struct svrcert_gen_update u;
	char dir[] = "/tmp/svrcert-held.XXXXXX", path[64], err[256];
	uint8_t *b = NULL;
	size_t len = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/held.bin", dir);
	assert_int_equal(svrcert_gen_held_load(path, &back, err, sizeof(err)),
			 -ENOENT);
	mk(&u, SVRCERT_GEN_FULL, 7, 0, 5, 100, k123, 3, NULL, 0);
	assert_int_equal(apply(&h, &u, err), 0);
	assert_int_equal(svrcert_gen_held_save(path, &h, err, sizeof(err)), 0);
	assert_int_equal(svrcert_gen_held_load(path, &back, err, sizeof(err)), 0);
	assert_true(back.have);
	assert_int_equal(back.gen, 5);
	assert_int_equal(back.time, 100);
	assert_memory_equal(back.epoch, h.epoch, SVRCERT_GEN_EPOCH_LEN);
	assert_int_equal(back.n, 3);
	assert_memory_equal(back.keys, h.keys, 3 * SVRCERT_REVKEY_LEN);
	mk(&u, SVRCERT_GEN_FULL, 7, 0, 4, 200, k1, 1, NULL, 0);
	assert_int_equal(apply(&back, &u, err), -ESTALE);
	svrcert_gen_held_release(&back);
	assert_int_equal(svrcert_read_file(path, 1 << 20, &b, &len), 0);
	assert_int_equal(atomic_write_file(path, b, len - 1, 0644), 0);
	assert_int_equal(svrcert_gen_held_load(path, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "cut short"));
	assert_false(back.have);
	b[len - 1] ^= 1;
	assert_int_equal(atomic_write_file(path, b, len, 0644), 0);
	assert_int_equal(svrcert_gen_held_load(path, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "checksum mismatch"));
	free(b);
	unlink(path);
	rmdir(dir);
	svrcert_gen_held_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_rules),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_held_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
