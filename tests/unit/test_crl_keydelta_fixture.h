/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of test_crl_keydelta.c and test_crl_keydelta_disk.c: a model of
 * a key set (a universe of random keys, which the set holds now and held
 * at its base), random changes of it, and file helpers. Random runs are
 * seeded from KEYDELTA_SEED or the clock; CHECK prints the seed.
 */
#ifndef SVRCERT_TEST_CRL_KEYDELTA_FIXTURE_H
#define SVRCERT_TEST_CRL_KEYDELTA_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "crl/crl_gen.h"
#include "crl/crl_keydelta.h"
#include "lib/util.h"

#define T0	1800000000
#define KLEN	SVRCERT_REVKEY_LEN

static uint64_t seed, rng;

#define CHECK(c) do { if (!(c)) fail_msg("%s (KEYDELTA_SEED=%llu repeats " \
	"this run)", #c, (unsigned long long)seed); } while (0)

static inline uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline size_t rnd(size_t n)
{
	return n ? next_rand() % n : 0;
}

static inline int keycmp(const void *a, const void *b)
{
	return memcmp(a, b, KLEN);
}

static inline bool same_keys(const svrcert_revkey_t *a, size_t na,
			     const svrcert_revkey_t *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * KLEN));
}

/* A universe of keys (ascending) and which of them the set holds now and
 * held when its base was written. */
struct model {
	svrcert_revkey_t *uni;
	size_t nu;
	bool *in, *base;
};

static inline void model_init(struct model *md, size_t nu, size_t n)
{
	md->nu = nu;
	md->uni = malloc(nu * KLEN);
	md->in = calloc(nu, 1);
	md->base = calloc(nu, 1);
	assert_true(md->uni && md->in && md->base);
	for (size_t i = 0; i < nu; i++)
		for (size_t b = 0; b < KLEN; b += 8) {
			uint64_t r = next_rand();

			memcpy(&md->uni[i][b], &r, 8);
		}
	qsort(md->uni, nu, KLEN, keycmp);
	for (size_t i = 1; i < nu; i++)
		assert_true(keycmp(md->uni[i - 1], md->uni[i]) < 0);
	for (size_t i = 0; i < n; i++)
		md->in[rnd(nu)] = true;
	memcpy(md->base, md->in, nu);
}

static inline void model_free(struct model *md)
{
	free(md->uni);
	free(md->in);
	free(md->base);
}

/* The keys whose SEL is set, ascending (malloc'd, never NULL). */
static inline svrcert_revkey_t *keys_of(const struct model *md,
					const bool *sel, size_t *n)
{
	svrcert_revkey_t *k = malloc(md->nu * KLEN);

	assert_non_null(k);
	*n = 0;
	for (size_t i = 0; i < md->nu; i++)
		if (sel[i])
			memcpy(k[(*n)++], md->uni[i], KLEN);
	return k;
}

/* Up to K keys at random among those in (WANT_IN) or out of the set; with
 * CHANGED only those that moved since the base (a removed key re-added, an
 * added key removed again). */
static inline void choose(const struct model *md, bool want_in, bool changed,
			  size_t k, bool *sel)
{
	size_t *c = malloc(md->nu * sizeof(*c)), nc = 0, j;

	assert_non_null(c);
	memset(sel, 0, md->nu);
	for (size_t i = 0; i < md->nu; i++)
		if (md->in[i] == want_in &&
		    (!changed || md->in[i] != md->base[i]))
			c[nc++] = i;
	for (j = 0; j < k && j < nc; j++) {
		size_t r = j + rnd(nc - j), t = c[r];

		c[r] = c[j];
		c[j] = t;
		sel[t] = true;
	}
	free(c);
}

/* Add up to NADD keys, remove up to NDEL (MIX: half the time keys that
 * moved since the base); *A / *R the keys, ascending. */
