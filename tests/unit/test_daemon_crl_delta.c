// SPDX-License-Identifier: GPL-2.0
/*
 * Delta CRLs (issue 15 item 7; RFC 5280 5.2.4, 5.2.6) with the real svrcertd
 * on the host, the real HTTP server tests/unit/crl_server.py and a real CA's
 * base and delta CRLs (build/tools/mkcrl). The configured URL serves base
 * CRL 10 whose freshestCRL names the delta URL:
 *
 *   delta 11 (+5 keys, removeFromCRL 2 of the base's) -> master = 8 - 2 + 5
 *   delta 12 (+1 key, the same 2 removed)             -> master = 8 - 2 + 1
 *   delta 11 again                                    -> refused, kept
 *   restart, delta URL gone (404)                     -> base + delta 12
 *                                                        still in force
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
static struct svrcert_crl d11, d12;

static void write_conf(void)
{
	char text[3 * PATH_MAX];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/ca.crl", fx_port);
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"a\"]\nfile = %s/a.pem\n"
		 "[crl]\nurl = %s\n"
		 "polling-interval = 1h\nbackoff-interval = 1h\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
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
	char sock[PATH_MAX];

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	daemon_pid = 0;
	fx_path(sock, sizeof(sock), "ctl.sock");
	unlink(sock);
}

/* svrcertctl ARGS, stdout+stderr into OUT; its exit status. */
static int ctl(char *out, size_t outlen, const char *args)
{
	char cmd[PATH_MAX * 2];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "SVRCERT_CONFIG='%s/svrcert.conf' "
		 "'%s/../svrcertctl' %s 2>&1", fx_dir, fx_bindir, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

/* Serve FILE on the URL, fetch it now; svrcertctl's exit status (0: the
 * CRL was accepted) and its output in OUT. */
static int serve_fetch(const char *file, char *out, size_t outlen)
{
	char args[400];

	fx_run("cp %s www/ca.crl.tmp && mv www/ca.crl.tmp www/ca.crl", file);
	snprintf(args, sizeof(args), "crl fetch %s", url);
	return ctl(out, outlen, args);
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

static bool alarm_for(const char *id)
{
	char path[PATH_MAX];
	json_t *j, *it;
	size_t i;
	bool hit = false;

	fx_path(path, sizeof(path), "state/crl-alarms.json");
	j = json_load_file(path, 0, NULL);
	json_array_foreach(j, i, it)
		hit |= !strcmp(json_string_value(json_object_get(it, "id")), id);
	json_decref(j);
	return hit;
}

/* The published master list holds every key of C (ALL) or none. */
static void master_holds(const struct svrcert_crl *c, bool all, size_t total)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	size_t i;

	fx_path(path, sizeof(path), "state/master.bin");
	assert_int_equal(svrcert_master_load(path, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, total);
	for (i = 0; i < c->nkeys; i++)
		assert_int_equal(svrcert_revkeys_contains(m.keys, m.n,
							  c->keys[i]), all);
	svrcert_master_release(&m);
}

static void walk(const char *file, const char *ca, struct svrcert_crl *out)
{
	STACK_OF(X509) *sk = fx_trust(ca);
	char path[PATH_MAX], err[256];

	fx_path(path, sizeof(path), file);
	if (svrcert_crl_walk_file(path, sk, out, err, sizeof(err)))
		fail_msg("%s: %s", file, err);
	sk_X509_pop_free(sk, X509_free);
}

/* Wait up to 10 s until the published master list has N keys. */
static void wait_keys(size_t n)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	size_t have = 0;
	int t;

	fx_path(path, sizeof(path), "state/master.bin");
	for (t = 0; t < 100; t++) {
		if (!svrcert_master_load(path, &m, err, sizeof(err))) {
			have = m.n;
			svrcert_master_release(&m);
			if (have == n)
				return;
		}
		usleep(100000);
	}
	fail_msg("master list has %zu keys, want %zu", have, n);
}

static int group_setup(void **state)
{
	char www[PATH_MAX], opts[300];

	if (fx_setup_dir("dcrldelta"))
		return -1;
	fx_run("mkdir -p www state");
	fx_path(www, sizeof(www), "www");
	if (fx_start_server(www))
		return -1;
	fx_make_ca("a", "/O=svrcert test/CN=delta CA");
	snprintf(opts, sizeof(opts), "--number 10 --seed 21 --freshest "
		 "http://127.0.0.1:%d/crl/delta.crl", fx_port);
	fx_mkcrl("b10.der", "a", 8, opts);
	fx_mkcrl("d11.der", "a", 5, "--number 11 --delta 10 --seed 22 "
		 "--remove 2 --remove-seed 21");
	fx_mkcrl("d12.der", "a", 1, "--number 12 --delta 10 --seed 23 "
		 "--remove 2 --remove-seed 21");
	walk("d11.der", "a", &d11);
	walk("d12.der", "a", &d12);
	fx_run("cp b10.der www/ca.crl && cp d11.der www/delta.crl");
	write_conf();
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	svrcert_crl_release(&d11);
	svrcert_crl_release(&d12);
	return fx_teardown();
}

static void test_delta_combined_in_daemon(void **state)
{
	static char out[16384];
	char args[400];

	start_daemon();
	wait_keys(8 - 2 + 5);
	master_holds(&d11, true, 11);
	/* removeFromCRL: the base's keys the delta removes are gone */
	{
		struct svrcert_crl rm = { .keys = d11.removed,
					  .nkeys = d11.nremoved };

		master_holds(&rm, false, 11);
	}
	fx_run("jq -e '.crls[0].delta.crl_number == \"0B\" and "
	       ".crls[0].effective_keys == 11' state/index.json");
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].delta.held and "
	       ".sources[0].delta.crl_number == \"0B\"' status.json");

	/* the next delta (cumulative since base 10) */
	fx_run("cp d12.der www/delta.tmp && mv www/delta.tmp www/delta.crl");
	snprintf(args, sizeof(args), "crl fetch %s", url);
	assert_int_equal(ctl(out, sizeof(out), args), 0);
	wait_keys(8 - 2 + 1);
	master_holds(&d12, true, 7);
	master_holds(&d11, false, 7);

	/* a reload moves the sources with their base and delta CRLs */
	kill(daemon_pid, SIGHUP);
	usleep(500000);
	assert_int_equal(waitpid(daemon_pid, NULL, WNOHANG), 0);	/* alive */
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].delta.crl_number == \"0C\"' status.json");
	master_holds(&d12, true, 7);

	/* an older delta: refused, the state kept */
	fx_run("cp d11.der www/delta.tmp && mv www/delta.tmp www/delta.crl");
	assert_int_equal(ctl(out, sizeof(out), args), 0);
	for (int t = 0; t < 100 && !alarm_for("crl-invalid"); t++)
		usleep(100000);
	assert_true(alarm_for("crl-invalid"));
	fx_run("grep -q 'delta CRL 0B does not apply\\|delta CRL number 0B is "
	       "lower' state/audit.log");
	master_holds(&d12, true, 7);
	stop_daemon();

	/* restart with the delta URL gone: base + delta 12 still in force */
	fx_run("rm www/delta.crl");
	start_daemon();
	master_holds(&d12, true, 7);
	sleep(2);
	master_holds(&d12, true, 7);
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_combined_in_daemon),
	};

	(void)fx_load;
	(void)serve_fetch;
	(void)counter;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
