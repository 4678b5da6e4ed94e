// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's revocation generations (crl_gen.h, crl_gendoc.h) without
 * signatures: randomised sequences of changes in which routers that poll
 * at different rates, through the DER document, always hold exactly the
 * conductor's set after applying what they were sent (a delta, or the full
 * set when they asked for one); the journal's bounds (a router too far
 * behind, a change larger than the bound) giving full sets; a restart
 * continuing the generation from disk; a lost file giving a new epoch; a
 * corrupt or half-written file never read (and SIGKILL during writes never
 * leaving one). test_crl_gendoc.c: the format and the apply rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "crl/crl_gen.h"
#include "crl/crl_gendoc.h"
#include "lib/util.h"

#define UNIVERSE	600
#define T0		1800000000

static uint64_t rng = 1;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int keycmp(const void *a, const void *b)
{
	return memcmp(a, b, SVRCERT_REVKEY_LEN);
}

/* The conductor's side as the test drives it. */
struct world {
	char dir[64], path[128];
	svrcert_revkey_t uni[UNIVERSE];		/* ascending */
	bool member[UNIVERSE];
	svrcert_revkey_t *set;			/* members, ascending */
	size_t n;
	struct svrcert_gen_journal j;
	time_t now;
};

static void world_init(struct world *w, uint64_t seed, size_t max_gens,
		       size_t max_keys)
{
	enum svrcert_gen_opened how;
	char err[256];

	memset(w, 0, sizeof(*w));
	rng = seed;
	for (size_t i = 0; i < UNIVERSE; i++)
		for (size_t b = 0; b < SVRCERT_REVKEY_LEN; b += 8) {
			uint64_t r = next_rand();

			memcpy(&w->uni[i][b], &r, 8);
		}
	qsort(w->uni, UNIVERSE, SVRCERT_REVKEY_LEN, keycmp);
	assert_int_equal(fixture_tempdir(w->dir, "crlgen"), 0);
	snprintf(w->path, sizeof(w->path), "%s/%s", w->dir, SVRCERT_GEN_FILE);
	w->now = T0;
	assert_int_equal(svrcert_gen_open(&w->j, w->path, max_gens, max_keys,
					  w->now, &how, err, sizeof(err)), 0);
	assert_int_equal(how, SVRCERT_GEN_CREATED);
	assert_int_equal(w->j.gen, 0);
}

static void world_free(struct world *w)
{
	svrcert_gen_close(&w->j);
	free(w->set);
	fixture_rm_rf(w->dir);
}

static void rebuild(struct world *w)
{
	free(w->set);
	w->set = malloc(UNIVERSE * SVRCERT_REVKEY_LEN);
	assert_non_null(w->set);
	w->n = 0;
	for (size_t i = 0; i < UNIVERSE; i++)
		if (w->member[i])
			memcpy(w->set[w->n++], w->uni[i], SVRCERT_REVKEY_LEN);
}

/* Flip the membership of ADD non-members and DEL members (at random),
 * then tell the journal. Returns svrcert_gen_advance's result. */
static int change(struct world *w, size_t add, size_t del)
{
	svrcert_revkey_t *old = w->set;
	size_t nold = w->n, i;
	bool was[UNIVERSE];
	char err[256];
	int rc;

	/* from the members before: a key added here is not removed again */
	memcpy(was, w->member, sizeof(was));
	for (i = 0; i < 4 * UNIVERSE && (add || del); i++) {
		size_t k = next_rand() % UNIVERSE;

		if (!was[k] && !w->member[k] && add) {
			w->member[k] = true;
			add--;
		} else if (was[k] && w->member[k] && del) {
			w->member[k] = false;
			del--;
		}
	}
	w->set = NULL;
	rebuild(w);
	w->now++;
	rc = svrcert_gen_advance(&w->j, old, nold, w->set, w->n, w->now, err,
				 sizeof(err));
	free(old);
	return rc;
}

/* U through its DER form, as a router receives it. */
static void roundtrip(const struct svrcert_gen_update *u,
		      struct svrcert_gen_update *out)
{
	struct svrcert_gen_update named = *u;
	uint8_t *der = NULL;
	size_t len = 0;
	char err[256];

	snprintf(named.conductor, sizeof(named.conductor), "conductor-1");
	assert_int_equal(svrcert_gendoc_encode(&named, &der, &len), 0);
	assert_int_equal(svrcert_gendoc_decode(der, len, out, err,
					       sizeof(err)), 0);
	free(der);
}

