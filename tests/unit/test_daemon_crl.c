// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's CRL manager on the host, as a black box: the real daemon
 * (build/svrcertd) with a temporary state directory and configuration, the
 * real HTTP server tests/unit/crl_server.py on 127.0.0.1, CRLs signed by a
 * real CA (build/tools/mkcrl), and svrcertctl talking to it. The host has
 * no svrcert.ko, so the kernel side is not judged here (tests/guest/70-crl.sh
 * does); everything else is: fetch, 304, verify, reject and keep (also a
 * foreign signature and compression bombs), stale,
 * unreachable with backoff retries, publish, audit, counters, alarms,
 * `svrcertctl crl fetch|status`.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "crl/crl_master.h"

static pid_t daemon_pid;
static char url[256];

static void write_conf(void)
{
	char text[2048];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/ca.crl", fx_port);
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"test\"]\nfile = %s/ca.pem\n"
		 "[crl]\nurl = %s\nurl = http://127.0.0.1:1/crl/none.crl\n"
		 "polling-interval = 3s\nbackoff-interval = 1s\n"
		 "timeout = 5s\nconnect-timeout = 2s\nmax-size = 16M\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, url, fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

static void start_daemon(void)
{
	char prog[PATH_MAX + 32], conf[PATH_MAX], sock[PATH_MAX];
	int i, null;

	snprintf(prog, sizeof(prog), "%s/../svrcertd", fx_bindir);
	fx_path(conf, sizeof(conf), "svrcert.conf");
	fx_path(sock, sizeof(sock), "ctl.sock");
	daemon_pid = fork();
	if (daemon_pid == 0) {
		null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execl(prog, prog, "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(sock, F_OK), 0);
}

static void stop_daemon(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	daemon_pid = 0;
}

/* svrcertctl ARGS; stdout into OUT (may be NULL); exit status. */
static int ctl(char *out, size_t outlen, const char *args)
{
	char cmd[PATH_MAX * 2];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "SVRCERT_CONFIG='%s/svrcert.conf' "
		 "'%s/../svrcertctl' %s 2>&1", fx_dir, fx_bindir, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (out) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	return WEXITSTATUS(pclose(p));
}

static json_t *status(void)
{
	static char buf[65536];
	json_t *j;

	assert_int_equal(ctl(buf, sizeof(buf), "crl status -j"), 0);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char *src_str(json_t *st, size_t i, const char *key)
{
	const char *s = json_string_value(json_object_get(
		json_array_get(json_object_get(st, "sources"), i), key));

	return s ? s : "";
}

static long long src_int(json_t *st, size_t i, const char *key)
{
	return json_integer_value(json_object_get(
		json_array_get(json_object_get(st, "sources"), i), key));
}

/* Wait up to 15 s until source I's KEY equals WANT. */
static void wait_src(size_t i, const char *key, const char *want)
{
	json_t *st = NULL;
	int t;

	for (t = 0; t < 150; t++) {
		json_decref(st);
		st = status();
		if (!strcmp(src_str(st, i, key), want))
			break;
		usleep(100000);
	}
	if (strcmp(src_str(st, i, key), want))
		fail_msg("source %zu %s: %s, want %s (%s)", i, key,
			 src_str(st, i, key), want, src_str(st, i, "last_result"));
	json_decref(st);
}

static long long counter(const char *key)
{
	char path[PATH_MAX];
	json_t *j;
	long long v;

	fx_path(path, sizeof(path), "state/counters.json");
	j = json_load_file(path, 0, NULL);
	v = json_integer_value(json_object_get(j, key));
	json_decref(j);
	return v;
}

static bool alarm_for(const char *id, const char *source)
{
	char path[PATH_MAX];
	json_t *j, *it;
	size_t i;
	bool hit = false;

	fx_path(path, sizeof(path), "state/crl-alarms.json");
	j = json_load_file(path, 0, NULL);
	json_array_foreach(j, i, it)
		hit |= !strcmp(json_string_value(json_object_get(it, "id")), id) &&
		       !strcmp(json_string_value(json_object_get(it, "source")),
			       source);
	json_decref(j);
	return hit;
}

static size_t published_keys(void)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	size_t n;

	fx_path(path, sizeof(path), "state/master.bin");
	assert_int_equal(svrcert_master_load(path, &m, err, sizeof(err)), 0);
	n = m.n;
	svrcert_master_release(&m);
	return n;
}

static void serve(const char *file)
{
	fx_run("cp %s www/ca.crl.tmp && mv www/ca.crl.tmp www/ca.crl", file);
}

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (fx_setup_dir("dcrl"))
		return -1;
	fx_run("mkdir -p www state");
	fx_make_ca("ca", "/O=svrcert test/CN=daemon CRL CA");
	fx_mkcrl("c1.der", "ca", 5, "--number 1");
	fx_mkcrl("c2.der", "ca", 12, "--number 2 --seed 2");
	fx_mkcrl("stale.der", "ca", 12, "--number 3 --seed 2 --this -60 --next -30");
	/* same issuer name, another key: a CRL that must not verify */
	fx_make_ca("ca2", "/O=svrcert test/CN=daemon CRL CA");
	fx_mkcrl("foreign.der", "ca2", 20, "--number 4 --seed 4");
	fx_run("head -c 400 /dev/urandom > garbage.der");
	fx_run("head -c 200 c2.der > trunc.der");
	fx_path(www, sizeof(www), "www");
	serve("c1.der");
	if (fx_start_server(www))
		return -1;
	write_conf();
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	return fx_teardown();
}

static void test_no_daemon(void **state)
{
	char out[2048];

	assert_int_equal(ctl(out, sizeof(out), "crl fetch"), 1);
	assert_non_null(strstr(out, "svrcertd is not running"));
}

static void test_fetch_publish_304(void **state)
{
	json_t *st;
	char out[4096], line[300];

	start_daemon();
	wait_src(0, "crl_number", "01");
	assert_int_equal(published_keys(), 5);
	wait_src(0, "last_result", "not modified");
	st = status();
	assert_string_equal(src_str(st, 0, "state"), "ok");
	assert_int_equal(src_int(st, 0, "entries"), 5);
	json_decref(st);

	serve("c2.der");
	wait_src(0, "crl_number", "02");
	assert_int_equal(published_keys(), 12);
	/* all sources: the second one is unreachable, so exit 1 */
	assert_int_equal(ctl(out, sizeof(out), "crl fetch"), 1);
	assert_non_null(strstr(out, "http://127.0.0.1:1/crl/none.crl: failed: "));
	/* --force: no validators, so a 200 and the same entries again */
	snprintf(line, sizeof(line), "crl fetch --force %s", url);
	assert_int_equal(ctl(out, sizeof(out), line), 0);
	snprintf(line, sizeof(line), "%s: ok: same entries", url);
	assert_non_null(strstr(out, line));
	fx_run("grep -q '\"forced\":true' state/audit.log");
	fx_run("grep -c '\"added_entries\":12,\"removed_entries\":5,\"success\":true,"
	       "\"certificate_authority\":\"/O=svrcert test/CN=daemon CRL CA\"' "
	       "state/audit.log");
	assert_true(counter("crl-ingestion.success") >= 2);
	assert_true(counter("crl-fetch.success") >= 3);
}

static void test_rejects_keep_previous(void **state)
{
	const char *bad[] = { "garbage.der", "trunc.der", "c1.der" };
	long long f0;
	size_t i;

	for (i = 0; i < 3; i++) {
		f0 = counter("crl-ingestion.failure");
		serve(bad[i]);
		wait_src(0, "state", "invalid");
		assert_true(alarm_for("crl-invalid", url));
		assert_true(counter("crl-ingestion.failure") > f0);
		assert_int_equal(published_keys(), 12);
		serve("c2.der");
		wait_src(0, "state", "ok");
		assert_false(alarm_for("crl-invalid", url));
	}
}

/* Wait until source 0 is invalid with a result naming WHY; then the CRL
 * number 02 and its 12 keys are still the ones held and in the master
 * list (what the kernel gets). */
static void expect_rejected_kept(const char *why)
{
	json_t *st;

	wait_src(0, "state", "invalid");
	st = status();
	if (!strstr(src_str(st, 0, "last_result"), why))
		fail_msg("last_result \"%s\" does not name \"%s\"",
			 src_str(st, 0, "last_result"), why);
	assert_string_equal(src_str(st, 0, "crl_number"), "02");
	assert_int_equal(src_int(st, 0, "entries"), 12);
	json_decref(st);
	assert_true(alarm_for("crl-invalid", url));
	assert_int_equal(published_keys(), 12);
}

/* Hostile server: a CRL under the right issuer name signed by a stranger's
 * key (number 4, 20 entries, would win if installed), then a 50 MiB gzip
 * and deflate bomb we never asked to be compressed: svrcert sends no
 * Accept-Encoding, so the ~50 KiB of compressed bytes arrive as they are
 * and do not parse as a CRL (were they decoded, the 16M max-size would
 * stop them instead). Each is refused naming why, the previous CRL stays. */
static void test_hostile_keep_previous(void **state)
{
	static const char *enc[] = { "gzip", "deflate" };
	size_t i;

	serve("foreign.der");
	expect_rejected_kept("bad signature");
	serve("c2.der");
	wait_src(0, "state", "ok");
	for (i = 0; i < 2; i++) {
		fx_run("echo 52428800 > www/ca.crl.%s", enc[i]);
		expect_rejected_kept("CertificateList");
		fx_run("rm www/ca.crl.%s", enc[i]);
		wait_src(0, "state", "ok");
	}
}

static void test_stale_and_force(void **state)
{
	serve("stale.der");
	wait_src(0, "state", "stale");
	assert_true(alarm_for("crl-stale", url));
	assert_int_equal(published_keys(), 12);	/* still used */
	serve("c2.der");	/* number 2 < 3: refused, stale one kept */
	wait_src(0, "state", "invalid");
}

static void test_unreachable_backoff(void **state)
{
	json_t *st = status();
	long long a0 = src_int(st, 1, "attempts");

	assert_string_equal(src_str(st, 1, "state"), "unreachable");
	assert_true(alarm_for("crl-unreachable",
			      "http://127.0.0.1:1/crl/none.crl"));
	json_decref(st);
	sleep(4);
	st = status();
	/* backoff-interval 1 s: about one attempt a second */
	assert_in_range(src_int(st, 1, "attempts") - a0, 2, 6);
	json_decref(st);
	assert_true(counter("crl-fetch.failure") >= 3);
	stop_daemon();
}

static long long learned_int(json_t *st, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(st, "learned"),
						  key));
}

