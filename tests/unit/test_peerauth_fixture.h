/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by tests/unit/test_peerauth*.c: two "routers" in one process on
 * loopback, each with its own state directory, configuration, certificate
 * from the test PKI (tests/pki/mkpki.sh) and peerauth instance, driven by
 * one poll loop. r1 calls r2 ([peer] authenticate); r2 is the TLS server
 * and judges r1 from the client certificate. The kernel binder is replaced
 * by a recorder (the netlink client has its own tests; these assert what
 * would be bound). Header-only: every test_X.c is one program.
 */
#ifndef SVRCERT_TEST_PEERAUTH_FIXTURE_H
#define SVRCERT_TEST_PEERAUTH_FIXTURE_H

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../pki/testpki.h"
#include "swtpm_fixture.h"

#include "lib/counters.h"
#include "pki/csr.h"
#include "peer/peerauth.h"
#include "tpm/tpm.h"

struct binding_log {
	unsigned int calls;
	char name[64];
	enum svrcert_cert_state state;
	uint8_t der[4096];
	size_t der_len;
	size_t n_addrs;
	unsigned int unbinds;
	char unbound[64];
	bool esp_required;
	uint8_t esp_proto;
	uint16_t auth_port, peer_auth_port;
	struct svrcert_addr esp_addr;
};

struct router {
	char dir[64];
	char conf_text[2048];
	uint16_t port;
	/* router_config()'s choices; NULL: the defaults below. */
	const char *listen_host;	/* "127.0.0.1" */
	const char *call_host;		/* the peer's authenticate host,
					 * "127.0.0.1" */
	const char *peer_addrs;		/* "127.0.0.1, fd00::9" */
	const char *peer_extra;		/* more lines after the peer's */
	unsigned int handshake_ms;	/* router_start(): 15000 */
	struct svrcert_store st;
	struct svrcert_config cfg;
	struct peerauth *pa;
	struct binding_log bound;
};

struct fx {
	struct router r1, r2;
	struct swtpm_fixture tpm;
};

static __attribute__((unused)) int record_bind(const struct peerauth_binding *b, void *ctx, char *msg,
		       size_t msglen)
{
	struct binding_log *log = ctx;

	log->calls++;
	snprintf(log->name, sizeof(log->name), "%s", b->name);
	log->state = b->state;
	log->der_len = b->cert_der_len < sizeof(log->der) ? b->cert_der_len : 0;
	if (b->cert_der)
		memcpy(log->der, b->cert_der, log->der_len);
	log->n_addrs = b->n_addrs;
	log->esp_required = b->esp_required;
	log->esp_proto = b->esp_proto;
	log->auth_port = b->auth_port;
	log->peer_auth_port = b->peer_auth_port;
	log->esp_addr = b->esp_addr;
	return 0;
}

static __attribute__((unused)) int record_unbind(const char *name, void *ctx)
{
	struct binding_log *log = ctx;

	log->unbinds++;
	snprintf(log->unbound, sizeof(log->unbound), "%s", name);
	return 0;
}

/* Write R's configuration: router NAME, key KEY ("file:PATH" or
 * "tpm-blob"), one peer PEER (addresses R->peer_addrs: by default
 * 127.0.0.1, where the peer calls from, and fd00::9) that is called at
 * R->call_host:CALL_PORT (0: passive); R listens on R->listen_host. */
static __attribute__((unused)) void router_config(struct router *r, const char *name, const char *key,
			  const char *peer, uint16_t call_port)
{
	char keysec[512], call[300] = "", err[256];
	struct svrcert_config cfg;

	if (!strncmp(key, "file:", 5))
		snprintf(keysec, sizeof(keysec), "storage = file\nkey-file = %s\n",
			 key + 5);
	else
		snprintf(keysec, sizeof(keysec), "storage = tpm-blob\n");
	if (call_port)
		snprintf(call, sizeof(call), "authenticate = %s:%u\n",
			 r->call_host ? r->call_host : "127.0.0.1", call_port);
	snprintf(r->conf_text, sizeof(r->conf_text),
		 "[router]\nname = %s\n[key]\n%s"
		 "[trusted-ca \"test\"]\nfile = %s\n"
		 "[peer \"%s\"]\naddress = %s\n%s%s"
		 "[daemon]\nstate-dir = %s\nlisten = %s:%u\n"
		 "audit-log = %s/audit.log\n",
		 name, keysec, testpki_path("bundle.pem"), peer,
		 r->peer_addrs ? r->peer_addrs : "127.0.0.1, fd00::9", call,
		 r->peer_extra ? r->peer_extra : "", r->dir,
		 r->listen_host ? r->listen_host : "127.0.0.1", r->port, r->dir);
	assert_int_equal(svrcert_config_load_string(r->conf_text, "test.conf",
						    &cfg, err, sizeof(err)), 0);
	svrcert_config_free(&r->cfg);
	r->cfg = cfg;
}