struct router {
	struct svrcert_gen_held h;
	size_t deltas, fulls;
};

/* One poll: since=held, through the DER document, applied. A delta the
 * conductor chose must apply: a refusal here would be a wrong delta. */
static void poll_once(struct world *w, struct router *r)
{
	struct svrcert_gen_held full = { 0 };
	struct svrcert_gen_update u, got;
	char err[256] = "";
	int rc;

	assert_int_equal(svrcert_gen_since(&w->j, r->h.have ? r->h.epoch : NULL,
					   r->h.gen, w->set, w->n, &u), 0);
	roundtrip(&u, &got);
	rc = svrcert_gen_held_apply(&r->h, &got, err, sizeof(err));
	if (u.kind == SVRCERT_GEN_DELTA)
		r->deltas++;
	else
		r->fulls++;
	svrcert_gen_update_release(&got);
	svrcert_gen_update_release(&u);
	if (rc)
		fail_msg("apply: %s", err);
	/* exactly what a full resync gives, which is the conductor's set */
	assert_int_equal(svrcert_gen_since(&w->j, NULL, 0, w->set, w->n, &u), 0);
	roundtrip(&u, &got);
	assert_int_equal(svrcert_gen_held_apply(&full, &got, err, sizeof(err)), 0);
	svrcert_gen_update_release(&got);
	svrcert_gen_update_release(&u);
	assert_int_equal(r->h.gen, full.gen);
	assert_memory_equal(r->h.epoch, full.epoch, SVRCERT_GEN_EPOCH_LEN);
	assert_int_equal(r->h.n, full.n);
	if (full.n)
		assert_memory_equal(r->h.keys, full.keys,
				    full.n * SVRCERT_REVKEY_LEN);
	assert_int_equal(full.n, w->n);
	if (w->n)
		assert_memory_equal(full.keys, w->set, w->n * SVRCERT_REVKEY_LEN);
	svrcert_gen_held_release(&full);
}

static void restart(struct world *w, enum svrcert_gen_opened want)
{
	size_t mg = w->j.max_gens, mk = w->j.max_keys;
	enum svrcert_gen_opened how;
	char err[256];

	svrcert_gen_close(&w->j);
	assert_int_equal(svrcert_gen_open(&w->j, w->path, mg, mk, w->now, &how,
					  err, sizeof(err)), 0);
	assert_int_equal(how, want);
}

/* One seed: 300 generations, four routers polling after every generation,
 * every other, every tenth and every fiftieth on average; the journal
 * bounded at 16 deltas / 200 keys; a restart every 37 steps; the file lost
 * at step 150 (new epoch). */
static void run_sequence(uint64_t seed)
{
	static const unsigned rate[] = { 1, 2, 10, 50 };
	struct router r[4] = { 0 };
	uint8_t epoch1[SVRCERT_GEN_EPOCH_LEN];
	struct world *w = calloc(1, sizeof(*w));
	uint64_t last = 0;

	assert_non_null(w);
	world_init(w, seed, 16, 200);
	memcpy(epoch1, w->j.epoch, sizeof(epoch1));
	rebuild(w);
	assert_int_equal(change(w, 300, 0), 1);
	last = w->j.gen;
	for (int step = 1; step <= 300; step++) {
		uint64_t pick = next_rand() % 100;
		int rc;

		if (step % 37 == 0)
			restart(w, SVRCERT_GEN_LOADED);
		if (step == 150) {
			assert_int_equal(unlink(w->path), 0);
			restart(w, SVRCERT_GEN_CREATED);
			assert_memory_not_equal(w->j.epoch, epoch1,
						sizeof(epoch1));
		}
		/* nothing; a big new CRL (kept); one over the bound alone
		 * (not kept); the usual handful */
		rc = pick < 10 ? change(w, 0, 0) :
		     pick < 12 ? change(w, 100, 100) :
		     pick < 14 ? change(w, 150, 150) :
		     change(w, next_rand() % 9, next_rand() % 9);
		assert_true(rc == 0 || rc == 1);
		assert_true(w->j.gen == last + (uint64_t)rc ||
			    (step == 150 && w->j.gen == 1));
		last = w->j.gen;
		for (size_t i = 0; i < 4; i++)
			if (next_rand() % rate[i] == 0)
				poll_once(w, &r[i]);
	}
	/* the one polling every time lived on deltas */
	assert_true(r[0].deltas > 5 * r[0].fulls);
	print_message("seed %llu: gen %llu, %zu keys; deltas/fulls %zu/%zu "
		      "%zu/%zu %zu/%zu %zu/%zu\n", (unsigned long long)seed,
		      (unsigned long long)w->j.gen, w->n, r[0].deltas,
		      r[0].fulls, r[1].deltas, r[1].fulls, r[2].deltas,
		      r[2].fulls, r[3].deltas, r[3].fulls);
	for (size_t i = 0; i < 4; i++)
		svrcert_gen_held_release(&r[i].h);
	world_free(w);
	free(w);
}

