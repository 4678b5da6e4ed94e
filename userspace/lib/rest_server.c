// SPDX-License-Identifier: GPL-2.0
/*
 * The REST server: libmicrohttpd over TLS (GnuTLS inside libmicrohttpd),
 * request bodies bounded, routing, scope checks and one audit event per
 * request.
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

#include "audit.h"
#include "rest_int.h"
#include "util.h"

#define REST_AUDIT_TYPE	"system.rest_request"
/* TLS 1.2 and 1.3 only, GnuTLS's default ("NORMAL") suites otherwise. */
#define REST_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define REST_LISTEN_BACKLOG	1024

struct rest_route {
	const char *method;
	const char *path;		/* after /api/v1 */
	unsigned int scope;		/* 0: no token needed (login) */
	bool node_scoped;		/* also under /router/R/node/N */
	void (*handle)(struct rest_req *r);
};

static const struct rest_route routes[] = {
	{ "POST", "/login", 0, false, rest_login },
	{ "POST", "/private-key", SCOPE_CONFIGURE, true, rest_private_key },
	{ "GET", "/certificate-request", SCOPE_CONFIGURE, true,
	  rest_certificate_request },
	{ "POST", "/certificate", SCOPE_CONFIGURE, true, rest_certificate_post },
	{ "GET", "/certificate", SCOPE_SHOW, true, rest_certificate_get },
	{ "GET", "/crl", SCOPE_SHOW, true, rest_crl_get },
	{ "POST", "/crl/fetch", SCOPE_CONFIGURE, true, rest_crl_fetch },
	{ "GET", "/stats", SCOPE_SHOW, true, rest_stats },
	{ "GET", "/alarms", SCOPE_SHOW, true, rest_alarms },
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
	if (strcmp(router, r->srv->router) || strcmp(node, r->srv->node)) {
		rest_error(r, MHD_HTTP_NOT_FOUND, "router %s node %s is not "
			   "this node (this is router %s node %s)", router, node,
			   r->srv->router[0] ? r->srv->router : "(unnamed)",
			   r->srv->node);
		return NULL;
	}
	*scoped = true;
	return p + n;
}

static const struct rest_route *route(struct rest_req *r)
{
	const struct rest_route *any = NULL;
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
		any = &routes[i];
	}
	if (any) {
		r->allow = any->method;
		rest_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: method not "
			   "allowed (use %s)", r->method, r->url, any->method);
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
	rt->handle(r);		/* login sets permitted itself */
}

/* One line per request; the path never carries secrets (the query string
 * is not part of it and the token travels in a header). */
static void audit_request(struct rest_req *r)
{
	json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:i}",
				   "method", r->method, "path", r->url,
				   "user", r->who.name[0] ? r->who.name : "",
				   "source", r->source, "status", (int)r->status);
	struct audit_sink sink = { &r->srv->st, r->srv->audit_path[0] ?
				   r->srv->audit_path : NULL };
	char desc[REST_PATH_MAX + 32];

	if (r->who.application[0])
		json_object_set_new(detail, "application",
				    json_string(r->who.application));
	snprintf(desc, sizeof(desc), "REST %s %s", r->method, r->url);
	audit_event(&sink, REST_AUDIT_TYPE, desc, detail, r->permitted);
}

