// SPDX-License-Identifier: GPL-2.0
/*
 * master.bin + master.delta (svrcert_master_publish_log, svrcert_master_load)
 * and conductor-held.bin + conductor-held.delta (svrcert_gen_held_apply,
 * _save, _load) over random sequences of changes: what is on disk always
 * loads as the set in memory; a small change writes only the delta, one
 * past the bound (or alone larger than it) a new base and no delta; a
 * stale delta left by a crash is ignored; a damaged or misfit one fails
 * the load. A failure prints the seed; KEYDELTA_SEED=N repeats that run.
 */
#include <jansson.h>

#include "test_crl_keydelta_fixture.h"
#include "crl/crl_gendoc.h"
#include "crl/crl_master.h"

struct pub {
	char dir[64], path[128], dpath[128], ipath[128];
};

/* What is on disk loads as M, and index.json says what it is (DELTA: the
 * list is master.bin and master.delta; DFILE: a master.delta is there). */
static void check_published(const struct pub *p, const struct svrcert_master *m,
			    const struct model *md, bool delta, bool dfile)
{
	struct svrcert_master back;
	json_t *idx, *jm, *jd;
	char err[256];
	size_t da, dr;
	int rc = svrcert_master_load(p->path, &back, err, sizeof(err));

	if (rc)
		fail_msg("load: %d %s (KEYDELTA_SEED=%llu)", rc, err,
			 (unsigned long long)seed);
	CHECK(same_keys(back.keys, back.n, m->keys, m->n));
	CHECK(back.generated == m->generated);
	svrcert_master_release(&back);
	CHECK(exists(p->dpath) == dfile);
	idx = json_load_file(p->ipath, 0, NULL);
	jm = json_object_get(idx, "master");
	jd = json_object_get(jm, "delta");
	model_diff(md, &da, &dr);
	CHECK(json_integer_value(json_object_get(jm, "keys")) ==
	      (json_int_t)m->n);
	CHECK(json_integer_value(json_object_get(jm, "file_keys")) ==
	      (json_int_t)(m->n - da + dr));
	CHECK(!jd == !delta);
	if (delta) {
		const char *f = json_string_value(json_object_get(jd, "file"));

		CHECK(f && !strcmp(f, SVRCERT_MASTER_DELTA));
		CHECK(json_integer_value(json_object_get(jd, "added")) ==
		      (json_int_t)da);
		CHECK(json_integer_value(json_object_get(jd, "removed")) ==
		      (json_int_t)dr);
	}
	json_decref(idx);
}

static void publish(const struct pub *p, const struct svrcert_master *m,
		    struct svrcert_keylog *l)
{
	char err[256];
	int rc = svrcert_master_publish_log(p->dir, NULL, 0, NULL, m, l,
					    m->generated, err, sizeof(err));

	if (rc)
		fail_msg("publish: %d %s", rc, err);
}

