// SPDX-License-Identifier: GPL-2.0
/*
 * crl_keydelta: a sorted key set as a base file and one small cumulative
 * delta beside it. The in-place patch against the allocating
 * svrcert_revkeys_patch over random cases; the delta file's round trip and
 * every corruption refused by name; the apply's refusals; the writer's
 * running delta over random changes, and its bound. The files of master.bin
 * and conductor-held.bin end to end: test_crl_keydelta_disk.c. A failure
 * prints the seed; KEYDELTA_SEED=N repeats that run.
 */
#include <openssl/evp.h>

#include "test_crl_keydelta_fixture.h"

/* 1. The in-place patch equals the allocating one: the same set, the same
 * counts; strict with a mismatch changes nothing; a header is kept. */
static void test_patch_in_place(void **state)
{
	static const unsigned rates[] = { 0, 5, 50, 300 };
	struct model md;
	bool *in, *mi, *pl;
	int exdev = 0, patched = 0;

	rng = seed ^ 1;
	model_init(&md, 4200, 0);
	in = malloc(md.nu), mi = malloc(md.nu), pl = malloc(md.nu);
	assert_true(in && mi && pl);
	for (int c = 0; c < 1000; c++) {
		size_t s = rnd(2001), range = s + 1 + rnd(s + 64);
		size_t hdr = rnd(2) ? 64 : 0;
		unsigned pm = rates[rnd(4)], pp = rates[rnd(4)];
		bool strict = rnd(2), fit = !rnd(3);
		size_t n, nm, np, nn, nout = 0, miss, pres;
		size_t miss2 = 99, pres2 = 99;
		svrcert_revkey_t *set, *minus, *plus, *out = NULL, *keys;
		uint8_t h[64], *buf;
		int rc;

		range = range > md.nu ? md.nu : range;
		memset(in, 0, md.nu);
		memset(mi, 0, md.nu);
		memset(pl, 0, md.nu);
		for (size_t i = 0; i < range; i++) {
			in[i] = rnd(range) < s;
			mi[i] = rnd(1000) < pm && (!fit || in[i]);
			pl[i] = rnd(1000) < pp && (!fit || !in[i] || mi[i]);
		}
		set = keys_of(&md, in, &n);
		minus = keys_of(&md, mi, &nm);
		plus = keys_of(&md, pl, &np);
		rc = svrcert_revkeys_patch(set, n, minus, nm, plus, np, &out,
					   &nout, &miss, &pres);
		assert_int_equal(rc, 0);
		for (size_t i = 0; i < sizeof(h); i++)
			h[i] = (uint8_t)next_rand();
		buf = hdr + n ? malloc(hdr + n * KLEN) : NULL;
		if (hdr + n)
			memcpy(buf, h, hdr), memcpy(buf + hdr, set, n * KLEN);
		keys = buf ? (svrcert_revkey_t *)(buf + hdr) : NULL;
		nn = n;
		rc = svrcert_revkeys_patch_in_place(&buf, hdr, &keys, &nn,
						    minus, nm, plus, np,
						    strict, &miss2, &pres2);
		CHECK(miss2 == miss && pres2 == pres);
		CHECK(!fit || (!miss && !pres));
		if (strict && (miss || pres)) {
			CHECK(rc == -EXDEV && same_keys(keys, nn, set, n));
			exdev++;
		} else {
			CHECK(rc == 0 && same_keys(keys, nn, out, nout));
			patched++;
		}
		CHECK(!buf || (uint8_t *)keys == buf + hdr);
		CHECK(!hdr || !memcmp(buf, h, hdr));
		free(buf), free(set), free(minus), free(plus), free(out);
	}
	print_message("in-place patch: %d cases patched, %d refused (strict)\n",
		      patched, exdev);
	CHECK(exdev > 100 && patched > 500);
	free(in), free(mi), free(pl);
	model_free(&md);
}

/* The delta's checksum over B (as crl_keydelta.h lays it out). */
static void fix_sum(uint8_t *b, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	assert_true(c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		    EVP_DigestUpdate(c, b, 104) &&
		    EVP_DigestUpdate(c, b + 136, len - 136) &&
		    EVP_DigestFinal_ex(c, b + 104, NULL));
	EVP_MD_CTX_free(c);
}

