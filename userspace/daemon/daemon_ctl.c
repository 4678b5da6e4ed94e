// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's control socket: one JSON request line, one JSON response
 * line, per connection (see ctlsock.h). Peers that are neither root nor in
 * the control group are hung up on before a byte is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "pki/alarm.h"
#include "lib/ctlsock.h"
#include "daemon.h"
#include "daemon_crl.h"
#include "daemon_peers.h"
#include "lib/util.h"
#include "lib/version.h"

/* A slow client may hold the loop at most this long. */
#define CTL_CLIENT_TIMEOUT_MS	2000

static json_t *certificate_json(const struct own_cert_status *s)
{
	char na[32];

	if (!s->present)
		return json_pack("{s:b}", "present", 0);
	svrcert_time_iso8601(s->not_after, na, sizeof(na));
	return json_pack("{s:b, s:s, s:s, s:I, s:s}", "present", 1,
			 "state", cert_state_name(s->state), "not_after", na,
			 "days_left", (json_int_t)s->days_left,
			 "problems", s->message);
}

static json_t *alarms_json(struct daemon *d)
{
	struct alarm_set set;

	json_t *all = alarm_load(&d->env.st, &set) ? json_array() :
		      alarm_set_json(&set);
	json_t *peers = daemon_peers_alarms_json(d);
	json_t *crls = daemon_crl_alarms_json(d);

	/* The own certificate's alarms, one per failing peer, the CRLs'. */
	json_array_extend(all, peers);
	json_decref(peers);
	json_array_extend(all, crls);
	json_decref(crls);
	return all;
}

static json_t *status_json(struct daemon *d)
{
	char last[32];

	svrcert_time_iso8601(d->last_check, last, sizeof(last));
	return json_pack("{s:b, s:s, s:s, s:s?, s:o, s:o, s:s, s:s, s:i, s:b}",
			 "ok", 1, "version", svrcert_version,
			 "state_dir", d->env.st.dir,
			 "config", d->env.have_cfg ? d->env.cfg.path : NULL,
			 "certificate", certificate_json(&d->status),
			 "alarms", alarms_json(d), "kernel", d->kernel_msg,
			 "last_check", last,
			 "check_interval_s", (int)d->check_interval_s,
			 "check_pending", d->check_pending);
}

static json_t *error_json(const char *what, const char *detail)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s: %s", what, detail);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *dispatch(struct daemon *d, const char *line)
{
	json_t *req = json_loads(line, 0, NULL), *resp;
	const char *cmd = json_string_value(json_object_get(req, "command"));
	char err[512];

	if (!cmd)
		resp = error_json("bad request", "expected {\"command\": ...}");
	else if (!strcmp(cmd, "status"))
		resp = status_json(d);
	else if (!strcmp(cmd, "check")) {
		daemon_check(d);
		resp = status_json(d);
	} else if (!strcmp(cmd, "reload"))
		resp = daemon_reload(d, err, sizeof(err)) ?
		       error_json("reload failed, previous configuration kept", err) :
		       status_json(d);
	else if (!strcmp(cmd, "peers"))
		resp = daemon_peers_json(d);
	else if (!strcmp(cmd, "crl"))
		resp = daemon_crl_json(d);
	else if (!strcmp(cmd, "crl-fetch"))
		resp = daemon_crl_fetch_now(d, json_string_value(
				json_object_get(req, "url")),
				json_is_true(json_object_get(req, "force")));
	else if (!strcmp(cmd, "alarms"))
		resp = json_pack("{s:b, s:o}", "ok", 1, "alarms", alarms_json(d));
	else
		resp = error_json("unknown command", cmd);
	json_decref(req);
	store_unlock(&d->env.st);
	return resp;
}

void daemon_ctl_accept(struct daemon *d)
{
	char *line = NULL;
	json_t *resp;
	uid_t uid = (uid_t)-1;
	int fd, ret;

	fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!ctlsock_peer_allowed(fd, d->have_group, d->group, &uid)) {
		syslog(LOG_WARNING, "control socket: refused uid %d (not root "
		       "nor in the control group)", (int)uid);
		close(fd);
		return;
	}
	ret = ctlsock_read_line(fd, CTL_CLIENT_TIMEOUT_MS, &line);
	if (ret) {
		syslog(LOG_NOTICE, "control socket: uid %d: %s", (int)uid,
		       strerror(-ret));
		close(fd);
		return;
	}
	resp = dispatch(d, line);
	if (resp)
		ctlsock_write_json(fd, resp);
	json_decref(resp);
	free(line);
	close(fd);
}