static void test_random_sequences(void **state)
{
	static const uint64_t seeds[] = { 1, 0x5eed, 0xc0ffee, 20261206 };

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		run_sequence(seeds[i]);
}

static void held_from(struct world *w, struct svrcert_gen_held *h)
{
	struct svrcert_gen_update u;
	char err[256];

	assert_int_equal(svrcert_gen_since(&w->j, NULL, 0, w->set, w->n, &u), 0);
	assert_int_equal(svrcert_gen_held_apply(h, &u, err, sizeof(err)), 0);
	svrcert_gen_update_release(&u);
}

static enum svrcert_gen_kind since_kind(struct world *w, uint64_t gen,
					char *why)
{
	struct svrcert_gen_update u;
	enum svrcert_gen_kind k;

	assert_int_equal(svrcert_gen_since(&w->j, w->j.epoch, gen, w->set,
					   w->n, &u), 0);
	k = u.kind;
	if (why)
		strcpy(why, u.why);
	svrcert_gen_update_release(&u);
	return k;
}

/* Bounds: 4 deltas, 50 keys. */
static void test_overflow_gives_full(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	char why[96];

	assert_non_null(w);
	world_init(w, 7, 4, 50);
	rebuild(w);
	assert_int_equal(change(w, 100, 0), 1);		/* gen 1: 100 keys */
	for (int i = 0; i < 6; i++)
		assert_int_equal(change(w, 2, 1), 1);	/* gens 2..7 */
	assert_int_equal(w->j.gen, 7);
	assert_int_equal(w->j.n, 4);			/* 4..7 kept */
	assert_int_equal(svrcert_gen_oldest_base(&w->j), 3);
	assert_int_equal(since_kind(w, 3, NULL), SVRCERT_GEN_DELTA);
	assert_int_equal(since_kind(w, 7, NULL), SVRCERT_GEN_DELTA);
	assert_int_equal(since_kind(w, 2, why), SVRCERT_GEN_FULL);
	assert_string_equal(why, "older than the journal");
	assert_int_equal(since_kind(w, 8, why), SVRCERT_GEN_FULL);
	assert_string_equal(why, "a generation this conductor never made");
	/* one change over the key bound alone: no delta kept at all */
	assert_int_equal(change(w, 30, 30), 1);		/* gen 8: 60 keys */
	assert_int_equal(w->j.n, 0);
	assert_int_equal(since_kind(w, 7, why), SVRCERT_GEN_FULL);
	assert_string_equal(why, "older than the journal");
	assert_int_equal(since_kind(w, 8, NULL), SVRCERT_GEN_DELTA);
	/* keys bound: 5 deltas of 15 keys = 75 > 50 keeps the last 3 */
	for (int i = 0; i < 5; i++)
		assert_int_equal(change(w, 10, 5), 1);
	assert_int_equal(w->j.n, 3);
	assert_int_equal(w->j.held_keys, 45);
	world_free(w);
	free(w);
}

/* A restart reloads the journal: same epoch, the generation continues,
 * old routers still get deltas; a restart with another set held makes a
 * generation whose change is unknown (full for everyone behind it). */