/* [daemon] peer-keys = yes on top of R's configuration. */
static __attribute__((unused)) void keys_on(struct router *r)
{
	struct svrcert_config cfg;
	char err[256];

	strncat(r->conf_text, "peer-keys = yes\n",
		sizeof(r->conf_text) - strlen(r->conf_text) - 1);
	assert_int_equal(svrcert_config_load_string(r->conf_text, "test.conf", &cfg, err,
						    sizeof(err)), 0);
	assert_true(cfg.peer_keys);
	svrcert_config_free(&r->cfg);
	r->cfg = cfg;
}

static __attribute__((unused)) void install(struct router *r, const char *name, const char *pki_file)
{
	assert_int_equal(fixture_sh("cp %s %s/%s", testpki_path(pki_file),
				    r->dir, name), 0);
}

static __attribute__((unused)) void router_start(struct router *r)
{
	struct peerauth_params p = { .cfg = &r->cfg, .st = &r->st,
				     .handshake_ms = r->handshake_ms ?: 15000,
				     .bind = record_bind,
				     .unbind = record_unbind,
				     .bind_ctx = &r->bound };
	char err[256];

	assert_int_equal(peerauth_new(&p, &r->pa, err, sizeof(err)), 0);
	assert_int_equal(peerauth_listen_port(r->pa), r->port);
}

static __attribute__((unused)) void router_init(struct router *r, const char *tag)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(fixture_tempdir(r->dir, tag), 0);
	assert_int_equal(store_open(&r->st, r->dir), 0);
	r->port = (uint16_t)fixture_bind_port(0);
}

static __attribute__((unused)) void router_fini(struct router *r)
{
	peerauth_free(r->pa);
	svrcert_config_free(&r->cfg);
	store_close(&r->st);
	fixture_rm_rf(r->dir);
}

static __attribute__((unused)) const char *file_key(const char *pki_key)
{
	static __attribute__((unused)) char buf[PATH_MAX + 8];

	snprintf(buf, sizeof(buf), "file:%s", testpki_path(pki_key));
	return buf;
}

/* r2: passive, knows peer r1, certificate r2.pem on r2.key. */
static __attribute__((unused)) void start_r2(struct fx *f)
{
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", 0);
	router_start(&f->r2);
}

/* r1: certificate R1_CERT on r1.key, calls r2 knowing it as PEER. */
static __attribute__((unused)) void start_r1(struct fx *f, const char *r1_cert, const char *peer)
{
	install(&f->r1, "cert.pem", r1_cert);
	router_config(&f->r1, "r1", file_key("r1.key"), peer, f->r2.port);
	router_start(&f->r1);
}

static __attribute__((unused)) unsigned int results(struct router *r, const char *peer)
{
	struct peerauth_peer_status s;

	return peerauth_peer_status(r->pa, peer, &s) ? 0 : s.results;
}

static __attribute__((unused)) uint64_t cnt(struct router *r, enum peerauth_counter c)
{
	return peerauth_counter(r->pa, c);
}

/* One poll loop for every router until COND holds or MS pass. */
static __attribute__((unused)) bool drive(struct router **rs, size_t n,
		  bool (*cond)(struct fx *), struct fx *f, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd fds[64];
		size_t off[4], cnt_[4], total = 0;
		int timeout = 50;

		if (cond(f))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return false;
		for (size_t i = 0; i < n; i++) {
			int to = peerauth_timeout_ms(rs[i]->pa);

			off[i] = total;
			cnt_[i] = peerauth_pollfds(rs[i]->pa, fds + total,
						   64 - total);
			total += cnt_[i];
			if (to >= 0 && to < timeout)
				timeout = to;
		}
		poll(fds, total, timeout);
		for (size_t i = 0; i < n; i++)
			peerauth_process(rs[i]->pa, fds + off[i], cnt_[i]);
	}
}

static __attribute__((unused)) bool r2_never(struct fx *f)
{
	return false;
}

/*
 * A raw TLS client with CTX on r2's listener: connects over loopback and
 * runs the handshake for up to TRIES turns, driving r2 between them.
 * Returns the last SSL_connect() result (1: handshake done); *SSLP and
 * *FDP are the caller's to free and close.
 */
