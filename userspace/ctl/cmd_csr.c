// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl csr [--name N] [--cn CN] [--peering-name N] [--country C]
 *     [--state S] [--locality L] [--organization O] [--org-unit OU]
 *     [--email E] [--days N] [--san-dns NAME] [--san-ip ADDR] [--san-uri URI]
 *     [--san-email ADDR] [-o FILE]
 *
 * Step 2 of the seed's provisioning: a PEM CSR signed in the TPM, stored
 * as STATE_DIR/csr.pem and printed (or written to FILE) for the CA.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/csr.h"
#include "ctl.h"
#include "pki/store_env.h"

static const struct option csr_opts[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "cn", required_argument, NULL, 'C' },
	{ "peering-name", required_argument, NULL, 'p' },
	{ "country", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, 's' },
	{ "locality", required_argument, NULL, 'l' },
	{ "organization", required_argument, NULL, 'O' },
	{ "org-unit", required_argument, NULL, 'U' },
	{ "email", required_argument, NULL, 'e' },
	{ "days", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "san-dns", required_argument, NULL, 256 + CSR_SAN_DNS },
	{ "san-ip", required_argument, NULL, 256 + CSR_SAN_IP },
	{ "san-uri", required_argument, NULL, 256 + CSR_SAN_URI },
	{ "san-email", required_argument, NULL, 256 + CSR_SAN_EMAIL },
	{ NULL, 0, NULL, 0 },
};

static int csr_usage(void)
{
	fprintf(stderr, "usage: svrcertctl csr [--name NAME] [--cn CN] "
		"[--peering-name NAME] [--country CC] [--state S]\n"
		"       [--locality L] [--organization O] [--org-unit OU] "
		"[--email E] [--days N] [-o FILE]\n"
		"       [--san-dns NAME] [--san-ip ADDR] [--san-uri URI] "
		"[--san-email ADDR] (each repeatable)\n"
		"       [--config FILE] [--state-dir DIR]\n");
	return CTL_USAGE;
}

static int parse_days(const char *s, int *days)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v <= 0 || v > 36500)
		return -EINVAL;
	*days = (int)v;
	return 0;
}

static int parse_csr_args(int argc, char **argv, struct csr_request *r,
			  const char **out)
{
	char err[256];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", csr_opts, NULL)) != -1) {
		if (c >= 256 && c < 256 + CSR_SAN_KINDS) {
			if (csr_san_add(r, c - 256, optarg, err, sizeof(err))) {
				fprintf(stderr, "svrcertctl csr: %s\n", err);
				return -EINVAL;
			}
			continue;
		}
		switch (c) {
		case 'n': r->name = optarg; break;
		case 'C': r->common_name = optarg; break;
		case 'p': r->peering_name = optarg; break;
		case 'c': r->country = optarg; break;
		case 's': r->state = optarg; break;
		case 'l': r->locality = optarg; break;
		case 'O': r->organization = optarg; break;
		case 'U': r->org_unit = optarg; break;
		case 'e': r->email = optarg; break;
		case 'o': *out = optarg; break;
		case 'd':
			if (parse_days(optarg, &r->validity_days))
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static int csr_run(struct svrcert_env *env, struct csr_request *r,
		   const char *out)
{
	struct csr_result res;
	struct tpm_ctx tpm;
	int ret;

	/* The configured peering name is this router's identity for peers. */
	if (!r->peering_name && env->have_cfg)
		r->peering_name = env->cfg.peering_common_name;
	ret = svrcert_env_tpm_open(env, &tpm);
	if (ret) {
		fprintf(stderr, "svrcertctl csr: %s\n", tpm.err);
		return CTL_FAIL;
	}
	ret = csr_generate(&tpm, &env->st, &env->audit, r, &res);
	tpm_ctx_close(&tpm);
	if (ret) {
		fprintf(stderr, "svrcertctl csr: %s\n", res.err);
		free(res.pem);
		return CTL_FAIL;
	}
	if (out)
		ret = atomic_write_file(out, res.pem, strlen(res.pem), 0644);
	else
		fputs(res.pem, stdout);
	if (ret)
		fprintf(stderr, "svrcertctl csr: %s: %s\n", out, strerror(-ret));
	else
		fprintf(stderr, "CSR for CN=%s stored in %s/%s%s%s\n",
			res.common_name, env->st.dir, STORE_CSR,
			out ? " and written to " : "", out ? out : "");
	free(res.pem);
	svrcert_env_notify_daemon(env);
	return ret ? CTL_FAIL : CTL_OK;
}

int cmd_csr(int argc, char **argv)
{
	struct csr_request req = { .validity_days = CSR_DEFAULT_DAYS };
	struct svrcert_env_args ea;
	struct svrcert_env env;
	const char *out = NULL;
	char err[512];
	int ret;

	if (svrcert_env_take_args(&argc, argv, &ea) ||
	    parse_csr_args(argc, argv, &req, &out))
		return csr_usage();
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = csr_run(&env, &req, out);
	svrcert_env_close(&env);
	return ret;
}
