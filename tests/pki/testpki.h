/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test PKI for cmocka tests: built once per test binary by tests/pki/mkpki.sh
 * in a temporary directory, or taken from $SVRCERT_TEST_PKI when the runner
 * built one already. Run tests from the source tree root (scripts/run-unit
 * does), or set $SVRCERT_SRCDIR.
 */
#ifndef SVRCERT_TESTPKI_H
#define SVRCERT_TESTPKI_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/util.h"

static char testpki_dir[PATH_MAX];
static int testpki_owned;

static __attribute__((unused)) int testpki_run(const char *cmd)
{
	int st = system(cmd);

	return st == 0 ? 0 : -1;
}

static __attribute__((unused)) int testpki_setup(void)
{
	const char *pre = getenv("SVRCERT_TEST_PKI");
	const char *src = getenv("SVRCERT_SRCDIR");
	char cmd[PATH_MAX * 2 + 64];

	if (pre && *pre) {
		snprintf(testpki_dir, sizeof(testpki_dir), "%s", pre);
		return 0;
	}
	snprintf(testpki_dir, sizeof(testpki_dir), "/tmp/svrcert-pki.XXXXXX");
	if (!mkdtemp(testpki_dir))
		return -1;
	testpki_owned = 1;
	snprintf(cmd, sizeof(cmd), "%s/tests/pki/mkpki.sh '%s' >/dev/null",
		 src ? src : ".", testpki_dir);
	return testpki_run(cmd);
}

static __attribute__((unused)) void testpki_teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (testpki_owned) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", testpki_dir);
		testpki_run(cmd);
	}
}

/* DIR/NAME into a static-per-call buffer (callers copy if needed); per
 * thread: test_conductor's router threads call it at once (shared slots
 * gave one thread another's name as its CA file: curl error 77). */
static __attribute__((unused)) const char *testpki_path(const char *name)
{
	static __thread char path[4][PATH_MAX + 256];
	static __thread int slot;

	slot = (slot + 1) % 4;
	snprintf(path[slot], sizeof(path[slot]), "%s/%s", testpki_dir, name);
	return path[slot];
}

/* Whole file; aborts the test binary when missing (a broken fixture). */
static __attribute__((unused)) uint8_t *testpki_read(const char *name, size_t *len)
{
	uint8_t *buf = NULL;

	if (svrcert_read_file(testpki_path(name), 1 << 24, &buf, len)) {
		fprintf(stderr, "testpki: cannot read %s\n", testpki_path(name));
		abort();
	}
	return buf;
}

static __attribute__((unused)) X509 *testpki_cert(const char *name)
{
	FILE *f = fopen(testpki_path(name), "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!x) {
		fprintf(stderr, "testpki: no certificate in %s\n", testpki_path(name));
		abort();
	}
	return x;
}

static __attribute__((unused)) EVP_PKEY *testpki_key(const char *name)
{
	FILE *f = fopen(testpki_path(name), "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!k) {
		fprintf(stderr, "testpki: no key in %s\n", testpki_path(name));
		abort();
	}
	return k;
}

/* First line of a shell command's output, trailing newline removed. */
static __attribute__((unused)) int testpki_shell(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	int ok;

	if (!p)
		return -1;
	ok = fgets(out, (int)len, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

#endif
