// SPDX-License-Identifier: GPL-2.0
/*
 * CRL download over libcurl's multi socket interface. curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call back
 * (CURLMOPT_TIMERFUNCTION); we hand those to the caller's poll() and drive
 * curl_multi_socket_action() from svrcert_fetcher_process(). Nothing here
 * waits: DNS runs in curl's resolver thread, I/O is non-blocking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "crl_fetch.h"

struct watch {
	curl_socket_t fd;
	short events;
};

struct xfer {
	struct xfer *next;		/* fetcher's list of live transfers */
	CURL *easy;
	struct curl_slist *headers;
	struct svrcert_fetch_result res;
	size_t max_size, alloc;
	bool too_big;
	bool error_text;
	int (*tls_setup)(void *ssl_ctx, void *arg);
	void *tls_arg;
	void (*connected)(void *arg);
	void *connected_arg;
	char errbuf[CURL_ERROR_SIZE];
};

struct svrcert_fetcher {
	CURLM *multi;
	struct watch *watch;
	size_t nwatch, watch_cap;
	bool timer_armed;
	struct timespec deadline;
	unsigned int running;
	struct xfer *xfers;
	svrcert_fetch_done_fn done;
	void *ctx;
};

static struct timespec mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static long ms_until(const struct timespec *t)
{
	struct timespec now = mono_now();

	return (t->tv_sec - now.tv_sec) * 1000 +
	       (t->tv_nsec - now.tv_nsec) / 1000000;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct svrcert_fetcher *f = userp;
	size_t i;

	for (i = 0; i < f->nwatch && f->watch[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < f->nwatch)
			f->watch[i] = f->watch[--f->nwatch];
		return 0;
	}
	if (i == f->nwatch) {
		if (f->nwatch == f->watch_cap) {
			size_t cap = f->watch_cap ? 2 * f->watch_cap : 8;
			struct watch *w = realloc(f->watch, cap * sizeof(*w));

			if (!w)
				return -1;
			f->watch = w;
			f->watch_cap = cap;
		}
		f->watch[f->nwatch++].fd = fd;
	}
	f->watch[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
				     ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct svrcert_fetcher *f = userp;

	f->timer_armed = timeout_ms >= 0;
	if (f->timer_armed) {
		f->deadline = mono_now();
		f->deadline.tv_sec += timeout_ms / 1000;
		f->deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
		if (f->deadline.tv_nsec >= 1000000000) {
			f->deadline.tv_sec++;
			f->deadline.tv_nsec -= 1000000000;
		}
	}
	return 0;
}

/* The cap is checked before each chunk is kept, whatever the framing. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb, need = x->res.body_len + n;

	if (need > x->max_size) {
		x->too_big = true;
		return 0;	/* curl aborts with CURLE_WRITE_ERROR */
	}
	if (need > x->alloc) {
		size_t cap = x->alloc ? x->alloc : 65536;
		uint8_t *b;

		while (cap < need)
			cap *= 2;
		if (cap > x->max_size)
			cap = x->max_size;
		b = realloc(x->res.body, cap);
		if (!b)
			return 0;
		x->res.body = b;
		x->alloc = cap;
	}
	memcpy(x->res.body + x->res.body_len, data, n);
	x->res.body_len = need;
	return n;
}

struct svrcert_fetcher *svrcert_fetcher_new(svrcert_fetch_done_fn done,
					    void *ctx)
{
	struct svrcert_fetcher *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->multi = curl_multi_init();
	if (!f->multi) {
		free(f);
		return NULL;
	}
	f->done = done;
	f->ctx = ctx;
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return f;
}

static void xfer_free(struct xfer *x)
{
	curl_slist_free_all(x->headers);
	curl_easy_cleanup(x->easy);
	free(x->res.body);
	free(x);
}

static void xfer_unlink(struct svrcert_fetcher *f, struct xfer *x)
{
	struct xfer **pp;

	for (pp = &f->xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	curl_multi_remove_handle(f->multi, x->easy);
	f->running--;
}

void svrcert_fetcher_free(struct svrcert_fetcher *f)
{
	if (!f)
		return;
	/* transfers still running are dropped without a callback */
	while (f->xfers) {
		struct xfer *x = f->xfers;

		xfer_unlink(f, x);
		xfer_free(x);
	}
	curl_multi_cleanup(f->multi);
	free(f->watch);
	free(f);
}

unsigned int svrcert_fetcher_running(const struct svrcert_fetcher *f)
{
	return f->running;
}

unsigned int svrcert_fetcher_cancel(struct svrcert_fetcher *f, void *user)
{
	struct xfer *x = f->xfers, *next;
	unsigned int n = 0;

	for (; x; x = next) {
		next = x->next;
		if (x->res.user != user)
			continue;
		xfer_unlink(f, x);
		xfer_free(x);
		n++;
	}
	return n;
}

static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *userp)
{
	struct xfer *x = userp;

	return x->tls_setup(ssl_ctx, x->tls_arg) ? CURLE_SSL_CERTPROBLEM :
						   CURLE_OK;
}

