// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's HTTP: libmicrohttpd behind the TLS of conductor.c, in
 * external epoll mode (its one descriptor is in the conductor's epoll
 * set), without a listening socket (each connection's plaintext comes
 * through MHD_add_connection). A long-poll is a suspended MHD connection:
 * no thread, a few hundred bytes while it waits, resumed when a new
 * generation exists or its wait ends.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conductor_int.h"
#include "crl/crl_master.h"

#define PATH_REVOCATION	"/v1/revocation"
#define PATH_CRL	"/v1/crl/"

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[300];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	/* TCP options on a socketpair: said for every connection, and
	 * meaningless here (MHD 0.9.75 tries them whatever the address). */
	if (!strncmp(msg, "Setting TCP_", 12) ||
	    !strncmp(msg, "Failed to push the data", 23))
		return;
	syslog(LOG_DEBUG, "conductor: http: %s", msg);
}

static void waiting_unlink(struct conductor *c, struct cd_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (c->waiting == r)
		c->waiting = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	if (r->suspended)
		c->n_waiting--;
}

static void resume(struct conductor *c, struct cd_req *r)
{
	waiting_unlink(c, r);
	r->suspended = false;
	if (r->conn)
		r->conn->req = NULL;
	MHD_resume_connection(r->mc);
}

/* In external mode MHD does not wake itself for a resumed connection: it
 * is answered at the next MHD_run, which is made now, and again at the
 * next turn (c->mhd_kick: a timeout of 0). */
void cd_http_wake(struct conductor *c, bool all)
{
	int64_t now = cd_now_ms();
	struct cd_req *r = c->waiting, *next;
	bool any = false;

	c->next_wait_ms = 0;
	for (; r; r = next) {
		next = r->next;
		if (all || r->deadline_ms <= now) {
			r->expired = !all;
			resume(c, r);
			any = true;
		} else if (!c->next_wait_ms || r->deadline_ms < c->next_wait_ms) {
			c->next_wait_ms = r->deadline_ms;
		}
	}
	if (any) {
		c->mhd_kick = true;
		cd_http_run(c);
	}
}

void cd_http_conn_gone(struct conductor *c, struct cd_conn *cn)
{
	if (cn->req) {	/* answered into a closed socket: MHD lets go */
		cn->req->expired = true;
		resume(c, cn->req);
		c->mhd_kick = true;	/* not from here: MHD may be running */
	}
}

static enum MHD_Result answer_text(struct conductor *c,
				   struct MHD_Connection *mc,
				   unsigned int status, const char *text,
				   bool close_after)
{
	char body[300];
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (status != MHD_HTTP_FORBIDDEN)	/* counted by reason */
		c->stats.errors++;
	snprintf(body, sizeof(body), "%s\n", text);
	r = MHD_create_response_from_buffer(strlen(body), body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	if (close_after)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result not_modified(struct conductor *c,
				    struct MHD_Connection *mc)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL,
							MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	c->stats.not_modified++;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, cd_gen_etag(c));
	ret = MHD_queue_response(mc, MHD_HTTP_NOT_MODIFIED, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- query ------------------------------------------------------------ */

static bool parse_u64(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v || strlen(v) > 20)
		return false;
	for (; *v; v++) {
		if (!isdigit((unsigned char)*v) ||
		    n > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	*out = n;
	return true;
}

static bool parse_epoch(const char *v, uint8_t out[16])
{
	if (strlen(v) != 32)
		return false;
	for (size_t i = 0; i < 16; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)v[2 * i]) ||
		    !isxdigit((unsigned char)v[2 * i + 1]) ||
		    sscanf(v + 2 * i, "%2x", &b) != 1)
			return false;
		out[i] = (uint8_t)b;
	}
	return true;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct cd_req *r = cls;
	uint64_t n = 0;

	if (r->bad[0])
		return MHD_NO;
	if (!value) {
		snprintf(r->bad, sizeof(r->bad), "%.40s: a value is required",
			 key);
	} else if (!strcmp(key, "epoch")) {
		if (r->has_epoch || !parse_epoch(value, r->epoch))
			snprintf(r->bad, sizeof(r->bad), "epoch: %s",
				 r->has_epoch ? "given twice" :
				 "must be 32 hex digits");
		r->has_epoch = true;
	} else if (!strcmp(key, "since")) {
		if (r->has_since || !parse_u64(value, &r->since))
			snprintf(r->bad, sizeof(r->bad), "since: %s",
				 r->has_since ? "given twice" :
				 "must be a generation number");
		r->has_since = true;
	} else if (!strcmp(key, "wait")) {
		if (r->wait_s || !parse_u64(value, &n))
			snprintf(r->bad, sizeof(r->bad), "wait: %s", r->wait_s ?
				 "given twice" : "must be a number of seconds");
		/* 1..120, clamped (and to max-wait) */
		r->wait_s = n < 1 ? 1 : n > CONDUCTOR_WAIT_MAX_S ?
			    CONDUCTOR_WAIT_MAX_S : (unsigned int)n;
	} else {
		snprintf(r->bad, sizeof(r->bad), "unknown parameter %.40s", key);
	}
	return r->bad[0] ? MHD_NO : MHD_YES;
}

