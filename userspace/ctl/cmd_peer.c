// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl peer add|replace NAME CERT.pem ADDR... [state STATE]
 * svrcertctl peer state NAME STATE
 * svrcertctl peer del NAME
 * svrcertctl peer rekey NAME|--all   (svrcertd's peer keys: peer_keys.c)
 *
 * Binds a peer's certificate to its addresses in the kernel. svrcertd does
 * this itself after it has authenticated the peer; by hand it is for
 * testing and for recovery. The kernel computes the fingerprint and reads
 * the validity dates from the DER itself; the state (default valid) is the
 * authentication result the caller vouches for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "netlink/nl_util.h"
#include "pki/pki.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: svrcertctl peer add|replace NAME CERT.pem ADDR... [state STATE]\n"
		"       svrcertctl peer state NAME STATE\n"
		"       svrcertctl peer del NAME\n"
		"       svrcertctl peer rekey NAME|--all\n"
		"STATE: valid (default), invalid, revoked, expired, not-yet-valid, unknown\n");
}

/* The first certificate of a PEM file, as DER (OPENSSL_free it), and its
 * revocation key, which the kernel takes with it. */
static int read_cert_der(const char *path, unsigned char **der, size_t *len,
			 uint8_t revkey[SVRCERT_KEY_LEN])
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int n;

	if (!f) {
		fprintf(stderr, "svrcertctl: peer: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		unsigned long e = ERR_get_error();

		fprintf(stderr, "svrcertctl: peer: %s: no PEM certificate: %s\n", path,
			e ? ERR_reason_error_string(e) : "empty file");
		return -EINVAL;
	}
	*der = NULL;
	n = svrcert_revkey_from_cert(x, revkey) ? -1 : i2d_X509(x, der);
	X509_free(x);
	if (n <= 0) {
		fprintf(stderr, "svrcertctl: peer: %s: cannot encode the certificate "
			"or compute its revocation key\n", path);
		return -EINVAL;
	}
	*len = (size_t)n;
	return 0;
}

static int check_name(const char *name)
{
	if (svrcert_nl_peer_name_check(name))
		return ctl_usage_error("peer", "'%s' is not a peer name (1..%d printable "
				       "characters, no blanks)", name, SVRCERT_PEER_NAME_MAX);
	return CTL_OK;
}

/* ADDR... [state STATE] after NAME and CERT. */
static int parse_tail(int argc, char **argv, struct svrcert_peer_info *info)
{
	int i;

	info->state = SVRCERT_STATE_VALID;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "state")) {
			if (i + 2 != argc || svrcert_nl_state_parse(argv[i + 1], &info->state))
				return ctl_usage_error("peer", "state needs one of: valid invalid "
						       "revoked expired not-yet-valid unknown");
			break;
		}
		if (info->n_addrs >= SVRCERT_PEER_ADDRS_MAX)
			return ctl_usage_error("peer", "at most %d addresses per peer",
					       SVRCERT_PEER_ADDRS_MAX);
		if (svrcert_nl_addr_parse(argv[i], &info->addrs[info->n_addrs]))
			return ctl_usage_error("peer", "'%s' is not an IPv4 or IPv6 address",
					       argv[i]);
		info->n_addrs++;
	}
	if (!info->n_addrs)
		return ctl_usage_error("peer", "at least one address is needed");
	return CTL_OK;
}

static int peer_add(int argc, char **argv, bool replace)
{
	const char *what = replace ? "peer replace" : "peer add";
	struct svrcert_peer_info info;
	struct svrcert_nl *nl;
	unsigned char *der = NULL;
	int ret, err;

	if (argc < 4) {
		usage();
		return CTL_USAGE;
	}
	memset(&info, 0, sizeof(info));
	ret = check_name(argv[1]);
	if (ret == CTL_OK)
		ret = parse_tail(argc - 3, argv + 3, &info);
	if (ret != CTL_OK)
		return ret;
	snprintf(info.name, sizeof(info.name), "%s", argv[1]);
	if (read_cert_der(argv[2], &der, &info.cert_der_len, info.revkey))
		return CTL_FAIL;
	info.cert_der = der;
	nl = ctl_nl_open(what);
	if (!nl) {
		OPENSSL_free(der);
		return CTL_FAIL;
	}
	err = svrcert_nl_peer_add(nl, &info, replace);
	if (err == -EEXIST)
		fprintf(stderr, "svrcertctl: peer add: peer '%s' already exists "
			"(use 'peer replace')\n", info.name);
	ret = err == -EEXIST ? CTL_FAIL : err ? ctl_nl_fail(nl, what, err) : CTL_OK;
	ctl_nl_close(nl);
	OPENSSL_free(der);
	return ret;
}

/* Change only the state: REPLACE_PEER without certificate and addresses. */
static int peer_state(int argc, char **argv)
{
	struct svrcert_peer_info info;
	struct svrcert_nl *nl;
	int ret, err;

	if (argc != 3) {
		usage();
		return CTL_USAGE;
	}
	memset(&info, 0, sizeof(info));
	ret = check_name(argv[1]);
	if (ret != CTL_OK)
		return ret;
	if (svrcert_nl_state_parse(argv[2], &info.state))
		return ctl_usage_error("peer state", "'%s' is not a state (valid invalid "
				       "revoked expired not-yet-valid unknown)", argv[2]);
	snprintf(info.name, sizeof(info.name), "%s", argv[1]);
	nl = ctl_nl_open("peer state");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_peer_get(nl, info.name, &(struct svrcert_peer_info){ 0 });
	if (!err)
		err = svrcert_nl_peer_add(nl, &info, true);
	if (err == -ENOENT)
		fprintf(stderr, "svrcertctl: peer state: no such peer '%s'\n", argv[1]);
	ret = err == -ENOENT ? CTL_FAIL : err ? ctl_nl_fail(nl, "peer state", err) : CTL_OK;
	ctl_nl_close(nl);
	return ret;
}

static int peer_del(int argc, char **argv)
{
	struct svrcert_nl *nl;
	int ret, err;

	if (argc != 2) {
		usage();
		return CTL_USAGE;
	}
	ret = check_name(argv[1]);
	if (ret != CTL_OK)
		return ret;
	nl = ctl_nl_open("peer del");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_peer_del(nl, argv[1]);
	if (err == -ENOENT)
		fprintf(stderr, "svrcertctl: peer del: no such peer '%s'\n", argv[1]);
	ret = err == -ENOENT ? CTL_FAIL : err ? ctl_nl_fail(nl, "peer del", err) : CTL_OK;
	ctl_nl_close(nl);
	return ret;
}

int cmd_peer(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return peer_add(argc - 1, argv + 1, false);
	if (argc >= 2 && !strcmp(argv[1], "replace"))
		return peer_add(argc - 1, argv + 1, true);
	if (argc >= 2 && !strcmp(argv[1], "state"))
		return peer_state(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "del"))
		return peer_del(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rekey"))
		return peer_rekey(argc - 1, argv + 1);
	usage();
	return CTL_USAGE;
}
