// SPDX-License-Identifier: GPL-2.0
/*
 * esp_rekey - svrcertd's peer key agreement for many peers, timed phase by
 * phase, for scripts/bench-rekey (a benchmark, not a test).
 *
 *   esp_rekey -r hub|fleet -L LOCAL -R REMOTE -n PEERS -k REKEYS -p PORT
 *             -d STATE_DIR -c CERT.pem -K KEY.pem -A CA.pem -N PEER_NAME [-B]
 *   esp_rekey -P [-i ITERATIONS]
 *
 * One hub and PEERS peers, IPv4 only. The hub (TLS server) listens on
 * LOCAL:PORT; peer i is REMOTE + i. The fleet process plays all PEERS
 * peers: peer i calls from LOCAL + i. Every agreement is what svrcertd does
 * for one peer (peerauth_tls.c, peerauth_judge.c, peerauth_keys.c): a new
 * TCP connection and mutual TLS 1.3 handshake with this router's CA-signed
 * certificate (TLS 1.3 only, no tickets), the peer's certificate judged by
 * the runtime rules (svrcert_validate_cert: chain to CA.pem, dates, name
 * PEER_NAME, the held revocation keys -- none here --, through one
 * signature cache for the process as svrcertd's) and its fingerprint
 * taken, then the key schedule of peerkey.h: ALLOCSPI, offers, index
 * floor committed (STATE_DIR/peer-keys/pI, synced), keys derived, inbound
 * SA, READY, outbound SA, policies (UPDPOLICY), and the SAs the agreement
 * replaces deleted. Unlike svrcertd the old inbound SA goes at once, not
 * after the 30 s grace (same netlink work, earlier). -B (hub): bind the
 * peer in svrcert.ko with ESP required after every agreement, as svrcertd
 * does (pa_bind_peer, peerauth_bind.c): sent only when the binding's digest
 * differs from the last one the kernel took, so a rekey that keeps path
 * and certificate sends nothing; needs the module and the namespace
 * configured. Each peer has its own SAs and policies (reqid slot i).
 *
 * Round 0 establishes all PEERS, then REKEYS rounds rekey every peer, one
 * agreement after the other. Per round and phase the process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: user + system), per round the wall time and
 * getrusage's user/system split. Prints, per round:
 *   round role=hub|fleet r=R n=PEERS wall=S user=S sys=S cpu=S PHASE=S...
 * phases: tcp (connect/accept, close), tls (handshake), judge, allocspi,
 * index, msg (offers and READY over TLS), derive, sa (inbound + outbound
 * install), policy, sa_del, bind. Exit 0, 1 on any failure (why on
 * stderr: the run is void), 2 on usage errors.
 *
 * -P: CPU per public-key operation, ITERATIONS (default 200) each, the
 * building blocks of an IKEv2 rekey's budget (Documentation/performance.md):
 *   prim name=NAME us=MICROSECONDS
 * x25519 and p256 (key generation + shared secret, one DH of either side),
 * ecdsa_sign, ecdsa_verify (P-256, SHA-256).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "netlink/nl.h"
#include "netlink/nl_util.h"
#include "peer/peerauth.h"
#include "peer/peerkey.h"
#include "pki/pki.h"
#include "pki/validate.h"

enum phase { PH_TCP, PH_TLS, PH_JUDGE, PH_SPI, PH_INDEX, PH_MSG, PH_DERIVE,
	     PH_SA, PH_POLICY, PH_DEL, PH_BIND, PH_N };
static const char *const phase_name[PH_N] = {
	"tcp", "tls", "judge", "allocspi", "index", "msg", "derive", "sa",
	"policy", "sa_del", "bind",
};

struct opts {
	bool hub, bind, prim;
	struct in_addr local, remote;
	uint16_t port;
	const char *dir, *cert, *key, *ca, *peer_name;
	unsigned int peers, rekeys, iterations;
};

struct run {
	struct opts o;
	struct svrcert_xfrm *x;
	struct svrcert_nl *nl;
	struct svrcert_store st;
	SSL_CTX *ctx;
	X509_STORE *trust;
	struct svrcert_keyset revoked;	/* svrcertd's held CRLs: none */
	struct svrcert_sigcache *sigcache;
	uint8_t fp[SVRCERT_DIGEST_LEN];	/* the judged peer's fingerprint */
	uint32_t *old_in, *old_out;	/* per peer: the SAs to replace */
	uint8_t (*bound)[SVRCERT_DIGEST_LEN]; /* per peer: what the kernel took */
	double cpu[PH_N], mark;		/* this round's CPU per phase */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "esp_rekey: %s: %s\n", what, err ? strerror(err < 0 ? -err : err) : "failed");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The CPU since the last lap goes to phase P. */
