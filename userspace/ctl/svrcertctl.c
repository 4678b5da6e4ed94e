// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl: drive svrcert.ko over generic netlink and svrcertd over its
 * control socket. Each subcommand lives in its own file; this one holds
 * the table, the options every command shares and main().
 *
 * The shared options (-c/--config, --state-dir, -j) may come before or
 * after the command. --config and --state-dir reach the commands through
 * SVRCERT_CONFIG / SVRCERT_STATE_DIR, which every lifecycle command reads
 * (pki/store_env.h): given before the command they hold for the whole run
 * (every line of a batch), given on a command line only for that command.
 * -j is handed to the commands that print JSON and means nothing to the
 * others, as with ip -j.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/svrcert.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/version.h"

static const struct ctl_cmd commands[] = {
	{ "show", cmd_show, NULL, "print the kernel's and the daemon's state",
	  NULL, ctl_show_topics, CTL_JSON },
	{ "set", cmd_set, "SETTING VALUE [SETTING VALUE...]",
	  "change the kernel's policy (one command's settings: all or none)",
	  "SETTING VALUE: peer-validation true|false (on|off), "
	  "failure-mode fail-soft|fail-hard,\n  svr-ports MIN-MAX (0-65535), "
	  "self-state STATE\nSTATE: valid, invalid, revoked, expired, "
	  "not-yet-valid, unknown\nsvrcert.conf's names and words (ports and "
	  "invalid-certificate-behavior also work).\nA runtime override of "
	  "svrcert.conf, not an edit of it: svrcertd's reload keeps\n  it "
	  "(and logs it), a restart ends it; VALUE config returns to "
	  "svrcert.conf.\n  show policy marks it.", NULL, 0 },
	{ "peer", cmd_peer, "add|replace NAME CERT.pem ADDR... [state STATE]\n"
	  "state NAME STATE\ndel NAME\nrekey NAME|--all",
	  "bind a peer's certificate to its addresses in the kernel",
	  "STATE: valid (default), invalid, revoked, expired, not-yet-valid, "
	  "unknown.\n  rekey: svrcertd agrees new ESP keys with the peer now "
	  "([daemon] peer-keys).", NULL, 0 },
	{ "revoked", cmd_revoked, "add|del KEY...\nload FILE|-\nflush",
	  "change the kernel's revocation set",
	  "KEY: 64 hex digits; FILE: one KEY per line, '#' comments; "
	  "load replaces the set atomically", NULL, 0 },
	{ "clear", cmd_clear, "stats", "zero the kernel's data-path counters",
	  NULL, NULL, 0 },
	{ "monitor", cmd_monitor, "[-j]", "print kernel events as they happen",
	  NULL, NULL, CTL_JSON },
	{ "key", cmd_key, "generate [--algorithm ec|rsa] [--curve "
	  "P-256|P-384|P-521]\n  [--bits 2048|3072|4096] [--force]",
	  "generate this router's private key in the TPM", NULL, NULL, 0 },
	{ "csr", cmd_csr, "[SUBJECT...] [--san-dns NAME] [--san-ip ADDR]\n"
	  "  [--san-uri URI] [--san-email ADDR] [-o FILE]",
	  "create a certificate signing request",
	  "SUBJECT: --name NAME --cn CN --peering-name NAME --country CC "
	  "--state S\n  --locality L --organization O --org-unit OU --email E "
	  "--days N\nthe --san-* options may be repeated", NULL, 0 },
	{ "import", cmd_import, "CERT.pem [--identity NAME] [-j]",
	  "check and install this router's certificate", NULL, NULL, CTL_JSON },
	{ "trusted-ca", cmd_trusted_ca, "add NAME FILE [--mode strict|warn]\n"
	  "del NAME\nlist [-j]", "manage trusted CA bundles", NULL, NULL,
	  CTL_JSON },
	{ "daemon", cmd_daemon, "status|check|reload [-j]",
	  "ask a running svrcertd", NULL, NULL, CTL_JSON },
	{ "crl", cmd_crl, "fetch [--force] [URL]\nstatus [-j]",
	  "have svrcertd fetch CRLs now, or show its CRL sources", NULL, NULL,
	  CTL_JSON },
	{ "user", cmd_user, "add NAME [--role admin|operator] "
	  "[--password-stdin]\npasswd NAME [--password-stdin]\ndel NAME\n"
	  "revoke-tokens NAME\n"
	  "list [-j]", "manage REST API users", NULL, NULL, CTL_JSON },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

const struct ctl_cmd *ctl_find(const struct ctl_cmd *table, const char *name)
{
	for (; table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

const char *ctl_daemon_error(int err)
{
	if (err == -ETIMEDOUT)
		return "svrcertd did not answer in time (busy?); it may still "
		       "carry the request out: see 'svrcertctl daemon status'";
	if (err == -EACCES)
		return "refused: only root or the control group may ask svrcertd";
	return strerror(-err);
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

/* The shared options of one command line. */
struct line_opts {
	const char *config, *state_dir;
	bool json, help;
};

/*
 * Copy ARGV to OUT without the shared options, which go to LO; -h/--help
 * after the command asks for its help. Returns the words kept, or -1
 * (printed) when an option lacks its value.
 */
static int take_line_opts(int argc, char **argv, char **out,
			  struct line_opts *lo)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], **val = NULL;

		if (!strcmp(a, "-c") || !strcmp(a, "--config"))
			val = &lo->config;
		else if (!strcmp(a, "--state-dir"))
			val = &lo->state_dir;
		if (val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "svrcertctl: %s needs a value\n", a);
				return -1;
			}
			*val = argv[++i];
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			lo->json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			lo->help = true;
		} else {
			out[n++] = argv[i];
		}
	}
	out[n] = NULL;
	return n;
}

