// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl: drive svrcert.ko over generic netlink and svrcertd over its
 * control socket. Each subcommand lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_cmd commands[] = {
	{ "show", cmd_show, "TOPIC [-j]", "show policy, peers, revoked keys, stats, certificate, alarms" },
	{ "set", cmd_set, "peer-validation on|off | failure-mode fail-soft|fail-hard | self-state STATE | ports MIN-MAX",
	  "change the kernel's policy" },
	{ "peer", cmd_peer, "add|replace NAME CERT.pem ADDR... [state STATE] | del NAME",
	  "bind a peer's certificate to its addresses in the kernel" },
	{ "revoked", cmd_revoked, "add|del KEY... | load FILE | flush",
	  "change the kernel's revocation set" },
	{ "clear", cmd_clear, "stats", "zero the kernel's data-path counters" },
	{ "monitor", cmd_monitor, "[-j]", "print kernel events as they happen" },
	{ "key", cmd_key, "generate [...]", "generate this router's private key in the TPM" },
	{ "csr", cmd_csr, "[options]", "create a certificate signing request" },
	{ "import", cmd_import, "CERT.pem", "check and install this router's certificate" },
	{ "trusted-ca", cmd_trusted_ca, "add NAME FILE [warn|strict] | del NAME | list",
	  "manage trusted CA bundles" },
	{ "daemon", cmd_daemon, "status|check|reload [-j]", "ask a running svrcertd" },
	{ "crl", cmd_crl, "fetch [--force] [URL]", "fetch CRLs now and feed the kernel" },
	{ "user", cmd_user, "add NAME [--role ROLE] | del NAME | passwd NAME | list",
	  "manage REST API users" },
	{ NULL, NULL, NULL, NULL },
};

const struct ctl_cmd *ctl_find(const struct ctl_cmd *table, const char *name)
{
	for (; table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

void ctl_print_usage(const struct ctl_cmd *table, const char *prefix)
{
	for (; table->name; table++)
		fprintf(stderr, "  %s%s %s\n      %s\n", prefix, table->name,
			table->usage, table->summary);
}

bool ctl_take_json_flag(int *argc, char **argv)
{
	bool found = false;
	int i, j;

	for (i = 0, j = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			found = true;
			continue;
		}
		argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

static void usage(void)
{
	fprintf(stderr, "usage: svrcertctl COMMAND [ARGS...]\n\ncommands:\n");
	ctl_print_usage(commands, "");
}

int main(int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		usage();
		return argc < 2 ? CTL_USAGE : CTL_OK;
	}
	cmd = ctl_find(commands, argv[1]);
	if (!cmd) {
		fprintf(stderr, "svrcertctl: unknown command '%s'\n", argv[1]);
		usage();
		return CTL_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