static void lap(struct run *r, enum phase p)
{
	double now = clock_s(CLOCK_PROCESS_CPUTIME_ID);

	r->cpu[p] += now - r->mark;
	r->mark = now;
}

static struct sockaddr_in sin_of(struct in_addr a, unsigned int plus, uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				     .sin_addr.s_addr = htonl(ntohl(a.s_addr) + plus) };
}

static struct svrcert_nl_addr nl_addr_of(struct in_addr a, unsigned int plus)
{
	struct svrcert_nl_addr n = { .family = AF_INET };

	n.v4.s_addr = htonl(ntohl(a.s_addr) + plus);
	return n;
}

/* As svrcertd's (peerauth_tls.c new_ctx): the chain is judged after the
 * handshake, the handshake proves the peer holds its certificate's key. */
static int accept_any_chain(X509_STORE_CTX *ctx, void *arg)
{
	return 1;
}

static void setup_tls(struct run *r)
{
	const struct opts *o = &r->o;
	X509 *ca;
	FILE *f;

	r->ctx = SSL_CTX_new(o->hub ? TLS_server_method() : TLS_client_method());
	if (!r->ctx)
		die("TLS context", 0);
	SSL_CTX_set_min_proto_version(r->ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(r->ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(r->ctx, accept_any_chain, NULL);
	SSL_CTX_set_num_tickets(r->ctx, 0);
	SSL_CTX_set_session_cache_mode(r->ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_use_certificate_chain_file(r->ctx, o->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(r->ctx, o->key, SSL_FILETYPE_PEM) != 1)
		die("own certificate or key", 0);
	r->trust = svrcert_store_new();
	f = fopen(o->ca, "r");
	ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!r->trust || !ca || X509_STORE_add_cert(r->trust, ca) != 1)
		die("CA certificate", 0);
	X509_free(ca);
}

/* The runtime rules on the peer's certificate, as peerauth_judge.c's
 * judge(); its fingerprint as cache_cert() takes it. */
static void judge(struct run *r, SSL *ssl)
{
	struct svrcert_validate_params vp = { .store = r->trust, .now = time(NULL),
					      .expected_name = r->o.peer_name,
					      .revoked_keys = &r->revoked,
					      .sigcache = r->sigcache };
	struct svrcert_validated v = { 0 };
	struct svrcert_problems p;
	int e;

	svrcert_problems_init(&p);
	e = svrcert_validate_cert(SSL_get0_peer_certificate(ssl), SSL_get_peer_cert_chain(ssl),
				  &vp, &v, &p);
	if (e)
		die(p.n ? p.v[0].msg : "peer certificate", e);
	if (svrcert_fingerprint_sha256(SSL_get0_peer_certificate(ssl), r->fp))
		die("fingerprint", EINVAL);
	svrcert_problems_free(&p);
	svrcert_validated_free(&v);
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
	int n = 0, ret;

	while (n < (int)sizeof(b)) {
		ret = SSL_read(ssl, b + n, sizeof(b) - n);
		if (ret <= 0)
			die("receive", 0);
		n += ret;
	}
	if (peerkey_offer_decode(b, sizeof(b), m, err, sizeof(err)))
		die(err, 0);
	if (m->flags != flags)
		die("unexpected message", EPROTO);
}

static const char *xerr(struct run *r, const char *what)
{
	return svrcert_xfrm_errmsg(r->x)[0] ? svrcert_xfrm_errmsg(r->x) : what;
}

/* The key schedule of peerkey.h on SSL, both SAs installed into K. */
static void agree(struct run *r, SSL *ssl, const struct peerkey_path *p, const char *name,
		  struct peerkey_keys *k)
{
	struct peerkey_offer mine = { 0 }, theirs, ready;
	char err[256];
	uint64_t index;
	int e;

	if ((e = svrcert_xfrm_allocspi(r->x, &p->remote, &p->local, p->reqid, 0, 0, &mine.spi)))
		die(xerr(r, "ALLOCSPI"), e);
	lap(r, PH_SPI);
	if ((e = peerkey_index_load(&r->st, name, &mine.index, err, sizeof(err))))
		die(err, e);
	lap(r, PH_INDEX);
	send_msg(ssl, &mine);
	recv_msg(ssl, &theirs, 0);
	lap(r, PH_MSG);
	index = peerkey_agree_index(&mine, &theirs);
	if ((e = peerkey_index_commit(&r->st, name, index, err, sizeof(err))))
		die(err, e);
	lap(r, PH_INDEX);
	if ((e = peerkey_derive(ssl, &mine, &theirs, index, k)))
		die("derive", e);
	lap(r, PH_DERIVE);
	if ((e = peerkey_sa_install_in(r->x, p, k, 0, 0)))
		die(xerr(r, "inbound SA"), e);
	lap(r, PH_SA);
	send_msg(ssl, &(struct peerkey_offer){ .spi = k->spi_in, .index = index,
					       .flags = PEERKEY_F_READY });
	recv_msg(ssl, &ready, PEERKEY_F_READY);
	if (ready.spi != k->spi_out || ready.index != index)
		die("READY for another key", EPROTO);
	lap(r, PH_MSG);
	if ((e = peerkey_sa_install_out(r->x, p, k, 0, 0)))
		die(xerr(r, "outbound SA"), e);
	lap(r, PH_SA);
}

/* svrcertd binds the peer once its keys are in (pa_bind_peer), unless the
 * kernel holds that binding already; the request as its default binder's
 * (peerauth_bind.c). */
static void bind_peer(struct run *r, SSL *ssl, unsigned int i)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	struct svrcert_addr addr = { .family = AF_INET };
	struct peerauth_binding b = { .state = SVRCERT_STATE_VALID, .addrs = &addr,
				      .n_addrs = 1, .esp_required = true,
				      .auth_port = r->o.port, .cert_fp = r->fp };
	uint8_t digest[SVRCERT_DIGEST_LEN], revkey[SVRCERT_KEY_LEN];
	struct svrcert_peer_info info;
	unsigned char *der = NULL;
	char name[16];
	int len, e;

	snprintf(name, sizeof(name), "f%u", i);
	b.name = name;
	addr.v4.s_addr = htonl(ntohl(r->o.remote.s_addr) + i);
	b.esp_addr = addr;
	peerauth_binding_digest(&b, digest);
	if (!memcmp(digest, r->bound[i], sizeof(digest)))
		return;
	len = i2d_X509(leaf, &der);
	e = len > 0 ? svrcert_revkey_from_cert(leaf, revkey) : -EINVAL;
	b.cert_der = der;
	b.cert_der_len = len > 0 ? (size_t)len : 0;
	b.revkey = revkey;
	peerauth_binding_info(&b, &info);
	if (!e)
		e = svrcert_nl_peer_add(r->nl, &info, true);
	if (e)
		die(svrcert_nl_errmsg(r->nl)[0] ? svrcert_nl_errmsg(r->nl) : "bind", e);
	memcpy(r->bound[i], digest, sizeof(digest));
	OPENSSL_free(der);
}

static int tcp_connect(const struct run *r, unsigned int i)
{
	struct sockaddr_in src = sin_of(r->o.local, i, 0), dst = sin_of(r->o.remote, 0, r->o.port);
	int fd, tries;

	for (tries = 0; tries < 200; tries++) {	/* the hub may not listen yet */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (void *)&src, sizeof(src)))
			die("socket", errno);
		if (!connect(fd, (void *)&dst, sizeof(dst)))
			return fd;
		close(fd);
		usleep(100000);
	}
	die("connect", errno);
	return -1;
}

