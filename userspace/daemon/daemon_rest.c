// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd glue for the REST API server (userspace/rest/rest*.c): start,
 * reload ([rest] changes take effect; unchanged settings leave the
 * listener and its connections alone) and stop.
 *
 * Everything here runs in the loop's thread; its state is d->rest. The
 * loop and the server's request threads share no memory: the server
 * copies its settings at start (rest.h), and its requests reach the loop
 * only through the control socket.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>

#include "daemon.h"
#include "daemon_rest.h"
#include "rest/rest.h"

/* Descriptors a REST connection may hold while its request runs (its
 * socket, the state lock, a file or socket being read), and what the rest
 * of svrcertd keeps for itself. */
#define FDS_PER_CONN	3u
#define FDS_RESERVED	256u

/*
 * The connection limit must fit the descriptor limit, or a full server
 * would starve the loop (control socket, kernel, peers) of descriptors:
 * raise the soft limit as far as the hard one allows (systemd's default
 * soft limit is 1024), and if that is not enough serve fewer connections.
 */
static void fit_fd_limit(struct rest_config *rc)
{
	rlim_t need = (rlim_t)rc->conn_limit * FDS_PER_CONN + FDS_RESERVED;
	unsigned int wanted = rc->conn_limit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need)
		rl.rlim_cur = need;
	else
		rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rc->conn_limit = rl.rlim_cur > FDS_RESERVED + 16 * FDS_PER_CONN ?
			 (unsigned int)((rl.rlim_cur - FDS_RESERVED) / FDS_PER_CONN) :
			 16;
	if (rc->per_ip_limit > rc->conn_limit)
		rc->per_ip_limit = rc->conn_limit;
	syslog(LOG_WARNING, "REST: at most %u connections (open file limit "
	       "%llu; raise LimitNOFILE for %u)", rc->conn_limit,
	       (unsigned long long)rl.rlim_cur, wanted);
}

/* What ENV asks of the REST server. */
static void settings_of(const struct svrcert_env *env, struct rest_config *rc)
{
	rest_config_from(env->have_cfg ? &env->cfg : NULL, rc);
	if (rc->host[0])
		fit_fd_limit(rc);
	snprintf(rc->state_dir, sizeof(rc->state_dir), "%s", env->st.dir);
	if (env->audit.path)
		snprintf(rc->audit_path, sizeof(rc->audit_path), "%s",
			 env->audit.path);
}

static void log_serving(const struct rest_server *srv, const char *what,
			const struct rest_config *rc)
{
	bool v6 = strchr(rc->host, ':') != NULL;

	syslog(LOG_INFO, "REST API %s https://%s%s%s:%u/api/v1 (certificate %s)",
	       what, v6 ? "[" : "", rc->host, v6 ? "]" : "",
	       rest_server_port(srv), rc->cert_file);
}

int daemon_rest_start(struct daemon *d)
{
	struct rest_config rc;
	char err[1024];
	int ret;

	settings_of(&d->env, &rc);
	if (!rc.host[0]) {
		syslog(LOG_INFO, "REST API off (no [rest] listen configured)");
		return 0;
	}
	ret = rest_server_start(&rc, &d->args, &d->rest.srv, err, sizeof(err));
	if (ret) {
		syslog(LOG_ERR, "refusing to start: REST: %s", err);
		return ret;
	}
	log_serving(d->rest.srv, "on", &rc);
	return 0;
}

/* Free the retired servers that have finished. */
static void reap(struct daemon_rest *r)
{
	for (size_t i = 0; i < DAEMON_REST_RETIRED_MAX; i++) {
		if (r->retired[i] && rest_server_drained(r->retired[i])) {
			rest_server_stop(r->retired[i]);
			r->retired[i] = NULL;
		}
	}
}

/* Let SRV finish its requests in the background; with every slot taken
 * (reloads in quick succession), the oldest is stopped now. */
static void retire(struct daemon_rest *r, struct rest_server *srv)
{
	size_t i;

	reap(r);
	for (i = 0; i < DAEMON_REST_RETIRED_MAX && r->retired[i]; i++)
		;
	if (i == DAEMON_REST_RETIRED_MAX) {
		rest_server_stop(r->retired[0]);
		memmove(r->retired, r->retired + 1,
			sizeof(r->retired) - sizeof(*r->retired));
		i = DAEMON_REST_RETIRED_MAX - 1;
	}
	if (rest_server_retire(srv)) {
		rest_server_stop(srv);
		return;
	}
	r->retired[i] = srv;
}

int daemon_rest_reload(struct daemon *d, const struct svrcert_env *next,
		       char *err, size_t errlen)
{
	struct daemon_rest *r = &d->rest;
	struct rest_server *srv;
	struct rest_config rc;
	int ret;

	reap(r);
	settings_of(next, &rc);
	if (!rc.host[0]) {
		if (r->srv)
			syslog(LOG_INFO, "REST API off ([rest] listen removed)");
		if (r->srv)
			retire(r, r->srv);
		r->srv = NULL;
		return 0;
	}
	if (r->srv && rest_server_serves(r->srv, &rc))
		return 0;	/* untouched: its connections stay */
	ret = r->srv ? rest_server_replace(r->srv, &rc, &d->args, &srv, err,
					   errlen) :
	      rest_server_start(&rc, &d->args, &srv, err, errlen);
	if (ret)
		return ret;	/* the running server, if any, stays as it was */
	if (r->srv)
		retire(r, r->srv);
	r->srv = srv;
	log_serving(srv, "now on", &rc);
	return 0;
}

void daemon_rest_stop(struct daemon *d)
{
	for (size_t i = 0; i < DAEMON_REST_RETIRED_MAX; i++) {
		rest_server_stop(d->rest.retired[i]);
		d->rest.retired[i] = NULL;
	}
	rest_server_stop(d->rest.srv);
	d->rest.srv = NULL;
}