/* Set NAME to VALUE for one command; *SAVED (malloc'd) restores it. */
static void env_override(const char *name, const char *value, char **saved,
			 bool *done)
{
	const char *old = getenv(name);

	*done = value != NULL;
	if (!value)
		return;
	*saved = old ? strdup(old) : NULL;
	setenv(name, value, 1);
}

static void env_restore(const char *name, char *saved, bool done)
{
	if (!done)
		return;
	if (saved)
		setenv(name, saved, 1);
	else
		unsetenv(name);
	free(saved);
}

static int dispatch(int argc, char **argv, const struct line_opts *lo)
{
	const struct ctl_cmd *cmd;
	char *old_cfg = NULL, *old_dir = NULL;
	bool cfg_set, dir_set;
	int ret;

	if (!strcmp(argv[0], "help")) {
		cmd = argc > 1 ? ctl_find(commands, argv[1]) : NULL;
		if (argc > 1 && !cmd) {
			fprintf(stderr, "svrcertctl: help: no command '%s'\n", argv[1]);
			return CTL_USAGE;
		}
		if (cmd)
			ctl_help_one(stdout, cmd, argc > 2 ? argv[2] : NULL);
		else
			ctl_help_all(stdout, commands);
		return CTL_OK;
	}
	cmd = ctl_find(commands, argv[0]);
	if (!cmd) {
		fprintf(stderr, "svrcertctl: unknown command '%s' "
			"(svrcertctl --help lists them)\n", argv[0]);
		return CTL_USAGE;
	}
	if (lo->help) {
		ctl_help_one(stdout, cmd, argc > 1 ? argv[1] : NULL);
		return CTL_OK;
	}
	if (lo->json && (cmd->flags & CTL_JSON))
		argv[argc++] = "-j";
	env_override("SVRCERT_CONFIG", lo->config, &old_cfg, &cfg_set);
	env_override("SVRCERT_STATE_DIR", lo->state_dir, &old_dir, &dir_set);
	ret = cmd->run(argc, argv);
	env_restore("SVRCERT_CONFIG", old_cfg, cfg_set);
	env_restore("SVRCERT_STATE_DIR", old_dir, dir_set);
	return ret;
}

int ctl_run(int argc, char **argv, bool json)
{
	struct line_opts lo = { .json = json };
	/* room for every word, the -j handed on and the NULL */
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int n, ret = CTL_USAGE;

	if (!args) {
		fprintf(stderr, "svrcertctl: out of memory\n");
		return CTL_FAIL;
	}
	n = take_line_opts(argc, argv, args, &lo);
	if (n == 0 && lo.help) {
		ctl_help_all(stdout, commands);
		ret = CTL_OK;
	} else if (n == 0)
		fprintf(stderr, "svrcertctl: no command (svrcertctl --help "
			"lists them)\n");
	else if (n > 0 && args[0][0] == '-')
		fprintf(stderr, "svrcertctl: unknown option '%s' (svrcertctl "
			"--help lists them)\n", args[0]);
	else if (n > 0)
		ret = dispatch(n, args, &lo);
	free(args);
	return ret;
}

