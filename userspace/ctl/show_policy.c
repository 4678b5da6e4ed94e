// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show policy [-j]: the kernel's policy, in svrcert.conf's
 * words, each setting of svrcert.conf marked when the kernel's value is
 * a runtime override ("svrcertctl set", lib/policy_override.h) or
 * otherwise differs from the file.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/policy_override.h"
#include "netlink/nl_util.h"
#include "pki/store_env.h"

/* svrcert.conf's view, when there is a configuration file. */
struct conf_view {
	bool have;			/* a configuration file was read */
	struct policy_override o;	/* the recorded runtime override */
	bool pv;
	enum svrcert_failure_mode fm;
	int port_min, port_max;		/* 0-65535 when svr-ports is unset */
};

static void conf_view_load(struct conf_view *v, const struct svrcert_env_args *a)
{
	struct svrcert_env env;
	char err[512];

	memset(v, 0, sizeof(*v));
	if (svrcert_env_open(&env, a, err, sizeof(err)))
		return;
	v->have = env.have_cfg;
	if (policy_override_load(&env.st, &v->o))
		memset(&v->o, 0, sizeof(v->o));
	v->pv = env.cfg.peer_validation;
	v->fm = env.cfg.failure_mode;
	v->port_min = env.cfg.svr_port_max ? env.cfg.svr_port_min : 0;
	v->port_max = env.cfg.svr_port_max ? env.cfg.svr_port_max : 65535;
	svrcert_env_close(&env);
}

/* The note after a setting: "" when the kernel follows svrcert.conf. */
static void note(const struct conf_view *v, bool overridden, bool differs,
		 const char *conf_value, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!v->have || (!overridden && !differs))
		return;
	snprintf(buf, len, overridden ? "runtime override; svrcert.conf: %s" :
		 "differs from svrcert.conf: %s", conf_value);
}

struct row {
	const char *name;	/* svrcert.conf's key */
	char value[32], conf[32], note[96];
	bool overridden;
};

static void row_set(struct row *r, const char *name, const char *value,
		    const char *conf, bool overridden, const struct conf_view *v)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	snprintf(r->value, sizeof(r->value), "%s", value);
	snprintf(r->conf, sizeof(r->conf), "%s", conf);
	r->overridden = overridden;
	note(v, overridden, strcmp(value, conf) != 0, conf, r->note,
	     sizeof(r->note));
}

static void rows_fill(const struct svrcert_policy *p, const struct conf_view *v,
		      struct row r[3])
{
	char kp[32], cp[32];

	row_set(&r[0], "peer-validation", p->peer_validation ? "true" : "false",
		v->pv ? "true" : "false", v->o.has_pv, v);
	row_set(&r[1], "failure-mode",
		svrcert_nl_failure_mode_name(p->failure_mode),
		svrcert_failure_mode_name(v->fm), v->o.has_fm, v);
	snprintf(kp, sizeof(kp), "%d-%d", p->port_min, p->port_max);
	snprintf(cp, sizeof(cp), "%d-%d", v->port_min, v->port_max);
	row_set(&r[2], "svr-ports", kp, cp, v->o.has_ports, v);
}

static int print_json(const struct svrcert_policy *p, const struct row r[3])
{
	json_t *o = json_object(), *ovr = json_array();
	int i;

	if (!o || !ovr) {
		json_decref(ovr);
		return ctl_json_print(o);
	}
	json_object_set_new(o, "peer_validation", json_boolean(p->peer_validation));
	json_object_set_new(o, "failure_mode",
			    json_string(svrcert_nl_failure_mode_name(p->failure_mode)));
	json_object_set_new(o, "self_state", json_string(svrcert_nl_state_name(p->self_state)));
	json_object_set_new(o, "port_min", json_integer(p->port_min));
	json_object_set_new(o, "port_max", json_integer(p->port_max));
	json_object_set_new(o, "uapi_version", json_integer(p->version));
	/* settings that are not svrcert.conf's: [{setting, value, config,
	 * runtime_override}] ("runtime_override" false: changed by other
	 * means, e.g. set without a svrcertd running) */
	for (i = 0; i < 3; i++)
		if (r[i].note[0])
			json_array_append_new(ovr, json_pack("{s:s, s:s, s:s, s:b}",
				"setting", r[i].name, "value", r[i].value,
				"config", r[i].conf, "runtime_override",
				r[i].overridden));
	json_object_set_new(o, "not_as_configured", ovr);
	return ctl_json_print(o);
}

static int print_text(const struct svrcert_policy *p, const struct row r[3])
{
	char key[32];
	int i;

	/* aligned "key: value" in svrcert.conf's words */
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "%s:", r[i].name);
		printf("%-17s %s%s%s%s\n", key, r[i].value, r[i].note[0] ?
		       "  (" : "", r[i].note, r[i].note[0] ? ")" : "");
	}
	printf("%-17s %s\n", "self-state:", svrcert_nl_state_name(p->self_state));
	printf("%-17s %u\n", "uapi-version:", p->version);
	return CTL_OK;
}

int show_policy(int argc, char **argv)
{
	struct svrcert_env_args args = { 0 };
	bool json = ctl_take_json_flag(&argc, argv);
	struct svrcert_policy p;
	struct conf_view v;
	struct svrcert_nl *nl;
	struct row r[3];
	int err, ret;

	if (svrcert_env_take_args(&argc, argv, &args) || argc != 1) {
		fprintf(stderr, "usage: svrcertctl show policy [-j]\n");
		return CTL_USAGE;
	}
	nl = ctl_nl_open("show policy");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_get_policy(nl, &p);
	if (err) {
		ret = ctl_nl_fail(nl, "show policy", err);
	} else {
		conf_view_load(&v, &args);
		rows_fill(&p, &v, r);
		ret = json ? print_json(&p, r) : print_text(&p, r);
	}
	ctl_nl_close(nl);
	return ret;
}
