// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show events [--type TYPE] [--since TIME] [-j]
 *
 * The audit log in the seed's layout: a bar, the time and the event's
 * title, a bar, then Type, Node, Description, Json Event Detail and
 * Permitted. --type keeps one type (e.g. system.crl_update); --since keeps
 * events at or after TIME: an ISO 8601 UTC time or date
 * (2025-03-19T20:50:35Z, 2025-03-19) or an age (90s, 30m, 12h, 7d).
 * -j prints the matching events as a JSON array of the logged objects.
 *
 * Logged text is someone's input (a CSR's names, a peer's certificate):
 * control characters are printed escaped, never raw to the terminal.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/audit.h"
#include "lib/store.h"
#include "pki/store_env.h"

#define BAR_WIDTH 78

struct event_filter {
	const char *type;
	char since[32];		/* "" or "YYYY-MM-DDTHH:MM:SS" (UTC) */
};

/* Timestamps are fixed-width UTC ISO 8601, so they compare as strings. */
static int parse_since(const char *arg, char *out, size_t outlen)
{
	static const struct { char unit; long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char *end;
	long n;
	size_t i;
	time_t t;
	struct tm tm;

	n = strtol(arg, &end, 10);
	for (i = 0; end != arg && n >= 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (end[0] != units[i].unit || end[1])
			continue;
		t = time(NULL) - n * units[i].secs;
		gmtime_r(&t, &tm);
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(arg, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end + 1, "%H:%M", &tm);
	if (end && *end == ':')
		end = strptime(end + 1, "%S", &tm);
	if (end && *end == 'Z')
		end++;
	if (!end || *end)
		return -EINVAL;
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
}

static const char *member(json_t *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(ev, key));

	return v ? v : "";
}

static bool event_matches(json_t *ev, const struct event_filter *f)
{
	if (f->type && strcmp(member(ev, "type"), f->type))
		return false;
	return !f->since[0] || strcmp(member(ev, "timestamp"), f->since) >= 0;
}

/* S with control characters (and DEL) escaped as \xNN. */
static void print_safe(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void print_field(const char *name, const char *value)
{
	printf(" %-19s ", name);
	print_safe(value);
	putchar('\n');
}

static void print_event(json_t *ev)
{
	const char *title = audit_type_title(member(ev, "type"));
	char *detail = json_dumps(json_object_get(ev, "detail"),
				  JSON_COMPACT | JSON_ENCODE_ANY);
	char bar[BAR_WIDTH + 1];

	memset(bar, '=', BAR_WIDTH);
	bar[BAR_WIDTH] = '\0';
	printf("%s\n ", bar);
	print_safe(member(ev, "timestamp"));
	putchar(' ');
	print_safe(title ? title : member(ev, "description"));
	printf("\n%s\n", bar);
	print_field("Type:", member(ev, "type"));
	print_field("Node:", member(ev, "node"));
	print_field("Description:", member(ev, "description"));
	print_field("Json Event Detail:", detail ? detail : "{}");
	print_field("Permitted:", json_is_true(json_object_get(ev, "permitted")) ?
		    "True" : "False");
	putchar('\n');
	free(detail);
}

/*
 * Read the log at PATH line by line; matching events are printed, or
 * collected into OUT (JSON). A line that is not an event object (a torn
 * write at the end of a log on a full disk) is counted in *BAD, not fatal.
 */
static int read_log(const char *path, const struct event_filter *f,
		    json_t *out, size_t *shown, size_t *bad)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	json_t *ev;

	if (!fp)
		return -errno;
	while (getline(&line, &cap, fp) > 0) {
		ev = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(ev)) {
			(*bad)++;
		} else if (event_matches(ev, f)) {
			(*shown)++;
			if (out)
				json_array_append(out, ev);
			else
				print_event(ev);
		}
		json_decref(ev);
	}
	free(line);
	fclose(fp);
	return 0;
}

static int parse_args(int argc, char **argv, struct event_filter *f)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			f->type = argv[++i];
		} else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			if (parse_since(argv[++i], f->since, sizeof(f->since))) {
				fprintf(stderr, "svrcertctl show events: --since %s: "
					"not an ISO 8601 time (2025-03-19T20:50:35Z, "
					"2025-03-19) nor an age (90s, 30m, 12h, 7d)\n",
					argv[i]);
				return -EINVAL;
			}
		} else {
			fprintf(stderr, "usage: svrcertctl show events [--type TYPE] "
				"[--since TIME] [-j]\n");
			return -EINVAL;
		}
	}
	return 0;
}

int show_events(int argc, char **argv)
{
	bool json = ctl_take_json_flag(&argc, argv);
	struct svrcert_env_args ea = { 0 };
	struct event_filter f = { 0 };
	struct svrcert_env env;
	size_t shown = 0, bad = 0;
	char err[512], path[4200];
	json_t *out = NULL;
	int ret;

	if (svrcert_env_take_args(&argc, argv, &ea) || parse_args(argc, argv, &f))
		return CTL_USAGE;
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl show events: %s\n", err);
		return CTL_FAIL;
	}
	if (env.audit.path)
		snprintf(path, sizeof(path), "%s", env.audit.path);
	else if (store_path(&env.st, STORE_AUDIT_LOG, path, sizeof(path)))
		path[0] = '\0';
	if (json)
		out = json_array();
	ret = path[0] ? read_log(path, &f, out, &shown, &bad) : -ENAMETOOLONG;
	svrcert_env_close(&env);
	if (ret == -ENOENT) {
		ret = 0;	/* nothing was ever logged */
	} else if (ret) {
		fprintf(stderr, "svrcertctl show events: %s: %s\n", path, strerror(-ret));
		json_decref(out);
		return CTL_FAIL;
	}
	if (bad)
		fprintf(stderr, "svrcertctl show events: %s: %zu line(s) that are "
			"not events skipped\n", path, bad);
	if (json)
		return ctl_json_print(out);
	if (!shown)
		printf("no events\n");
	return CTL_OK;
}