static enum MHD_Result send_reply(struct rest_req *r)
{
	json_t *o = r->out ? r->out : json_object();
	char *text = json_dumps(o, JSON_COMPACT), retry[16];
	struct MHD_Response *resp;
	enum MHD_Result ret;

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
	MHD_add_response_header(resp, "Content-Type", "application/json");
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct rest_req *r = *con_cls;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->srv = cls;
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
	return finish(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
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
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	vsyslog(LOG_WARNING, fmt, ap);
}

/* ARGS points into SRV so that it outlives the caller's strings. */
static void copy_args(struct rest_server *srv, const struct svrcert_env_args *a)
{
	if (a && a->config) {
		snprintf(srv->config_path, sizeof(srv->config_path), "%s",
			 a->config);
		srv->args.config = srv->config_path;
	}
	if (a && a->state_dir) {
		snprintf(srv->state_dir, sizeof(srv->state_dir), "%s",
			 a->state_dir);
		srv->args.state_dir = srv->state_dir;
	}
}

/* Where the state directory is, who this router is, where audit goes. */
static int learn_env(struct rest_server *srv, char *err, size_t errlen)
{
	struct svrcert_env env;
	char path[4200];
	int ret;

	ret = svrcert_env_open(&env, &srv->args, err, errlen);
	if (ret)
		return ret;
	if (env.have_cfg && env.cfg.router_name)
		snprintf(srv->router, sizeof(srv->router), "%s",
			 env.cfg.router_name);
	if (env.have_cfg && env.cfg.audit_log)
		snprintf(srv->audit_path, sizeof(srv->audit_path), "%s",
			 env.cfg.audit_log);
	ret = store_open(&srv->st, env.st.dir);
	svrcert_env_close(&env);
	if (ret) {
		snprintf(err, errlen, "state directory: %s", strerror(-ret));
		return ret;
	}
	store_path(&srv->st, USERS_FILE, srv->users_path,
		   sizeof(srv->users_path));
	store_path(&srv->st, TOKEN_SECRET_FILE, path, sizeof(path));
	ret = token_secret_load(path, srv->secret);
	if (ret)
		snprintf(err, errlen, "%s: %s", path, ret == -EBADMSG ?
			 "not a 32-byte token secret" : ret == -EPERM ?
			 "another user owns it or group or others may read it "
			 "(chown, chmod 600)" :
			 strerror(-ret));
	if (gethostname(srv->node, sizeof(srv->node)))
		snprintf(srv->node, sizeof(srv->node), "unknown");
	srv->node[sizeof(srv->node) - 1] = '\0';
	return ret;
}

static int read_tls_files(struct rest_server *srv, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int ret;

	ret = svrcert_read_file(srv->rc.cert_file, 1u << 20, &buf, &len);
	if (ret) {
		snprintf(err, errlen, "[rest] certificate %s: %s",
			 srv->rc.cert_file, strerror(-ret));
		return ret;
	}
	srv->cert_pem = (char *)buf;
	ret = svrcert_read_file(srv->rc.key_file, 1u << 20, &buf, &len);
	if (ret) {
		snprintf(err, errlen, "[rest] key %s: %s", srv->rc.key_file,
			 strerror(-ret));
		return ret;
	}
	srv->key_pem = (char *)buf;
	return 0;
}

static int start_mhd(struct rest_server *srv, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			     MHD_USE_TLS | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	char port[8];
	int ret;

	snprintf(port, sizeof(port), "%u", srv->rc.port);
	ret = getaddrinfo(srv->rc.host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "[rest] listen %s: %s", srv->rc.host,
			 gai_strerror(ret));
		return -EINVAL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->mhd = MHD_start_daemon(flags, srv->rc.port, NULL, NULL,
		on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,	/* first */
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
		MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem,
		MHD_OPTION_HTTPS_PRIORITIES, REST_TLS_PRIORITIES,
		MHD_OPTION_CONNECTION_LIMIT, srv->rc.conn_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, REST_CONN_TIMEOUT_S,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, REST_LISTEN_BACKLOG,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot serve HTTPS on %s port %u (address "
			 "in use, or certificate %s and key %s do not load or "
			 "match; details in syslog)", srv->rc.host, srv->rc.port,
			 srv->rc.cert_file, srv->rc.key_file);
		return -EIO;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : srv->rc.port;
	return 0;
}

int rest_server_start(const struct rest_config *rc,
		      const struct svrcert_env_args *args,
		      struct rest_server **out, char *err, size_t errlen)
{
	struct rest_server *srv = calloc(1, sizeof(*srv));
	int ret;

	*out = NULL;
	if (!srv)
		return -ENOMEM;
	srv->rc = *rc;
	srv->st.lock_fd = -1;
	copy_args(srv, args);
	ret = throttle_init(&srv->throttle);
	if (!ret)
		ret = learn_env(srv, err, errlen);
	if (!ret)
		ret = read_tls_files(srv, err, errlen);
	if (!ret)
		ret = start_mhd(srv, err, errlen);
	if (ret) {
		rest_server_stop(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

void rest_server_stop(struct rest_server *srv)
{
	if (!srv)
		return;
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	throttle_free(&srv->throttle);
	if (srv->key_pem) {
		OPENSSL_cleanse(srv->key_pem, strlen(srv->key_pem));
		free(srv->key_pem);
	}
	free(srv->cert_pem);
	if (srv->st.dir[0])
		store_close(&srv->st);
	OPENSSL_cleanse(srv->secret, sizeof(srv->secret));
	free(srv);
}

uint16_t rest_server_port(const struct rest_server *srv)
{
	return srv->port;
}
