// SPDX-License-Identifier: GPL-2.0
/*
 * build/tools/fleet_watch (scripts/bench-fleet's measure) judges a
 * published list made of master.bin and master.delta: equal lists found
 * equal whether held as a base alone or a base and a delta, an equal count
 * with other keys found unequal, a delta naming another base ignored (its
 * keys and its mtime), a delta whose count does not add up not taken, and
 * the latency taken from the newer file that made the list. master.bin is
 * written by the library (svrcert_master_write), master.delta by hand from
 * crl/crl_keydelta.h's format (so a tool misreading it fails here) and
 * once by svrcert_keydelta_write (the daemon's writer).
 * ~1.5 s (the unequal cases wait for fleet_watch's -t).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/evp.h>

#include "crl/crl_keydelta.h"
#include "crl/crl_master.h"

static char dir[1024], tool[PATH_MAX + 32];
static time_t T;		/* a whole second in the past: the mtimes' base */

/* Key I: I big-endian first (so ascending in I), then bytes of I's hash. */
static void key(uint8_t k[32], unsigned i)
{
	uint8_t md[32];
	unsigned int len;
	int j;

	EVP_Digest(&i, sizeof(i), md, &len, EVP_sha256(), NULL);
	memcpy(k, md, 32);
	for (j = 0; j < 8; j++)
		k[j] = (uint8_t)((uint64_t)i >> (56 - 8 * j));
}

static void set_mtime(const char *path, double at)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = T + (time_t)at;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)((at - (time_t)at) * 1e9);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void path_of(char *out, size_t len, const char *sub, const char *file)
{
	char d[1200];

	snprintf(d, sizeof(d), "%s/%s", dir, sub);
	mkdir(d, 0755);
	snprintf(out, len, "%s/%s", d, file);
}

/* SUB/master.bin holding keys IDS (ascending), published at T + AT; its
 * header checksum in CHECK. */
static void base(const char *sub, const unsigned *ids, size_t n, double at,
		 uint8_t check[32])
{
	struct svrcert_master m = { 0 };
	char p[PATH_MAX];
	size_t i;

	m.buf = calloc(1, SVRCERT_MASTER_HDR_LEN + 32 * n);
	assert_non_null(m.buf);
	m.keys = (svrcert_revkey_t *)(m.buf + SVRCERT_MASTER_HDR_LEN);
	m.n = n;
	m.generated = T;
	for (i = 0; i < n; i++)
		key(m.keys[i], ids[i]);
	path_of(p, sizeof(p), sub, "master.bin");
	assert_int_equal(svrcert_master_write(p, &m), 0);
	set_mtime(p, at);
	if (check)
		memcpy(check, m.buf + SVRCERT_MASTER_OFF_SHA256, 32);
	free(m.buf);
}

static void be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* SUB/FILE: a delta on the base with checksum CHECK, COUNT keys, ADD and
 * DEL (ascending, 0-terminated), by crl_keydelta.h's layout. */
static void delta(const char *sub, const char *file, const uint8_t check[32],
		  uint64_t count, const unsigned *add, const unsigned *del,
		  double at)
{
	uint8_t buf[136 + 32 * 16] = { 0 };
	size_t na = 0, nd = 0, k;
	unsigned int len;
	char p[PATH_MAX];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f;

	while (add[na])
		key(buf + 136 + 32 * na, add[na]), na++;
	while (del[nd])
		key(buf + 136 + 32 * (na + nd), del[nd]), nd++;
	k = na + nd;
	memcpy(buf, "SVRCDLT", 8);
	buf[11] = 1;
	buf[15] = 136;
	memcpy(buf + 16, check, 32);
	be64(buf + 48, count);
	be64(buf + 56, na);
	be64(buf + 64, nd);
	memset(buf + 72, 0x5a, 32);		/* the owner's state */
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, buf, 104);
	EVP_DigestUpdate(ctx, buf + 136, 32 * k);
	EVP_DigestFinal_ex(ctx, buf + 104, &len);
	EVP_MD_CTX_free(ctx);
	path_of(p, sizeof(p), sub, file);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, 136 + 32 * k, f), 136 + 32 * k);
	assert_int_equal(fclose(f), 0);
	set_mtime(p, at);
}

/* fleet_watch ARGS run in DIR; its exit status, its output in OUT. */
static int run(char *out, size_t len, const char *fmt, ...)
{
	char args[2048], cmd[8192];
	size_t got;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s", dir, tool, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	got = fread(out, 1, len - 1, p);
	out[got] = 0;
	return WEXITSTATUS(pclose(p));
}

/* The base: keys 1..100; the list: base + {200, 201} - {5}. */
static const unsigned add[] = { 200, 201, 0 }, del[] = { 5, 0 }, none[] = { 0 };
static unsigned b_ids[101], l_ids[101];
static uint8_t b_check[32];

static void conductor(void)
{
	base("c", b_ids, 100, 0, b_check);
	delta("c", "master.delta", b_check, 101, add, del, 1);
}