/* Accept one call; *I is the calling peer's number. */
static int tcp_accept(const struct run *r, int lfd, unsigned int *i)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	int fd = accept(lfd, (void *)&from, &len);

	if (fd < 0)
		die("accept", errno);
	*i = ntohl(from.sin_addr.s_addr) - ntohl(r->o.remote.s_addr);
	if (*i >= r->o.peers)
		die("a call from outside the fleet", EINVAL);
	return fd;
}

/* One agreement with peer I (the fleet: peer I calls; the hub: whoever calls). */
static void one(struct run *r, int lfd, unsigned int i)
{
	struct timeval tv = { .tv_sec = 20 };
	struct peerkey_path p = { .reqid = SVRCERT_XFRM_REQID(i) };
	struct peerkey_keys k;
	char name[16];
	SSL *ssl;
	int fd, e;

	fd = r->o.hub ? tcp_accept(r, lfd, &i) : tcp_connect(r, i);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	p.local = nl_addr_of(r->o.local, r->o.hub ? 0 : i);
	p.remote = nl_addr_of(r->o.remote, r->o.hub ? i : 0);
	p.local_auth_port = r->o.hub ? r->o.port : 0;
	p.remote_auth_port = r->o.hub ? 0 : r->o.port;
	snprintf(name, sizeof(name), "p%u", i);
	lap(r, PH_TCP);
	ssl = SSL_new(r->ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
	    (r->o.hub ? SSL_accept(ssl) : SSL_connect(ssl)) != 1)
		die("TLS handshake", 0);
	lap(r, PH_TLS);
	judge(r, ssl);
	lap(r, PH_JUDGE);
	agree(r, ssl, &p, name, &k);
	if ((e = peerkey_policies_install(r->x, &p)))
		die(xerr(r, "policies"), e);
	lap(r, PH_POLICY);
	if ((r->old_in[i] || r->old_out[i]) &&
	    (e = peerkey_sa_remove(r->x, &p, r->old_in[i], r->old_out[i])))
		die(xerr(r, "removing the old SAs"), e);
	r->old_in[i] = k.spi_in;
	r->old_out[i] = k.spi_out;
	peerkey_keys_wipe(&k);
	lap(r, PH_DEL);
	if (r->o.bind)
		bind_peer(r, ssl, i);
	lap(r, PH_BIND);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	lap(r, PH_TCP);
}

