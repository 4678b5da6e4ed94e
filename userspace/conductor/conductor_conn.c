// SPDX-License-Identifier: GPL-2.0
/*
 * One router's connection: accepted, its TLS 1.3 handshake driven without
 * blocking, judged (conductor_judge.c), then its plaintext pumped between
 * the TLS socket and MHD's end of a socketpair, one chunk at a time in
 * each direction (conductor.c's comment says why this shape).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conductor_int.h"

#define TAG(slot, pair)	(((uint64_t)(slot) << 1) | (pair))

void cd_conn_close(struct conductor *c, struct cd_conn *cn)
{
	if (cn->tls_done)
		return;
	cn->tls_done = true;
	if (cn->ssl) {
		if (SSL_is_init_finished(cn->ssl))
			SSL_shutdown(cn->ssl);	/* best effort, never waited */
		SSL_free(cn->ssl);
		cn->ssl = NULL;
	}
	if (cn->fd >= 0)
		close(cn->fd);		/* leaves the epoll set with it */
	if (cn->pair >= 0)
		close(cn->pair);	/* MHD sees the end of its socket */
	cn->fd = cn->pair = -1;
	free(cn->in);
	free(cn->out);
	cn->in = cn->out = NULL;
	ERR_clear_error();
	cd_http_conn_gone(c, cn);
}

void cd_conn_free_if_done(struct conductor *c, struct cd_conn *cn)
{
	if (!cn->tls_done || !cn->mhd_done)
		return;
	c->conns[cn->slot] = NULL;
	c->n_conns--;
	free(cn);
}

/* What MHD wrote before closing may still be in the pair: the TLS side
 * sends it and closes when it reads the end (pump_out). */
void cd_conn_mhd_closed(struct conductor *c, struct cd_conn *cn)
{
	if (cn->mhd_fd >= 0 && (size_t)cn->mhd_fd < c->n_by_fd &&
	    c->by_fd[cn->mhd_fd] == cn)
		c->by_fd[cn->mhd_fd] = NULL;
	cn->mhd_fd = -1;
	cn->mhd_done = true;
	cd_conn_free_if_done(c, cn);
}

/* ---- connections ------------------------------------------------------ */

static void describe(const struct sockaddr_storage *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	const void *a = sa->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)sa)->sin_addr;
	unsigned int port = ntohs(sa->ss_family == AF_INET6 ?
				  ((const struct sockaddr_in6 *)sa)->sin6_port :
				  ((const struct sockaddr_in *)sa)->sin_port);

	inet_ntop(sa->ss_family, a, host, sizeof(host));
	snprintf(out, len, sa->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, port);
}

static void accept_one(struct conductor *c, int fd,
		       const struct sockaddr_storage *sa, socklen_t len)
{
	struct cd_conn *cn = NULL;
	size_t slot;

	for (slot = 0; slot < c->p.max_conns && c->conns[slot]; slot++)
		;
	/* Refused rather than queued: a router retries with jitter. */
	if (slot == c->p.max_conns || !(cn = calloc(1, sizeof(*cn))) ||
	    !(cn->ssl = SSL_new(c->ctx)) || !SSL_set_fd(cn->ssl, fd)) {
		c->stats.rejected++;
		if (cn)
			SSL_free(cn->ssl);
		free(cn);
		close(fd);
		return;
	}
	SSL_set_accept_state(cn->ssl);
	cn->slot = slot;
	cn->fd = fd;
	cn->pair = cn->mhd_fd = -1;
	cn->sa = *sa;
	cn->salen = len;
	describe(sa, cn->remote, sizeof(cn->remote));
	cn->deadline_ms = cd_now_ms() + CONDUCTOR_HANDSHAKE_MS;
	if (!c->next_hs_ms || cn->deadline_ms < c->next_hs_ms)
		c->next_hs_ms = cn->deadline_ms;
	c->conns[slot] = cn;
	c->n_conns++;
	c->stats.accepted++;
	cn->ev_fd = EPOLLIN;
	if (cd_epoll_set(c, EPOLL_CTL_ADD, fd, EPOLLIN, TAG(slot, 0))) {
		cn->mhd_done = true;
		cd_conn_close(c, cn);
		cd_conn_free_if_done(c, cn);
	}
}

