// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd (build/svrcertd) as a process: control socket mode and
 * SO_PEERCRED refusal, status/check/alarms over the socket, the periodic
 * check raising expiry alarms, and a bad reload keeping the previous
 * configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"

#include "lib/ctlsock.h"
#include "pki/import_trust.h"
#include "lib/store.h"

#define DAEMON "build/svrcertd"

struct fx {
	char dir[64];
	char sock[100];
	char conf[128];
	pid_t pid;
	struct svrcert_store st;
};

static int group_setup(void **state)
{
	return testpki_setup();
}

static int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static void write_config(struct fx *f, const char *extra)
{
	char text[1024];
	int n;

	/* The test PKI's certificates name a CRL URL nothing serves: its
	 * discovered source would add crl-unreachable to the alarms counted. */
	n = snprintf(text, sizeof(text), "[router]\nname = r1\n"
		     "peering-common-name = r1\n%s\n[crl]\ndiscover = no\n"
		     "[daemon]\nstate-dir = %s\n"
		     "control-socket = %s\naudit-log = %s/audit.log\n",
		     extra, f->dir, f->sock, f->dir);
	assert_int_equal(atomic_write_file(f->conf, text, (size_t)n, 0644), 0);
}

static void install_raw(struct fx *f, const char *name)
{
	size_t len;
	uint8_t *buf = testpki_read(name, &len);

	assert_int_equal(store_write(&f->st, STORE_CERT, buf, len, 0644), 0);
	free(buf);
	store_unlock(&f->st);	/* the daemon takes it for every check */
}

static int setup(void **state)
{
	struct svrcert_problems p;
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int i;

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "daemon"), 0);
	snprintf(f->sock, sizeof(f->sock), "%s/run/ctl.sock", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/svrcert.conf", f->dir);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(fixture_sh("cp %s %s/" STORE_KEY " && openssl pkey -in %s "
				    "-pubout -out %s/" STORE_PUBKEY, testpki_path("r1.key"),
				    f->dir, testpki_path("r1.key"), f->dir), 0);
	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&f->st, "root", testpki_path("bundle.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), 0);
	svrcert_problems_free(&p);
	store_unlock(&f->st);
	install_raw(f, "exp-5d.pem");
	write_config(f, "");
	unsetenv("SVRCERT_STATE_DIR");
	unsetenv("SVRCERT_CONTROL_SOCKET");
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (!f->pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		execl(DAEMON, DAEMON, "-c", f->conf, "--check-interval", "1",
		      "--stderr", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(f->sock, F_OK); i++)
		usleep(50 * 1000);
	assert_int_equal(access(f->sock, F_OK), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int status;

	kill(f->pid, SIGTERM);
	waitpid(f->pid, &status, 0);
	store_close(&f->st);
	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static json_t *request(struct fx *f, const char *cmd)
{
	json_t *req = json_pack("{s:s}", "command", cmd), *resp = NULL;

	assert_int_equal(ctlsock_request(f->sock, req, &resp), 0);
	json_decref(req);
	return resp;
}

static const char *first_alarm(json_t *resp, const char *field)
{
	json_t *a = json_array_get(json_object_get(resp, "alarms"), 0);

	return a ? json_string_value(json_object_get(a, field)) : "";
}

static void test_socket_mode_and_peercred(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	pid_t child;
	int status;

	assert_int_equal(stat(f->sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	/* Even with the file opened to everyone, a non-root peer outside the
	 * control group is refused by SO_PEERCRED. */
	assert_int_equal(chmod(f->sock, 0666), 0);
	assert_int_equal(chmod(f->dir, 0711), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		json_t *req = json_pack("{s:s}", "command", "status"), *resp;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		if (setgid(65534) || setuid(65534))
			_exit(3);
		/* The file system lets it in; only the daemon says no. */
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(4);
		close(fd);
		_exit(ctlsock_request(f->sock, req, &resp) == -EACCES ? 0 : 1);
	}
	waitpid(child, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_status_and_periodic_check(void **state)
{
	struct fx *f = *state;
	json_t *resp, *cert;
	int i;

	resp = request(f, "status");
	assert_true(json_is_true(json_object_get(resp, "ok")));
	cert = json_object_get(resp, "certificate");
	assert_string_equal(json_string_value(json_object_get(cert, "state")), "valid");
	assert_string_equal(first_alarm(resp, "id"), "certificate-expiring");
	assert_string_equal(first_alarm(resp, "severity"), "major");
	json_decref(resp);

	/* The certificate ages past notAfter: the timer's check notices. */
	install_raw(f, "exp-minus1d.pem");
	for (i = 0; i < 50; i++) {
		resp = request(f, "alarms");
		if (!strcmp(first_alarm(resp, "id"), "certificate-invalid"))
			break;
		json_decref(resp);
		resp = NULL;
		usleep(100 * 1000);
	}
	assert_non_null(resp);
	assert_string_equal(first_alarm(resp, "severity"), "critical");
	assert_string_equal(first_alarm(resp, "state"), "expired");
	json_decref(resp);

	/* An explicit check after a fix clears it at once. */
	install_raw(f, "r1.pem");
	resp = request(f, "check");
	assert_int_equal(json_array_size(json_object_get(resp, "alarms")), 0);
	json_decref(resp);
	resp = request(f, "bogus");
	assert_true(json_is_false(json_object_get(resp, "ok")));
	json_decref(resp);
}

static void test_busy_lock_does_not_block(void **state)
{
	struct fx *f = *state;
	json_t *resp;
	int i;

	/* svrcertctl in the middle of a TPM operation holds the lock. */
	assert_int_equal(store_lock(&f->st), 0);
	resp = request(f, "check");	/* answered, not blocked */
	assert_true(json_is_true(json_object_get(resp, "check_pending")));
	json_decref(resp);
	store_unlock(&f->st);
	for (i = 0; i < 50; i++) {
		resp = request(f, "status");
		if (json_is_false(json_object_get(resp, "check_pending")))
			break;
		json_decref(resp);
		resp = NULL;
		usleep(100 * 1000);
	}
	assert_non_null(resp);	/* retried within seconds */
	json_decref(resp);
}

static void test_bad_reload_keeps_config(void **state)
{
	struct fx *f = *state;
	const char *err;
	json_t *resp;

	write_config(f, "peer-validation = maybe");
	resp = request(f, "reload");
	assert_true(json_is_false(json_object_get(resp, "ok")));
	err = json_string_value(json_object_get(resp, "error"));
	assert_non_null(strstr(err, "svrcert.conf:"));
	assert_non_null(strstr(err, "peer-validation"));
	json_decref(resp);
	kill(f->pid, SIGHUP);
	resp = request(f, "status");	/* still serving, old config */
	assert_true(json_is_true(json_object_get(resp, "ok")));
	assert_string_equal(json_string_value(json_object_get(resp, "config")), f->conf);
	json_decref(resp);

	/* A good config with peer security on: no valid certificate now. */
	install_raw(f, "bad-identity.pem");
	write_config(f, "peer-validation = true");
	kill(f->pid, SIGHUP);
	usleep(200 * 1000);
	resp = request(f, "check");
	assert_int_equal(json_array_size(json_object_get(resp, "alarms")), 2);
	json_decref(resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_mode_and_peercred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_periodic_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_lock_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_reload_keeps_config, setup, teardown),
	};

	if (access(DAEMON, X_OK)) {
		fprintf(stderr, "test_alarm_daemon: run from the source tree "
			"after 'make userspace' (%s missing)\n", DAEMON);
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
