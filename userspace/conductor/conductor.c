// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor's listener and connections: mutual TLS 1.3 terminated by
 * OpenSSL, non-blocking, in one epoll set the caller's loop polls; each
 * connection's plaintext pumped to and from libmicrohttpd through a
 * socketpair (conductor_http.c answers the requests).
 *
 * As in peer authentication (peer/peerauth_tls.c), the chain is accepted
 * at the TLS layer and judged after the handshake with the runtime rules
 * (conductor_judge.c), so a refused router is told why (403) and logged by
 * name instead of seeing a bare handshake alert.
 *
 * Bounded memory per router: SSL_MODE_RELEASE_BUFFERS (an idle connection
 * holds no record buffers), plaintext buffered only while pending (one
 * chunk per direction), MHD's pool capped (CONDUCTOR_REQUEST_MAX), and at
 * most max-connections connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conductor_int.h"
#include "peer/peerauth.h"

#define TAG_LISTEN	UINT64_MAX
#define TAG_MHD		(UINT64_MAX - 1)
#define FDS_PER_CONN	3u	/* TLS socket and both ends of the pair */
#define FDS_RESERVED	256u

int64_t cd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int accept_any_chain(X509_STORE_CTX *ctx, void *arg)
{
	return 1;	/* judged after the handshake, see the file comment */
}

static int tls_ctx(struct conductor *c, char *err, size_t errlen)
{
	char cert[4200];
	EVP_PKEY *key = NULL;
	int ret;

	store_path(c->p.st, STORE_CERT, cert, sizeof(cert));
	ret = pa_load_key(c->p.cfg, c->p.st, &key, err, errlen);
	if (ret)
		return ret;
	c->ctx = SSL_CTX_new(TLS_server_method());
	if (!c->ctx) {
		EVP_PKEY_free(key);
		return svrcert_fail(err, errlen, -ENOMEM, "cannot create a TLS "
				    "context");
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(c->ctx, accept_any_chain, NULL);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_num_tickets(c->ctx, 0);
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
	ret = SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1 ? -ENOENT :
	      SSL_CTX_use_PrivateKey(c->ctx, key) != 1 ? -EKEYREJECTED : 0;
	EVP_PKEY_free(key);	/* the context holds a reference */
	ERR_clear_error();
	if (ret)
		return svrcert_fail(err, errlen, ret, ret == -ENOENT ?
				    "own certificate %s: cannot be loaded" :
				    "own certificate %s does not belong to "
				    "this router's key", cert);
	return 0;
}

int cd_epoll_set(struct conductor *c, int op, int fd, uint32_t ev,
		     uint64_t tag)
{
	struct epoll_event e = { .events = ev, .data.u64 = tag };

	return epoll_ctl(c->ep, op, fd, &e) ? -errno : 0;
}

static int listen_on(struct conductor *c, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*res = NULL;
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char service[8];
	int one = 1, e;

	snprintf(service, sizeof(service), "%u", c->p.port);
	if (getaddrinfo(c->host, service, &hints, &res))
		return svrcert_fail(err, errlen, -EINVAL, "[conductor] listen "
				    "= %s:%u: cannot resolve", c->host, c->p.port);
	c->listen_fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
			      SOCK_CLOEXEC, 0);
	e = c->listen_fd < 0 || setsockopt(c->listen_fd, SOL_SOCKET,
					   SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(c->listen_fd, res->ai_addr, res->ai_addrlen) ||
	    listen(c->listen_fd, 1024) ||
	    getsockname(c->listen_fd, (struct sockaddr *)&sa, &len) ? errno : 0;
	freeaddrinfo(res);
	if (e)
		return svrcert_fail(err, errlen, -e, "[conductor] listen = "
				    "%s:%u: %s", c->host, c->p.port, strerror(e));
	c->port = ntohs(sa.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&sa)->sin6_port :
			((struct sockaddr_in *)&sa)->sin_port);
	return cd_epoll_set(c, EPOLL_CTL_ADD, c->listen_fd, EPOLLIN, TAG_LISTEN);
}

/* Three descriptors per router must fit the open-file limit, or a full
 * conductor would starve the daemon's loop of descriptors. */
static void fit_fd_limit(struct conductor *c)
{
	rlim_t need = (rlim_t)c->p.max_conns * FDS_PER_CONN + FDS_RESERVED;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ?
		      need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	syslog(LOG_WARNING, "conductor: at most %llu connections (open file "
	       "limit %llu; raise LimitNOFILE for %u)",
	       (unsigned long long)(rl.rlim_cur > FDS_RESERVED + FDS_PER_CONN ?
				    (rl.rlim_cur - FDS_RESERVED) / FDS_PER_CONN : 1),
	       (unsigned long long)rl.rlim_cur, c->p.max_conns);
	c->p.max_conns = rl.rlim_cur > FDS_RESERVED + FDS_PER_CONN ?
			 (unsigned int)((rl.rlim_cur - FDS_RESERVED) /
					FDS_PER_CONN) : 1;
}

