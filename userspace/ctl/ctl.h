/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertctl: one file per subcommand, found through the dispatcher
 * tables in svrcertctl.c (top level) and cmd_show.c (show topics).
 */
#ifndef SVRCERTCTL_CTL_H
#define SVRCERTCTL_CTL_H

#include <stdbool.h>

/* Exit statuses: 0 success, 1 the operation failed, 2 usage error. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl_cmd {
	const char *name;
	/* argv[0] is the subcommand's own name. Returns an exit status. */
	int (*run)(int argc, char **argv);
	const char *usage;	/* arguments, for "svrcertctl help" */
	const char *summary;	/* one line */
};

/* Find NAME in a NULL-terminated table, or NULL. */
const struct ctl_cmd *ctl_find(const struct ctl_cmd *table, const char *name);
/* Print a table's usage lines, prefixed with PREFIX. */
void ctl_print_usage(const struct ctl_cmd *table, const char *prefix);
/* True if argv holds "-j" or "--json"; removes it from argv. */
bool ctl_take_json_flag(int *argc, char **argv);

/* Top-level subcommands. */
int cmd_show(int argc, char **argv);		/* cmd_show.c */
int cmd_set(int argc, char **argv);		/* cmd_set.c */
int cmd_peer(int argc, char **argv);		/* cmd_peer.c */
int cmd_revoked(int argc, char **argv);		/* cmd_revoked.c */
int cmd_monitor(int argc, char **argv);		/* cmd_monitor.c */
int cmd_clear(int argc, char **argv);		/* cmd_clear.c */
int cmd_key(int argc, char **argv);		/* cmd_key.c */
int cmd_csr(int argc, char **argv);		/* cmd_csr.c */
int cmd_import(int argc, char **argv);		/* cmd_import.c */
int cmd_trusted_ca(int argc, char **argv);	/* cmd_trusted_ca.c */
int cmd_user(int argc, char **argv);		/* cmd_user.c */
int cmd_crl(int argc, char **argv);		/* cmd_crl.c */
int cmd_daemon(int argc, char **argv);		/* cmd_daemon.c */

/* show topics; argv[0] is the topic. */
int show_policy(int argc, char **argv);		/* show_policy.c */
int show_peers(int argc, char **argv);		/* show_peers.c */
int show_revoked(int argc, char **argv);	/* show_revoked.c */
int show_stats(int argc, char **argv);		/* show_stats.c: kernel data
						 * path; "stats security ..."
						 * goes to show_stats_security */
int show_stats_security(int argc, char **argv);	/* show_security.c */
int show_certificate(int argc, char **argv);	/* show_certificate.c */
int show_alarms(int argc, char **argv);		/* show_alarms.c */

#endif