/* The options before the command that only the whole run takes. */
struct run_opts {
	const char *batch;
	const char *netns;
	bool force, help, version;
};

/*
 * -n NETNS, as ip -n: run in the network namespace NETNS (a name under
 * /run/netns, as `ip netns add` makes, or a path such as /proc/PID/ns/net).
 * Only the network namespace changes, so svrcert.ko's state of that
 * namespace is what the netlink commands see, while files and svrcertd's
 * control socket are found as before -- unlike `ip netns exec`, which
 * also remounts /sys and costs a program start. Returns 0 or -1 (printed).
 */
static int enter_netns(const char *netns)
{
	char path[4096];
	int fd, ret = 0;

	if (strchr(netns, '/'))
		snprintf(path, sizeof(path), "%s", netns);
	else if (!*netns || !strcmp(netns, ".") || !strcmp(netns, "..") ||
		 snprintf(path, sizeof(path), "/run/netns/%s", netns) >=
		 (int)sizeof(path)) {
		fprintf(stderr, "svrcertctl: -n: '%s' is not a namespace name\n",
			netns);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "svrcertctl: -n %s: %s: %s\n", netns, path,
			strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Take the run options before the command out of ARGV (the shared options
 * stay, for ctl_run). Returns the new argc, or -1 (printed).
 */
static int take_run_opts(int argc, char **argv, struct run_opts *ro)
{
	bool in_cmd = false;
	int i, n = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (in_cmd) {
			argv[n++] = argv[i];
		} else if (!strcmp(a, "-b") || !strcmp(a, "--batch")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "svrcertctl: %s needs a FILE\n", a);
				return -1;
			}
			ro->batch = argv[++i];
		} else if (!strcmp(a, "-n") || !strcmp(a, "--netns")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "svrcertctl: %s needs a NETNS\n", a);
				return -1;
			}
			ro->netns = argv[++i];
		} else if (!strcmp(a, "--force")) {
			ro->force = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			ro->help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			ro->version = true;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config") ||
			   !strcmp(a, "--state-dir")) {
			argv[n++] = argv[i];
			if (i + 1 < argc)
				argv[n++] = argv[++i];
		} else {
			in_cmd = strcmp(a, "-j") && strcmp(a, "--json");
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	struct run_opts ro = { 0 };
	struct line_opts lo = { 0 };
	int n = take_run_opts(argc, argv, &ro);

	if (n < 0)
		return CTL_USAGE;
	if (ro.help) {
		ctl_help_all(stdout, commands);
		return CTL_OK;
	}
	if (ro.version) {
		printf("svrcertctl %s (generic netlink family %s, version %d)\n",
		       SVRCERT_VERSION_STRING, SVRCERT_GENL_NAME,
		       SVRCERT_GENL_VERSION);
		return CTL_OK;
	}
	if (argc == 1) {
		ctl_help_all(stderr, commands);
		return CTL_USAGE;
	}
	if (ro.force && !ro.batch) {
		fprintf(stderr, "svrcertctl: --force before the command goes "
			"with -b FILE (a command's own --force comes after it)\n");
		return CTL_USAGE;
	}
	if (n == 1 && !ro.batch) {	/* only run options: no command */
		ctl_help_all(stderr, commands);
		return CTL_USAGE;
	}
	if (ro.netns && enter_netns(ro.netns))
		return CTL_FAIL;
	if (!ro.batch)
		return ctl_run(n - 1, argv + 1, false);
	/* -b: the shared options on the command line hold for every line. */
	if (take_line_opts(n - 1, argv + 1, argv + 1, &lo) != 0 || lo.help) {
		fprintf(stderr, "svrcertctl: -b FILE takes no command on the "
			"command line; the commands are FILE's lines\n");
		return CTL_USAGE;
	}
	if (lo.config)
		setenv("SVRCERT_CONFIG", lo.config, 1);
	if (lo.state_dir)
		setenv("SVRCERT_STATE_DIR", lo.state_dir, 1);
	return ctl_batch(ro.batch, ro.force, lo.json);
}