static void test_restart_continues(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct svrcert_gen_held h = { 0 };
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN];
	svrcert_revkey_t *other;
	char err[256], why[96];

	assert_non_null(w);
	world_init(w, 11, 0, 0);
	rebuild(w);
	assert_int_equal(change(w, 40, 0), 1);
	held_from(w, &h);				/* router at gen 1 */
	assert_int_equal(change(w, 3, 2), 1);
	assert_int_equal(change(w, 1, 1), 1);
	memcpy(epoch, w->j.epoch, sizeof(epoch));
	restart(w, SVRCERT_GEN_LOADED);
	assert_int_equal(w->j.gen, 3);
	assert_int_equal(w->j.n, 3);
	assert_memory_equal(w->j.epoch, epoch, sizeof(epoch));
	/* svrcertd's start: the held set as both old and new, no change */
	assert_int_equal(svrcert_gen_advance(&w->j, w->set, w->n, w->set, w->n,
					     w->now, err, sizeof(err)), 0);
	assert_int_equal(change(w, 2, 2), 1);
	assert_int_equal(w->j.gen, 4);
	assert_int_equal(since_kind(w, 1, NULL), SVRCERT_GEN_DELTA);
	/* started with another set than generation 4's */
	restart(w, SVRCERT_GEN_LOADED);
	other = malloc(w->n * SVRCERT_REVKEY_LEN);
	memcpy(other, w->set, w->n * SVRCERT_REVKEY_LEN);
	other[0][0] ^= 1;				/* not the same set */
	assert_int_equal(svrcert_gen_advance(&w->j, other, w->n, w->set, w->n,
					     w->now, err, sizeof(err)), 1);
	assert_int_equal(w->j.gen, 5);
	assert_int_equal(w->j.n, 0);
	assert_int_equal(since_kind(w, 4, why), SVRCERT_GEN_FULL);
	assert_string_equal(why, "older than the journal");
	free(other);
	svrcert_gen_held_release(&h);
	world_free(w);
	free(w);
}

/* The file lost: a new epoch. A router of the old epoch gets the full set
 * and takes it; a delta of another epoch is refused (resync), and a full
 * set of the old epoch replayed afterwards is a rollback. */
