// SPDX-License-Identifier: GPL-2.0
/*
 * esp_peer - one key agreement of the peer key schedule, end to end, for
 * the guest test 85-esp.sh: what svrcertd will do after authenticating a
 * peer, without the authentication (an ephemeral self-signed certificate
 * on each side: the handshake here only supplies the exporter secret).
 *
 *   esp_peer -r server|client -L LOCAL -R REMOTE -p PORT -d STATE_DIR
 *            [-n SLOT] [-k COUNT] [-O OLD_IN:OLD_OUT] [-g GRACE_S]
 *            [-s REKEY_S -H TIMEOUT_S]
 *   esp_peer -F                      flush svrcert's SAs and policies
 *
 * The server listens on LOCAL:PORT for one call, the client calls
 * REMOTE:PORT (retrying for 20 s). Then, as peerkey.h describes: inbound
 * SPI allocated, offers exchanged, the larger index committed to
 * STATE_DIR/peer-keys/peer, keys derived, inbound SA installed, READY
 * exchanged, outbound SA installed, policies (ESP required, the TCP PORT
 * exempt) installed. Prints "spi_in=0x.. spi_out=0x.. index=N". -k: COUNT
 * agreements in a row, each on a new connection and handshake (rekeys, in
 * one process: a process start costs seconds in a TCG guest). Of the SAs
 * an agreement replaces (the first replaces -O's), the outbound one is
 * deleted at once: a socket's cached xfrm bundle keeps using a valid old
 * SA, so deleting it is what moves senders to the new one. The inbound
 * one stays GRACE_S seconds for what the peer still sends on its old SA
 * (make-before-break); the program waits for the last deletion.
 * -s/-H: the SAs' kernel lifetimes as svrcertd's for that rekey interval
 * and peer-key-timeout (peerkey_lifetimes); none by default.
 * Exit status 0, 1 on any failure (why on stderr), 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "netlink/nl_util.h"
#include "peer/peerkey.h"

struct opts {
	bool server, flush;
	struct svrcert_nl_addr local, remote;
	uint16_t port;
	const char *dir;
	unsigned int slot, grace, rekey, timeout, count;
	uint32_t old_in, old_out;
};

static int die(const char *what, int err)
{
	fprintf(stderr, "esp_peer: %s: %s\n", what, err ? strerror(err < 0 ? -err : err) : "failed");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static socklen_t sockaddr_of(const struct svrcert_nl_addr *a, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		s->sin_addr = a->v4;
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (void *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	s6->sin6_addr = a->v6;
	return sizeof(*s6);
}

static int listener(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(&o->local, o->port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&ss, len) || listen(fd, 1))
		die("listen", errno);
	return fd;
}

static int tcp(const struct opts *o, int lfd)
{
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_sec = 20 };
	socklen_t len;
	int c, i;

	if (o->server) {
		c = accept(lfd, NULL, NULL);
	} else {
		len = sockaddr_of(&o->remote, o->port, &ss);
		for (i = 0, c = -1; i < 200 && c < 0; i++) {
			c = socket(ss.ss_family, SOCK_STREAM, 0);
			if (connect(c, (void *)&ss, len)) {
				close(c);
				c = -1;
				usleep(100000);
			}
		}
	}
	if (c < 0)
		die(o->server ? "accept" : "connect", errno);
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return c;
}

static int accept_all(X509_STORE_CTX *ctx, void *arg)
{
	return 1;
}

static SSL *tls(const struct opts *o, int fd)
{
	SSL_CTX *ctx = SSL_CTX_new(o->server ? TLS_server_method() : TLS_client_method());
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	SSL *ssl;

	if (!ctx || !k || !x || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 3600) || !X509_set_pubkey(x, k) ||
	    !X509_sign(x, k, EVP_sha256()))
		die("ephemeral certificate", 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, accept_all, NULL);
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, k) != 1)
		die("TLS context", 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if ((o->server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1)
		die("TLS handshake", 0);
	X509_free(x);
	EVP_PKEY_free(k);
	SSL_CTX_free(ctx);
	return ssl;
}

static void send_msg(SSL *ssl, const struct peerkey_offer *m)
{
	uint8_t b[PEERKEY_OFFER_LEN];

	peerkey_offer_encode(m, b);
	if (SSL_write(ssl, b, sizeof(b)) != (int)sizeof(b))
		die("send", 0);
}

static void recv_msg(SSL *ssl, struct peerkey_offer *m, uint8_t flags)
{
	uint8_t b[PEERKEY_OFFER_LEN];
	char err[128];
	int n = 0, r;

	while (n < (int)sizeof(b)) {
		r = SSL_read(ssl, b + n, sizeof(b) - n);
		if (r <= 0)
			die("receive", 0);
		n += r;
	}
	if (peerkey_offer_decode(b, sizeof(b), m, err, sizeof(err)))
		die(err, 0);
	if (m->flags != flags)
		die("unexpected message", EPROTO);
}

/* The agreement proper; K is filled, both SAs are installed. */
static void agree(const struct opts *o, struct svrcert_xfrm *x, SSL *ssl,
		  const struct peerkey_path *p, struct peerkey_keys *k)
{
	struct peerkey_offer mine = { 0 }, theirs, ready;
	struct svrcert_store st;
	char err[256];
	uint64_t index;
	time_t t_alloc;
	int e;

	if ((e = store_open(&st, o->dir)))
		die("state directory", e);
	t_alloc = time(NULL);
	e = svrcert_xfrm_allocspi(x, &p->remote, &p->local, p->reqid, 0, 0, &mine.spi);
	if (e)
		die("ALLOCSPI", e);
	if ((e = peerkey_index_load(&st, "peer", &mine.index, err, sizeof(err))))
		die(err, e);
	send_msg(ssl, &mine);
	recv_msg(ssl, &theirs, 0);
	index = peerkey_agree_index(&mine, &theirs);
	if ((e = peerkey_index_commit(&st, "peer", index, err, sizeof(err))))
		die(err, e);
	if ((e = peerkey_derive(ssl, &mine, &theirs, index, k)))
		die("derive", e);
	if ((e = peerkey_sa_install_in(x, p, k, o->rekey, o->timeout))) {
		fprintf(stderr, "esp_peer: inbound SA %#x %ld s after ALLOCSPI\n", k->spi_in,
			(long)(time(NULL) - t_alloc));
		die(svrcert_xfrm_errmsg(x)[0] ? svrcert_xfrm_errmsg(x) : "inbound SA", e);
	}
	send_msg(ssl, &(struct peerkey_offer){ .spi = k->spi_in, .index = index,
					       .flags = PEERKEY_F_READY });
	recv_msg(ssl, &ready, PEERKEY_F_READY);
	if (ready.spi != k->spi_out || ready.index != index)
		die("READY for another key", EPROTO);
	if ((e = peerkey_sa_install_out(x, p, k, o->rekey, o->timeout)))
		die(svrcert_xfrm_errmsg(x)[0] ? svrcert_xfrm_errmsg(x) : "outbound SA", e);
	store_close(&st);
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt(argc, argv, "r:L:R:p:d:k:n:O:g:s:H:F")) != -1) {
		switch (c) {
		case 'r': o->server = !strcmp(optarg, "server"); break;
		case 'L': if (svrcert_nl_addr_parse(optarg, &o->local)) exit(2); break;
		case 'R': if (svrcert_nl_addr_parse(optarg, &o->remote)) exit(2); break;
		case 'p': o->port = (uint16_t)atoi(optarg); break;
		case 'd': o->dir = optarg; break;
		case 'k': o->count = (unsigned int)atoi(optarg); break;
		case 'n': o->slot = (unsigned int)atoi(optarg); break;
		case 'O':
			if (sscanf(optarg, "%" SCNi32 ":%" SCNi32, &o->old_in, &o->old_out) != 2)
				exit(2);
			break;
		case 'g': o->grace = (unsigned int)atoi(optarg); break;
		case 's': o->rekey = (unsigned int)atoi(optarg); break;
		case 'H': o->timeout = (unsigned int)atoi(optarg); break;
		case 'F': o->flush = true; break;
		default: exit(2);
		}
	}
	if (!o->count)
		o->count = 1;
	if (!o->flush && (!o->port || !o->dir || !o->local.family || !o->remote.family)) {
		fprintf(stderr, "usage: see tests/tools/esp_peer.c\n");
		exit(2);
	}
}

