// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show certificate crl lists each CRL once. Three places know
 * a CRL the manager fetched: its file in STATE_DIR/crl/, index.json (what
 * was published, from which URL) and the running svrcertd (the source's
 * fetch state); the text once printed all three, so one CRL appeared three
 * times. The real svrcertd fetches a CRL of a real CA from
 * tests/unit/crl_server.py (and fails to reach a second URL); the text is
 * compared, with its variable parts (directory, port, times, seconds to
 * the next fetch) replaced, with tests/unit/golden/show-certificate-crl*.txt,
 * with svrcertd running and after it stopped.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"

#include "lib/util.h"

#define GOLDEN "tests/unit/golden/"

static pid_t daemon_pid;

static const char *srcdir(void)
{
	const char *s = getenv("SVRCERT_SRCDIR");

	return s && *s ? s : ".";
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
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
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

static int group_setup(void **state)
{
	char www[PATH_MAX], text[2048];

	if (fx_setup_dir("showcrl"))
		return -1;
	fx_run("mkdir -p www state");
	fx_make_ca("ca", "/O=svrcert test/CN=show CRL CA");
	fx_mkcrl("www/ca.crl", "ca", 5, "--number 7");
	fx_path(www, sizeof(www), "www");
	if (fx_start_server(www))
		return -1;
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"test\"]\nfile = %s/ca.pem\n"
		 "[crl]\nurl = http://127.0.0.1:%d/crl/ca.crl\n"
		 "url = http://127.0.0.1:1/crl/none.crl\n"
		 "polling-interval = 1h\nbackoff-interval = 10m\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, fx_port, fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	return fx_teardown();
}

/* `svrcertctl ARGS` with the variable parts replaced; malloc'd. */
static char *ctl_normalized(const char *args)
{
	char cmd[PATH_MAX * 3], *out = malloc(65536);
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "SVRCERT_CONFIG='%s/svrcert.conf' "
		 "'%s/../svrcertctl' %s 2>&1 | sed -e 's|%s|DIR|g' "
		 "-e 's|127\\.0\\.0\\.1:%d/|127.0.0.1:PORT/|g' "
		 "-e 's|[0-9]\\{4\\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\\{8\\}Z|TIME|g' "
		 "-e 's|next fetch in [0-9]* s|next fetch in N s|' "
		 "-e 's|[0-9a-f]\\{32\\}|NAME|g' -e 's|after [0-9]* ms|after N ms|' "
		 "-e 's|kernel: .*|kernel: K|'",
		 fx_dir, fx_bindir, args, fx_dir, fx_port);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	assert_int_equal(WEXITSTATUS(pclose(p)), 0);
	return out;
}

static char *slurp(const char *name)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/" GOLDEN "%s", srcdir(), name);
	assert_int_equal(svrcert_read_file(path, 1 << 20, &buf, &len), 0);
	return (char *)buf;
}

static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void expect_golden(const char *golden)
{
	char *got = ctl_normalized("show certificate crl"), *want = slurp(golden);

	if (strcmp(got, want))
		fail_msg("show certificate crl differs from %s%s:\n%s", GOLDEN,
			 golden, got);
	/* the CRL's facts once: its issuer and its CRL number */
	assert_int_equal(occurrences(got, "CN=show CRL CA"), 1);
	assert_int_equal(occurrences(got, "CRL number 07"), 1);
	free(got);
	free(want);
}

/* Wait until the running svrcertd has fetched the CRL and tried the
 * unreachable URL (both sources have a last result). */
static void wait_fetched(void)
{
	char cmd[PATH_MAX * 2];
	int i, rc = 1;

	snprintf(cmd, sizeof(cmd), "SVRCERT_CONFIG='%s/svrcert.conf' "
		 "'%s/../svrcertctl' crl status -j | jq -e '[.sources[] | "
		 ".last_fetch != null and .last_fetch != \"-\" and "
		 ".last_fetch != \"\"] | all' >/dev/null 2>&1",
		 fx_dir, fx_bindir);
	for (i = 0; i < 150 && rc; i++) {
		rc = system(cmd);
		if (rc)
			usleep(100000);
	}
	assert_int_equal(rc, 0);
	fx_run("test -s state/index.json");
}

static void test_each_crl_once(void **state)
{
	start_daemon();
	wait_fetched();
	expect_golden("show-certificate-crl.txt");
	stop_daemon();
	expect_golden("show-certificate-crl-stopped.txt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_crl_once),
	};

	(void)fx_load;		/* the fixture's, for the CRL tests that parse */
	(void)fx_trust;

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