/* 4. master.bin + master.delta through publish and load. */
static void test_master_publish(void **state)
{
	struct svrcert_keylog l = { 0 };
	struct svrcert_keydelta d = { 0 };
	struct svrcert_master m, back;
	struct model md;
	struct pub p;
	struct stat before;
	svrcert_revkey_t *a, *r;
	uint8_t *stale = NULL;
	size_t na, nr, stale_len = 0, i;
	int deltas = 0, compactions = 0, oversize = 0, stale_tried = 0, rc;
	char err[256];

	rng = seed ^ 4;
	model_init(&md, 20000, 3000);
	assert_int_equal(fixture_tempdir(p.dir, "kdmaster"), 0);
	snprintf(p.path, sizeof(p.path), "%s/%s", p.dir, SVRCERT_MASTER_FILE);
	snprintf(p.dpath, sizeof(p.dpath), "%s/%s", p.dir,
		 SVRCERT_MASTER_DELTA);
	snprintf(p.ipath, sizeof(p.ipath), "%s/%s", p.dir,
		 SVRCERT_MASTER_INDEX);
	a = keys_of(&md, md.in, &na);
	assert_int_equal(svrcert_master_build(NULL, 0, a, na, T0, &m), 0);
	free(a);
	publish(&p, &m, &l);		/* nothing known on disk: a base */
	check_published(&p, &m, &md, false, false);
	for (int step = 1; step <= 60 || (!compactions && step <= 150);
	     step++) {
		size_t nadd, ndel, da, dr, bound;
		bool mix, base;

		step_size(step, 30, &nadd, &ndel, &mix);
		change(&md, nadd, ndel, mix, &a, &na, &r, &nr);
		assert_int_equal(svrcert_master_patch(&m, r, nr, a, na), 0);
		m.generated = T0 + step;
		assert_int_equal(svrcert_keylog_note(&l, a, na, r, nr), 0);
		free(a), free(r);
		bound = model_diff(&md, &da, &dr);
		base = na + nr > bound || da + dr > bound;
		assert_int_equal(stat(p.path, &before), 0);
		publish(&p, &m, &l);
		CHECK(untouched(p.path, &before) == !base);
		if (base) {
			memcpy(md.base, md.in, md.nu);
			na + nr > bound ? oversize++ : compactions++;
		} else {
			deltas++;
		}
		check_published(&p, &m, &md, !base, !base);
		if (!base && !stale) {
			stale = get_file(p.dpath, &stale_len);
		} else if (base && stale && !stale_tried++) {
			/* a crash between the new base and the unlink */
			put_file(p.dpath, stale, stale_len);
			check_published(&p, &m, &md, false, true);
		}
		if (step % 17 == 0) {	/* a restart: read back */
			svrcert_master_release(&m);
			rc = svrcert_master_load_log(p.path, &m, &l, err,
						     sizeof(err));
			if (rc)
				fail_msg("load_log: %d %s", rc, err);
			check_log(&md, &l);
		}
	}
	print_message("master: %d deltas, %d compactions, %d oversize "
		      "changes\n", deltas, compactions, oversize);
	CHECK(deltas > 20 && compactions >= 1 && oversize == 1 && stale_tried);

	/* a writer without a log (a full rebuild) replaces both files */
	change(&md, 1, 1, false, &a, &na, &r, &nr);
	assert_int_equal(svrcert_master_patch(&m, r, nr, a, na), 0);
	assert_int_equal(svrcert_keylog_note(&l, a, na, r, nr), 0);
	free(a), free(r);
	publish(&p, &m, &l);
	assert_true(exists(p.dpath));
	rc = svrcert_master_publish_learned(p.dir, NULL, 0, NULL, &m, T0, err,
					    sizeof(err));
	assert_int_equal(rc, 0);
	memcpy(md.base, md.in, md.nu);
	check_published(&p, &m, &md, false, false);
	svrcert_master_release(&m);
	assert_int_equal(svrcert_master_load_log(p.path, &m, &l, err,
						 sizeof(err)), 0);
	check_log(&md, &l);

	/* a damaged delta fails the load; so does one that does not fit */
	change(&md, 1, 1, false, &a, &na, &r, &nr);
	assert_int_equal(svrcert_master_patch(&m, r, nr, a, na), 0);
	assert_int_equal(svrcert_keylog_note(&l, a, na, r, nr), 0);
	publish(&p, &m, &l);
	assert_true(exists(p.dpath));
	corrupt_last(p.dpath);
	assert_int_equal(svrcert_master_load(p.path, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "checksum mismatch"));
	for (i = 0; md.base[i]; i++)
		;
	memcpy(d.base_check, l.base_check, 32);
	d.count = l.base_n - 1;
	d.removed = md.uni + i, d.nremoved = 1;	/* not in the base */
	assert_int_equal(svrcert_keydelta_write(p.dpath, &d, err,
						sizeof(err)), 0);
	assert_int_equal(svrcert_master_load(p.path, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "does not fit its base"));
	free(a), free(r), free(stale);
	svrcert_master_release(&m);
	svrcert_keylog_release(&l);
	model_free(&md);
	fixture_rm_rf(p.dir);
}

/* The held state on disk loads as H. */
static void check_held(const char *path, const struct svrcert_gen_held *h)
{
	struct svrcert_gen_held b;
	char err[256];
	int rc = svrcert_gen_held_load(path, &b, err, sizeof(err));

	if (rc)
		fail_msg("held load: %d %s (KEYDELTA_SEED=%llu)", rc, err,
			 (unsigned long long)seed);
	CHECK(b.have && same_keys(b.keys, b.n, h->keys, h->n));
	CHECK(b.gen == h->gen && b.time == h->time &&
	      !memcmp(b.epoch, h->epoch, SVRCERT_GEN_EPOCH_LEN));
	svrcert_gen_held_release(&b);
}

static int apply(struct svrcert_gen_held *h, enum svrcert_gen_kind kind,
		 const uint8_t *epoch, uint64_t gen, time_t t,
		 svrcert_revkey_t *a, size_t na, svrcert_revkey_t *r, size_t nr)
{
	struct svrcert_gen_update u = { .kind = kind, .gen = gen, .time = t,
		.base = h->gen, .added = a, .nadded = na, .removed = r,
		.nremoved = nr };
	char err[256];

	memcpy(u.epoch, epoch, SVRCERT_GEN_EPOCH_LEN);
	return svrcert_gen_held_apply(h, &u, err, sizeof(err));
}

static void save(const char *path, struct svrcert_gen_held *h)
{
	char err[256];
	int rc = svrcert_gen_held_save(path, h, err, sizeof(err));

	if (rc)
		fail_msg("held save: %d %s", rc, err);
}

