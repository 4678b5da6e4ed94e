// SPDX-License-Identifier: GPL-2.0
/*
 * The REST server's requests: bodies bounded, routing, scope checks, the
 * TPM serialised, and one audit event per request. Every function here
 * runs in a connection's own thread (rest.h: what they share and how it
 * is protected); rest_listen.c starts and stops the server.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/audit.h"
#include "rest_int.h"
#include "lib/util.h"

#define REST_AUDIT_TYPE	"system.rest_request"

/*
 * One TPM operation at a time among REST requests: swtpm serves a single
 * client (a second one would sit in its backlog holding a connection),
 * tpm_ctx_open() sets the TCTI with setenv(), which is not safe against
 * another thread's getenv() of it, and the TPM is one slow device that
 * gains nothing from parallel use. Static, not per server: a server
 * retiring after a reload and its successor share the one TPM. Taken
 * before any state lock (flock) and never while one is held, so the two
 * cannot deadlock. svrcertd's loop signs peer handshakes in the TPM
 * without it, because the loop must never wait for a REST request: with
 * /dev/tpmrm0 the kernel's resource manager interleaves the two, with
 * swtpm the handshake waits as any second client does.
 */
static pthread_mutex_t tpm_lock = PTHREAD_MUTEX_INITIALIZER;

struct rest_route {
	const char *method;
	const char *path;		/* after /api/v1 */
	unsigned int scope;		/* 0: no token needed (login) */
	bool node_scoped;		/* also under /router/R/node/N */
	bool tpm;			/* uses the TPM: under tpm_lock */
	void (*handle)(struct rest_req *r);
};

static const struct rest_route routes[] = {
	{ "POST", "/login", 0, false, false, rest_login },
	{ "POST", "/private-key", SCOPE_CONFIGURE, true, true,
	  rest_private_key },
	/* POST makes a CSR; GET only reads the last one made */
	{ "GET", "/certificate-request", SCOPE_CONFIGURE, true, false,
	  rest_certificate_request_get },
	{ "POST", "/certificate-request", SCOPE_CONFIGURE, true, true,
	  rest_certificate_request_post },
	{ "POST", "/certificate", SCOPE_CONFIGURE, true, false,
	  rest_certificate_post },
	{ "GET", "/certificate", SCOPE_SHOW, true, false, rest_certificate_get },
	{ "GET", "/crl", SCOPE_SHOW, true, false, rest_crl_get },
	{ "POST", "/crl/fetch", SCOPE_CONFIGURE, true, false, rest_crl_fetch },
	{ "GET", "/conductor", SCOPE_SHOW, true, false, rest_conductor_get },
	{ "GET", "/stats", SCOPE_SHOW, true, false, rest_stats },
	{ "GET", "/alarms", SCOPE_SHOW, true, false, rest_alarms },
	{ "GET", "/peers/security", SCOPE_SHOW, true, false,
	  rest_peers_security },
	{ "GET", "/metrics", SCOPE_SHOW, true, false, rest_metrics },
};

#define N_ROUTES	(sizeof(routes) / sizeof(routes[0]))

static void client_address(struct rest_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t len = sa && sa->sa_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	snprintf(r->source, sizeof(r->source), "unknown");
	if (sa)
		getnameinfo(sa, len, r->source, sizeof(r->source), NULL, 0,
			    NI_NUMERICHOST);
}

/*
 * "/router/R/node/N/rest" -> "/rest" when R/N are this router and node;
 * otherwise a 404 naming both. Returns the remaining path or NULL.
 */
static const char *strip_node_prefix(struct rest_req *r, const char *p,
				     bool *scoped)
{
	char router[128], node[256];
	int n = 0;

	*scoped = false;
	if (strncmp(p, "/router/", 8))
		return p;
	if (sscanf(p, "/router/%127[^/]/node/%255[^/]%n", router, node, &n) != 2 ||
	    (p[n] != '/' && p[n] != '\0')) {
		rest_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s "
			   "(node-scoped form: /api/v1/router/ROUTER/node/NODE/...)",
			   r->url);
		return NULL;
	}
	if (strcmp(router, r->srv->rc.router) || strcmp(node, r->srv->node)) {
		rest_error(r, MHD_HTTP_NOT_FOUND, "router %s node %s is not "
			   "this node (this is router %s node %s)", router, node,
			   r->srv->rc.router[0] ? r->srv->rc.router : "(unnamed)",
			   r->srv->node);
		return NULL;
	}
	*scoped = true;
	return p + n;
}

/* A path's methods, for 405's Allow: "GET, POST". */
static void add_allowed(struct rest_req *r, const char *method)
{
	size_t n = strlen(r->allow_buf);

	snprintf(r->allow_buf + n, sizeof(r->allow_buf) - n, "%s%s",
		 n ? ", " : "", method);
	r->allow = r->allow_buf;
}

static const struct rest_route *route(struct rest_req *r)
{
	const char *p;
	bool scoped;

	if (strncmp(r->url, REST_PREFIX, strlen(REST_PREFIX))) {
		rest_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s", r->url);
		return NULL;
	}
	p = strip_node_prefix(r, r->url + strlen(REST_PREFIX), &scoped);
	if (!p)
		return NULL;
	r->path = p;
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (strcmp(routes[i].path, p) || (scoped && !routes[i].node_scoped))
			continue;
		if (!strcmp(routes[i].method, r->method))
			return &routes[i];
		add_allowed(r, routes[i].method);
	}
	if (r->allow) {
		rest_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: method not "
			   "allowed (use %s)", r->method, r->url, r->allow);
	} else {
		rest_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s", r->url);
	}
	return NULL;
}