static void params_of(struct conductor *c, const struct conductor_params *p)
{
	const struct svrcert_config *cfg = p->cfg;
	enum tpm_key_storage stored;

	c->p = *p;
	snprintf(c->host, sizeof(c->host), "%s", p->host ? p->host :
		 cfg && cfg->conductor_listen.host ?
		 cfg->conductor_listen.host : "");
	if (!p->host && cfg)
		c->p.port = cfg->conductor_listen.port;
	if (!c->p.max_conns)
		c->p.max_conns = cfg ? cfg->conductor_conns :
				 SVRCERT_DEF_CONDUCTOR_CONNS;
	if (!c->p.max_wait_s)
		c->p.max_wait_s = cfg ? cfg->conductor_wait_s :
				  SVRCERT_DEF_CONDUCTOR_WAIT_S;
	if (c->p.max_wait_s > CONDUCTOR_WAIT_MAX_S)
		c->p.max_wait_s = CONDUCTOR_WAIT_MAX_S;
	snprintf(c->name, sizeof(c->name), "%s", cfg && cfg->router_name ?
		 cfg->router_name : "");
	c->tcti = p->tcti ? strdup(p->tcti) : NULL;
	c->p.tcti = c->tcti;
	c->p.host = NULL;	/* c->host holds it */
	/* As for the TLS key (pa_load_key): with tpm-blob the stored key
	 * says which kind it is. */
	if (c->p.storage == TPM_KEY_STORAGE_TPM &&
	    !tpm_key_storage_of(p->st, &stored) &&
	    stored == TPM_KEY_STORAGE_FILE)
		c->p.storage = TPM_KEY_STORAGE_FILE;
}

int conductor_start(struct conductor **out, const struct conductor_params *p,
		    char *err, size_t errlen)
{
	struct conductor *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c)
		return svrcert_fail(err, errlen, -ENOMEM, "out of memory");
	params_of(c, p);
	c->listen_fd = c->mhd_ep = -1;
	svrcert_held_init(&c->own_held);
	c->held = p->held ? p->held : &c->own_held;
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	fit_fd_limit(c);
	c->conns = calloc(c->p.max_conns, sizeof(*c->conns));
	if (c->ep < 0 || !c->conns)
		ret = svrcert_fail(err, errlen, -ENOMEM, "cannot set up: %s",
				   strerror(errno));
	else if (!c->name[0] || !*c->host || (p->tcti && !c->tcti))
		ret = svrcert_fail(err, errlen, -EINVAL, "[router] name and "
				   "[conductor] listen are required");
	else
		ret = cd_gen_open(c, err, errlen);
	if (!ret)
		ret = tls_ctx(c, err, errlen);
	if (!ret)
		ret = cd_http_start(c, err, errlen);
	if (!ret)
		ret = listen_on(c, err, errlen);
	if (ret) {
		conductor_stop(c);
		return ret;
	}
	c->next_rejudge_ms = cd_now_ms() + CD_REJUDGE_MS;
	c->stats.port = c->port;
	c->stats.max_conns = c->p.max_conns;
	*out = c;
	return 0;
}

void conductor_stop(struct conductor *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->conns && i < c->p.max_conns; i++)
		if (c->conns[i])
			cd_conn_close(c, c->conns[i]);
	cd_http_stop(c);	/* MHD closes its ends: the conns go */
	for (size_t i = 0; c->conns && i < c->p.max_conns; i++)
		if (c->conns[i]) {
			c->conns[i]->mhd_done = true;
			cd_conn_free_if_done(c, c->conns[i]);
		}
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->ep >= 0)
		close(c->ep);
	SSL_CTX_free(c->ctx);
	cd_trust_free(c);
	svrcert_held_free(&c->own_held);
	cd_gen_close(c);
	free(c->conns);
	free(c->by_fd);
	free(c->tcti);
	free(c);
}

int conductor_fd(const struct conductor *c)
{
	return c->ep;
}

static int until(int64_t at, int64_t now)
{
	return at <= now ? 0 : at - now > 3600000 ? 3600000 : (int)(at - now);
}

int conductor_timeout_ms(const struct conductor *c)
{
	int64_t now = cd_now_ms();
	int t = cd_http_timeout_ms(c);

	if (c->next_hs_ms && (t < 0 || until(c->next_hs_ms, now) < t))
		t = until(c->next_hs_ms, now);
	if (c->next_wait_ms && (t < 0 || until(c->next_wait_ms, now) < t))
		t = until(c->next_wait_ms, now);
	if (c->sign_retry_ms && (t < 0 || until(c->sign_retry_ms, now) < t))
		t = until(c->sign_retry_ms, now);
	if (c->n_conns && (t < 0 || until(c->next_rejudge_ms, now) < t))
		t = until(c->next_rejudge_ms, now);
	return t;
}

void conductor_stats(const struct conductor *c, struct conductor_stats *s)
{
	*s = c->stats;
	s->generation = c->j.gen;
	s->gen_time = (int64_t)c->j.time;
	s->keys = c->ncur;
	memcpy(s->epoch, c->j.epoch, sizeof(s->epoch));
	s->connections = c->n_conns;
	s->waiting = c->n_waiting;
}

void conductor_process(struct conductor *c)
{
	struct epoll_event ev[64];
	int64_t now;
	int n;

	for (int round = 0; round < 16; round++) {
		n = epoll_wait(c->ep, ev, 64, 0);
		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;
			struct cd_conn *cn;

			if (tag == TAG_LISTEN) {
				cd_accept_all(c);
			} else if (tag == TAG_MHD) {
				cd_http_run(c);
			} else if ((tag >> 1) < c->p.max_conns &&
				   (cn = c->conns[tag >> 1])) {
				cd_conn_event(c, cn);
			}
		}
		if (n < 64)
			break;
	}
	now = cd_now_ms();
	if (c->next_hs_ms && c->next_hs_ms <= now)
		cd_expire_handshakes(c, now);
	if (c->next_wait_ms && c->next_wait_ms <= now)
		cd_http_wake(c, false);
	if (c->sign_retry_ms && c->sign_retry_ms <= now)
		cd_gen_retry(c);
	if (c->next_rejudge_ms <= now)
		cd_rejudge_all(c);	/* expiry while connected */
	cd_http_run(c);
}
