// SPDX-License-Identifier: GPL-2.0
/* svrcertctl show policy [-j]: the kernel's policy. */
#include <stdio.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "netlink/nl_util.h"

static int print_json(const struct svrcert_policy *p)
{
	json_t *o = json_object();

	if (!o)
		return ctl_json_print(NULL);
	json_object_set_new(o, "peer_validation", json_boolean(p->peer_validation));
	json_object_set_new(o, "failure_mode",
			    json_string(svrcert_nl_failure_mode_name(p->failure_mode)));
	json_object_set_new(o, "self_state", json_string(svrcert_nl_state_name(p->self_state)));
	json_object_set_new(o, "port_min", json_integer(p->port_min));
	json_object_set_new(o, "port_max", json_integer(p->port_max));
	json_object_set_new(o, "uapi_version", json_integer(p->version));
	return ctl_json_print(o);
}

static int print_text(const struct svrcert_policy *p)
{
	printf("peer-validation: %s\n", p->peer_validation ? "on" : "off");
	printf("failure-mode: %s\n", svrcert_nl_failure_mode_name(p->failure_mode));
	printf("self-state: %s\n", svrcert_nl_state_name(p->self_state));
	printf("ports: %d-%d\n", p->port_min, p->port_max);
	printf("uapi-version: %u\n", p->version);
	return CTL_OK;
}

int show_policy(int argc, char **argv)
{
	bool json = ctl_take_json_flag(&argc, argv);
	struct svrcert_policy p;
	struct svrcert_nl *nl;
	int err, ret;

	if (argc != 1) {
		fprintf(stderr, "usage: svrcertctl show policy [-j]\n");
		return CTL_USAGE;
	}
	nl = ctl_nl_open("show policy");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_get_policy(nl, &p);
	if (err)
		ret = ctl_nl_fail(nl, "show policy", err);
	else
		ret = json ? print_json(&p) : print_text(&p);
	ctl_nl_close(nl);
	return ret;
}
