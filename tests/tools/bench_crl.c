// SPDX-License-Identifier: GPL-2.0
/*
 * bench_crl -- one measurement per process, so peak RSS belongs to it alone.
 *
 *   bench_crl walk CRL CACERT     svrcert_crl_walk_file: read, verify, walk,
 *                                 sort (what the CRL manager does)
 *   bench_crl openssl CRL         read + d2i_X509_CRL only (the baseline:
 *                                 no signature check, no keys)
 *   bench_crl load CRL CACERT [ROUNDS]
 *                                 walk, then svrcert_nl_keys_load() of the
 *                                 keys into svrcert.ko ROUNDS times (default
 *                                 3; needs the module: run in the guest)
 *
 * Prints one line: mode=.. seconds=.. cpu_seconds=.. maxrss_kib=..
 * base_rss_kib=.. der_bytes=.. entries=.. -- base_rss_kib is the peak RSS
 * just before the measured work (libraries, CA certificate), so
 * maxrss_kib - base_rss_kib is what the work itself added.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crl/crl_walk.h"
#include "netlink/nl.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* user+system CPU seconds: less disturbed than wall time on a shared box */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static unsigned char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;

	if (!f || fseek(f, 0, SEEK_END) || (*len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		return NULL;
	buf = malloc((size_t)*len + 1);
	if (buf && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int bench_walk(const char *crl_path, const char *ca_path)
{
	STACK_OF(X509) *trusted = sk_X509_new_null();
	FILE *f = fopen(ca_path, "r");
	X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	struct svrcert_crl crl;
	char err[256];
	double t0, c0;
	long base;
	int rc;

	if (!ca || !trusted || !sk_X509_push(trusted, ca)) {
		fprintf(stderr, "bench_crl: cannot read %s\n", ca_path);
		return 1;
	}
	fclose(f);
	base = maxrss_kib();
	t0 = now();
	c0 = cpu_seconds();
	rc = svrcert_crl_walk_file(crl_path, trusted, &crl, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_crl: %s: %s\n", crl_path, err);
		return 1;
	}
	printf("mode=walk seconds=%.3f cpu_seconds=%.3f maxrss_kib=%ld base_rss_kib=%ld der_bytes=%zu entries=%zu keys=%zu\n",
	       now() - t0, cpu_seconds() - c0, maxrss_kib(), base, crl.der_size, crl.entries, crl.nkeys);
	svrcert_crl_release(&crl);
	sk_X509_pop_free(trusted, X509_free);
	return 0;
}

static int bench_openssl(const char *crl_path)
{
	const unsigned char *p;
	unsigned char *buf;
	X509_CRL *crl;
	long len = 0, base = maxrss_kib();
	double t0 = now(), c0 = cpu_seconds();

	buf = slurp(crl_path, &len);
	p = buf;
	crl = buf ? d2i_X509_CRL(NULL, &p, len) : NULL;
	if (!crl) {
		fprintf(stderr, "bench_crl: d2i_X509_CRL failed on %s\n", crl_path);
		return 1;
	}
	printf("mode=openssl seconds=%.3f cpu_seconds=%.3f maxrss_kib=%ld base_rss_kib=%ld der_bytes=%ld entries=%d\n",
	       now() - t0, cpu_seconds() - c0, maxrss_kib(), base, len,
	       sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
	X509_CRL_free(crl);
	free(buf);
	return 0;
}

static STACK_OF(X509) *load_ca(const char *ca_path)
{
	STACK_OF(X509) *trusted = sk_X509_new_null();
	FILE *f = fopen(ca_path, "r");
	X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!ca || !trusted || !sk_X509_push(trusted, ca)) {
		fprintf(stderr, "bench_crl: cannot read %s\n", ca_path);
		exit(1);
	}
	return trusted;
}

/* The kernel half: one bulk load (LOAD_BEGIN, chunks, LOAD_COMMIT) per
 * round, each replacing the whole set with the CRL's keys. */
static int bench_load(const char *crl_path, const char *ca_path, int rounds)
{
	STACK_OF(X509) *trusted = load_ca(ca_path);
	struct svrcert_crl crl;
	struct svrcert_nl *nl;
	char err[256];
	uint32_t live = 0;
	double t0, walk_s;
	int rc, r;

	t0 = now();
	rc = svrcert_crl_walk_file(crl_path, trusted, &crl, err, sizeof(err));
	walk_s = now() - t0;
	if (rc) {
		fprintf(stderr, "bench_crl: %s: %s\n", crl_path, err);
		return 1;
	}
	rc = svrcert_nl_open(&nl);
	if (rc) {
		fprintf(stderr, "bench_crl: %s\n", svrcert_nl_open_errmsg());
		return 1;
	}
	for (r = 0; r < rounds && !rc; r++) {
		double t1 = now(), s;

		rc = svrcert_nl_keys_load(nl, crl.keys, crl.nkeys, &live);
		s = now() - t1;
		if (rc)
			fprintf(stderr, "bench_crl: load: %s (%s)\n", strerror(-rc),
				svrcert_nl_errmsg(nl));
		else
			printf("mode=load round=%d walk_seconds=%.3f load_seconds=%.3f keys=%zu live=%u keys_per_second=%.0f\n",
			       r, walk_s, s, crl.nkeys, live, (double)crl.nkeys / s);
	}
	svrcert_nl_close(nl);
	svrcert_crl_release(&crl);
	sk_X509_pop_free(trusted, X509_free);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "load"))
		return bench_load(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 3);
	if (argc == 4 && !strcmp(argv[1], "walk"))
		return bench_walk(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "openssl"))
		return bench_openssl(argv[2]);
	fprintf(stderr, "usage: bench_crl walk CRL CACERT | openssl CRL | load CRL CACERT [ROUNDS]\n");
	return 2;
}