static bool has_query(struct MHD_Connection *mc)
{
	return MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, NULL,
					 NULL) > 0;
}

/* ---- answers ---------------------------------------------------------- */

/* If-None-Match names ETAG: "*", or a list of entity tags, weak or not
 * (RFC 9110 13.1.2: the weak comparison). */
static bool none_match(const char *list, const char *etag)
{
	size_t n = strlen(etag);

	while (list && *list) {
		list += strspn(list, " \t,");
		if (*list == '*')
			return true;
		if (!strncmp(list, "W/", 2))
			list += 2;
		if (!strncmp(list, etag, n) &&
		    (!list[n] || strchr(" \t,", list[n])))
			return true;
		list += strcspn(list, ",");
	}
	return false;
}

static enum MHD_Result revocation(struct conductor *c, struct cd_req *r)
{
	struct MHD_Response *doc;
	unsigned int status;
	bool nothing_new;
	const char *inm = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_IF_NONE_MATCH);

	if (r->has_epoch != r->has_since)
		return answer_text(c, r->mc, MHD_HTTP_BAD_REQUEST, "epoch and "
				   "since go together", false);
	if (r->wait_s && !r->has_since)
		return answer_text(c, r->mc, MHD_HTTP_BAD_REQUEST, "wait needs "
				   "epoch and since", false);
	doc = cd_gen_answer(c, r, &nothing_new, &status);
	/* A full request naming the current generation's ETag (a router, or
	 * a cache in front, that holds it): 304, no document sent. The ETag
	 * names the generation, and (epoch, generation) one set, so any
	 * signature of it will do. Only without since: there the journal
	 * answers, and a long-poll must be held, not answered. */
	if (doc && !r->has_since && inm && none_match(inm, cd_gen_etag(c)))
		return not_modified(c, r->mc);
	if (nothing_new && r->wait_s && !r->expired) {
		unsigned int w = r->wait_s < c->p.max_wait_s ? r->wait_s :
				 c->p.max_wait_s;

		/* Held until a new generation (cd_http_wake) or W s. */
		r->deadline_ms = cd_now_ms() + (int64_t)w * 1000;
		if (!c->next_wait_ms || r->deadline_ms < c->next_wait_ms)
			c->next_wait_ms = r->deadline_ms;
		r->next = c->waiting;
		if (r->next)
			r->next->prev = r;
		c->waiting = r;
		r->suspended = true;
		c->n_waiting++;
		c->stats.held++;
		if (r->conn)
			r->conn->req = r;
		MHD_suspend_connection(r->mc);
		return MHD_YES;
	}
	if (nothing_new)
		return not_modified(c, r->mc);
	if (!doc)
		return answer_text(c, r->mc, status, status ==
				   MHD_HTTP_SERVICE_UNAVAILABLE ?
				   "no generation signed yet" :
				   "cannot answer", false);
	if (doc == c->full.resp)
		c->stats.full++;
	else
		c->stats.deltas++;
	return MHD_queue_response(r->mc, MHD_HTTP_OK, doc);
}

/* A published file: NAME in the CRL manager's directory, as written. */
static bool crl_name_ok(const char *name)
{
	size_t n = strspn(name, "0123456789abcdef-");

	return n > 0 && (!strcmp(name + n, ".crl") ||
			 !strcmp(name + n, ".delta"));
}