static bool is_login(const struct rest_req *r)
{
	return !strcmp(r->url, REST_PREFIX "/login");
}

/*
 * Token first, then the route: a caller without a valid token learns
 * nothing about which resources or nodes exist (always 401).
 */
static void dispatch(struct rest_req *r)
{
	const struct rest_route *rt;

	if (!is_login(r) && !rest_authenticate(r))
		return;
	rt = route(r);
	if (!rt)
		return;
	if (rt->scope && !(r->who.scopes & rt->scope)) {
		rest_error(r, MHD_HTTP_FORBIDDEN, "user %s may not %s %s: the "
			   "token lacks the scope \"%s\"", r->who.name, r->method,
			   r->url, users_scope_name(rt->scope));
		return;
	}
	if (r->too_big) {
		rest_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger "
			   "than %zu bytes", r->srv->rc.body_max);
		return;
	}
	if (rt->scope)
		r->permitted = true;
	if (rt->tpm)
		pthread_mutex_lock(&tpm_lock);
	rt->handle(r);		/* login sets permitted itself */
	if (rt->tpm)
		pthread_mutex_unlock(&tpm_lock);
}

/* One line per request; the path never carries secrets (the query string
 * is not part of it and the token travels in a header). */
static void audit_request(struct rest_req *r)
{
	json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:i}",
				   "method", r->method, "path", r->url,
				   "user", r->who.name[0] ? r->who.name : "",
				   "source", r->source, "status", (int)r->status);
	struct audit_sink sink = { &r->srv->st, r->srv->rc.audit_path[0] ?
				   r->srv->rc.audit_path : NULL };
	char desc[REST_PATH_MAX + 32];

	if (r->who.application[0])
		json_object_set_new(detail, "application",
				    json_string(r->who.application));
	snprintf(desc, sizeof(desc), "REST %s %s", r->method, r->url);
	audit_event(&sink, REST_AUDIT_TYPE, desc, detail, r->permitted);
}

static enum MHD_Result send_reply(struct rest_req *r)
{
	bool as_text = r->text && !r->out;	/* an error after it wins */
	json_t *o = r->out ? r->out : json_object();
	char *text = as_text ? r->text : json_dumps(o, JSON_COMPACT), retry[16];
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!as_text)
		free(r->text);
	r->text = NULL;		/* TEXT is the response's now */
	if (!r->out)
		json_decref(o);
	if (!text)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", as_text ?
				r->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->status == MHD_HTTP_TOO_MANY_REQUESTS) {
		snprintf(retry, sizeof(retry), "%u", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", retry);
	}
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate",
					r->www_auth ? r->www_auth :
					"Bearer realm=\"svrcert\"");
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result finish(struct rest_req *r)
{
	dispatch(r);
	if (!r->status)
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "no answer");
	audit_request(r);
	return send_reply(r);
}

static bool declared_too_big(struct rest_req *r)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return false;
	n = strtoull(cl, &end, 10);
	return *end || n > r->srv->rc.body_max;
}

static void take_body(struct rest_req *r, const char *data, size_t size)
{
	char *nb;

	if (r->too_big)
		return;
	if (r->len + size > r->srv->rc.body_max) {
		r->too_big = true;
		free(r->body);
		r->body = NULL;
		r->len = 0;
		return;
	}
	nb = realloc(r->body, r->len + size + 1);
	if (!nb) {
		r->too_big = true;
		return;
	}
	memcpy(nb + r->len, data, size);
	r->len += size;
	nb[r->len] = '\0';
	r->body = nb;
}

enum MHD_Result rest_on_request(void *cls, struct MHD_Connection *conn,
				const char *url, const char *method,
				const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls)
{
	struct rest_req *r = *con_cls;
	enum MHD_Result ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->srv = cls;
		atomic_fetch_add(&r->srv->in_flight, 1);
		r->conn = conn;
		r->method = method;
		snprintf(r->url, sizeof(r->url), "%s", url);
		/* strip one trailing slash: "/api/v1/stats/" = "/api/v1/stats" */
		if (strlen(r->url) > 1 && r->url[strlen(r->url) - 1] == '/')
			r->url[strlen(r->url) - 1] = '\0';
		client_address(r);
		/* Refuse a declared oversize body before reading any of it. */
		if (declared_too_big(r)) {
			r->too_big = true;
			rest_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body "
				   "larger than %zu bytes", r->srv->rc.body_max);
			audit_request(r);
			return send_reply(r);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->status)		/* answered already (413 up front) */
		return MHD_YES;
	/* The request is in: the client's time ends, ours is not limited;
	 * sending the answer and the next request have a deadline again. */
	rest_deadline_pause(r->srv->deadline, conn);
	ret = finish(r);
	rest_deadline_rearm(r->srv->deadline, conn);
	return ret;
}

void rest_on_completed(void *cls, struct MHD_Connection *conn,
		       void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct rest_req *r = *con_cls;

	if (!r)
		return;
	if (r->body) {
		OPENSSL_cleanse(r->body, r->len);	/* may hold a password */
		free(r->body);
	}
	json_decref(r->out);
	free(r->text);		/* not sent: the connection went away */
	/* sent: the next request on this connection has its own deadline */
	rest_deadline_rearm(r->srv->deadline, conn);
	atomic_fetch_sub(&r->srv->in_flight, 1);
	free(r);
	*con_cls = NULL;
}