static int on_prereq(void *userp, char *conn_primary_ip,
		     char *conn_local_ip, int conn_primary_port,
		     int conn_local_port)
{
	struct xfer *x = userp;

	(void)conn_primary_ip, (void)conn_local_ip;
	(void)conn_primary_port, (void)conn_local_port;
	x->connected(x->connected_arg);
	return CURL_PREREQFUNC_OK;
}

static int check_scheme(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int rc = -EINVAL;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0))
		rc = strcasecmp(scheme, "http") && strcasecmp(scheme, "https") ?
		     -EPROTONOSUPPORT : 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static int add_condition(struct xfer *x, const char *name, const char *value)
{
	char line[320];
	struct curl_slist *l;

	if (!value || !*value)
		return 0;
	if (strpbrk(value, "\r\n"))
		return -EINVAL;
	snprintf(line, sizeof(line), "%s: %s", name, value);
	l = curl_slist_append(x->headers, line);
	if (!l)
		return -ENOMEM;
	x->headers = l;
	return 0;
}

static long or_default(long v, long def)
{
	return v > 0 ? v : def;
}

static void set_options(struct xfer *x, const struct svrcert_fetch_req *req)
{
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 or_default(req->connect_timeout_ms,
				    SVRCERT_FETCH_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 or_default(req->total_timeout_ms,
				    SVRCERT_FETCH_TOTAL_TIMEOUT_MS));
	/* only checks Content-Length (libcurl 7.88); on_body does the rest */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_size);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "svrcertd");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	if (x->tls_setup) {
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, x);
		/* tls_setup's verify callback judges the certificate,
		 * its identity included (see crl_fetch.h) */
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (x->connected) {
		curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
	}
}

int svrcert_fetcher_add(struct svrcert_fetcher *f,
			const struct svrcert_fetch_req *req)
{
	struct xfer *x;
	int rc;

	if (!req->url || strlen(req->url) >= sizeof(x->res.url))
		return -EINVAL;
	rc = check_scheme(req->url);
	if (rc)
		return rc;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->easy = curl_easy_init();
	x->max_size = req->max_size ? req->max_size : SVRCERT_FETCH_MAX_SIZE;
	x->res.user = req->user;
	x->error_text = req->error_text;
	x->tls_setup = req->tls_setup;
	x->connected = req->connected;
	x->connected_arg = req->connected_arg;
	x->tls_arg = req->tls_arg;
	snprintf(x->res.url, sizeof(x->res.url), "%s", req->url);
	rc = x->easy ? 0 : -ENOMEM;
	if (!rc)
		rc = add_condition(x, "If-None-Match", req->etag) ?:
		     add_condition(x, "If-Modified-Since", req->last_modified);
	if (!rc) {
		set_options(x, req);
		if (curl_multi_add_handle(f->multi, x->easy) != CURLM_OK)
			rc = -ENOMEM;
	}
	if (rc) {
		xfer_free(x);
		return rc;
	}
	x->next = f->xfers;
	f->xfers = x;
	f->running++;
	return 0;
}

size_t svrcert_fetcher_pollfds(const struct svrcert_fetcher *f,
			       struct pollfd *fds, size_t max)
{
	size_t i;

	for (i = 0; i < f->nwatch && i < max; i++) {
		fds[i].fd = f->watch[i].fd;
		fds[i].events = f->watch[i].events;
		fds[i].revents = 0;
	}
	return i;
}

int svrcert_fetcher_timeout_ms(const struct svrcert_fetcher *f)
{
	long ms;

	if (!f->timer_armed)
		return -1;
	ms = ms_until(&f->deadline);
	return ms < 0 ? 0 : (ms > 60000 ? 60000 : (int)ms);
}

static void copy_header(CURL *e, const char *name, char *out, size_t len)
{
	struct curl_header *h = NULL;

	out[0] = '\0';
	/* request -1: the last response, after any redirects */
	if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
	    strlen(h->value) < len)
		snprintf(out, len, "%s", h->value);
}