static enum MHD_Result published(struct conductor *c, struct MHD_Connection *mc,
				 const char *name)
{
	struct MHD_Response *r;
	char path[4200], rel[300];
	enum MHD_Result ret;
	struct stat sb;
	bool index = !strcmp(name, "index.json");
	int fd;

	if (!index && !crl_name_ok(name))
		return answer_text(c, mc, MHD_HTTP_NOT_FOUND, "not found",
				   false);
	snprintf(rel, sizeof(rel), index ? "%s" : "crl/%s",
		 index ? SVRCERT_MASTER_INDEX : name);
	store_path(c->p.st, rel, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return answer_text(c, mc, MHD_HTTP_NOT_FOUND, "not found",
				   false);
	}
	r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);	/* owns fd */
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, index ?
				"application/json" : "application/pkix-crl");
	c->stats.files++;
	ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *mc,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct conductor *c = cls;
	struct cd_req *r = *con_cls;
	const union MHD_ConnectionInfo *ci;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->mc = mc;
		ci = MHD_get_connection_info(mc,
					     MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		r->conn = ci ? ci->socket_context : NULL;
		MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, query_arg,
					  r);
		/* Refusals at once, closing: a refused router or another
		 * method gets no further (no body read). Everything else is
		 * answered at the next call, once the request is complete:
		 * MHD closes a connection answered earlier (no keep-alive). */
		if (!r->conn || r->conn->refused)
			return answer_text(c, mc, MHD_HTTP_FORBIDDEN, r->conn ?
					   r->conn->why :
					   "untrusted: not judged", true);
		if (strcmp(method, MHD_HTTP_METHOD_GET))
			return answer_text(c, mc, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "only GET", true);
		return MHD_YES;
	}
	if (*upload_size) {	/* a GET's body is not read */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, PATH_REVOCATION))
		return r->bad[0] ? answer_text(c, mc, MHD_HTTP_BAD_REQUEST, r->bad,
					       false) : revocation(c, r);
	if (!strncmp(url, PATH_CRL, strlen(PATH_CRL)))
		return has_query(mc) ? answer_text(c, mc, MHD_HTTP_BAD_REQUEST,
						   "no query here", false) :
		       published(c, mc, url + strlen(PATH_CRL));
	return answer_text(c, mc, MHD_HTTP_NOT_FOUND, "not found", false);
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conductor *c = cls;
	struct cd_req *r = *con_cls;

	if (!r)
		return;
	if (r->suspended)
		waiting_unlink(c, r);
	if (r->conn && r->conn->req == r)
		r->conn->req = NULL;
	free(r);
	*con_cls = NULL;
}

/* MHD took or let go of a socketpair end: link it to its connection. */
static void notify(void *cls, struct MHD_Connection *mc, void **socket_ctx,
		   enum MHD_ConnectionNotificationCode toe)
{
	struct conductor *c = cls;
	const union MHD_ConnectionInfo *ci;
	struct cd_conn *cn;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(mc,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx = ci && ci->connect_fd >= 0 &&
			      (size_t)ci->connect_fd < c->n_by_fd ?
			      c->by_fd[ci->connect_fd] : NULL;
		return;
	}
	cn = *socket_ctx;
	if (cn)
		cd_conn_mhd_closed(c, cn);
	*socket_ctx = NULL;
}

int cd_http_start(struct conductor *c, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *di;
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = UINT64_MAX - 1 };

	c->mhd = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL |
				  MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, handle, c,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, c,
				  MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned int)c->p.max_conns,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				  (size_t)CONDUCTOR_REQUEST_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)CONDUCTOR_IDLE_S,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, c,
				  MHD_OPTION_NOTIFY_CONNECTION, notify, c,
				  MHD_OPTION_END);
	di = c->mhd ? MHD_get_daemon_info(c->mhd, MHD_DAEMON_INFO_EPOLL_FD) :
		      NULL;
	if (!di)
		return svrcert_fail(err, errlen, -EIO, "cannot start the HTTP "
				    "server (libmicrohttpd)");
	c->mhd_ep = di->epoll_fd;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->mhd_ep, &e))
		return svrcert_fail(err, errlen, -errno, "epoll: %s",
				    strerror(errno));
	return 0;
}

void cd_http_stop(struct conductor *c)
{
	if (!c->mhd)
		return;
	/* MHD closes suspended connections only once resumed. */
	while (c->waiting) {
		c->waiting->expired = true;
		resume(c, c->waiting);
	}
	MHD_run(c->mhd);
	MHD_stop_daemon(c->mhd);
	c->mhd = NULL;
}

void cd_http_run(struct conductor *c)
{
	if (!c->mhd)
		return;
	c->mhd_kick = false;
	MHD_run(c->mhd);
}

int cd_http_timeout_ms(const struct conductor *c)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (c->mhd && c->mhd_kick)
		return 0;
	if (!c->mhd || MHD_get_timeout(c->mhd, &t) != MHD_YES)
		return -1;
	return t > 3600000 ? 3600000 : (int)t;
}
