// SPDX-License-Identifier: GPL-2.0
/* svrcertctl set's runtime policy override (policy_override.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_override.h"
#include "store_json.h"
#include "util.h"

static int parse(json_t *root, struct policy_override *o)
{
	json_t *pv = json_object_get(root, "peer-validation");
	json_t *fm = json_object_get(root, "failure-mode");
	json_t *pmin = json_object_get(root, "svr-port-min");
	json_t *pmax = json_object_get(root, "svr-port-max");
	const char *mode = json_string_value(fm);

	if ((pv && !json_is_boolean(pv)) || (fm && !mode) ||
	    (!pmin != !pmax) || (pmin && (!json_is_integer(pmin) ||
	    !json_is_integer(pmax) || json_integer_value(pmin) < 0 ||
	    json_integer_value(pmin) > json_integer_value(pmax) ||
	    json_integer_value(pmax) > 65535)))
		return -EBADMSG;
	o->has_pv = pv != NULL;
	o->pv = json_is_true(pv);
	o->has_fm = mode != NULL;
	if (mode && !strcmp(mode, "fail-hard"))
		o->fm = SVRCERT_FAIL_HARD;
	else if (mode && strcmp(mode, "fail-soft"))
		return -EBADMSG;
	o->has_ports = pmin != NULL;
	o->port_min = (int)json_integer_value(pmin);
	o->port_max = (int)json_integer_value(pmax);
	return 0;
}

int policy_override_load(const struct svrcert_store *st,
			 struct policy_override *o)
{
	json_t *root;
	int ret;

	memset(o, 0, sizeof(*o));
	o->fm = SVRCERT_FAIL_SOFT;
	ret = store_read_json(st, STORE_POLICY_OVERRIDE, &root);
	if (ret || !root)
		return ret;
	ret = json_is_object(root) ? parse(root, o) : -EBADMSG;
	json_decref(root);
	if (ret)
		memset(o, 0, sizeof(*o));
	return ret;
}

bool policy_override_any(const struct policy_override *o)
{
	return o->has_pv || o->has_fm || o->has_ports;
}

int policy_override_save(const struct svrcert_store *st,
			 const struct policy_override *o)
{
	json_t *root;
	char *text;
	int ret;

	if (!policy_override_any(o)) {
		ret = store_remove(st, STORE_POLICY_OVERRIDE);
		return ret == -ENOENT ? 0 : ret;
	}
	root = json_object();
	if (root && o->has_pv)
		json_object_set_new(root, "peer-validation", json_boolean(o->pv));
	if (root && o->has_fm)
		json_object_set_new(root, "failure-mode",
				    json_string(svrcert_failure_mode_name(o->fm)));
	if (root && o->has_ports) {
		json_object_set_new(root, "svr-port-min", json_integer(o->port_min));
		json_object_set_new(root, "svr-port-max", json_integer(o->port_max));
	}
	text = root ? json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
	json_decref(root);
	if (!text)
		return -ENOMEM;
	ret = store_write(st, STORE_POLICY_OVERRIDE, text, strlen(text),
			  STORE_MODE_PUBLIC);
	free(text);
	return ret;
}

void policy_override_apply(const struct policy_override *o,
			   const struct svrcert_config *cfg, bool *pv,
			   enum svrcert_failure_mode *fm, int *port_min,
			   int *port_max)
{
	*pv = o->has_pv ? o->pv : cfg && cfg->peer_validation;
	*fm = o->has_fm ? o->fm : cfg ? cfg->failure_mode : SVRCERT_FAIL_SOFT;
	*port_min = o->has_ports ? o->port_min : cfg ? cfg->svr_port_min : 0;
	*port_max = o->has_ports ? o->port_max : cfg ? cfg->svr_port_max : 0;
}

void policy_override_describe(const struct policy_override *o,
			      const struct svrcert_config *cfg, char *buf,
			      size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	if (o->has_pv)
		svrcert_appendf(buf, len, &pos, "peer-validation %s (svrcert.conf: "
				"%s)", o->pv ? "true" : "false",
				cfg && cfg->peer_validation ? "true" : "false");
	if (o->has_fm)
		svrcert_appendf(buf, len, &pos, "%sfailure-mode %s (svrcert.conf: "
				"%s)", pos ? ", " : "",
				svrcert_failure_mode_name(o->fm),
				svrcert_failure_mode_name(cfg ? cfg->failure_mode :
							  SVRCERT_FAIL_SOFT));
	if (o->has_ports && cfg && cfg->svr_port_max)
		svrcert_appendf(buf, len, &pos, "%ssvr-ports %d-%d (svrcert.conf: "
				"%u-%u)", pos ? ", " : "", o->port_min,
				o->port_max, cfg->svr_port_min, cfg->svr_port_max);
	else if (o->has_ports)
		svrcert_appendf(buf, len, &pos, "%ssvr-ports %d-%d (svrcert.conf: "
				"unset)", pos ? ", " : "", o->port_min, o->port_max);
}