static inline void change(struct model *md, size_t nadd, size_t ndel,
			  bool mix, svrcert_revkey_t **a, size_t *na,
			  svrcert_revkey_t **r, size_t *nr)
{
	bool *sa = malloc(md->nu), *sr = malloc(md->nu);

	assert_true(sa && sr);
	choose(md, false, mix && rnd(2), nadd, sa);
	choose(md, true, mix && rnd(2), ndel, sr);
	*a = keys_of(md, sa, na);
	*r = keys_of(md, sr, nr);
	for (size_t i = 0; i < md->nu; i++)
		md->in[i] = (md->in[i] || sa[i]) && !sr[i];
	free(sa);
	free(sr);
}

/* Keys in the set and not in the base (*ADDED), and the reverse; the
 * delta's bound. */
static inline size_t model_diff(const struct model *md, size_t *added,
				size_t *removed)
{
	size_t nb = 0, bound;

	*added = *removed = 0;
	for (size_t i = 0; i < md->nu; i++) {
		nb += md->base[i];
		*added += md->in[i] && !md->base[i];
		*removed += !md->in[i] && md->base[i];
	}
	bound = nb / SVRCERT_KEYDELTA_DIV;
	return bound < SVRCERT_KEYDELTA_MIN_KEYS ? SVRCERT_KEYDELTA_MIN_KEYS :
	       bound;
}

static inline void put_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static inline uint8_t *get_file(const char *path, size_t *len)
{
	uint8_t *b = NULL;

	assert_int_equal(svrcert_read_file(path, 1u << 28, &b, len), 0);
	return b;
}

static inline bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Whether PATH is the file BEFORE was (not replaced, not written). */
static inline bool untouched(const char *path, const struct stat *before)
{
	struct stat st;

	return !stat(path, &st) && st.st_ino == before->st_ino &&
	       st.st_mtim.tv_sec == before->st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == before->st_mtim.tv_nsec;
}

/* L against the model: the base patched by L's change is the set now,
 * L's counts are the difference, due is whether it passed the bound. */
static inline void check_log(const struct model *md,
			     const struct svrcert_keylog *l)
{
	size_t nb, nc, nout = 0, miss, pres, da, dr;
	size_t bound = model_diff(md, &da, &dr);
	svrcert_revkey_t *b = keys_of(md, md->base, &nb);
	svrcert_revkey_t *c = keys_of(md, md->in, &nc), *out = NULL;

	assert_int_equal(svrcert_revkeys_patch(b, nb, l->removed, l->nremoved,
					       l->added, l->nadded, &out, &nout,
					       &miss, &pres), 0);
	CHECK(l->based && l->base_n == nb);
	CHECK(!miss && !pres && same_keys(out, nout, c, nc));
	CHECK(l->nadded == da && l->nremoved == dr);
	CHECK(svrcert_keylog_due(l) == (da + dr > bound));
	free(b), free(c), free(out);
}

/* How big the next random change is: STEP == HUGE alone is past any
 * bound; else sometimes hundreds of keys, mostly a few. */
static inline void step_size(int step, int huge, size_t *nadd, size_t *ndel,
			     bool *mix)
{
	size_t kind = rnd(10);

	*mix = kind >= 3 && step != huge;
	if (step == huge)
		*nadd = 4200 + rnd(200), *ndel = rnd(100);
	else if (kind < 3)
		*nadd = 100 + rnd(800), *ndel = 100 + rnd(800);
	else
		*nadd = rnd(20), *ndel = 1 + rnd(20);
}

/* Flip the last byte of PATH: the load must fail, not drop the delta. */
static inline void corrupt_last(const char *path)
{
	size_t len;
	uint8_t *b = get_file(path, &len);

	b[len - 1] ^= 1;
	put_file(path, b, len);
	free(b);
}

/* The run's seed: KEYDELTA_SEED, else the time and pid. */
static inline void kd_seed(void)
{
	const char *s = getenv("KEYDELTA_SEED");

	seed = s ? strtoull(s, NULL, 0) :
	       (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	seed = seed ? seed : 1;
}

#endif
