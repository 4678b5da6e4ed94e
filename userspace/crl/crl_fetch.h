/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_fetch -- download CRLs with libcurl's multi interface without ever
 * blocking the caller's poll loop.
 *
 * http and https only (redirects too), connect and total timeouts, a size
 * cap enforced on the bytes as they arrive (chunked bodies included; a
 * Content-Length above the cap fails before any body is read), and
 * conditional GET: give the previous ETag / Last-Modified and a 304 comes
 * back as SVRCERT_FETCH_NOT_MODIFIED.
 *
 * Poll-loop use (see Documentation/crl.md):
 *
 *	f = svrcert_fetcher_new(on_done, ctx);
 *	svrcert_fetcher_add(f, &req);		  // any number
 *	loop:
 *		n = svrcert_fetcher_pollfds(f, fds, max);  // + your own fds
 *		t = svrcert_fetcher_timeout_ms(f);	  // min with your timers
 *		poll(fds, n + yours, t);
 *		svrcert_fetcher_process(f, fds, n);	  // may call on_done
 */
#ifndef SVRCERT_CRL_FETCH_H
#define SVRCERT_CRL_FETCH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SVRCERT_FETCH_CONNECT_TIMEOUT_MS	10000
#define SVRCERT_FETCH_TOTAL_TIMEOUT_MS		60000	/* = config [crl] timeout */
/* A 1 M-entry CRL is ~48 MB; leave room, refuse what is surely not a CRL. */
#define SVRCERT_FETCH_MAX_SIZE			((size_t)256 << 20)

enum svrcert_fetch_status {
	SVRCERT_FETCH_OK,		/* 200: body holds the new bytes */
	SVRCERT_FETCH_NOT_MODIFIED,	/* 304: what you have is current */
	SVRCERT_FETCH_FAILED,		/* err / msg say why */
};

struct svrcert_fetch_req {
	const char *url;
	const char *etag;		/* previous ETag, or NULL */
	const char *last_modified;	/* previous Last-Modified, or NULL */
	long connect_timeout_ms;	/* 0: default */
	long total_timeout_ms;		/* 0: default */
	size_t max_size;		/* 0: default */
	const char *ca_file;		/* https trust; NULL: system default */
	/* https with a client identity and the caller's own judgement of
	 * the server (the conductor: Documentation/conductor.md): called
	 * with the connection's SSL_CTX (OpenSSL) before the handshake, it
	 * sets the client certificate and key and a certificate verify
	 * callback; 0 or -errno (the transfer fails). Host names are then
	 * not matched by curl: the callback checks the identity it wants. */
	int (*tls_setup)(void *ssl_ctx, void *arg);
	void *tls_arg;
	/* NULL, or called with CONNECTED_ARG once the connection is up (its
	 * TLS handshake passed) and the request is about to be sent: a
	 * server that then holds the request (a long-poll) is reachable
	 * long before its answer comes. */
	void (*connected)(void *arg);
	void *connected_arg;
	bool error_text;		/* an HTTP error's text/plain body (first
					 * line, 300 bytes at most) goes into
					 * msg: the server says why */
	void *user;			/* handed back in the result */
};

struct svrcert_fetch_result {
	enum svrcert_fetch_status status;
	int err;		/* 0, -ETIMEDOUT, -ECONNREFUSED, -EFBIG,
				 * -EPROTONOSUPPORT, -EHOSTUNREACH, -ELOOP,
				 * -EKEYREJECTED (https server not trusted),
				 * -EBADMSG (HTTP status other than 200/304),
				 * -EIO */
	long http_code;
	char msg[1536];		/* "HTTP 404 from http://..", "..exceeds.." */
	char url[1024];
	uint8_t *body;		/* malloc'd; the callback may take it (set
				 * to NULL) or it is freed afterwards */
	size_t body_len;
	char etag[256];		/* of this response, "" if none */
	char last_modified[64];
	double seconds;		/* total transfer time */
	void *user;
};

typedef void (*svrcert_fetch_done_fn)(struct svrcert_fetch_result *res,
				      void *ctx);

struct svrcert_fetcher;

/* Call curl_global_init() once in the program before the first fetcher. */
struct svrcert_fetcher *svrcert_fetcher_new(svrcert_fetch_done_fn done,
					    void *ctx);
void svrcert_fetcher_free(struct svrcert_fetcher *f);

/* Start a transfer. 0, -EPROTONOSUPPORT (not http/https), -EINVAL, -ENOMEM.
 * Nothing is done on the network until svrcert_fetcher_process(). */
int svrcert_fetcher_add(struct svrcert_fetcher *f,
			const struct svrcert_fetch_req *req);

/* Transfers started and not yet reported. */
unsigned int svrcert_fetcher_running(const struct svrcert_fetcher *f);

/* Drop the transfers whose req.user was USER, without a callback. How
 * many were dropped. */
unsigned int svrcert_fetcher_cancel(struct svrcert_fetcher *f, void *user);

/* Fill up to max pollfds with curl's sockets; returns how many. */
size_t svrcert_fetcher_pollfds(const struct svrcert_fetcher *f,
			       struct pollfd *fds, size_t max);

/* Milliseconds until curl needs svrcert_fetcher_process() even without
 * socket activity; -1 when nothing is pending. */
int svrcert_fetcher_timeout_ms(const struct svrcert_fetcher *f);

/* After poll(): hand over the pollfds filled by svrcert_fetcher_pollfds
 * (with revents). Runs due timers, moves data, and calls done() for every
 * finished transfer. Never waits. */
void svrcert_fetcher_process(struct svrcert_fetcher *f,
			     const struct pollfd *fds, size_t n);

/* Blocking convenience for the CLI and tests: one request, own poll loop. */
int svrcert_fetch_sync(const struct svrcert_fetch_req *req,
		       struct svrcert_fetch_result *res);
void svrcert_fetch_result_release(struct svrcert_fetch_result *res);

#endif