static int map_error(struct xfer *x, CURLcode code)
{
	struct svrcert_fetch_result *r = &x->res;
	const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
	int err;

	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		err = -ETIMEDOUT;
		break;
	case CURLE_COULDNT_CONNECT:
		err = -ECONNREFUSED;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		err = -EHOSTUNREACH;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		err = -EPROTONOSUPPORT;
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		err = -ELOOP;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		err = -EKEYREJECTED;	/* https server not trusted */
		break;
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		if (code == CURLE_FILESIZE_EXCEEDED || x->too_big) {
			snprintf(r->msg, sizeof(r->msg),
				 "response from %s exceeds the size cap of %zu bytes",
				 r->url, x->max_size);
			return -EFBIG;
		}
		err = -ENOMEM;
		break;
	default:
		err = -EIO;
	}
	snprintf(r->msg, sizeof(r->msg), "fetching %s failed: %s", r->url, why);
	return err;
}

/* ": <the body's first line>" (printable ASCII, at most 300 bytes). */
static void append_text(struct svrcert_fetch_result *r)
{
	size_t used = strlen(r->msg), n = 0;

	if (!r->body_len || used + 8 >= sizeof(r->msg))
		return;
	strcpy(r->msg + used, ": ");
	used += 2;
	while (n < r->body_len && n < 300 && used + 1 < sizeof(r->msg) &&
	       r->body[n] >= 0x20 && r->body[n] < 0x7f)
		r->msg[used++] = (char)r->body[n++];
	r->msg[used] = '\0';
}

static void finish(struct svrcert_fetcher *f, struct xfer *x, CURLcode code)
{
	struct svrcert_fetch_result *r = &x->res;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->http_code);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &r->seconds);
	r->status = SVRCERT_FETCH_FAILED;
	if (code != CURLE_OK) {
		r->err = map_error(x, code);
	} else if (r->http_code == 200 || r->http_code == 304) {
		r->status = r->http_code == 200 ? SVRCERT_FETCH_OK :
						  SVRCERT_FETCH_NOT_MODIFIED;
		copy_header(x->easy, "ETag", r->etag, sizeof(r->etag));
		copy_header(x->easy, "Last-Modified", r->last_modified,
			    sizeof(r->last_modified));
	} else {
		r->err = -EBADMSG;
		snprintf(r->msg, sizeof(r->msg), "HTTP %ld from %s",
			 r->http_code, r->url);
		if (x->error_text)
			append_text(r);
	}
	if (r->status != SVRCERT_FETCH_OK) {
		free(r->body);
		r->body = NULL;
		r->body_len = 0;
	}
	xfer_unlink(f, x);
	if (f->done)
		f->done(r, f->ctx);
	xfer_free(x);
}

static void reap(struct svrcert_fetcher *f)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left))) {
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			finish(f, x, m->data.result);
	}
}

void svrcert_fetcher_process(struct svrcert_fetcher *f,
			     const struct pollfd *fds, size_t n)
{
	int still;
	size_t i;

	for (i = 0; fds && i < n; i++) {
		int ev = 0;

		if (!fds[i].revents)
			continue;
		if (fds[i].revents & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (fds[i].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (fds[i].revents & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		curl_multi_socket_action(f->multi, fds[i].fd, ev, &still);
	}
	if (f->timer_armed && ms_until(&f->deadline) <= 0) {
		f->timer_armed = false;
		curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &still);
	}
	reap(f);
}

static void sync_done(struct svrcert_fetch_result *res, void *ctx)
{
	struct svrcert_fetch_result *out = ctx;

	*out = *res;
	res->body = NULL;	/* now owned by out */
}

int svrcert_fetch_sync(const struct svrcert_fetch_req *req,
		       struct svrcert_fetch_result *res)
{
	struct svrcert_fetcher *f = svrcert_fetcher_new(sync_done, res);
	struct pollfd fds[16];
	int rc;

	memset(res, 0, sizeof(*res));
	if (!f)
		return -ENOMEM;
	rc = svrcert_fetcher_add(f, req);
	while (!rc && svrcert_fetcher_running(f)) {
		size_t n = svrcert_fetcher_pollfds(f, fds, 16);

		if (poll(fds, n, svrcert_fetcher_timeout_ms(f)) < 0 && errno != EINTR)
			rc = -errno;
		else
			svrcert_fetcher_process(f, fds, n);
	}
	svrcert_fetcher_free(f);
	if (rc) {
		snprintf(res->msg, sizeof(res->msg), "cannot fetch %s: %s",
			 req->url ? req->url : "(null)", strerror(-rc));
		res->status = SVRCERT_FETCH_FAILED;
		res->err = rc;
		return rc;
	}
	return res->err;
}

void svrcert_fetch_result_release(struct svrcert_fetch_result *res)
{
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
}