static double tv_s(struct timeval t)
{
	return t.tv_sec + t.tv_usec / 1e6;
}

/* One round: every peer agrees once; its line on stdout. */
static void round_once(struct run *r, int lfd, unsigned int round)
{
	struct rusage u0, u1;
	double w0, c0, sum = 0;
	unsigned int i, ph;

	memset(r->cpu, 0, sizeof(r->cpu));
	getrusage(RUSAGE_SELF, &u0);
	w0 = clock_s(CLOCK_MONOTONIC);
	c0 = r->mark = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < r->o.peers; i++)
		one(r, lfd, i);
	getrusage(RUSAGE_SELF, &u1);
	printf("round role=%s r=%u n=%u wall=%.6f user=%.6f sys=%.6f cpu=%.6f",
	       r->o.hub ? "hub" : "fleet", round, r->o.peers, clock_s(CLOCK_MONOTONIC) - w0,
	       tv_s(u1.ru_utime) - tv_s(u0.ru_utime), tv_s(u1.ru_stime) - tv_s(u0.ru_stime),
	       clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
	for (ph = 0; ph < PH_N; ph++) {
		printf(" %s=%.6f", phase_name[ph], r->cpu[ph]);
		sum += r->cpu[ph];
	}
	printf(" phases=%.6f\n", sum);
	fflush(stdout);
}

/* ---- -P: the public-key primitives ------------------------------------- */

/* One key generation and one shared secret with PEER's public key. */
static void dh_once(const char *alg, const char *group, EVP_PKEY *peer)
{
	EVP_PKEY *k = group ? EVP_PKEY_Q_keygen(NULL, NULL, alg, group) :
			      EVP_PKEY_Q_keygen(NULL, NULL, alg);
	EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	unsigned char s[64];
	size_t n = sizeof(s);

	if (!c || EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer(c, peer) != 1 ||
	    EVP_PKEY_derive(c, s, &n) != 1)
		die(alg, 0);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
}

static void prim_report(const char *name, double t0, unsigned int n)
{
	printf("prim name=%s us=%.1f\n", name, 1e6 * (clock_s(CLOCK_PROCESS_CPUTIME_ID) - t0) / n);
}