void cd_accept_all(struct conductor *c)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(c->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		accept_one(c, fd, &sa, len);
	}
}

void cd_conn_arm(struct conductor *c, struct cd_conn *cn)
{
	uint32_t fd_ev = 0, pair_ev = 0;

	if (cn->tls_done)
		return;
	if (cn->state == CD_HANDSHAKE) {
		fd_ev = cn->ev_fd;	/* as the handshake asked */
	} else {
		if (!cn->in)
			fd_ev |= EPOLLIN;
		if (cn->out || cn->read_wants_write)
			fd_ev |= EPOLLOUT;
		if (!cn->out && !cn->pair_eof)
			pair_ev |= EPOLLIN;
		if (cn->in)
			pair_ev |= EPOLLOUT;
	}
	if (fd_ev != cn->ev_fd || cn->state == CD_HANDSHAKE)
		cd_epoll_set(c, EPOLL_CTL_MOD, cn->fd, fd_ev, TAG(cn->slot, 0));
	cn->ev_fd = fd_ev;
	if (cn->pair >= 0 && pair_ev != cn->ev_pair)
		cd_epoll_set(c, EPOLL_CTL_MOD, cn->pair, pair_ev, TAG(cn->slot, 1));
	cn->ev_pair = pair_ev;
}

/* The handshake is done and the router judged: its plaintext goes to MHD. */
static int open_http(struct conductor *c, struct cd_conn *cn)
{
	struct sockaddr_un local = { .sun_family = AF_UNIX };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv))
		return -errno;
	cn->pair = sv[0];
	cn->mhd_fd = sv[1];
	if ((size_t)sv[1] >= c->n_by_fd) {
		size_t n = (size_t)sv[1] * 2 + 64;
		struct cd_conn **m = realloc(c->by_fd, n * sizeof(*m));

		if (!m) {
			close(sv[1]);
			cn->mhd_fd = -1;
			return -ENOMEM;
		}
		memset(m + c->n_by_fd, 0, (n - c->n_by_fd) * sizeof(*m));
		c->by_fd = m;
		c->n_by_fd = n;
	}
	cn->ev_pair = EPOLLIN;
	if (cd_epoll_set(c, EPOLL_CTL_ADD, cn->pair, EPOLLIN, TAG(cn->slot, 1))) {
		close(sv[1]);
		cn->mhd_fd = -1;
		return -EIO;
	}
	c->by_fd[sv[1]] = cn;
	cn->state = CD_OPEN;
	/* MHD closes its end whatever happens; on failure now. */
	/* MHD is told the truth, a local socket: it then does not try TCP
	 * options (TCP_NODELAY, TCP_CORK) on it. */
	if (MHD_add_connection(c->mhd, sv[1], (struct sockaddr *)&local,
			       sizeof(local)) != MHD_YES) {
		c->by_fd[sv[1]] = NULL;
		cn->mhd_fd = -1;
		return -EIO;
	}
	return 0;
}

static void handshake(struct conductor *c, struct cd_conn *cn)
{
	int ret = SSL_do_handshake(cn->ssl);

	if (ret != 1) {
		int e = SSL_get_error(cn->ssl, ret);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			cn->ev_fd = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
			cd_conn_arm(c, cn);
			return;
		}
		syslog(LOG_INFO, "conductor: TLS handshake with %s failed: %s",
		       cn->remote, ERR_reason_error_string(ERR_peek_error()) ?:
		       "connection closed");
		goto fail;
	}
	cd_judge(c, cn);
	if (open_http(c, cn))
		goto fail;
	cd_conn_event(c, cn);	/* the request may be in SSL's buffer */
	return;
fail:
	cn->mhd_done = cn->mhd_fd < 0;
	cd_conn_close(c, cn);
	cd_conn_free_if_done(c, cn);
}

