/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertd as a black box for the CRL tests that restart it and serve
 * CRLs on one URL (test_daemon_crl_delta, test_daemon_crl_rollback): the
 * daemon, svrcertctl, the published master list, counters and alarms.
 * Include after test_crl_fixture.h; the test sets URL in its write_conf().
 */
#ifndef SVRCERT_TEST_DAEMON_CRL_FIXTURE_H
#define SVRCERT_TEST_DAEMON_CRL_FIXTURE_H

#include <stdbool.h>

#include "crl/crl_master.h"

static pid_t daemon_pid;
static char url[256];

static __attribute__((unused)) void start_daemon(void)
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

static __attribute__((unused)) void stop_daemon(void)
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
static __attribute__((unused)) int ctl(char *out, size_t outlen, const char *args)
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

/* `crl status -j` until jq's EXPR holds on it (60 s: CI runs loaded); the
 * last reply stays in status.json. */
static __attribute__((unused)) void wait_status(const char *expr)
{
	static char out[65536];
	char cmd[PATH_MAX + 600];
	int t;

	snprintf(cmd, sizeof(cmd), "cd '%s' && jq -e '%s' status.json "
		 ">/dev/null 2>&1", fx_dir, expr);
	for (t = 0; t < 600; t++) {
		if (!ctl(out, sizeof(out), "crl status -j")) {
			fx_save("status.json", out, strlen(out));
			if (!system(cmd))
				return;
		}
		usleep(100000);
	}
	fail_msg("crl status never satisfied: %s (last in %s/status.json)",
		 expr, fx_dir);
}

/* Serve FILE on the URL, fetch it now; svrcertctl's exit status (0: the
 * CRL was accepted) and its output in OUT. */
static __attribute__((unused)) int serve_fetch(const char *file, char *out, size_t outlen)
{
	char args[400];

	fx_run("cp %s www/ca.crl.tmp && mv www/ca.crl.tmp www/ca.crl", file);
	snprintf(args, sizeof(args), "crl fetch %s", url);
	return ctl(out, outlen, args);
}

static __attribute__((unused)) long long counter(const char *key)
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

static __attribute__((unused)) bool alarm_for(const char *id)
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
static __attribute__((unused)) void master_holds(const struct svrcert_crl *c, bool all, size_t total)
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

static __attribute__((unused)) void walk(const char *file, const char *ca, struct svrcert_crl *out)
{
	STACK_OF(X509) *sk = fx_trust(ca);
	char path[PATH_MAX], err[256];

	fx_path(path, sizeof(path), file);
	if (svrcert_crl_walk_file(path, sk, out, err, sizeof(err)))
		fail_msg("%s: %s", file, err);
	sk_X509_pop_free(sk, X509_free);
}

#endif