static void refused(const char *path, uint8_t *b, size_t len, bool fix,
		    const char *why)
{
	struct svrcert_keydelta d;
	char err[256] = "";

	if (fix)
		fix_sum(b, len);
	put_file(path, b, len);
	assert_int_equal(svrcert_keydelta_read(path, &d, err, sizeof(err)),
			 -EBADMSG);
	if (!strstr(err, why))
		fail_msg("refused for \"%s\", expected \"%s\"", err, why);
	assert_null(d.added);
	assert_null(d.removed);
}

/* The keys of the universe at the indices IDX (ascending), malloc'd. */
static svrcert_revkey_t *pick(const struct model *md, const int *idx, size_t n)
{
	svrcert_revkey_t *k = malloc(n * KLEN + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(k[i], md->uni[idx[i]], KLEN);
	return k;
}

/* 2. The file: a round trip keeps everything, each corruption is refused
 * by name; the apply: another base, a wrong count, a misfit. */
static void test_delta_file(void **state)
{
	static const int ia[] = { 0, 2, 4, 6, 8 }, ir[] = { 1, 3, 5 };
	static const int base[] = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };
	struct keydelta_case { int a[3], na, r[3], nr, count; bool stale;
			       const char *why; } cases[] = {
		{ { 5, 31, 40 }, 3, { 10, 15 }, 2, 11, true, NULL },
		{ { 5, 31, 40 }, 3, { 10, 15 }, 2, 12, false,
		  "count 12 is not" },
		{ { 5 }, 1, { 10, 50 }, 2, 9, false,
		  "1 removed keys not in it" },
		{ { 5, 15 }, 2, { 10, 11 }, 2, 10, false,
		  "1 added keys already" },
		{ { 5, 31, 40 }, 3, { 10, 15 }, 2, 11, false, NULL },
	};
	struct svrcert_keydelta d = { 0 }, back;
	struct model md;
	char dir[64], path[128], out[16], err[256] = "";
	uint8_t *b, *b2, hdr[64];
	size_t len, n;

	rng = seed ^ 2;
	model_init(&md, 64, 0);
	assert_int_equal(fixture_tempdir(dir, "keydelta"), 0);
	snprintf(path, sizeof(path), "%s/x.delta", dir);
	assert_int_equal(svrcert_keydelta_path("/a/master.bin", (char *)hdr,
					       sizeof(hdr)), 0);
	assert_string_equal((char *)hdr, "/a/master.delta");
	assert_int_equal(svrcert_keydelta_path("held", out, sizeof(out)), 0);
	assert_string_equal(out, "held.delta");
	assert_int_equal(svrcert_keydelta_path("0123456789.bin", out,
					       sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(svrcert_keydelta_read(path, &back, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "");
	/* the empty delta, then 5 added and 3 removed */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < 32; i++)
			d.base_check[i] = (uint8_t)next_rand(),
			d.state[i] = (uint8_t)next_rand();
		d.count = 1234567890123ull + round;
		assert_int_equal(svrcert_keydelta_write(path, &d, err,
							sizeof(err)), 0);
		assert_int_equal(svrcert_keydelta_read(path, &back, err,
						       sizeof(err)), 0);
		assert_memory_equal(back.base_check, d.base_check, 32);
		assert_memory_equal(back.state, d.state, 32);
		assert_true(back.count == d.count);
		assert_true(same_keys(back.added, back.nadded, d.added,
				      d.nadded));
		assert_true(same_keys(back.removed, back.nremoved, d.removed,
				      d.nremoved));
		svrcert_keydelta_release(&back);
		if (round)
			break;
		d.added = pick(&md, ia, 5), d.nadded = 5;
		d.removed = pick(&md, ir, 3), d.nremoved = 3;
	}
	b = get_file(path, &len);
	assert_int_equal(len, 136 + 8 * KLEN);
	b2 = malloc(len);
#define MUTATE(stmt, fix, why) do { memcpy(b2, b, len); stmt; \
	refused(path, b2, len, fix, why); } while (0)
	MUTATE(b2[136 + 7 * KLEN + 3] ^= 1, false, "checksum mismatch");
	MUTATE(b2[48 + 7] ^= 1, false, "checksum mismatch");
	MUTATE(b2[72] ^= 1, false, "checksum mismatch");
	MUTATE(b2[0] ^= 0x20, false, "not a key delta (bad magic");
	MUTATE(b2[11] = 2, true, "unsupported key delta version");
	MUTATE(b2[15] = 137, true, "unsupported key delta version");
	MUTATE(b2[59] = 1, true, "does not match its 4294967301 + 3 keys");
	MUTATE((memcpy(b2 + 136, b + 136 + KLEN, KLEN),
		memcpy(b2 + 136 + KLEN, b + 136, KLEN)), true,
	       "keys not strictly ascending");
	MUTATE(memcpy(b2 + 136 + 6 * KLEN, b + 136 + 5 * KLEN, KLEN), true,
	       "keys not strictly ascending");
	refused(path, b, len - 1, false,
		"size 391 does not match its 5 + 3 keys");
	refused(path, b, 100, false, "bad magic or truncated");
	refused(path, b, 0, false, "bad magic or truncated");
	/* removed 1, 4, 5 (still ascending) with 4 added: the writer does
	 * not check, the reader does */
	memcpy(d.removed[1], d.added[2], KLEN);
	assert_int_equal(svrcert_keydelta_write(path, &d, err, sizeof(err)), 0);
	assert_int_equal(svrcert_keydelta_read(path, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "a key both added and removed"));
	free(b), free(b2);
	svrcert_keydelta_release(&d);

	/* apply to a base of 10 keys behind a 64-byte header */
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct keydelta_case *k = &cases[c];
		svrcert_revkey_t *set = pick(&md, base, 10), *keys;
		svrcert_revkey_t *want = NULL;
		uint8_t *buf = malloc(64 + 10 * KLEN), check[32] = { 7 };
		size_t nwant = 0;
		int rc;

		memset(hdr, 0x5a, sizeof(hdr));
		memcpy(buf, hdr, 64), memcpy(buf + 64, set, 10 * KLEN);
		keys = (svrcert_revkey_t *)(buf + 64);
		n = 10;
		d.added = pick(&md, k->a, k->na), d.nadded = k->na;
		d.removed = pick(&md, k->r, k->nr), d.nremoved = k->nr;
		d.count = k->count;
		memcpy(d.base_check, check, 32);
		d.base_check[31] ^= k->stale;
		err[0] = '\0';
		rc = svrcert_keydelta_apply(&d, check, &buf, 64, &keys, &n, err,
					    sizeof(err));
		if (k->stale || k->why) {
			assert_int_equal(rc, k->stale ? -ESTALE : -EBADMSG);
			assert_true(same_keys(keys, n, set, 10));
			if (k->why && !strstr(err, k->why))
				fail_msg("\"%s\", expected \"%s\"", err,
					 k->why);
		} else {
			assert_int_equal(rc, 0);
			svrcert_revkeys_patch(set, 10, d.removed, 2, d.added, 3,
					      &want, &nwant, NULL, NULL);
			assert_int_equal(nwant, 11);
			assert_true(same_keys(keys, n, want, nwant));
		}
		assert_memory_equal(buf, hdr, 64);
		free(buf), free(set), free(want);
		svrcert_keydelta_release(&d);
	}
	fixture_rm_rf(dir);
	model_free(&md);
}

