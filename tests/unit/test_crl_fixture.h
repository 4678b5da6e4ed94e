/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the CRL manager's cmocka tests: a temp directory, shell steps
 * run in it, a real OpenSSL CA, build/tools/mkcrl, and the loopback HTTP
 * server tests/unit/crl_server.py. Include after <cmocka.h>.
 */
#ifndef SVRCERT_TEST_CRL_FIXTURE_H
#define SVRCERT_TEST_CRL_FIXTURE_H

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/pem.h>

static char fx_dir[256];
static char fx_bindir[PATH_MAX];	/* build/tests */
static pid_t fx_server;
static int fx_port;

static void fx_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fx_run(const char *fmt, ...)
{
	char cmd[4096], full[PATH_MAX + 4400];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && { %s ; } >>log 2>&1", fx_dir, cmd);
	rc = system(full);
	if (rc)
		fail_msg("command failed (%d): %s (see %s/log)", rc, cmd, fx_dir);
}

static int fx_setup_dir(const char *tag)
{
	char self[PATH_MAX] = { 0 };

	snprintf(fx_dir, sizeof(fx_dir), "%s/svrcert-%s.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", tag);
	if (!mkdtemp(fx_dir) ||
	    readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return -1;
	snprintf(fx_bindir, sizeof(fx_bindir), "%s", dirname(self));
	return 0;
}

static void fx_path(char *out, size_t len, const char *name)
{
	if (snprintf(out, len, "%s/%s", fx_dir, name) >= (int)len)
		fail_msg("path too long");
}

static uint8_t *fx_load(const char *name, size_t *len)
{
	char path[PATH_MAX];
	uint8_t *buf;
	FILE *f;
	long n;

	fx_path(path, sizeof(path), name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void fx_save(const char *name, const void *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	fx_path(path, sizeof(path), name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		fail_msg("cannot write %s", path);
}

/* CA NAME: NAME.key + NAME.pem, RSA 2048, CA:TRUE critical, cRLSign. */
static void fx_make_ca(const char *name, const char *subject)
{
	fx_run("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s.key "
	       "-out %s.pem -days 30 -subj '%s' "
	       "-addext basicConstraints=critical,CA:TRUE "
	       "-addext keyUsage=critical,keyCertSign,cRLSign",
	       name, name, subject);
}

/* build/tools/mkcrl signed by CA into OUT. */
static void fx_mkcrl(const char *out, const char *ca, long n, const char *opts)
{
	fx_run("'%s/../tools/mkcrl' -k %s.key -c %s.pem -n %ld -o %s %s",
	       fx_bindir, ca, ca, n, out, opts);
}

static STACK_OF(X509) *fx_trust(const char *ca)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	char path[PATH_MAX], name[64];
	FILE *f;

	snprintf(name, sizeof(name), "%s.pem", ca);
	fx_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("no %s", path);
	sk_X509_push(sk, PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	return sk;
}

/* tests/unit/crl_server.py serving ROOT (its /crl/<name> route). */
static int fx_start_server(const char *root)
{
	char script[PATH_MAX + 64], line[64];
	int pfd[2];
	FILE *out;

	snprintf(script, sizeof(script), "%s/../../tests/unit/crl_server.py",
		 fx_bindir);
	if (pipe(pfd))
		return -1;
	fx_server = fork();
	if (fx_server == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execlp("python3", "python3", script, "--root", root,
		       "--lifetime", "120", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	out = fdopen(pfd[0], "r");
	if (!out || !fgets(line, sizeof(line), out) ||
	    sscanf(line, "PORT %d", &fx_port) != 1)
		return -1;
	fclose(out);
	return 0;
}

static int fx_teardown(void)
{
	char cmd[300];

	if (fx_server > 0) {
		kill(fx_server, SIGTERM);
		waitpid(fx_server, NULL, 0);
		fx_server = 0;
	}
	if (getenv("SVRCERT_KEEP_TMP"))
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	return system(cmd) ? -1 : 0;
}

#endif