static void test_epoch_change(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct svrcert_gen_update old_full, u, d;
	struct svrcert_gen_held h = { 0 }, fresh = { 0 };
	char err[256], why[96];

	assert_non_null(w);
	world_init(w, 13, 0, 0);
	rebuild(w);
	assert_int_equal(change(w, 20, 0), 1);
	assert_int_equal(change(w, 2, 0), 1);
	held_from(w, &h);
	assert_int_equal(svrcert_gen_since(&w->j, NULL, 0, w->set, w->n, &u), 0);
	roundtrip(&u, &old_full);			/* kept for a replay */
	svrcert_gen_update_release(&u);
	assert_int_equal(unlink(w->path), 0);
	restart(w, SVRCERT_GEN_CREATED);
	assert_int_equal(w->j.gen, 0);
	assert_memory_not_equal(w->j.epoch, h.epoch, SVRCERT_GEN_EPOCH_LEN);
	w->now += 10;
	assert_int_equal(svrcert_gen_advance(&w->j, w->set, w->n, w->set, w->n,
					     w->now, err, sizeof(err)), 1);
	assert_int_equal(change(w, 1, 0), 1);		/* new epoch, gen 2 */
	/* a delta of the new epoch does not apply to the old state */
	held_from(w, &fresh);
	assert_int_equal(change(w, 1, 1), 1);
	assert_int_equal(svrcert_gen_since(&w->j, fresh.epoch, fresh.gen,
					   w->set, w->n, &d), 0);
	assert_int_equal(d.kind, SVRCERT_GEN_DELTA);
	assert_int_equal(svrcert_gen_held_apply(&h, &d, err, sizeof(err)),
			 -EXDEV);
	assert_non_null(strstr(err, "a full set is needed"));
	svrcert_gen_update_release(&d);
	/* what the old router is told: the full set, and why */
	assert_int_equal(svrcert_gen_since(&w->j, h.epoch, h.gen, w->set, w->n,
					   &u), 0);
	assert_int_equal(u.kind, SVRCERT_GEN_FULL);
	strcpy(why, u.why);
	assert_string_equal(why, "another epoch (the conductor's state was reset)");
	assert_int_equal(svrcert_gen_held_apply(&h, &u, err, sizeof(err)), 0);
	assert_int_equal(h.gen, 3);
	svrcert_gen_update_release(&u);
	/* the old epoch's full set, replayed */
	assert_int_equal(svrcert_gen_held_apply(&h, &old_full, err, sizeof(err)),
			 -ESTALE);
	assert_non_null(strstr(err, "rollback refused"));
	assert_int_equal(h.gen, 3);
	svrcert_gen_update_release(&old_full);
	svrcert_gen_held_release(&h);
	svrcert_gen_held_release(&fresh);
	world_free(w);
	free(w);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

/* What a crash or a bad disk can leave: a temp file beside a good file
 * (ignored, removed); the file cut short or with one byte changed (never
 * taken: a new epoch, the reason said). */
static void test_half_written_never_read(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uint8_t epoch[SVRCERT_GEN_EPOCH_LEN], *buf = NULL;
	enum svrcert_gen_opened how;
	char tmp[160], err[256];
	size_t len = 0;

	assert_non_null(w);
	world_init(w, 17, 0, 0);
	rebuild(w);
	assert_int_equal(change(w, 30, 0), 1);
	assert_int_equal(change(w, 3, 3), 1);
	memcpy(epoch, w->j.epoch, sizeof(epoch));
	assert_int_equal(svrcert_read_file(w->path, 1 << 20, &buf, &len), 0);
	/* a killed write's temp file, half of the next generation */
	snprintf(tmp, sizeof(tmp), "%s.tmp.Ab12Cd", w->path);
	write_bytes(tmp, buf, len / 2);
	restart(w, SVRCERT_GEN_LOADED);
	assert_int_equal(w->j.gen, 2);
	assert_int_equal(access(tmp, F_OK), -1);
	/* the file itself cut short: refused, a new epoch */
	write_bytes(w->path, buf, len - 40);
	svrcert_gen_close(&w->j);
	assert_int_equal(svrcert_gen_open(&w->j, w->path, 0, 0, w->now, &how,
					  err, sizeof(err)), 0);
	assert_int_equal(how, SVRCERT_GEN_RESET);
	assert_non_null(strstr(err, "checksum mismatch"));
	assert_int_equal(w->j.gen, 0);
	assert_memory_not_equal(w->j.epoch, epoch, sizeof(epoch));
	/* one byte of a key changed */
	buf[len - 5] ^= 0x40;
	write_bytes(w->path, buf, len);
	svrcert_gen_close(&w->j);
	assert_int_equal(svrcert_gen_open(&w->j, w->path, 0, 0, w->now, &how,
					  err, sizeof(err)), 0);
	assert_int_equal(how, SVRCERT_GEN_RESET);
	assert_non_null(strstr(err, "checksum mismatch"));
	/* less than a header */
	write_bytes(w->path, buf, 20);
	svrcert_gen_close(&w->j);
	assert_int_equal(svrcert_gen_open(&w->j, w->path, 0, 0, w->now, &how,
					  err, sizeof(err)), 0);
	assert_int_equal(how, SVRCERT_GEN_RESET);
	assert_non_null(strstr(err, "truncated header"));
	free(buf);
	world_free(w);
	free(w);
}

/* A child makes generations as fast as it can; it is SIGKILLed after a
 * random number of them. Every time, the file opens as it was left
 * (never RESET), at the generation the child last reported or the next. */
static void test_sigkill_during_writes(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	enum svrcert_gen_opened how;
	char err[256];

	assert_non_null(w);
	world_init(w, 19, 0, 0);
	rebuild(w);
	for (int round = 0; round < 10; round++) {
		uint64_t seen = 0, want = 1 + next_rand() % 20;
		int pfd[2];
		pid_t pid;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			for (;;) {
				if (change(w, 3, 2) == 1 &&
				    write(pfd[1], &w->j.gen, 8) != 8)
					_exit(1);
			}
		}
		close(pfd[1]);
		while (want-- && read(pfd[0], &seen, 8) == 8)
			;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* what it reported before it died */
		while (read(pfd[0], &seen, 8) == 8)
			;
		close(pfd[0]);
		svrcert_gen_close(&w->j);
		assert_int_equal(svrcert_gen_open(&w->j, w->path, 0, 0, w->now,
						  &how, err, sizeof(err)), 0);
		assert_int_equal(how, SVRCERT_GEN_LOADED);
		assert_true(w->j.gen >= seen && w->j.gen <= seen + 1);
		/* the child's set is gone with it: continue from the disk's
		 * generation with an unknown change */
		assert_int_equal(svrcert_gen_advance(&w->j, w->set, w->n, w->set,
						     w->n, w->now, err,
						     sizeof(err)), 1);
	}
	world_free(w);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_sequences),
		cmocka_unit_test(test_overflow_gives_full),
		cmocka_unit_test(test_restart_continues),
		cmocka_unit_test(test_epoch_change),
		cmocka_unit_test(test_half_written_never_read),
		cmocka_unit_test(test_sigkill_during_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