/* SAs replaced, deleted once their grace period is over. */
struct old {
	uint32_t in, out;
	time_t due;
};

static void remove_due(struct svrcert_xfrm *x, const struct peerkey_path *p,
		       struct old *old, unsigned int *n, time_t now)
{
	unsigned int i, kept = 0;
	int e;

	for (i = 0; i < *n; i++) {
		if (old[i].due > now) {
			old[kept++] = old[i];
			continue;
		}
		if ((e = peerkey_sa_remove(x, p, old[i].in, old[i].out)))
			die("removing old SAs", e);
	}
	*n = kept;
}

/* One agreement on a new connection; the SAs it replaces go to OLD. */
static void round_once(const struct opts *o, struct svrcert_xfrm *x, int lfd,
		       const struct peerkey_path *p, struct peerkey_keys *k)
{
	int fd = tcp(o, lfd), e;
	SSL *ssl = tls(o, fd);

	agree(o, x, ssl, p, k);
	if ((e = peerkey_policies_install(x, p)))
		die(svrcert_xfrm_errmsg(x)[0] ? svrcert_xfrm_errmsg(x) : "policies", e);
	printf("spi_in=%#" PRIx32 " spi_out=%#" PRIx32 " index=%" PRIu64 "\n", k->spi_in,
	       k->spi_out, k->index);
	fflush(stdout);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

int main(int argc, char **argv)
{
	struct peerkey_keys k;
	struct peerkey_path p;
	struct svrcert_xfrm *x;
	struct opts o;
	struct old *old;
	unsigned int nsa, npol, i, n_old = 0;
	uint32_t prev_in, prev_out;
	int e, lfd = -1;

	parse(argc, argv, &o);
	if ((e = svrcert_xfrm_open(&x)))
		die("xfrm socket", e);
	if (o.flush) {
		if ((e = svrcert_xfrm_flush_owned(x, &nsa, &npol)))
			die("flush", e);
		printf("flushed sa=%u policies=%u\n", nsa, npol);
		return 0;
	}
	memset(&p, 0, sizeof(p));
	p.local = o.local;
	p.remote = o.remote;
	p.reqid = SVRCERT_XFRM_REQID(o.slot);
	p.local_auth_port = o.server ? o.port : 0;
	p.remote_auth_port = o.server ? 0 : o.port;
	old = calloc(o.count + 1, sizeof(*old));
	if (o.server)
		lfd = listener(&o);
	prev_in = o.old_in;
	prev_out = o.old_out;
	for (i = 0; i < o.count; i++) {
		round_once(&o, x, lfd, &p, &k);
		if (prev_out && (e = peerkey_sa_remove(x, &p, 0, prev_out)))
			die("removing the old outbound SA", e);
		if (prev_in)
			old[n_old++] = (struct old){ prev_in, 0, time(NULL) + o.grace };
		prev_in = k.spi_in;
		prev_out = k.spi_out;
		peerkey_keys_wipe(&k);
		remove_due(x, &p, old, &n_old, time(NULL));
	}
	if (lfd >= 0)
		close(lfd);
	while (n_old) {
		sleep(1);
		remove_due(x, &p, old, &n_old, time(NULL));
	}
	free(old);
	svrcert_xfrm_close(x);
	return 0;
}
