// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl revoked add|del KEY...    change the live set in place
 * svrcertctl revoked load FILE|-       replace the live set, atomically
 * svrcertctl revoked flush             empty the live set
 *
 * A KEY is 64 hex digits: a revocation key (SHA-256 of issuer Name DER ||
 * serial DER) or a certificate fingerprint (SHA-256 of the DER).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "netlink/nl_util.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: svrcertctl revoked add|del KEY...\n"
		"       svrcertctl revoked load FILE|-\n"
		"       svrcertctl revoked flush\n"
		"KEY: 64 hex digits; FILE: one KEY per line, '#' comments\n");
}

static int parse_keys(int argc, char **argv, svrcert_key_t **out)
{
	svrcert_key_t *keys = calloc((size_t)argc, sizeof(*keys));
	int i;

	if (!keys)
		return CTL_FAIL;
	for (i = 0; i < argc; i++) {
		if (svrcert_nl_key_parse(argv[i], keys[i])) {
			free(keys);
			return ctl_usage_error("revoked", "'%s' is not a key "
					       "(exactly 64 hex digits)", argv[i]);
		}
	}
	*out = keys;
	return CTL_OK;
}

static int add_del(int argc, char **argv, bool add)
{
	const char *what = add ? "revoked add" : "revoked del";
	svrcert_key_t *keys = NULL;
	struct svrcert_nl *nl;
	int ret, err;

	if (argc < 2) {
		usage();
		return CTL_USAGE;
	}
	ret = parse_keys(argc - 1, argv + 1, &keys);
	if (ret != CTL_OK)
		return ret;
	nl = ctl_nl_open(what);
	if (!nl) {
		free(keys);
		return CTL_FAIL;
	}
	err = add ? svrcert_nl_keys_add(nl, keys, (size_t)argc - 1) :
		    svrcert_nl_keys_del(nl, keys, (size_t)argc - 1);
	ret = err ? ctl_nl_fail(nl, what, err) : CTL_OK;
	ctl_nl_close(nl);
	free(keys);
	return ret;
}

static int read_key_file(const char *path, svrcert_key_t **keys, size_t *n)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	char err[512];
	int r;

	if (!f) {
		fprintf(stderr, "svrcertctl: revoked load: %s: %s\n", path, strerror(errno));
		return CTL_FAIL;
	}
	r = svrcert_nl_keyfile_read(f, is_stdin ? "<stdin>" : path, keys, n, err, sizeof(err));
	if (!is_stdin)
		fclose(f);
	if (r) {
		fprintf(stderr, "svrcertctl: revoked load: %s\n", err);
		return CTL_FAIL;
	}
	return CTL_OK;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(int argc, char **argv)
{
	svrcert_key_t *keys = NULL;
	struct svrcert_nl *nl;
	uint32_t live = 0;
	double t0, dt;
	size_t n = 0;
	int ret, err;

	if (argc != 2) {
		usage();
		return CTL_USAGE;
	}
	ret = read_key_file(argv[1], &keys, &n);
	if (ret != CTL_OK)
		return ret;
	nl = ctl_nl_open("revoked load");
	if (!nl) {
		free(keys);
		return CTL_FAIL;
	}
	t0 = now_seconds();
	err = svrcert_nl_keys_load(nl, keys, n, &live);
	dt = now_seconds() - t0;
	if (err) {
		ret = ctl_nl_fail(nl, "revoked load", err);
		fprintf(stderr, "svrcertctl: revoked load: nothing loaded; "
			"the previous set stays in force\n");
	} else {
		printf("loaded %zu keys in %.3f s (%.0f keys/s); live set: %u keys\n",
		       n, dt, dt > 0 ? (double)n / dt : 0.0, live);
	}
	ctl_nl_close(nl);
	free(keys);
	return ret;
}

static int flush(int argc, char **argv)
{
	struct svrcert_nl *nl;
	int ret, err;

	if (argc != 1) {
		usage();
		return CTL_USAGE;
	}
	nl = ctl_nl_open("revoked flush");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_keys_flush(nl);
	ret = err ? ctl_nl_fail(nl, "revoked flush", err) : CTL_OK;
	ctl_nl_close(nl);
	return ret;
}

int cmd_revoked(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return add_del(argc - 1, argv + 1, true);
	if (argc >= 2 && !strcmp(argv[1], "del"))
		return add_del(argc - 1, argv + 1, false);
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return load(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "flush"))
		return flush(argc - 1, argv + 1);
	usage();
	return CTL_USAGE;
}