/* Keep BUF[OFF..LEN) as CN's pending bytes (*PEND), one chunk at most. */
static int keep(uint8_t **pend, size_t *plen, size_t *poff, const uint8_t *buf,
		size_t len)
{
	*pend = malloc(CD_IO_CHUNK);
	if (!*pend)
		return -ENOMEM;
	memcpy(*pend, buf, len);
	*plen = len;
	*poff = 0;
	return 0;
}

/* Router -> MHD. 0, or -1 when the connection is to close. */
static int pump_in(struct conductor *c, struct cd_conn *cn)
{
	for (;;) {
		ssize_t w;
		int r;

		if (cn->in) {
			w = write(cn->pair, cn->in + cn->in_off,
				  cn->in_len - cn->in_off);
			if (w < 0)
				return errno == EAGAIN ? 0 : -1;
			cn->in_off += (size_t)w;
			if (cn->in_off < cn->in_len)
				return 0;
			free(cn->in);
			cn->in = NULL;
		}
		cn->read_wants_write = false;
		r = SSL_read(cn->ssl, c->io, sizeof(c->io));
		if (r <= 0) {
			int e = SSL_get_error(cn->ssl, r);

			cn->read_wants_write = e == SSL_ERROR_WANT_WRITE;
			return e == SSL_ERROR_WANT_READ ||
			       e == SSL_ERROR_WANT_WRITE ? 0 : -1;
		}
		c->stats.bytes_received += (uint64_t)r;
		w = write(cn->pair, c->io, (size_t)r);
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (w < r && keep(&cn->in, &cn->in_len, &cn->in_off,
				  c->io + (w > 0 ? w : 0),
				  (size_t)(r - (w > 0 ? w : 0))))
			return -1;
	}
}

/* MHD -> router. 0, or -1 when the connection is to close (also when MHD
 * closed its end and everything it said was sent). */
static int pump_out(struct conductor *c, struct cd_conn *cn)
{
	for (;;) {
		ssize_t n;
		int r;

		if (cn->out) {
			r = SSL_write(cn->ssl, cn->out + cn->out_off,
				      (int)(cn->out_len - cn->out_off));
			if (r <= 0) {
				int e = SSL_get_error(cn->ssl, r);

				return e == SSL_ERROR_WANT_WRITE ||
				       e == SSL_ERROR_WANT_READ ? 0 : -1;
			}
			cn->out_off += (size_t)r;
			c->stats.bytes_sent += (uint64_t)r;
			if (cn->out_off < cn->out_len)
				continue;
			free(cn->out);
			cn->out = NULL;
		}
		if (cn->pair_eof)
			return -1;	/* said all; MHD closed */
		n = read(cn->pair, c->io, sizeof(c->io));
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0) {
			cn->pair_eof = true;
			continue;
		}
		if (keep(&cn->out, &cn->out_len, &cn->out_off, c->io,
			 (size_t)n))
			return -1;
	}
}

void cd_conn_event(struct conductor *c, struct cd_conn *cn)
{
	if (cn->tls_done)
		return;
	if (cn->state == CD_HANDSHAKE) {
		handshake(c, cn);
		return;
	}
	if (pump_out(c, cn) || pump_in(c, cn) || pump_out(c, cn)) {
		cd_conn_close(c, cn);
		cd_conn_free_if_done(c, cn);
		return;
	}
	cd_conn_arm(c, cn);
}

/* Handshakes past their deadline are dropped. */
void cd_expire_handshakes(struct conductor *c, int64_t now)
{
	c->next_hs_ms = 0;
	for (size_t i = 0; i < c->p.max_conns; i++) {
		struct cd_conn *cn = c->conns[i];

		if (!cn || cn->tls_done || cn->state != CD_HANDSHAKE)
			continue;
		if (cn->deadline_ms <= now) {
			syslog(LOG_INFO, "conductor: TLS handshake with %s timed "
			       "out", cn->remote);
			cn->mhd_done = true;
			cd_conn_close(c, cn);
			cd_conn_free_if_done(c, cn);
		} else if (!c->next_hs_ms || cn->deadline_ms < c->next_hs_ms) {
			c->next_hs_ms = cn->deadline_ms;
		}
	}
}