static void primitives(unsigned int n)
{
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char msg[64] = { 1 }, sig[80];
	size_t len = sizeof(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned int i;
	double t;

	if (!x || !ec || !m)
		die("keys", 0);
	t = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++)
		dh_once("X25519", NULL, x);
	prim_report("x25519", t, n);
	t = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++)
		dh_once("EC", "P-256", ec);
	prim_report("p256", t, n);
	t = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		len = sizeof(sig);
		if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, ec) != 1 ||
		    EVP_DigestSign(m, sig, &len, msg, sizeof(msg)) != 1)
			die("sign", 0);
	}
	prim_report("ecdsa_sign", t, n);
	t = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++)
		if (EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, ec) != 1 ||
		    EVP_DigestVerify(m, sig, len, msg, sizeof(msg)) != 1)
			die("verify", 0);
	prim_report("ecdsa_verify", t, n);
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(x);
	EVP_PKEY_free(ec);
}

/* ---- main ---------------------------------------------------------------- */

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->iterations = 200;
	while ((c = getopt(argc, argv, "r:L:R:n:k:p:d:c:K:A:N:BPi:")) != -1) {
		switch (c) {
		case 'r': o->hub = !strcmp(optarg, "hub"); break;
		case 'L': if (inet_pton(AF_INET, optarg, &o->local) != 1) exit(2); break;
		case 'R': if (inet_pton(AF_INET, optarg, &o->remote) != 1) exit(2); break;
		case 'n': o->peers = (unsigned int)atoi(optarg); break;
		case 'k': o->rekeys = (unsigned int)atoi(optarg); break;
		case 'p': o->port = (uint16_t)atoi(optarg); break;
		case 'd': o->dir = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'K': o->key = optarg; break;
		case 'A': o->ca = optarg; break;
		case 'N': o->peer_name = optarg; break;
		case 'B': o->bind = true; break;
		case 'P': o->prim = true; break;
		case 'i': o->iterations = (unsigned int)atoi(optarg); break;
		default: exit(2);
		}
	}
	if (o->prim ? !o->iterations :
	    (!o->peers || o->peers > 0xffff || !o->port || !o->dir || !o->cert || !o->key ||
	     !o->ca || !o->peer_name || !o->local.s_addr || !o->remote.s_addr)) {
		fprintf(stderr, "usage: see tests/tools/esp_rekey.c\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct run r = { 0 };
	unsigned int round;
	int e, lfd = -1, one_ = 1;

	parse(argc, argv, &r.o);
	if (r.o.prim) {
		primitives(r.o.iterations);
		return 0;
	}
	setup_tls(&r);
	svrcert_keyset_init(&r.revoked);
	r.sigcache = svrcert_sigcache_new(PEERAUTH_SIGCACHE_ENTRIES);
	if (!r.sigcache)
		die("memory", ENOMEM);
	if ((e = svrcert_xfrm_open(&r.x)))
		die("xfrm socket", e);
	if (r.o.bind && (e = svrcert_nl_open(&r.nl)) < 0)
		die(svrcert_nl_open_errmsg(), e);
	if ((e = store_open(&r.st, r.o.dir)))
		die("state directory", e);
	r.old_in = calloc(r.o.peers, sizeof(*r.old_in));
	r.old_out = calloc(r.o.peers, sizeof(*r.old_out));
	r.bound = calloc(r.o.peers, sizeof(*r.bound));
	if (!r.old_in || !r.old_out || !r.bound)
		die("memory", ENOMEM);
	if (r.o.hub) {
		sa = sin_of(r.o.local, 0, r.o.port);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof(one_));
		if (lfd < 0 || bind(lfd, (void *)&sa, sizeof(sa)) || listen(lfd, 64))
			die("listen", errno);
	}
	for (round = 0; round <= r.o.rekeys; round++)
		round_once(&r, lfd, round);
	if (lfd >= 0)
		close(lfd);
	store_close(&r.st);
	if (r.nl)
		svrcert_nl_close(r.nl);
	svrcert_xfrm_close(r.x);
	SSL_CTX_free(r.ctx);
	X509_STORE_free(r.trust);
	svrcert_keyset_free(&r.revoked);
	svrcert_sigcache_free(r.sigcache);
	free(r.bound);
	free(r.old_in);
	free(r.old_out);
	return 0;
}