/* The log through its delta file, resumed as a reader would. */
static void log_via_file(const char *path, struct svrcert_keylog *l)
{
	struct svrcert_keydelta d, back;
	struct svrcert_keylog r = { 0 };
	uint8_t state[32] = { 1 };
	char err[256];

	svrcert_keylog_delta(l, 42, state, &d);
	assert_int_equal(svrcert_keydelta_write(path, &d, err, sizeof(err)), 0);
	assert_int_equal(svrcert_keydelta_read(path, &back, err, sizeof(err)),
			 0);
	assert_int_equal(svrcert_keylog_resume(&r, back.base_check, l->base_n,
					       &back), 0);
	svrcert_keydelta_release(&back);
	CHECK(r.based && !memcmp(r.base_check, l->base_check, 32));
	CHECK(same_keys(r.added, r.nadded, l->added, l->nadded));
	CHECK(same_keys(r.removed, r.nremoved, l->removed, l->nremoved));
	svrcert_keylog_release(l);
	*l = r;
}

/* Note NKEYS keys of MD's universe from FROM on as added, in one call. */
static int note_n(struct svrcert_keylog *l, const struct model *md,
		  size_t from, size_t nkeys)
{
	return svrcert_keylog_note(l, md->uni + from, nkeys, NULL, 0);
}

