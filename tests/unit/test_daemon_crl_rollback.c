// SPDX-License-Identifier: GPL-2.0
/*
 * No rollback (issue 15 item 8), with the real svrcertd on the host, the
 * real HTTP server tests/unit/crl_server.py and CRLs of two real CAs
 * (build/tools/mkcrl). Revocation state is held per issuer: a key revoked
 * by issuer A disappears only when A itself publishes a newer CRL without
 * it. On one URL:
 *
 *   A's CRL 5 revoking K                 -> K held
 *   A's CRL 4 without K                  -> refused (crl-invalid, counted,
 *                                           audited), K stays
 *   B's CRL 1 (another trusted issuer)   -> accepted, K stays, alarm
 *                                           crl-issuer-changed
 *   daemon restart; A's CRL 4 again      -> refused: A's number 5 survived
 *   A's CRL 6 without K                  -> K goes (B's keys stay)
 *   daemon restart; A's CRL 5 again      -> refused: number 6 survived
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
static struct svrcert_crl a5, b1;	/* A's CRL 5 (K) and B's CRL 1 */

static void write_conf(void)
{
	char text[3 * PATH_MAX];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/ca.crl", fx_port);
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"a\"]\nfile = %s/a.pem\n"
		 "[trusted-ca \"b\"]\nfile = %s/b.pem\n"
		 "[crl]\nurl = %s\n"
		 "polling-interval = 1h\nbackoff-interval = 1h\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, fx_dir, url, fx_dir, fx_dir, fx_dir);
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

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (fx_setup_dir("dcrlrb"))
		return -1;
	fx_run("mkdir -p www state");
	fx_make_ca("a", "/O=svrcert test/CN=issuer A");
	fx_make_ca("b", "/O=svrcert test/CN=issuer B");
	fx_mkcrl("a5.der", "a", 3, "--number 5 --seed 7 --this -7200");
	fx_mkcrl("a4.der", "a", 0, "--number 4 --this -9000");
	fx_mkcrl("b1.der", "b", 2, "--number 1 --seed 9");
	fx_mkcrl("a6.der", "a", 0, "--number 6 --this -60");
	walk("a5.der", "a", &a5);
	walk("b1.der", "b", &b1);
	assert_int_equal(a5.nkeys, 3);
	fx_path(www, sizeof(www), "www");
	fx_run("cp a5.der www/ca.crl");
	if (fx_start_server(www))
		return -1;
	write_conf();
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	svrcert_crl_release(&a5);
	svrcert_crl_release(&b1);
	return fx_teardown();
}

static void test_rollback_sequence(void **state)
{
	static char out[8192];
	long long fail0;

	start_daemon();
	assert_int_equal(serve_fetch("a5.der", out, sizeof(out)), 0);
	master_holds(&a5, true, 3);

	/* An older CRL of A: refused, alarmed, counted, audited; K stays. */
	fail0 = counter("crl-ingestion.failure");
	assert_int_equal(serve_fetch("a4.der", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "CRL number 04 is lower than the held CRL "
			       "number 05"));
	assert_true(alarm_for("crl-invalid"));
	assert_true(counter("crl-ingestion.failure") > fail0);
	fx_run("grep -q 'Rejected CRL from %s: CRL number 04 is lower' "
	       "state/audit.log", url);
	master_holds(&a5, true, 3);

	/* Another issuer's genuine CRL on A's URL: A's revocations stay. */
	assert_int_equal(serve_fetch("b1.der", out, sizeof(out)), 0);
	master_holds(&a5, true, 5);
	master_holds(&b1, true, 5);
	assert_true(alarm_for("crl-issuer-changed"));
	assert_false(alarm_for("crl-invalid"));
	fx_run("grep -q 'the URL served /O=svrcert test/CN=issuer A before' "
	       "state/audit.log");
	fx_run("jq -e '[.crls[] | select(.previous_issuer)] | length == 1 and "
	       ".[0].crl_number == \"05\"' state/index.json");
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].previous_issuers == [{\"issuer\": "
	       "\"/O=svrcert test/CN=issuer A\", \"crl_number\": \"05\", "
	       "\"keys\": 3}]' status.json");
	/* a reload moves the source with both issuers' CRLs */
	kill(daemon_pid, SIGHUP);
	usleep(500000);
	assert_int_equal(waitpid(daemon_pid, NULL, WNOHANG), 0);	/* alive */
	master_holds(&a5, true, 5);
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].previous_issuers | length == 1' status.json");
	stop_daemon();

	/* Across a restart A's held CRL number 5 still counts. */
	start_daemon();
	master_holds(&a5, true, 5);
	assert_int_equal(serve_fetch("a4.der", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "lower than the held CRL number 05"));
	master_holds(&a5, true, 5);

	/* A itself publishes a newer CRL without K: now K goes. */
	assert_int_equal(serve_fetch("a6.der", out, sizeof(out)), 0);
	master_holds(&a5, false, 2);
	master_holds(&b1, true, 2);
	stop_daemon();

	start_daemon();
	master_holds(&b1, true, 2);
	assert_int_equal(serve_fetch("a5.der", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "lower than the held CRL number 06"));
	master_holds(&a5, false, 2);
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollback_sequence),
	};

	(void)fx_load;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