static bool master_has(uint8_t byte)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	uint8_t key[32];
	bool hit;

	memset(key, byte, sizeof(key));
	fx_path(path, sizeof(path), "state/master.bin");
	assert_int_equal(svrcert_master_load(path, &m, err, sizeof(err)), 0);
	hit = svrcert_revkeys_contains(m.keys, m.n, key);
	svrcert_master_release(&m);
	return hit;
}

/* Keys learned by an earlier run (learned.json) are merged, published and
 * shown at start, before any fetch, and survive a restart; a damaged file
 * is set aside (named in the log) and its keys leave the master list. */
static void test_learned_restart(void **state)
{
	static char out[65536];
	json_t *st, *j;
	char k1[65], k2[65], text[512];
	size_t held = published_keys();

	memset(k1, '1', 64);
	memset(k2, '2', 64);
	k1[64] = k2[64] = '\0';
	snprintf(text, sizeof(text), "{\"version\": 1, \"keys\": ["
		 "{\"key\": \"%s\", \"reason\": \"revoked\", \"peer\": \"r9\", "
		 "\"via\": \"kernel\", \"learned_epoch\": 1700000000}, "
		 "{\"key\": \"%s\", \"reason\": \"expired\", \"peer\": \"r8\"}]}",
		 k1, k2);
	fx_save("state/learned.json", text, strlen(text));
	for (int round = 0; round < 2; round++) {
		start_daemon();
		st = status();
		assert_int_equal(learned_int(st, "revoked"), 1);
		assert_int_equal(learned_int(st, "expired"), 1);
		json_decref(st);
		assert_int_equal(published_keys(), held + 1);
		assert_true(master_has(0x11));
		assert_false(master_has(0x22));	/* expired: recorded only */
		fx_run("jq -e '.learned == {\"file\": \"learned.json\", \"revoked\": 1,"
		       " \"expired\": 1, \"in_master\": 1} and .master.keys == %zu' "
		       "state/index.json", held + 1);
		assert_int_equal(ctl(out, sizeof(out), "show certificate crl -j"), 0);
		j = json_loads(out, 0, NULL);
		assert_non_null(j);
		assert_int_equal(learned_int(j, "revoked"), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(
			json_object_get(json_object_get(j, "learned"), "keys"), 0),
			"peer")), "r9");
		json_decref(j);
		assert_int_equal(ctl(out, sizeof(out), "show certificate crl"), 0);
		assert_non_null(strstr(out, "Learned at runtime (learned.json): 1 "
				       "revoked (in the master list), 1 expired"));
		stop_daemon();
	}
	snprintf(text, sizeof(text), "{\"version\": 1, \"keys\": [");
	fx_save("state/learned.json", text, strlen(text));	/* cut short */
	start_daemon();
	st = status();
	assert_int_equal(learned_int(st, "revoked"), 0);
	json_decref(st);
	assert_int_equal(published_keys(), held);
	assert_false(master_has(0x11));
	fx_run("test -s state/learned.json.damaged");
	stop_daemon();
}

/* Temp files a killed publish left are gone once svrcertd has started,
 * even with no CRL source (so no publish that would clean up). */
static void test_stale_temps_removed_at_start(void **state)
{
	char text[1024];

	fx_run("mkdir -p state/crl && echo half > state/crl/ca.crl.tmp.Ab3dEf");
	fx_run("echo '{\"half' > state/index.json.tmp.Zx9yWv");
	fx_run("cp svrcert.conf svrcert.conf.full");
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n", fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
	start_daemon();
	fx_run("test ! -e state/crl/ca.crl.tmp.Ab3dEf");
	fx_run("test ! -e state/index.json.tmp.Zx9yWv");
	stop_daemon();
	fx_run("mv svrcert.conf.full svrcert.conf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_daemon),
		cmocka_unit_test(test_fetch_publish_304),
		cmocka_unit_test(test_rejects_keep_previous),
		cmocka_unit_test(test_hostile_keep_previous),
		cmocka_unit_test(test_stale_and_force),
		cmocka_unit_test(test_unreachable_backoff),
		cmocka_unit_test(test_learned_restart),
		cmocka_unit_test(test_stale_temps_removed_at_start),
	};

	(void)fx_trust;	/* fixture helpers this test does not need */
	(void)fx_load;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
