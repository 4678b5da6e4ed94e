// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl set SETTING VALUE [SETTING VALUE...]: change the kernel's
 * policy. All settings of one command go in one message, so they take
 * effect together or not at all. The settings of svrcert.conf are
 * runtime overrides of it (lib/policy_override.h), never an edit of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/ctlsock.h"
#include "lib/policy_override.h"
#include "netlink/nl_util.h"
#include "pki/store_env.h"

static int parse_bool(const char *s, struct svrcert_policy *p)
{
	bool v;

	/* svrcert.conf's words: true/false, on/off, yes/no, 1/0 */
	if (svrcert_parse_bool(s, &v))
		return -EINVAL;
	p->peer_validation = v;
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

/*
 * The names of svrcert.conf (peer-validation, failure-mode, svr-ports);
 * the older spellings still work. OVR: a setting of svrcert.conf, so
 * setting it is a runtime override (policy_override.h); self-state is
 * not (the next own-certificate check of svrcertd sets it again).
 */
enum { OVR_NONE, OVR_PV, OVR_FM, OVR_PORTS };
static const struct setting {
	const char *name;
	const char *alias;
	int (*parse)(const char *s, struct svrcert_policy *p);
	const char *values;
	int ovr;
} settings[] = {
	{ "peer-validation", NULL, parse_bool, "true|false (on|off)|config",
	  OVR_PV },
	{ "failure-mode", "invalid-certificate-behavior", parse_mode,
	  "fail-soft|fail-hard|config", OVR_FM },
	{ "svr-ports", "ports", parse_ports, "MIN-MAX (0-65535)|config",
	  OVR_PORTS },
	{ "self-state", NULL, parse_self_state,
	  "valid|invalid|revoked|expired|not-yet-valid|unknown", OVR_NONE },
	{ NULL, NULL, NULL, NULL, OVR_NONE },
};

static void usage(void)
{
	const struct setting *s;

	fprintf(stderr, "usage: svrcertctl set SETTING VALUE [SETTING VALUE...]\n");
	for (s = settings; s->name; s++)
		fprintf(stderr, "  set %s %s\n", s->name, s->values);
}

/* What one command asks: the kernel policy P, and per overridable
 * setting whether it is set (1), returned to svrcert.conf (-1) or left. */
struct set_request {
	struct svrcert_policy p;
	int ovr[4];			/* by OVR_* */
};

static const struct setting *find_setting(const char *name)
{
	const struct setting *s;

	for (s = settings; s->name; s++)
		if (!strcmp(s->name, name) || (s->alias && !strcmp(s->alias, name)))
			return s;
	return NULL;
}

static int parse_settings(int argc, char **argv, struct set_request *q)
{
	int i;

	for (i = 1; i < argc; i += 2) {
		const struct setting *s = find_setting(argv[i]);

		if (!s) {
			usage();
			return ctl_usage_error("set", "unknown setting '%s'", argv[i]);
		}
		if (i + 1 >= argc)
			return ctl_usage_error("set", "%s needs a value: %s", s->name, s->values);
		if (s->ovr && !strcmp(argv[i + 1], "config"))
			q->ovr[s->ovr] = -1;
		else if (s->parse(argv[i + 1], &q->p))
			return ctl_usage_error("set", "%s: bad value '%s' (expected %s)",
					       s->name, argv[i + 1], s->values);
		else if (s->ovr)
			q->ovr[s->ovr] = 1;
	}
	return CTL_OK;
}

/* "config": svrcert.conf's value (the defaults without a file). */
static void take_config(struct set_request *q, const struct svrcert_config *c)
{
	if (q->ovr[OVR_PV] < 0)
		q->p.peer_validation = c && c->peer_validation;
	if (q->ovr[OVR_FM] < 0)
		q->p.failure_mode = c ? (int)c->failure_mode : SVRCERT_FAIL_SOFT;
	/* unset svr-ports: the kernel's whole range, as after a load */
	if (q->ovr[OVR_PORTS] < 0) {
		q->p.port_min = c && c->svr_port_max ? c->svr_port_min : 0;
		q->p.port_max = c && c->svr_port_max ? c->svr_port_max : 65535;
	}
}

static void merge(struct policy_override *o, const struct set_request *q)
{
	if (q->ovr[OVR_PV]) {
		o->has_pv = q->ovr[OVR_PV] > 0;
		o->pv = q->p.peer_validation;
	}
	if (q->ovr[OVR_FM]) {
		o->has_fm = q->ovr[OVR_FM] > 0;
		o->fm = q->p.failure_mode;
	}
	if (q->ovr[OVR_PORTS]) {
		o->has_ports = q->ovr[OVR_PORTS] > 0;
		o->port_min = q->p.port_min;
		o->port_max = q->p.port_max;
	}
}

/*
 * Tell the running svrcertd at once (its "check"): severing and resuming
 * peerings follow the policy, and without this they would wait for its
 * next periodic check, up to an hour. The kernel has the policy already,
 * so a daemon that does not answer costs a warning, not the command.
 */
static void notify_daemon(struct svrcert_env *env)
{
	json_t *req = json_pack("{s:s}", "command", "check"), *resp = NULL;
	int ret;

	ret = req ? ctlsock_request(svrcert_env_control_socket(env), req, &resp) :
		    -ENOMEM;
	if (!ret && !json_is_true(json_object_get(resp, "ok")))
		ret = -EPROTO;
	if (ret)
		fprintf(stderr, "svrcertctl: set: applied and recorded, but "
			"svrcertd was not told (%s): its next check applies it "
			"to the peerings\n", ret == -EPROTO ?
			json_string_value(json_object_get(resp, "error")) ?: "refused" :
			strerror(-ret));
	json_decref(resp);
	json_decref(req);
}

/*
 * After the kernel took it: record the override where the running svrcertd
 * finds it at its next reload, and tell svrcertd. Without a svrcertd there
 * is nothing to keep it from (it starts from svrcert.conf, and says so in
 * the man page).
 */
static void record(struct svrcert_env *env, const struct set_request *q)
{
	struct policy_override o;
	char what[512];
	int ret;

	if (!q->ovr[OVR_PV] && !q->ovr[OVR_FM] && !q->ovr[OVR_PORTS])
		return;
	if (!ctlsock_in_use(svrcert_env_control_socket(env)))
		return;
	ret = store_lock(&env->st);
	if (!ret)
		ret = policy_override_load(&env->st, &o);
	if (ret == -EBADMSG)	/* damaged: this command's settings replace it */
		ret = 0;
	if (!ret) {
		merge(&o, q);
		ret = policy_override_save(&env->st, &o);
	}
	store_unlock(&env->st);	/* the daemon's check takes it */
	if (ret) {
		fprintf(stderr, "svrcertctl: set: applied, but not recorded in "
			"%s/%s (%s): svrcertd's next reload restores svrcert.conf's "
			"policy\n", env->st.dir, STORE_POLICY_OVERRIDE, strerror(-ret));
		return;
	}
	policy_override_describe(&o, env->have_cfg ? &env->cfg : NULL, what,
				 sizeof(what));
	if (*what)
		printf("runtime override (kept by svrcertd's reload, ended by "
		       "'set SETTING config' or a restart): %s\n", what);
	notify_daemon(env);
}

static int apply(struct svrcert_env *env, bool have_env, struct set_request *q)
{
	struct svrcert_nl *nl;
	int err, ret;

	nl = ctl_nl_open("set");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_set_policy(nl, &q->p);
	ret = err ? ctl_nl_fail(nl, "set", err) : CTL_OK;
	ctl_nl_close(nl);
	if (ret == CTL_OK && have_env)
		record(env, q);
	return ret;
}

int cmd_set(int argc, char **argv)
{
	struct svrcert_env_args args = { 0 };
	struct set_request q = { .ovr = { 0 } };
	struct svrcert_env env;
	bool have_env;
	char err[512];
	int ret;

	if (svrcert_env_take_args(&argc, argv, &args) || argc < 3) {
		usage();
		return CTL_USAGE;
	}
	svrcert_policy_init_keep(&q.p);
	ret = parse_settings(argc, argv, &q);
	if (ret != CTL_OK)
		return ret;
	have_env = !svrcert_env_open(&env, &args, err, sizeof(err));
	if (!have_env && (q.ovr[OVR_PV] < 0 || q.ovr[OVR_FM] < 0 ||
			  q.ovr[OVR_PORTS] < 0)) {
		fprintf(stderr, "svrcertctl: set: 'config' needs the "
			"configuration: %s\n", err);
		return CTL_FAIL;
	}
	take_config(&q, have_env && env.have_cfg ? &env.cfg : NULL);
	ret = apply(&env, have_env, &q);
	if (have_env)
		svrcert_env_close(&env);
	return ret;
}
