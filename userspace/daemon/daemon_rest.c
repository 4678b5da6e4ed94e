// SPDX-License-Identifier: GPL-2.0
/* svrcertd glue for the REST API server (userspace/lib/rest*.c). */
#include <stdbool.h>
#include <string.h>
#include <syslog.h>

#include "daemon.h"
#include "daemon_rest.h"
#include "rest.h"

/* One daemon per process; struct daemon stays the loop's own. */
static struct rest_server *rest;

int daemon_rest_start(struct daemon *d)
{
	struct rest_config rc;
	char err[1024];
	bool v6;
	int ret;

	/* svrcert.conf was checked by its loader; [rest] changes take effect
	 * at the next start (a reload does not move the listener). */
	rest_config_from(d->env.have_cfg ? &d->env.cfg : NULL, &rc);
	if (!rc.host[0]) {
		syslog(LOG_INFO, "REST API off (no [rest] listen configured)");
		return 0;
	}
	ret = rest_server_start(&rc, &d->args, &rest, err, sizeof(err));
	if (ret) {
		syslog(LOG_ERR, "refusing to start: REST: %s", err);
		return ret;
	}
	v6 = strchr(rc.host, ':') != NULL;
	syslog(LOG_INFO, "REST API on https://%s%s%s:%u/api/v1 (certificate %s)",
	       v6 ? "[" : "", rc.host, v6 ? "]" : "", rest_server_port(rest),
	       rc.cert_file);
	return 0;
}

void daemon_rest_stop(struct daemon *d)
{
	rest_server_stop(rest);
	rest = NULL;
}
