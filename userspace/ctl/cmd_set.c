// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl set SETTING VALUE [SETTING VALUE...]: change the kernel's
 * policy. All settings of one command go in one message, so they take
 * effect together or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "netlink/nl_util.h"

static int parse_on_off(const char *s, struct svrcert_policy *p)
{
	if (!strcmp(s, "on"))
		p->peer_validation = 1;
	else if (!strcmp(s, "off"))
		p->peer_validation = 0;
	else
		return -EINVAL;
	return 0;
}

static int parse_mode(const char *s, struct svrcert_policy *p)
{
	return svrcert_nl_failure_mode_parse(s, &p->failure_mode);
}

static int parse_self_state(const char *s, struct svrcert_policy *p)
{
	return svrcert_nl_state_parse(s, &p->self_state);
}

static int parse_port(const char *s, char **end, int *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v > 65535)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* "MIN-MAX" or a single port "N". */
static int parse_ports(const char *s, struct svrcert_policy *p)
{
	char *end;

	if (parse_port(s, &end, &p->port_min))
		return -EINVAL;
	if (!*end) {
		p->port_max = p->port_min;
		return 0;
	}
	if (*end != '-' || parse_port(end + 1, &end, &p->port_max) || *end)
		return -EINVAL;
	return p->port_min <= p->port_max ? 0 : -EINVAL;
}

static const struct setting {
	const char *name;
	int (*parse)(const char *s, struct svrcert_policy *p);
	const char *values;
} settings[] = {
	{ "peer-validation", parse_on_off, "on|off" },
	{ "failure-mode", parse_mode, "fail-soft|fail-hard" },
	{ "self-state", parse_self_state,
	  "valid|invalid|revoked|expired|not-yet-valid|unknown" },
	{ "ports", parse_ports, "MIN-MAX (0-65535)" },
	{ NULL, NULL, NULL },
};

static void usage(void)
{
	const struct setting *s;

	fprintf(stderr, "usage: svrcertctl set SETTING VALUE [SETTING VALUE...]\n");
	for (s = settings; s->name; s++)
		fprintf(stderr, "  set %s %s\n", s->name, s->values);
}

static int parse_settings(int argc, char **argv, struct svrcert_policy *p)
{
	int i;

	for (i = 1; i < argc; i += 2) {
		const struct setting *s;

		for (s = settings; s->name && strcmp(s->name, argv[i]); s++)
			;
		if (!s->name) {
			usage();
			return ctl_usage_error("set", "unknown setting '%s'", argv[i]);
		}
		if (i + 1 >= argc)
			return ctl_usage_error("set", "%s needs a value: %s", s->name, s->values);
		if (s->parse(argv[i + 1], p))
			return ctl_usage_error("set", "%s: bad value '%s' (expected %s)",
					       s->name, argv[i + 1], s->values);
	}
	return CTL_OK;
}

int cmd_set(int argc, char **argv)
{
	struct svrcert_policy p;
	struct svrcert_nl *nl;
	int ret, err;

	if (argc < 3) {
		usage();
		return CTL_USAGE;
	}
	svrcert_policy_init_keep(&p);
	ret = parse_settings(argc, argv, &p);
	if (ret != CTL_OK)
		return ret;
	nl = ctl_nl_open("set");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_set_policy(nl, &p);
	ret = err ? ctl_nl_fail(nl, "set", err) : CTL_OK;
	ctl_nl_close(nl);
	return ret;
}