static __attribute__((unused)) int raw_client_to_r2(struct fx *f, SSL_CTX *ctx, int tries,
						    SSL **sslp, int *fdp)
{
	struct router *rs[] = { &f->r2 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, r = -1;
	SSL *ssl;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons(f->r2.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	for (int i = 0; i < tries && r != 1; i++) {
		r = SSL_connect(ssl);
		if (r <= 0 && SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ &&
		    SSL_get_error(ssl, r) != SSL_ERROR_WANT_WRITE)
			break;
		drive(rs, 1, r2_never, f, 20);
	}
	*sslp = ssl;
	*fdp = fd;
	return r;
}

static unsigned int want_r1, want_r2;

/* r1 has judged its peer want_r1 times and r2 has judged r1 want_r2. */
static __attribute__((unused)) bool judged(struct fx *f)
{
	struct peerauth_peer_status s;
	const char *peer = f->r1.cfg.peers[0].name;

	return (!want_r1 || (!peerauth_peer_status(f->r1.pa, peer, &s) &&
			     s.results >= want_r1)) &&
	       (!want_r2 || results(&f->r2, "r1") >= want_r2);
}

static __attribute__((unused)) void run_until_judged(struct fx *f, unsigned int r1, unsigned int r2)
{
	struct router *rs[] = { &f->r1, &f->r2 };

	want_r1 = r1;
	want_r2 = r2;
	if (!drive(rs, 2, judged, f, 30000)) {
		/* Say where it got stuck before failing. */
		for (size_t i = 0; i < 2; i++) {
			json_t *j = peerauth_status_json(rs[i]->pa);
			char *t = json_dumps(j, JSON_COMPACT);

			fprintf(stderr, "r%zu: %s\n", i + 1, t);
			free(t);
			json_decref(j);
		}
		fail_msg("not judged within 30 s");
	}
}

static __attribute__((unused)) void assert_peer(struct router *r, const char *peer,
			enum svrcert_cert_state state,
			enum svrcert_problem problem, const char *cert_file)
{
	struct peerauth_peer_status s;
	uint8_t fp[32];
	X509 *x = testpki_cert(cert_file);

	assert_int_equal(peerauth_peer_status(r->pa, peer, &s), 0);
	assert_int_equal(s.state, state);
	assert_int_equal(s.problem, problem);
	assert_non_null(s.fingerprint);
	assert_int_equal(svrcert_fingerprint_sha256(x, fp), 0);
	assert_memory_equal(s.fingerprint, fp, 32);
	assert_true(s.last_auth > 0);
	assert_int_equal(s.alarm, state != SVRCERT_STATE_VALID);
	/* What the kernel gets: the state, the DER, every address. */
	assert_string_equal(r->bound.name, peer);
	assert_int_equal(r->bound.state, state);
	assert_int_equal(r->bound.n_addrs, 2);
	assert_int_equal(r->bound.der_len, (size_t)i2d_X509(x, NULL));
	X509_free(x);
}

static __attribute__((unused)) int group_setup(void **state)
{
	return testpki_setup();
}

static __attribute__((unused)) int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static __attribute__((unused)) int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	router_init(&f->r1, "pa1");
	router_init(&f->r2, "pa2");
	*state = f;
	return 0;
}

static __attribute__((unused)) int teardown(void **state)
{
	struct fx *f = *state;

	router_fini(&f->r1);
	router_fini(&f->r2);
	if (f->tpm.pid)
		swtpm_stop(&f->tpm);
	free(f);
	return 0;
}
/* STATE_DIR/peer-alarms.json holds one alarm for PEER in STATE, or none. */
static __attribute__((unused)) void assert_alarm_file(struct router *r, const char *peer,
			      const char *state)
{
	char *text = NULL;
	json_t *arr, *a;

	assert_int_equal(store_read(&r->st, PEERAUTH_ALARMS_FILE, &text, NULL), 0);
	arr = json_loads(text, 0, NULL);
	free(text);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), peer ? 1 : 0);
	if (peer) {
		a = json_array_get(arr, 0);
		assert_string_equal(json_string_value(json_object_get(a, "peer")), peer);
		assert_string_equal(json_string_value(json_object_get(a, "state")), state);
		assert_string_equal(json_string_value(json_object_get(a, "severity")),
				    "critical");
		assert_string_equal(json_string_value(json_object_get(a, "id")),
				    PEERAUTH_ALARM_ID);
	}
	json_decref(arr);
}

static __attribute__((unused)) void assert_counters(struct router *r, uint64_t ok, uint64_t expired,
			    uint64_t invalid, uint64_t revoked)
{
	assert_int_equal(cnt(r, PA_CNT_OK), ok);
	assert_int_equal(cnt(r, PA_CNT_EXPIRED), expired);
	assert_int_equal(cnt(r, PA_CNT_INVALID), invalid);
	assert_int_equal(cnt(r, PA_CNT_REVOKED), revoked);
	/* The same, persisted for "show stats security peer certificate". */
	{
		json_t *j = NULL;

		assert_int_equal(counters_load(&r->st, &j), 0);
		assert_int_equal(counters_get(j, "peer-certificate.expired"), expired);
		assert_int_equal(counters_get(j, "peer-certificate.invalid"), invalid);
		assert_int_equal(counters_get(j, "peer-certificate.revoked"), revoked);
		json_decref(j);
	}
}

#endif
