/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture for the tests that run svrcertd (build/svrcertd) as a process
 * with nothing but a state directory, a configuration and a control
 * socket: no certificate, no TPM, no REST, no CRL source. Each daemon's
 * stderr (--stderr: its log) goes to a file, so a test can read why it
 * refused to start.
 */
#ifndef SVRCERT_TEST_DAEMON_FIXTURE_H
#define SVRCERT_TEST_DAEMON_FIXTURE_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "swtpm_fixture.h"

#include "lib/ctlsock.h"
#include "lib/store.h"

struct dfx {
	char dir[64];		/* everything below lives here */
	char state[128];	/* DIR/state: the state directory */
	char sock[100];		/* DIR/run/ctl.sock (fits sun_path) */
	char conf[128];		/* DIR/svrcert.conf */
	pid_t pid;		/* the daemon started by dfx_setup() */
};

static __attribute__((unused)) long dfx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Start svrcertd -c CONF --stderr [--state-dir STATE]
 * [--control-socket SOCK], its stderr appended to LOG. */
static __attribute__((unused)) pid_t dfx_spawn(const char *conf,
					       const char *state,
					       const char *sock,
					       const char *log)
{
	const char *src = getenv("SVRCERT_SRCDIR");
	char prog[4200];
	const char *argv[12];
	int n = 0;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/build/svrcertd", src ? src : ".");
	argv[n++] = prog;
	argv[n++] = "-c";
	argv[n++] = conf;
	argv[n++] = "--stderr";
	if (state) {
		argv[n++] = "--state-dir";
		argv[n++] = state;
	}
	if (sock) {
		argv[n++] = "--control-socket";
		argv[n++] = sock;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		unsetenv("SVRCERT_STATE_DIR");
		unsetenv("SVRCERT_CONTROL_SOCKET");
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* 0 when PID exited within MS (*STATUS its wait status), -ETIMEDOUT. */
static __attribute__((unused)) int dfx_wait_exit(pid_t pid, long ms,
						 int *status)
{
	long end = dfx_now_ms() + ms;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(20 * 1000);
	} while (dfx_now_ms() < end);
	return -ETIMEDOUT;
}

/* "status" over SOCK; 0 or -errno, *MS how long it took. */
static __attribute__((unused)) int dfx_status(const char *sock, long *ms)
{
	json_t *req = json_pack("{s:s}", "command", "status"), *resp = NULL;
	long t0 = dfx_now_ms();
	int ret = ctlsock_request(sock, req, &resp);

	if (ms)
		*ms = dfx_now_ms() - t0;
	if (!ret && !json_is_true(json_object_get(resp, "ok")))
		ret = -EIO;
	json_decref(req);
	json_decref(resp);
	return ret;
}

/* Wait (up to 10 s) until a daemon answers on SOCK. */
static __attribute__((unused)) int dfx_wait_answer(const char *sock)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!dfx_status(sock, NULL))
			return 0;
		usleep(50 * 1000);
	}
	return -ETIMEDOUT;
}

/* A UNIX stream connection to SOCK, or -errno. */
static __attribute__((unused)) int dfx_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static __attribute__((unused)) void dfx_write_config(const char *conf,
						     const char *state,
						     const char *sock)
{
	char text[1024];
	int n;

	n = snprintf(text, sizeof(text), "[router]\nname = r1\n"
		     "peering-common-name = r1\n[daemon]\nstate-dir = %s\n"
		     "control-socket = %s\naudit-log = %s/audit.log\n",
		     state, sock, state);
	assert_int_equal(atomic_write_file(conf, text, (size_t)n, 0644), 0);
}

/* A fresh directory with a configuration, and svrcertd on it answering
 * on its control socket. */
static __attribute__((unused)) void dfx_setup(struct dfx *f, const char *tag)
{
	char log[160];

	memset(f, 0, sizeof(*f));
	assert_int_equal(fixture_tempdir(f->dir, tag), 0);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/run/ctl.sock", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/svrcert.conf", f->dir);
	snprintf(log, sizeof(log), "%s/daemon-a.log", f->dir);
	dfx_write_config(f->conf, f->state, f->sock);
	f->pid = dfx_spawn(f->conf, NULL, NULL, log);
	assert_true(f->pid > 0);
	assert_int_equal(dfx_wait_answer(f->sock), 0);
}

static __attribute__((unused)) void dfx_teardown(struct dfx *f)
{
	int status;

	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, &status, 0);
	}
	fixture_rm_rf(f->dir);
}

/* Descriptors PID has open (its /proc/PID/fd entries), -1 on error. */
static __attribute__((unused)) int dfx_open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
