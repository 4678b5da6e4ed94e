// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's control socket: one JSON request line, one JSON response
 * line, per connection (see ctlsock.h). Peers that are neither root nor in
 * the control group are hung up on before a byte is read.
 *
 * Every connection lives in the event loop, non-blocking, with its own
 * buffer and deadline: a client that sends nothing, sends slowly or does
 * not read its response holds only its own slot, never the loop. At most
 * DAEMON_CTL_CLIENTS_MAX are served at once; when all slots are taken,
 * the oldest one still waiting for its request makes room (the clients
 * that count, svrcertctl and the REST server, send theirs at once).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "pki/alarm.h"
#include "lib/ctlsock.h"
#include "daemon.h"
#include "daemon_conductor.h"
#include "daemon_crl.h"
#include "daemon_peers.h"
#include "lib/util.h"
#include "lib/version.h"

/* A client has this long to send its request line... */
#define CTL_REQUEST_TIMEOUT_MS	2000
/* ...and this long to read the response. */
#define CTL_RESPONSE_TIMEOUT_MS	CTLSOCK_TIMEOUT_MS
/* Connections accepted per loop turn (the rest wait in the backlog). */
#define CTL_ACCEPT_BURST	DAEMON_CTL_CLIENTS_MAX
#define CTL_BUF_MIN		512

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- the commands -------------------------------------------------- */

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
	svrcert_utf8_sanitize(msg);	/* DETAIL may be cut inside a character */
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
	else if (!strcmp(cmd, "peer-rekey"))
		resp = daemon_peers_rekey_json(d, json_string_value(
				json_object_get(req, "peer")));
	else if (!strcmp(cmd, "crl"))
		resp = daemon_crl_json(d);
	else if (!strcmp(cmd, "crl-fetch"))
		resp = daemon_crl_fetch_now(d, json_string_value(
				json_object_get(req, "url")),
				json_is_true(json_object_get(req, "force")));
	else if (!strcmp(cmd, "conductor"))
		resp = json_pack("{s:b, s:o, s:o}", "ok", 1, "conductor",
				 daemon_conductor_json(d), "source",
				 daemon_crl_conductor_json(d));
	else if (!strcmp(cmd, "alarms"))
		resp = json_pack("{s:b, s:o}", "ok", 1, "alarms", alarms_json(d));
	else
		resp = error_json("unknown command", cmd);
	json_decref(req);
	store_unlock(&d->env.st);
	return resp;
}

/* ---- one connection ------------------------------------------------ */

static void conn_close(struct daemon_ctl_conn *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Hang up on C, saying why (RET: -errno) in the log. */
static void conn_drop(struct daemon_ctl_conn *c, int ret)
{
	syslog(LOG_NOTICE, "control socket: uid %d: %s", (int)c->uid,
	       strerror(-ret));
	conn_close(c);
}

/* Read what C sent: 1 when its request line is complete (NUL-terminated
 * in c->buf, without the newline), 0 when more is to come, -errno. */
static int conn_read(struct daemon_ctl_conn *c)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->len == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : CTL_BUF_MIN;
			char *buf;

			if (c->cap >= CTLSOCK_LINE_MAX)
				return -EMSGSIZE;
			cap = cap > CTLSOCK_LINE_MAX ? CTLSOCK_LINE_MAX : cap;
			buf = realloc(c->buf, cap + 1);	/* + the NUL */
			if (!buf)
				return -ENOMEM;
			c->buf = buf;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return -ECONNRESET;	/* gone before a line */
		nl = memchr(c->buf + c->len, '\n', (size_t)n);
		c->len += (size_t)n;
		if (nl) {
			*nl = '\0';	/* what follows is ignored */
			return 1;
		}
	}
}

/* Send what is left of C's response: 1 when all is sent, 0 when the
 * socket is full, -errno. */
static int conn_write(struct daemon_ctl_conn *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->off += (size_t)n;
	}
	return 1;
}

/* C's request is in: run it, and start sending the response. */
static void conn_answer(struct daemon *d, struct daemon_ctl_conn *c)
{
	json_t *resp = dispatch(d, c->buf);
	char *text = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	int ret;

	json_decref(resp);
	free(c->buf);
	c->buf = text;
	if (!text) {
		conn_drop(c, -ENOMEM);
		return;
	}
	c->len = strlen(text);
	text[c->len++] = '\n';	/* over the NUL: one line */
	c->cap = c->len;
	c->off = 0;
	c->writing = true;
	c->deadline_ms = now_ms() + CTL_RESPONSE_TIMEOUT_MS;
	ret = conn_write(c);
	if (ret > 0)
		conn_close(c);
	else if (ret < 0)
		conn_drop(c, ret);
}

static void conn_ready(struct daemon *d, struct daemon_ctl_conn *c,
		       short revents)
{
	int ret;

	if (c->writing) {
		ret = conn_write(c);
		if (ret > 0)
			conn_close(c);
		else if (ret < 0)
			conn_drop(c, ret);
		return;
	}
	ret = conn_read(c);
	if (ret > 0)
		conn_answer(d, c);
	else if (ret < 0 || (revents & (POLLERR | POLLNVAL)))
		conn_drop(c, ret < 0 ? ret : -ECONNRESET);
}

/* ---- the listening socket ------------------------------------------ */

/* A free slot, making room when there is none: the oldest connection
 * still waiting for its request, else the oldest of all. */
static struct daemon_ctl_conn *free_slot(struct daemon_ctl *ctl)
{
	struct daemon_ctl_conn *oldest = NULL, *c;
	size_t i;

