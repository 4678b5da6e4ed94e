// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS side of peer authentication: this router's identity as SSL_CTXs,
 * the listening socket, and non-blocking connections with their handshake.
 *
 * TLS 1.3 only, both directions, a client certificate required. The chain
 * is deliberately accepted at the TLS layer (the certificate verify
 * callback says yes): the handshake still proves the peer holds the key
 * of the certificate it sent, and the certificate is then judged by the
 * runtime rules, so that a rejected peer is known with its certificate
 * and its precise problem, and bound in the kernel with that state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/err.h>

#include "peerauth_int.h"

static int accept_any_chain(X509_STORE_CTX *ctx, void *arg)
{
	return 1;	/* judged after the handshake, see the file comment */
}

static SSL_CTX *new_ctx(const SSL_METHOD *m, const char *cert, EVP_PKEY *key,
			char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, accept_any_chain, NULL);
	SSL_CTX_set_num_tickets(ctx, 0);	/* one handshake, no resumption */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "own certificate %s: cannot be loaded",
			 cert);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		snprintf(err, errlen, "own certificate %s does not belong to "
			 "this router's key", cert);
		goto out;
	}
	return ctx;
fail:
	snprintf(err, errlen, "cannot create a TLS context");
out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

void pa_identity_free(struct peerauth *pa)
{
	SSL_CTX_free(pa->client_ctx);
	SSL_CTX_free(pa->server_ctx);
	pa->client_ctx = pa->server_ctx = NULL;
}

int pa_own_cert_hash(struct peerauth *pa, uint8_t out[SVRCERT_DIGEST_LEN])
{
	char *pem = NULL;
	size_t len;
	int ret;

	memset(out, 0, SVRCERT_DIGEST_LEN);
	ret = store_read(pa->p.st, STORE_CERT, &pem, &len);
	if (ret)
		return ret;
	ret = EVP_Digest(pem, len, out, NULL, EVP_sha256(), NULL) ? 0 : -EIO;
	free(pem);
	return ret;
}

int pa_identity_load(struct peerauth *pa, char *err, size_t errlen)
{
	char cert[4200];
	EVP_PKEY *key = NULL;
	int ret;

	pa_identity_free(pa);
	pa_own_cert_hash(pa, pa->own_cert_hash);
	store_path(pa->p.st, STORE_CERT, cert, sizeof(cert));
	if (!store_exists(pa->p.st, STORE_CERT)) {
		snprintf(err, errlen, "no own certificate (%s): import one "
			 "first", cert);
		return -ENOENT;
	}
	ret = pa_load_key(pa->cfg, pa->p.st, &key, err, errlen);
	if (ret)
		return ret;
	pa->client_ctx = new_ctx(TLS_client_method(), cert, key, err, errlen);
	if (pa->client_ctx)
		pa->server_ctx = new_ctx(TLS_server_method(), cert, key, err,
					 errlen);
	EVP_PKEY_free(key);	/* the contexts hold references */
	if (!pa->server_ctx) {
		pa_identity_free(pa);
		return -EKEYREJECTED;
	}
	return 0;
}

static int resolve(const char *host, uint16_t port, int flags,
		   struct sockaddr_storage *sa, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | flags }, *res;
	char service[8];
	int ret;

	snprintf(service, sizeof(service), "%u", port);
	ret = getaddrinfo(host, service, &hints, &res);
	if (ret)
		return -EHOSTUNREACH;
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void describe(const struct sockaddr_storage *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, len, sa->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, port);
}