/* 3. The writer's running delta over random changes: always the base's
 * way to the set; due past max(MIN, base / DIV); a change alone past the
 * bound forces a base (the base on disk stays known). */
static void test_keylog(void **state)
{
	static const uint8_t check[32] = { 9 };
	struct svrcert_keylog l = { 0 };
	struct model md;
	char dir[64], path[128];
	size_t n, crossed = 0;

	rng = seed ^ 3;
	assert_int_equal(fixture_tempdir(dir, "keylog"), 0);
	snprintf(path, sizeof(path), "%s/log.delta", dir);
	model_init(&md, 40000, 2000);
	free(keys_of(&md, md.base, &n));
	svrcert_keylog_rebase(&l, check, n);
	for (int step = 1; step < 600 && crossed < 3; step++) {
		svrcert_revkey_t *a, *r;
		size_t na, nr;

		free(keys_of(&md, md.in, &n));	/* drifting up to 8000 */
		change(&md, rnd(300), rnd(n < 8000 ? 150 : 450), !rnd(3), &a,
		       &na, &r, &nr);
		assert_int_equal(svrcert_keylog_note(&l, a, na, r, nr), 0);
		free(a), free(r);
		check_log(&md, &l);
		if (step % 10 == 0)
			log_via_file(path, &l);
		if (svrcert_keylog_due(&l)) {	/* the writer's new base */
			crossed++;
			memcpy(md.base, md.in, md.nu);
			free(keys_of(&md, md.base, &n));
			svrcert_keylog_rebase(&l, check, n);
			check_log(&md, &l);
		}
	}
	print_message("keylog: %zu new bases\n", crossed);
	CHECK(crossed == 3);
	svrcert_keylog_release(&l);
	model_free(&md);

	/* the bound: 10000 at 320000 keys, 4096 below 131072 */
	model_init(&md, 10200, 0);
	svrcert_keylog_rebase(&l, check, 320000);
	assert_int_equal(note_n(&l, &md, 0, 10000), 0);
	assert_true(l.based && !svrcert_keylog_due(&l));
	assert_int_equal(note_n(&l, &md, 10000, 1), 0);
	assert_true(l.based && svrcert_keylog_due(&l));
	svrcert_keylog_rebase(&l, check, 320000);
	assert_int_equal(note_n(&l, &md, 0, 10001), 0);
	/* forced, the base on disk still known: written first, then the
	 * delta goes (a crash between leaves one naming the old base) */
	assert_true(l.based && l.base_due && svrcert_keylog_due(&l) &&
		    !l.nadded);
	assert_int_equal(note_n(&l, &md, 10001, 1), 0);
	assert_true(l.based && l.base_due && !l.nadded);
	svrcert_keylog_rebase(&l, check, 100);
	assert_int_equal(note_n(&l, &md, 0, 4096), 0);
	assert_true(!svrcert_keylog_due(&l));
	svrcert_keylog_rebase(&l, check, 100);
	assert_int_equal(note_n(&l, &md, 0, 4097), 0);
	assert_true(l.based && l.base_due);
	svrcert_keylog_rebase(&l, check, 32 * 4097);
	assert_int_equal(note_n(&l, &md, 0, 4097), 0);
	assert_true(l.based && !svrcert_keylog_due(&l));
	svrcert_keylog_release(&l);
	model_free(&md);
	fixture_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch_in_place),
		cmocka_unit_test(test_delta_file),
		cmocka_unit_test(test_keylog),
	};

	kd_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