/* 5. conductor-held.bin + .delta: random deltas applied, saved, loaded. */
static void test_held(void **state)
{
	struct svrcert_gen_held h = { 0 }, back;
	struct model md;
	struct stat before;
	svrcert_revkey_t *a, *r, *now;
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN] = { 1 }, *stale = NULL;
	char dir[64], path[128], dpath[128], err[256];
	size_t na, nr, n, stale_len = 0, bound, da, dr;
	int deltas = 0, bases = 0, oversize = 0, stale_tried = 0;

	rng = seed ^ 5;
	model_init(&md, 12000, 2000);
	assert_int_equal(fixture_tempdir(dir, "kdheld"), 0);
	snprintf(path, sizeof(path), "%s/conductor-held.bin", dir);
	snprintf(dpath, sizeof(dpath), "%s/conductor-held.delta", dir);
	a = keys_of(&md, md.in, &na);
	assert_int_equal(apply(&h, SVRCERT_GEN_FULL, epoch, 1, T0, a, na,
			       NULL, 0), 0);
	free(a);
	save(path, &h);
	assert_false(exists(dpath));
	check_held(path, &h);
	for (int step = 1; step <= 50 || (!bases && step <= 150); step++) {
		size_t nadd, ndel, i, nk = h.n;
		uint64_t gen = h.gen;
		bool mix, base;

		if (step % 7 == 0) {	/* misfit deltas */
			svrcert_revkey_t *keep = keys_of(&md, md.in, &n);

			for (i = 0; md.in[i]; i++)
				;
			assert_int_equal(apply(&h, SVRCERT_GEN_DELTA, epoch,
					       gen + 1, T0 + step, NULL, 0,
					       md.uni + i, 1), -EXDEV);
			assert_int_equal(apply(&h, SVRCERT_GEN_DELTA, epoch,
					       gen + 1, T0 + step, keep, 1,
					       NULL, 0), -EXDEV);
			CHECK(h.gen == gen && same_keys(h.keys, h.n, keep, n));
			free(keep);
		}
		step_size(step, 25, &nadd, &ndel, &mix);
		change(&md, nadd, ndel, mix, &a, &na, &r, &nr);
		assert_int_equal(apply(&h, SVRCERT_GEN_DELTA, epoch,
				       gen + 1 + rnd(3), T0 + step, a, na, r,
				       nr), 0);
		free(a), free(r);
		now = keys_of(&md, md.in, &n);
		CHECK(h.n == nk + na - nr && same_keys(h.keys, h.n, now, n));
		free(now);
		bound = model_diff(&md, &da, &dr);
		base = na + nr > bound || da + dr > bound;
		assert_int_equal(stat(path, &before), 0);
		save(path, &h);
		CHECK(untouched(path, &before) == !base);
		CHECK(exists(dpath) == !base);
		check_held(path, &h);
		if (base) {
			memcpy(md.base, md.in, md.nu);
			na + nr > bound ? oversize++ : bases++;
		} else {
			deltas++;
		}
		if (!base && !stale) {
			stale = get_file(dpath, &stale_len);
		} else if (base && stale && !stale_tried++) {
			put_file(dpath, stale, stale_len);
			check_held(path, &h);
		}
		if (step % 9 == 0) {	/* a restart */
			svrcert_gen_held_release(&h);
			assert_int_equal(svrcert_gen_held_load(path, &h, err,
							       sizeof(err)), 0);
		}
	}
	print_message("held: %d deltas, %d compactions, %d oversize changes\n",
		      deltas, bases, oversize);
	CHECK(deltas > 20 && bases >= 1 && oversize == 1 && stale_tried);

	/* a damaged delta fails the load; a full set replaces both files */
	change(&md, 2, 2, false, &a, &na, &r, &nr);
	assert_int_equal(apply(&h, SVRCERT_GEN_DELTA, epoch, h.gen + 1, T0 + 99,
			       a, na, r, nr), 0);
	free(a), free(r);
	save(path, &h);
	corrupt_last(dpath);
	assert_int_equal(svrcert_gen_held_load(path, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "checksum mismatch"));
	assert_int_equal(stat(path, &before), 0);
	epoch[0] = 2;
	a = keys_of(&md, md.in, &na);
	assert_int_equal(apply(&h, SVRCERT_GEN_FULL, epoch, 1, T0 + 1000, a,
			       na - 1, NULL, 0), 0);
	free(a);
	save(path, &h);
	CHECK(!untouched(path, &before) && !exists(dpath));
	check_held(path, &h);
	/* from the empty set: a base of no keys, then a delta */
	assert_int_equal(apply(&h, SVRCERT_GEN_FULL, epoch, 2, T0 + 1001,
			       NULL, 0, NULL, 0), 0);
	save(path, &h);
	assert_int_equal(apply(&h, SVRCERT_GEN_DELTA, epoch, 3, T0 + 1002,
			       md.uni, 3, NULL, 0), 0);
	save(path, &h);
	CHECK(h.n == 3 && exists(dpath));
	check_held(path, &h);
	free(stale);
	svrcert_gen_held_release(&h);
	model_free(&md);
	fixture_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_master_publish),
		cmocka_unit_test(test_held),
	};

	kd_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
