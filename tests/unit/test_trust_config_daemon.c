// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 13 item 9 with a real svrcertd: a [trusted-ca] of svrcert.conf
 * marked strict whose CA is RSA-1024, expired and without a critical
 * basicConstraints (mkpki.sh ca-weak.pem) used to be accepted at start and
 * after SIGHUP, and the CRLs it signed were applied. Now, at start, the
 * alarm trusted-ca-refused is raised and its CRL finds no trusted signer;
 * switched to warn and reloaded, the alarm clears and the CRL is applied.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "../pki/testpki.h"

static pid_t daemon_pid;

static void write_conf(const char *mode)
{
	char text[4 * PATH_MAX];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"weak\"]\nfile = %s\nvalidation-mode = %s\n"
		 "[crl]\nurl = http://127.0.0.1:%d/crl/weak.crl\n"
		 "polling-interval = 1s\nbackoff-interval = 1s\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 testpki_path("ca-weak.pem"), mode, fx_port, fx_dir, fx_dir,
		 fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (testpki_setup() || fx_setup_dir("tcfgd"))
		return -1;
	fx_run("mkdir -p www state");
	fx_run("'%s/../tools/mkcrl' -k '%s' -c '%s' -n 3 -o www/weak.crl --number 1",
	       fx_bindir, testpki_path("ca-weak.key"), testpki_path("ca-weak.pem"));
	fx_path(www, sizeof(www), "www");
	return fx_start_server(www);
}

static int group_teardown(void **state)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	testpki_teardown();
	return fx_teardown();
}

static void start_daemon(void)
{
	char prog[PATH_MAX + 32], conf[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	int i, fd;

	snprintf(prog, sizeof(prog), "%s/../svrcertd", fx_bindir);
	fx_path(conf, sizeof(conf), "svrcert.conf");
	fx_path(sock, sizeof(sock), "ctl.sock");
	fx_path(log, sizeof(log), "daemon.log");
	daemon_pid = fork();
	if (daemon_pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(prog, prog, "-c", conf, "--stderr", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(sock, F_OK), 0);
}

/* The message of persisted own-certificate alarm ID, "" when not raised. */
static const char *alarm_msg(const char *id)
{
	static char msg[1200];
	char path[PATH_MAX];
	json_t *j, *a;
	size_t i;

	msg[0] = '\0';
	fx_path(path, sizeof(path), "state/alarms.json");
	j = json_load_file(path, 0, NULL);
	json_array_foreach(json_is_array(j) ? j : json_object_get(j, "alarms"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "id")) ?: "", id))
			snprintf(msg, sizeof(msg), "%s", json_string_value(
				 json_object_get(a, "message")) ?: "?");
	json_decref(j);
	return msg;
}

/* The CRL source's last result as `svrcertctl crl status -j` gives it. */
static void crl_result(char *out, size_t len, char *number, size_t nlen)
{
	char cmd[PATH_MAX * 2], buf[65536];
	json_t *j, *src;
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "SVRCERT_CONFIG='%s/svrcert.conf' "
		 "'%s/../svrcertctl' crl status -j 2>&1", fx_dir, fx_bindir);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	pclose(p);
	j = json_loads(buf, 0, NULL);
	src = json_array_get(json_object_get(j, "sources"), 0);
	snprintf(out, len, "%s", json_string_value(json_object_get(src, "last_result")) ?: "");
	snprintf(number, nlen, "%s", json_string_value(json_object_get(src, "crl_number")) ?: "");
	json_decref(j);
}

static void test_strict_refused_then_warn_used(void **state)
{
	char result[512] = "", number[64] = "";
	int i;

	write_conf("strict");
	start_daemon();
	for (i = 0; i < 100 && !*result; i++) {
		usleep(100000);
		crl_result(result, sizeof(result), number, sizeof(number));
	}
	print_message("strict: alarm \"%s\"\n        CRL \"%s\" number \"%s\"\n",
		      alarm_msg("trusted-ca-refused"), result, number);
	assert_non_null(strstr(alarm_msg("trusted-ca-refused"),
			       "RSA key of 1024 bits is too small"));
	assert_non_null(strstr(result, "no trusted CA certificate for CRL issuer"));
	assert_string_equal(number, "");
	/* said at start in the log too */
	fx_run("grep -q \"trusted CA 'weak' (.*validation-mode strict): .*1024\" daemon.log");

	write_conf("warn");
	kill(daemon_pid, SIGHUP);
	for (i = 0; i < 100 && strcmp(number, "01"); i++) {
		usleep(100000);
		crl_result(result, sizeof(result), number, sizeof(number));
	}
	print_message("warn:   alarm \"%s\"\n        CRL \"%s\" number \"%s\"\n",
		      alarm_msg("trusted-ca-refused"), result, number);
	assert_string_equal(number, "01");
	assert_string_equal(alarm_msg("trusted-ca-refused"), "");
	/* a warning has no alarm: the log is where it is said */
	fx_run("grep -q \"trusted CA 'weak' (.*validation-mode warn): .*1024\" daemon.log");

	/* Back to strict: refused again at reload. */
	write_conf("strict");
	kill(daemon_pid, SIGHUP);
	for (i = 0; i < 100 && !*alarm_msg("trusted-ca-refused"); i++)
		usleep(100000);
	assert_non_null(strstr(alarm_msg("trusted-ca-refused"), "refused"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_refused_then_warn_used),
	};

	(void)fx_trust;	/* fixture helpers this test does not need */
	(void)fx_load;
	(void)fx_mkcrl;
	(void)fx_make_ca;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
