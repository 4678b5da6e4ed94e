// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl's help, printed from the dispatcher tables so that what
 * "svrcertctl --help" and "svrcertctl COMMAND --help" list is what the
 * dispatcher runs. Help asked for goes to stdout; the usage printed after
 * a mistake goes to stderr (the caller picks F).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "lib/config.h"
#include "lib/store.h"

/*
 * Each line of FORMS as "LEAD NAME FORM"; a continuation line (starting
 * with a blank) is indented under the form. LEAD is *FIRST for the first
 * line (then *FIRST becomes INDENT), INDENT for the others.
 */
static void print_forms(FILE *f, const char *name, const char *forms,
			const char **first, const char *indent)
{
	const char *p = forms, *nl;
	int len;

	do {
		nl = strchr(p, '\n');
		len = nl ? (int)(nl - p) : (int)strlen(p);
		if (*p == ' ')
			fprintf(f, "%s%*s%.*s\n", indent, (int)strlen(name),
				"", len, p);
		else
			fprintf(f, "%s%s%s%.*s\n", *first, name, *p ? " " : "",
				len, p);
		*first = indent;
		p = nl + 1;
	} while (nl);
}

void ctl_help_usage(FILE *f, const struct ctl_cmd *cmd, const char *prefix)
{
	const struct ctl_cmd *t;
	char name[80];

	if (!cmd->topics) {
		snprintf(name, sizeof(name), "svrcertctl %s", cmd->name);
		print_forms(f, name, cmd->usage, &prefix, "       ");
		return;
	}
	for (t = cmd->topics(); t->name; t++) {
		snprintf(name, sizeof(name), "svrcertctl %s %s", cmd->name,
			 t->name);
		print_forms(f, name, t->usage, &prefix, "       ");
	}
}

/* The command list: each form, then its summary. */
static void print_commands(FILE *f, const struct ctl_cmd *table,
			   const char *parent)
{
	const char *lead = "  ";
	char name[64];

	for (; table->name; table++) {
		if (table->topics) {
			print_commands(f, table->topics(), table->name);
			continue;
		}
		snprintf(name, sizeof(name), "%s%s%s", parent ? parent : "",
			 parent ? " " : "", table->name);
		print_forms(f, name, table->usage, &lead, "  ");
		fprintf(f, "      %s\n", table->summary);
	}
}

static const char global_options[] =
	"options, before or after COMMAND:\n"
	"  -c, --config FILE    the configuration (default "
	SVRCERT_DEF_CONFIG_PATH ";\n"
	"                       also $SVRCERT_CONFIG)\n"
	"      --state-dir DIR  the state directory (default the configuration's,\n"
	"                       else " SVRCERT_STATE_DIR_DEFAULT
	"; also $SVRCERT_STATE_DIR)\n"
	"  -j, --json           JSON output, for the commands that print data\n";

void ctl_help_all(FILE *f, const struct ctl_cmd *table)
{
	fprintf(f,
		"usage: svrcertctl [OPTIONS] COMMAND [ARGS...] [OPTIONS]\n"
		"       svrcertctl [OPTIONS] -b FILE [--force]\n"
		"       svrcertctl COMMAND --help | help [COMMAND [TOPIC]] | --version\n"
		"\n%s"
		"options before COMMAND:\n"
		"  -b, --batch FILE     run FILE's commands, one per line ('-': "
		"standard input;\n"
		"                       '#' comments); stop at the first that "
		"fails\n"
		"      --force          with -b: run every line, fail at the end\n"
		"  -n, --netns NETNS    in network namespace NETNS (a name in "
		"/run/netns,\n"
		"                       or a path), as ip -n; needs CAP_SYS_ADMIN\n"
		"  -h, --help           this help\n"
		"  -V, --version        the version\n"
		"\ncommands:\n", global_options);
	print_commands(f, table, NULL);
	fprintf(f, "  help [COMMAND [TOPIC]]\n      this help, or one "
		"command's\n\nsee svrcertctl(8)\n");
}

void ctl_help_one(FILE *f, const struct ctl_cmd *cmd, const char *topic)
{
	const struct ctl_cmd *t = topic && cmd->topics ?
				  ctl_find(cmd->topics(), topic) : NULL;
	const char *prefix = "usage: ";
	char name[80];

	if (t) {
		snprintf(name, sizeof(name), "svrcertctl %s %s", cmd->name,
			 t->name);
		print_forms(f, name, t->usage, &prefix, "       ");
		cmd = t;
	} else {
		ctl_help_usage(f, cmd, prefix);
	}
	if (cmd->summary)
		fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->details)
		fprintf(f, "%s\n", cmd->details);
	fprintf(f, "\n%s\nsee svrcertctl(8)\n", global_options);
}