/* SUB/master.delta by the library's writer: base B + {200, 201} - {5}. */
static void lib_delta(const char *sub)
{
	svrcert_revkey_t a[2], r[1];
	struct svrcert_keydelta d = { .count = 101, .added = a, .nadded = 2,
				      .removed = r, .nremoved = 1 };
	char p[PATH_MAX], err[256];

	memcpy(d.base_check, b_check, 32);
	key(a[0], 200);
	key(a[1], 201);
	key(r[0], 5);
	path_of(p, sizeof(p), sub, "master.delta");
	assert_int_equal(svrcert_keydelta_write(p, &d, err, sizeof(err)), 0);
}

static void test_equal(void **state)
{
	char out[4096];

	conductor();
	base("whole", l_ids, 101, 0, NULL);		/* the list as a base */
	base("same", b_ids, 100, 0, NULL);		/* as the conductor */
	delta("same", "master.delta", b_check, 101, add, del, 1);
	base("lib", b_ids, 100, 0, NULL);
	lib_delta("lib");
	assert_int_equal(run(out, sizeof(out), "-t 5 -c c/master.bin whole same lib"), 0);
	assert_non_null(strstr(out, "router whole latency_s="));
	assert_non_null(strstr(out, "router same latency_s="));
	assert_non_null(strstr(out, "router lib latency_s="));
	assert_non_null(strstr(out, "summary routers=3 reached=3"));
}

static void test_unequal(void **state)
{
	static const unsigned other[] = { 200, 202, 0 };
	uint8_t x[32];
	char out[4096];

	conductor();
	/* the same count, one other key */
	base("other", b_ids, 100, 0, NULL);
	delta("other", "master.delta", b_check, 101, other, del, 1);
	/* the conductor's delta beside another base: stale, not the list */
	base("stale", b_ids + 1, 100, 0, NULL);		/* 2..101 */
	delta("stale", "master.delta", b_check, 101, add, del, 1);
	/* a delta whose count does not add up is not taken */
	base("count", b_ids, 100, 0, NULL);
	delta("count", "master.delta", b_check, 101, add, none, 1);
	/* no delta yet */
	base("nodelta", b_ids, 100, 0, x);
	assert_int_equal(run(out, sizeof(out), "-t 0.3 -c c/master.bin other stale count nodelta"), 1);
	assert_non_null(strstr(out, "missing other\n"));
	assert_non_null(strstr(out, "missing stale\n"));
	assert_non_null(strstr(out, "missing count\n"));
	assert_non_null(strstr(out, "missing nodelta\n"));
	assert_non_null(strstr(out, "summary routers=4 reached=0"));
}

/* -c -x: t0 is the conductor's delta's mtime (T + 10, the trigger puts it
 * in place); a router's latency is its newer file's mtime - t0, a stale
 * delta's mtime and keys left out. */
static void test_latency(void **state)
{
	static const unsigned more[] = { 300, 0 };
	char out[4096];

	base("cx", b_ids, 100, 0, b_check);
	delta("cx", "next.delta", b_check, 101, add, del, 10);
	base("d", b_ids, 100, 0, NULL);
	delta("d", "master.delta", b_check, 101, add, del, 11.25);
	base("b", l_ids, 101, 12.5, NULL);
	delta("b", "master.delta", b_check, 102, more, none, 13.75);
	assert_int_equal(run(out, sizeof(out), "-t 5 -c cx/master.bin -x 'mv cx/next.delta cx/master.delta' d b"), 0);
	assert_non_null(strstr(out, "ingest trigger_s="));
	assert_non_null(strstr(out, " keys=101\n"));
	assert_non_null(strstr(out, "router d latency_s=1.2500\n"));
	assert_non_null(strstr(out, "router b latency_s=2.5000\n"));
}

/* -n: the count of base + delta; only headers read. */
static void test_count(void **state)
{
	uint8_t x[32];
	char out[4096];

	base("n1", b_ids, 100, 0, x);
	delta("n1", "master.delta", x, 101, add, del, 1);
	/* a stale delta that would add up: 99 keys, not 100 */
	base("n2", b_ids, 99, 0, NULL);
	delta("n2", "master.delta", x, 100, add, del, 1);
	/* a count of 101 that 100 + 2 - 0 does not make */
	base("n3", b_ids, 100, 0, NULL);
	delta("n3", "master.delta", x, 101, add, none, 1);
	assert_int_equal(run(out, sizeof(out), "-t 0.3 -n 101 n1 n2 n3"), 1);
	assert_non_null(strstr(out, "router n1 latency_s="));
	assert_non_null(strstr(out, "missing n2\n"));
	assert_non_null(strstr(out, "missing n3\n"));
	assert_int_equal(run(out, sizeof(out), "-t 5 -n 99 n2"), 0);
}

static int setup(void **state)
{
	char self[PATH_MAX] = { 0 };
	unsigned i, j = 0;

	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return -1;
	/* build/tests/test_fleet_watch -> build/tools/fleet_watch */
	snprintf(tool, sizeof(tool), "%s/../tools/fleet_watch", dirname(self));
	if (access(tool, X_OK)) {
		fprintf(stderr, "%s not built (make helpers)\n", tool);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/svrcert-fleetwatch.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	T = time(NULL) - 100;
	for (i = 1; i <= 101; i++)
		b_ids[i - 1] = i;
	for (i = 1; i <= 100; i++)
		if (i != 5)
			l_ids[j++] = i;
	l_ids[j++] = 200;
	l_ids[j++] = 201;
	return 0;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_unequal),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
