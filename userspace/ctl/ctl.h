/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svrcertctl: one file per subcommand, found through the dispatcher
 * tables in svrcertctl.c (top level) and cmd_show.c (show topics). The
 * tables are also the help text (ctl_help.c), so a command's forms are
 * written once.
 */
#ifndef SVRCERTCTL_CTL_H
#define SVRCERTCTL_CTL_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses: 0 success, 1 the operation failed, 2 usage error. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* ctl_cmd.flags */
enum { CTL_JSON = 1 };		/* prints JSON with -j */

struct ctl_cmd {
	const char *name;
	/* argv[0] is the subcommand's own name. Returns an exit status. */
	int (*run)(int argc, char **argv);
	/*
	 * The forms after "svrcertctl NAME ", one per line ('\n'); a line
	 * starting with a blank continues the form before it.
	 */
	const char *usage;
	const char *summary;	/* one line */
	const char *details;	/* NULL, or lines for "NAME --help" only */
	/* show: its topic table */
	const struct ctl_cmd *(*topics)(void);
	unsigned int flags;
};

/* Find NAME in a NULL-terminated table, or NULL. */
const struct ctl_cmd *ctl_find(const struct ctl_cmd *table, const char *name);
/* True if argv holds "-j" or "--json"; removes it from argv. */
bool ctl_take_json_flag(int *argc, char **argv);
/* What to say when svrcertd's reply failed with ERR (-errno): a timeout
 * says the request may still be carried out. */
const char *ctl_daemon_error(int err);

/*
 * Run one command line: ARGV[0] is the command (or "help"), options
 * -c/--config FILE, --state-dir DIR and -j/--json may come before it or
 * anywhere after it, -h/--help after it asks for its help. JSON: -j was
 * given before (to the whole run). Returns an exit status.
 */
int ctl_run(int argc, char **argv, bool json);

/* svrcertctl -b FILE: every line of FILE ("-": stdin) through ctl_run(). */
int ctl_batch(const char *path, bool force, bool json);

/* ctl_help.c: the help, from the tables. */
void ctl_help_all(FILE *f, const struct ctl_cmd *table);
/* One command's help; TOPIC (may be NULL) picks a show topic. */
void ctl_help_one(FILE *f, const struct ctl_cmd *cmd, const char *topic);
/* Only the "usage:" lines of CMD (its topics' for show), for misuse. */
void ctl_help_usage(FILE *f, const struct ctl_cmd *cmd, const char *prefix);

/* cmd_show.c: the show topics, for the help. */
const struct ctl_cmd *ctl_show_topics(void);

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
/* peer_keys.c: svrcertd's peer keys (show peers security, peer rekey) */
int show_peers_security(int argc, char **argv);
int peer_rekey(int argc, char **argv);
int show_revoked(int argc, char **argv);	/* show_revoked.c */
int show_stats(int argc, char **argv);		/* show_stats.c: kernel data
						 * path; "stats security ..."
						 * goes to show_stats_security */
int show_stats_security(int argc, char **argv);	/* show_security.c */
int show_certificate(int argc, char **argv);	/* show_certificate.c */
struct svrcert_env;
/* show certificate crl: each CRL once (show_crl.c) */
int show_crl(struct svrcert_env *env, bool json);
int show_alarms(int argc, char **argv);		/* show_alarms.c */
int show_events(int argc, char **argv);		/* show_events.c */
int show_conductor(int argc, char **argv);	/* show_conductor.c */

#endif