	for (i = 0; i < DAEMON_CTL_CLIENTS_MAX; i++) {
		c = &ctl->conn[i];
		if (c->fd < 0)
			return c;
		if (!oldest || (oldest->writing && !c->writing) ||
		    (oldest->writing == c->writing &&
		     c->deadline_ms < oldest->deadline_ms))
			oldest = c;
	}
	syslog(LOG_NOTICE, "control socket: %d clients at once: closing uid "
	       "%d's oldest connection", DAEMON_CTL_CLIENTS_MAX,
	       (int)oldest->uid);
	conn_close(oldest);
	return oldest;
}

static void accept_clients(struct daemon *d)
{
	struct daemon_ctl *ctl = &d->ctl;
	struct daemon_ctl_conn *c;
	uid_t uid;
	int i, fd;

	for (i = 0; i < CTL_ACCEPT_BURST; i++) {
		fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;	/* EAGAIN: none left; else next turn */
		uid = (uid_t)-1;
		if (!ctlsock_peer_allowed(fd, d->have_group, d->group, &uid)) {
			syslog(LOG_WARNING, "control socket: refused uid %d "
			       "(not root nor in the control group)", (int)uid);
			close(fd);
			continue;
		}
		c = free_slot(ctl);
		c->fd = fd;
		c->uid = uid;
		c->deadline_ms = now_ms() + CTL_REQUEST_TIMEOUT_MS;
		/* Most requests are there already: no need to wait a turn. */
		conn_ready(d, c, 0);
	}
}

int daemon_ctl_start(struct daemon *d)
{
	struct daemon_ctl *ctl = &d->ctl;
	const char *path = svrcert_env_control_socket(&d->env);
	struct stat sb;
	size_t i;

	for (i = 0; i < DAEMON_CTL_CLIENTS_MAX; i++)
		ctl->conn[i].fd = -1;
	ctl->fd = -1;
	if (snprintf(ctl->path, sizeof(ctl->path), "%s", path) >=
	    (int)sizeof(ctl->path)) {
		syslog(LOG_ERR, "control socket %s: %s", path,
		       strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	ctl->fd = ctlsock_listen(ctl->path, d->have_group, d->group);
	if (ctl->fd == -EADDRINUSE) {
		syslog(LOG_ERR, "control socket %s: another daemon listens on "
		       "it; not taking it over", ctl->path);
	} else if (ctl->fd < 0) {
		syslog(LOG_ERR, "cannot set up the control socket %s: %s",
		       ctl->path, strerror(-ctl->fd));
	} else if (stat(ctl->path, &sb) == 0) {
		ctl->dev = sb.st_dev;
		ctl->ino = sb.st_ino;
	}
	return ctl->fd < 0 ? ctl->fd : 0;
}

void daemon_ctl_stop(struct daemon *d)
{
	struct daemon_ctl *ctl = &d->ctl;
	struct stat sb;
	size_t i;

	for (i = 0; i < DAEMON_CTL_CLIENTS_MAX; i++)
		if (ctl->conn[i].fd >= 0)
			conn_close(&ctl->conn[i]);
	if (ctl->fd < 0)
		return;
	close(ctl->fd);
	ctl->fd = -1;
	/* Only the socket we bound: another may have been put in its place. */
	if (!lstat(ctl->path, &sb) && sb.st_dev == ctl->dev &&
	    sb.st_ino == ctl->ino)
		unlink(ctl->path);
}

/* ---- the loop ------------------------------------------------------ */

size_t daemon_ctl_pollfds(struct daemon *d, struct pollfd *fds, size_t max)
{
	struct daemon_ctl *ctl = &d->ctl;
	size_t i, n = 0;

	ctl->n_polled = 0;
	if (ctl->fd < 0 || max < 1)
		return 0;
	fds[n++] = (struct pollfd){ .fd = ctl->fd, .events = POLLIN };
	for (i = 0; i < DAEMON_CTL_CLIENTS_MAX && n < max; i++) {
		const struct daemon_ctl_conn *c = &ctl->conn[i];

		if (c->fd < 0)
			continue;
		fds[n++] = (struct pollfd){ .fd = c->fd,
			.events = c->writing ? POLLOUT : POLLIN };
		ctl->polled[ctl->n_polled++] = (int)i;
	}
	return n;
}

int daemon_ctl_timeout_ms(struct daemon *d)
{
	long now = now_ms(), next = -1;
	size_t i;

	for (i = 0; i < DAEMON_CTL_CLIENTS_MAX; i++) {
		const struct daemon_ctl_conn *c = &d->ctl.conn[i];

		if (c->fd >= 0 && (next < 0 || c->deadline_ms < next))
			next = c->deadline_ms;
	}
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void daemon_ctl_process(struct daemon *d, const struct pollfd *fds, size_t n)
{
	struct daemon_ctl *ctl = &d->ctl;
	long now;
	size_t i;

	if (!n)
		return;
	/* The connections polled first: accepting may reuse their slots. */
	for (i = 0; i < ctl->n_polled && i + 1 < n; i++) {
		struct daemon_ctl_conn *c = &ctl->conn[ctl->polled[i]];

		if (c->fd == fds[i + 1].fd && fds[i + 1].revents)
			conn_ready(d, c, fds[i + 1].revents);
	}
	if (fds[0].revents & POLLIN)
		accept_clients(d);
	now = now_ms();
	for (i = 0; i < DAEMON_CTL_CLIENTS_MAX; i++)
		if (ctl->conn[i].fd >= 0 && ctl->conn[i].deadline_ms <= now)
			conn_drop(&ctl->conn[i], -ETIMEDOUT);
}