int pa_listen(struct peerauth *pa, const struct svrcert_endpoint *ep,
	      char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, one = 1;

	pa->listen_port = 0;
	pa->have_listen_src = false;
	if (!ep->host)
		return 0;
	if (resolve(ep->host, ep->port, AI_PASSIVE, &sa, &len)) {
		snprintf(err, errlen, "[daemon] listen = %s:%u: cannot resolve",
			 ep->host, ep->port);
		return -EINVAL;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		int e = errno;

		snprintf(err, errlen, "[daemon] listen = %s:%u: %s", ep->host,
			 ep->port, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	pa->listen_fd = fd;
	pa->have_listen_src = !pa_sockaddr_to_addr(&sa, &pa->listen_src) &&
		!(pa->listen_src.family == AF_INET ?
		  pa->listen_src.v4.s_addr == htonl(INADDR_ANY) :
		  IN6_IS_ADDR_UNSPECIFIED(&pa->listen_src.v6));
	pa->listen_host = strdup(ep->host);
	pa->listen_cfg_port = ep->port;
	pa->listen_port = ntohs(sa.ss_family == AF_INET ?
				((struct sockaddr_in *)&sa)->sin_port :
				((struct sockaddr_in6 *)&sa)->sin6_port);
	return 0;
}

static struct pa_conn *conn_new(SSL_CTX *ctx, int fd, bool server)
{
	struct pa_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->server = server;
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	if (server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	c->events = POLLIN;
	return c;
}

void pa_conn_free(struct pa_conn *c)
{
	if (!c)
		return;
	pa_keys_conn_free(c);
	if (c->ssl) {
		/* Best effort close_notify; never wait for the answer. */
		if (SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	free(c);
}

static socklen_t to_sockaddr(const struct svrcert_addr *a, uint16_t port,
			     struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (void *)sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a->v4;
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a->v6;
		return sizeof(*s6);
	}
}

static bool loopback(const struct svrcert_addr *a)
{
	return a->family == AF_INET ? (ntohl(a->v4.s_addr) >> 24) == 127 :
				      IN6_IS_ADDR_LOOPBACK(&a->v6);
}

/* Call from the address we listen on (same family), so that the peer's
 * source check finds us at the endpoint it calls us at. A loopback listen
 * address cannot reach another host: then the kernel chooses. */
static int bind_source(const struct peerauth *pa, int fd,
		       const struct svrcert_addr *to)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (!pa->have_listen_src || pa->listen_src.family != to->family ||
	    (loopback(&pa->listen_src) && !loopback(to)))
		return 0;
	len = to_sockaddr(&pa->listen_src, 0, &sa);
	return bind(fd, (struct sockaddr *)&sa, len);
}

int pa_conn_connect(struct peerauth *pa, struct pa_peer *peer,
		    const struct svrcert_addr *to)
{
	struct sockaddr_storage sa;
	socklen_t len = to_sockaddr(to, peer->port, &sa);
	struct pa_conn *c;
	int fd;

	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind_source(pa, fd, to)) {
		int e = errno;

		close(fd);
		return -e;
	}
	c = conn_new(pa->client_ctx, fd, false);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	describe(&sa, c->remote, sizeof(c->remote));
	c->peer = peer;
	c->deadline_ms = pa_now_ms() + pa->p.handshake_ms;
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		if (errno != EINPROGRESS) {
			int e = errno;

			pa_conn_free(c);
			return -e;
		}
		c->connecting = true;
		c->events = POLLOUT;
	}
	peer->conn = c;
	return 0;
}

void pa_conn_accept(struct peerauth *pa)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	struct svrcert_addr src;
	struct pa_conn *c;
	size_t i;
	int fd;

	fd = accept4(pa->listen_fd, (struct sockaddr *)&sa, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (pa_sockaddr_to_addr(&sa, &src) || !pa_source_accept(pa, &src)) {
		close(fd);
		return;
	}
	for (i = 0; i < PEERAUTH_MAX_INCOMING && pa->incoming[i]; i++)
		;
	/* Without an identity we cannot answer; too many callers at once
	 * are refused rather than queued. */
	if (i == PEERAUTH_MAX_INCOMING || !pa->server_ctx ||
	    !(c = conn_new(pa->server_ctx, fd, true))) {
		close(fd);
		return;
	}
	describe(&sa, c->remote, sizeof(c->remote));
	c->remote_addr = src;
	c->deadline_ms = pa_now_ms() + pa->p.handshake_ms;
	pa->incoming[i] = c;
}

static void ssl_why(SSL *ssl, int ret, char *why, size_t len)
{
	unsigned long e = ERR_peek_error();
	int code = SSL_get_error(ssl, ret);

	if (e)
		snprintf(why, len, "TLS handshake failed: %s",
			 ERR_reason_error_string(e) ?: "error");
	else if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN)
		snprintf(why, len, "TLS handshake failed: connection closed "
			 "by the peer%s", errno ? ": " : "");
	else
		snprintf(why, len, "TLS handshake failed (error %d)", code);
	if (code == SSL_ERROR_SYSCALL && errno && !e)
		snprintf(why + strlen(why), len - strlen(why), "%s",
			 strerror(errno));
	ERR_clear_error();
}

int pa_conn_step(struct pa_conn *c, char *why, size_t whylen)
{
	int ret, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (c->connecting) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ||
		    soerr) {
			snprintf(why, whylen, "cannot connect to %s: %s",
				 c->remote, strerror(soerr ?: errno));
			return -1;
		}
		c->connecting = false;
	}
	errno = 0;
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1)
		return 1;
	if (pa_conn_wants_io(c, ret))
		return 0;
	ssl_why(c->ssl, ret, why, whylen);
	return -1;
}

/* The peer's close_notify is its word that it finished the handshake:
 * in TLS 1.3 the caller's handshake ends with its own Finished, before
 * the peer has checked it. A peer whose handshake timed out while this
 * router's TPM signed (a loaded router) closes without one; counted as a
 * failed call and made again, or the peer would hold this router's old
 * certificate until its own next call, up to an hour. */
int pa_conn_close_step(struct pa_conn *c, char *why, size_t whylen)
{
	char scratch[64];
	int ret;

	ERR_clear_error();
	if (!(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
		ret = SSL_shutdown(c->ssl);
		if (ret < 0 && !pa_conn_wants_io(c, ret))
			goto failed;
		if (ret < 0)
			return 0;
	}
	for (;;) {
		errno = 0;
		ret = SSL_read(c->ssl, scratch, sizeof(scratch));
		if (ret > 0)
			continue;	/* nothing is expected; not a reason */
		if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN)
			return 1;
		if (pa_conn_wants_io(c, ret))
			return 0;
		break;
	}
failed:
	ssl_why(c->ssl, ret, why, whylen);
	snprintf(why + strlen(why), whylen - strlen(why),
		 " (after our handshake: the peer did not confirm it)");
	return -1;
}

bool pa_conn_wants_io(struct pa_conn *c, int ret)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		c->events = POLLIN;
		return true;
	case SSL_ERROR_WANT_WRITE:
		c->events = POLLOUT;
		return true;
	default:
		return false;
	}
}
