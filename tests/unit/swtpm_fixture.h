/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test helpers shared by the U2 unit tests: a real swtpm on a free loopback
 * port (TPM2OPENSSL_TCTI points the tpm2 provider at it) and throw-away
 * state directories. Header-only because every tests/unit/test_X.c is
 * built as one program.
 */
#ifndef SVRCERT_SWTPM_FIXTURE_H
#define SVRCERT_SWTPM_FIXTURE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct swtpm_fixture {
	pid_t pid;
	int port;
	char dir[64];
	char tcti[96];
};

static __attribute__((unused)) int fixture_bind_port(int want)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)want) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A free port P with P+1 free too: the swtpm TCTI expects the control
 * channel on the next port. */
static __attribute__((unused)) int fixture_free_port_pair(void)
{
	int i, p;

	for (i = 0; i < 50; i++) {
		p = fixture_bind_port(0);
		if (p > 0 && p < 65535 && fixture_bind_port(p + 1) == p + 1)
			return p;
	}
	return -1;
}

static __attribute__((unused)) int fixture_can_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

static __attribute__((unused)) int fixture_rm_cb(const char *path, const struct stat *sb, int flag,
			 struct FTW *ftw)
{
	return remove(path);
}

static __attribute__((unused)) void fixture_rm_rf(const char *dir)
{
	if (dir && dir[0])
		nftw(dir, fixture_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temp directory (absolute path) in OUT (>= 64 bytes). */
static __attribute__((unused)) int fixture_tempdir(char *out, const char *tag)
{
	snprintf(out, 64, "/tmp/svrcert-%s.XXXXXX", tag);
	return mkdtemp(out) ? 0 : -errno;
}

static __attribute__((unused)) void swtpm_stop(struct swtpm_fixture *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
	fixture_rm_rf(f->dir);
	f->dir[0] = '\0';
}

/* Start swtpm and export TPM2OPENSSL_TCTI; 0 or -errno. */
static __attribute__((unused)) int swtpm_start(struct swtpm_fixture *f)
{
	char srv[64], ctrl[64], state[96];
	int i, ctrl_port;

	memset(f, 0, sizeof(*f));
	if (fixture_tempdir(f->dir, "swtpm"))
		return -errno;
	f->port = fixture_free_port_pair();
	ctrl_port = f->port + 1;
	if (f->port < 0)
		return -EADDRINUSE;
	snprintf(srv, sizeof(srv), "type=tcp,port=%d,bindaddr=127.0.0.1", f->port);
	snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", ctrl_port);
	snprintf(state, sizeof(state), "dir=%s", f->dir);
	f->pid = fork();
	if (f->pid < 0)
		return -errno;
	if (f->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", srv,
		       "--ctrl", ctrl, "--tpmstate", state, "--flags",
		       "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && !fixture_can_connect(f->port); i++)
		usleep(50 * 1000);
	if (i == 100) {
		swtpm_stop(f);
		return -ETIMEDOUT;
	}
	/* The probe connection above counts as a client; give swtpm a moment
	 * to drop it before the provider connects (one client at a time). */
	usleep(50 * 1000);
	snprintf(f->tcti, sizeof(f->tcti), "swtpm:host=127.0.0.1,port=%d", f->port);
	setenv("TPM2OPENSSL_TCTI", f->tcti, 1);
	return 0;
}

/* Run a shell command, return its exit status (or -1). */
static __attribute__((unused)) int fixture_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

#endif
