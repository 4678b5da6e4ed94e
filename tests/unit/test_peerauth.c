// SPDX-License-Identifier: GPL-2.0
/*
 * Peer authentication between two "routers" in one process, on loopback:
 * each has its own state directory, configuration, certificate from the
 * test PKI (tests/pki/mkpki.sh) and peerauth instance, and both are driven
 * by one poll loop here. r1 calls r2 ([peer] authenticate); r2 is the TLS
 * server and judges r1 from the client certificate. One case holds r1's
 * key in a real swtpm. The kernel binder is replaced by a recorder (the
 * netlink client has its own tests; these assert what would be bound).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../pki/testpki.h"
#include "swtpm_fixture.h"

#include "counters.h"
#include "csr.h"
#include "peerauth.h"
#include "tpm.h"

struct binding_log {
	unsigned int calls;
	char name[64];
	enum svrcert_cert_state state;
	uint8_t der[4096];
	size_t der_len;
	size_t n_addrs;
	unsigned int unbinds;
	char unbound[64];
};

struct router {
	char dir[64];
	char conf_text[2048];
	uint16_t port;
	struct svrcert_store st;
	struct svrcert_config cfg;
	struct peerauth *pa;
	struct binding_log bound;
};

struct fx {
	struct router r1, r2;
	struct swtpm_fixture tpm;
};

static int record_bind(const struct peerauth_binding *b, void *ctx, char *msg,
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
	return 0;
}

static int record_unbind(const char *name, void *ctx)
{
	struct binding_log *log = ctx;

	log->unbinds++;
	snprintf(log->unbound, sizeof(log->unbound), "%s", name);
	return 0;
}

/* Write R's configuration: router NAME, key KEY ("file:PATH" or
 * "tpm-blob"), one peer PEER (addresses 10.0.0.N, fd00::N) that is called
 * at CALL_PORT (0: passive). */
static void router_config(struct router *r, const char *name, const char *key,
			  const char *peer, uint16_t call_port)
{
	char keysec[512], call[64] = "", err[256];
	struct svrcert_config cfg;

	if (!strncmp(key, "file:", 5))
		snprintf(keysec, sizeof(keysec), "storage = file\nkey-file = %s\n",
			 key + 5);
	else
		snprintf(keysec, sizeof(keysec), "storage = tpm-blob\n");
	if (call_port)
		snprintf(call, sizeof(call), "authenticate = 127.0.0.1:%u\n",
			 call_port);
	snprintf(r->conf_text, sizeof(r->conf_text),
		 "[router]\nname = %s\n[key]\n%s"
		 "[trusted-ca \"test\"]\nfile = %s\n"
		 "[peer \"%s\"]\naddress = 10.0.0.9, fd00::9\n%s"
		 "[daemon]\nstate-dir = %s\nlisten = 127.0.0.1:%u\n"
		 "audit-log = %s/audit.log\n",
		 name, keysec, testpki_path("bundle.pem"), peer, call, r->dir,
		 r->port, r->dir);
	assert_int_equal(svrcert_config_load_string(r->conf_text, "test.conf",
						    &cfg, err, sizeof(err)), 0);
	svrcert_config_free(&r->cfg);
	r->cfg = cfg;
}

static void install(struct router *r, const char *name, const char *pki_file)
{
	assert_int_equal(fixture_sh("cp %s %s/%s", testpki_path(pki_file),
				    r->dir, name), 0);
}

static void router_start(struct router *r)
{
	struct peerauth_params p = { .cfg = &r->cfg, .st = &r->st,
				     .handshake_ms = 15000,
				     .bind = record_bind,
				     .unbind = record_unbind,
				     .bind_ctx = &r->bound };
	char err[256];

	assert_int_equal(peerauth_new(&p, &r->pa, err, sizeof(err)), 0);
	assert_int_equal(peerauth_listen_port(r->pa), r->port);
}

static void router_init(struct router *r, const char *tag)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(fixture_tempdir(r->dir, tag), 0);
	assert_int_equal(store_open(&r->st, r->dir), 0);
	r->port = (uint16_t)fixture_bind_port(0);
}

static void router_fini(struct router *r)
{
	peerauth_free(r->pa);
	svrcert_config_free(&r->cfg);
	store_close(&r->st);
	fixture_rm_rf(r->dir);
}

static const char *file_key(const char *pki_key)
{
	static char buf[PATH_MAX + 8];

	snprintf(buf, sizeof(buf), "file:%s", testpki_path(pki_key));
	return buf;
}

/* r2: passive, knows peer r1, certificate r2.pem on r2.key. */
static void start_r2(struct fx *f)
{
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", 0);
	router_start(&f->r2);
}

/* r1: certificate R1_CERT on r1.key, calls r2 knowing it as PEER. */
static void start_r1(struct fx *f, const char *r1_cert, const char *peer)
{
	install(&f->r1, "cert.pem", r1_cert);
	router_config(&f->r1, "r1", file_key("r1.key"), peer, f->r2.port);
	router_start(&f->r1);
}

static unsigned int results(struct router *r, const char *peer)
{
	struct peerauth_peer_status s;

	return peerauth_peer_status(r->pa, peer, &s) ? 0 : s.results;
}

static uint64_t cnt(struct router *r, enum peerauth_counter c)
{
	return peerauth_counter(r->pa, c);
}

/* One poll loop for every router until COND holds or MS pass. */
static bool drive(struct router **rs, size_t n,
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

static bool r2_never(struct fx *f)
{
	return false;
}

static unsigned int want_r1, want_r2;

/* r1 has judged its peer want_r1 times and r2 has judged r1 want_r2. */
static bool judged(struct fx *f)
{
	struct peerauth_peer_status s;
	const char *peer = f->r1.cfg.peers[0].name;

	return (!want_r1 || (!peerauth_peer_status(f->r1.pa, peer, &s) &&
			     s.results >= want_r1)) &&
	       (!want_r2 || results(&f->r2, "r1") >= want_r2);
}

static void run_until_judged(struct fx *f, unsigned int r1, unsigned int r2)
{
	struct router *rs[] = { &f->r1, &f->r2 };

	want_r1 = r1;
	want_r2 = r2;
	assert_true(drive(rs, 2, judged, f, 30000));
}

static void assert_peer(struct router *r, const char *peer,
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

static int group_setup(void **state)
{
	return testpki_setup();
}

static int group_teardown(void **state)
{
	testpki_teardown();
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	router_init(&f->r1, "pa1");
	router_init(&f->r2, "pa2");
	*state = f;
	return 0;
}

static int teardown(void **state)
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
static void assert_alarm_file(struct router *r, const char *peer,
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

static void assert_counters(struct router *r, uint64_t ok, uint64_t expired,
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

static void test_mutual_ok(void **state)
{
	struct fx *f = *state;
	json_t *j, *p0;

	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_counters(&f->r1, 1, 0, 0, 0);
	assert_counters(&f->r2, 1, 0, 0, 0);
	assert_int_equal(cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED), 0);
	assert_int_equal(f->r1.bound.calls, 1);
	assert_int_equal(f->r2.bound.calls, 1);

	j = peerauth_status_json(f->r2.pa);
	p0 = json_array_get(json_object_get(j, "peers"), 0);
	assert_string_equal(json_string_value(json_object_get(p0, "name")), "r1");
	assert_string_equal(json_string_value(json_object_get(p0, "state")), "valid");
	assert_string_equal(json_string_value(json_object_get(p0, "via")), "server");
	assert_string_equal(json_string_value(json_object_get(p0, "identity")),
			    "O=svrcert test, CN=r1");
	assert_true(json_is_null(json_object_get(p0, "alarm")));
	json_decref(j);
	assert_int_equal(fixture_sh("grep -q '\"type\":\"system.peer_authentication\""
				    ".*\"permitted\":true' %s/audit.log",
				    f->r2.dir), 0);
}

static void test_wrong_peering_name_client(void **state)
{
	struct fx *f = *state;
	struct peerauth_peer_status s;

	start_r2(f);
	start_r1(f, "r1.pem", "r3");	/* r1 expects r3 at r2's address */
	run_until_judged(f, 1, 1);
	assert_peer(&f->r1, "r3", SVRCERT_STATE_INVALID, SVRCERT_P_IDENTITY,
		    "r2.pem");
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r3", &s), 0);
	assert_non_null(strstr(s.reason, "r3"));
	assert_counters(&f->r1, 0, 0, 1, 0);
	assert_counters(&f->r2, 1, 0, 0, 0);
	assert_int_equal(fixture_sh("grep -q '\"problem\":\"identity\".*"
				    "\"permitted\":false' %s/audit.log",
				    f->r1.dir), 0);
}

static bool r2_refused_caller(struct fx *f)
{
	return cnt(&f->r2, PA_CNT_INVALID) >= 1 && results(&f->r1, "r2") >= 1;
}

static void test_wrong_peering_name_server(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };

	start_r2(f);
	start_r1(f, "bad-identity.pem", "r2");	/* CN=wrong-router */
	assert_true(drive(rs, 2, r2_refused_caller, f, 8000));
	/* Not a configured peer: refused, nothing bound for it. */
	assert_int_equal(results(&f->r2, "r1"), 0);
	assert_int_equal(f->r2.bound.calls, 0);
	assert_counters(&f->r2, 0, 0, 1, 0);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
}

static void test_expired(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-expired.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_EXPIRED, SVRCERT_P_EXPIRED,
		    "bad-expired.pem");
	assert_counters(&f->r2, 0, 1, 0, 0);
	{
		json_t *j = NULL;

		assert_int_equal(counters_load(&f->r2.st, &j), 0);
		assert_int_equal(counters_get(j, "peer-certificate.expired.expired"), 1);
		json_decref(j);
	}
	assert_alarm_file(&f->r2, "r1", "expired");

	/* A restart does not clear the alarm... */
	peerauth_free(f->r2.pa);
	router_start(&f->r2);
	{
		struct peerauth_peer_status s;

		assert_int_equal(peerauth_peer_status(f->r2.pa, "r1", &s), 0);
		assert_int_equal(s.state, SVRCERT_STATE_UNKNOWN);
		assert_true(s.alarm);
		assert_non_null(strstr(s.reason, "before restart"));
	}
	/* ...a valid certificate does. */
	install(&f->r1, "cert.pem", "r1.pem");
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	run_until_judged(f, 2, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	assert_alarm_file(&f->r2, NULL, NULL);
}

/* svrcertctl holds the state lock: the loop does not wait for it, and the
 * count is written once the lock is free. */
static void test_counter_waits_for_lock(void **state)
{
	struct fx *f = *state;
	struct svrcert_store other;
	struct router *rs[] = { &f->r2 };
	json_t *j = NULL;

	assert_int_equal(store_open(&other, f->r2.dir), 0);
	assert_int_equal(store_lock(&other), 0);
	start_r2(f);
	start_r1(f, "bad-expired.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_int_equal(cnt(&f->r2, PA_CNT_EXPIRED), 1);
	assert_int_equal(counters_load(&f->r2.st, &j), 0);
	assert_int_equal(counters_get(j, "peer-certificate.expired"), 0);
	json_decref(j);
	store_close(&other);
	drive(rs, 1, r2_never, f, 100);
	assert_counters(&f->r2, 0, 1, 0, 0);
}

static void test_not_yet_valid(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-notyet.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_NOT_YET_VALID,
		    SVRCERT_P_NOT_YET_VALID, "bad-notyet.pem");
	assert_counters(&f->r2, 0, 0, 1, 0);
}

static void test_untrusted_ca(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-untrusted.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_INVALID, SVRCERT_P_UNTRUSTED,
		    "bad-untrusted.pem");
	assert_counters(&f->r2, 0, 0, 1, 0);
}

static void test_revoked_by_crl_update(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "bad-revoked.pem", "r2");
	run_until_judged(f, 1, 1);
	/* r2 holds no CRL yet: the certificate passes. */
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE,
		    "bad-revoked.pem");
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 0);
	assert_int_equal(f->r2.bound.calls, 1);

	/* The CRL manager publishes the intermediate's CRL. */
	assert_int_equal(fixture_sh("mkdir -p %s/crl && cp %s %s/crl/int.crl",
				    f->r2.dir, testpki_path("int.crl.der"),
				    f->r2.dir), 0);
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	assert_int_equal(f->r2.bound.calls, 2);
	assert_counters(&f->r2, 1, 0, 0, 1);
	/* Judging again changes nothing and binds nothing. */
	assert_int_equal(peerauth_crl_updated(f->r2.pa), 0);
	assert_int_equal(f->r2.bound.calls, 2);

	/* A new handshake is judged with the CRL as well. */
	assert_int_equal(peerauth_own_cert_changed(f->r1.pa, (char[64]){ 0 }, 64), 0);
	run_until_judged(f, 2, 3);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_REVOKED, SVRCERT_P_REVOKED,
		    "bad-revoked.pem");
	assert_counters(&f->r2, 1, 0, 0, 2);
}

/* A TLS 1.2-only client is refused by the listener. */
static void test_tls12_client_refused(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r2 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd, r = -1, i;

	start_r2(f);
	assert_non_null(ctx);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_use_certificate_file(ctx, testpki_path("r1.pem"),
						      SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, testpki_path("r1.key"),
						     SSL_FILETYPE_PEM), 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons(f->r2.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	for (i = 0; i < 100 && r != 1; i++) {
		r = SSL_connect(ssl);
		if (r <= 0 && SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ &&
		    SSL_get_error(ssl, r) != SSL_ERROR_WANT_WRITE)
			break;
		drive(rs, 1, r2_never, f, 20);
	}
	assert_int_not_equal(r, 1);
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()),
			 SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	ERR_clear_error();
	for (i = 0; i < 20 && !cnt(&f->r2, PA_CNT_HANDSHAKE_FAILED); i++)
		drive(rs, 1, r2_never, f, 20);
	assert_int_equal(cnt(&f->r2, PA_CNT_HANDSHAKE_FAILED), 1);
	assert_counters(&f->r2, 0, 0, 0, 0);
	assert_int_equal(results(&f->r2, "r1"), 0);
	assert_int_equal(f->r2.bound.calls, 0);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
}

static void test_own_cert_replaced(void **state)
{
	struct fx *f = *state;

	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");

	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 0);
	install(&f->r1, "cert.pem", "exp-40d.pem");	/* same key, new cert */
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 0);
	run_until_judged(f, 2, 2);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE,
		    "exp-40d.pem");
	assert_int_equal(f->r2.bound.calls, 2);	/* new DER bound */
	assert_counters(&f->r2, 2, 0, 0, 0);
	assert_counters(&f->r1, 2, 0, 0, 0);
	assert_int_equal(f->r1.bound.calls, 1);	/* r2 unchanged: no rebind */
}

/* Reload: a peer that left is unbound, the new one is authenticated. */
static void test_reconfigure(void **state)
{
	struct fx *f = *state;
	struct svrcert_config old;
	char err[256];

	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	old = f->r1.cfg;
	memset(&f->r1.cfg, 0, sizeof(f->r1.cfg));
	router_config(&f->r1, "r1", file_key("r1.key"), "r3", f->r2.port);
	assert_int_equal(peerauth_reconfigure(f->r1.pa, &f->r1.cfg, err,
					      sizeof(err)), 0);
	svrcert_config_free(&old);	/* as svrcertd's reload does */
	assert_int_equal(f->r1.bound.unbinds, 1);
	assert_string_equal(f->r1.bound.unbound, "r2");
	run_until_judged(f, 1, 2);
	assert_peer(&f->r1, "r3", SVRCERT_STATE_INVALID, SVRCERT_P_IDENTITY,
		    "r2.pem");
	assert_counters(&f->r1, 1, 0, 1, 0);
	assert_counters(&f->r2, 2, 0, 0, 0);
}

static bool r1_failed_twice(struct fx *f)
{
	return cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED) >= 2;
}

/* Nobody listens: transport failures are retried with backoff and bind
 * nothing. */
static void test_unreachable_backoff(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1 };
	struct peerauth_peer_status s;

	start_r1(f, "r1.pem", "r2");	/* r2 never started */
	assert_true(drive(rs, 1, r1_failed_twice, f, 5000));
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r2", &s), 0);
	assert_int_equal(s.state, SVRCERT_STATE_UNKNOWN);
	assert_non_null(strstr(s.reason, "Connection refused"));
	assert_int_equal(f->r1.bound.calls, 0);
	/* Third attempt after 2 s, not at once. */
	assert_true(peerauth_timeout_ms(f->r1.pa) > 1000);
}

/* r1's key lives in a real swtpm; the handshake signs there. */
static void test_tpm_key(void **state)
{
	struct fx *f = *state;
	struct tpm_ctx t;
	struct csr_request rq = { .common_name = "r1" };
	EVP_PKEY *key = NULL;
	char *pem = NULL, err[256], path[128];
	X509 *mine;
	FILE *fp;

	assert_int_equal(swtpm_start(&f->tpm), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate(&t, &f->r1.st, false), 0);
	assert_int_equal(tpm_key_load(&t, &f->r1.st, &key), 0);
	assert_int_equal(csr_build_pem(&t, key, "r1", &rq, &pem, err,
				       sizeof(err)), 0);
	EVP_PKEY_free(key);
	tpm_ctx_close(&t);
	snprintf(path, sizeof(path), "%s/csr.pem", f->r1.dir);
	assert_int_equal(atomic_write_file(path, pem, strlen(pem), 0644), 0);
	free(pem);
	assert_int_equal(fixture_sh("tests/pki/mkpki.sh sign %s %s/csr.pem "
				    "%s/cert.pem 30 >/dev/null 2>&1", testpki_dir,
				    f->r1.dir, f->r1.dir), 0);

	start_r2(f);
	router_config(&f->r1, "r1", "tpm-blob", "r2", f->r2.port);
	router_start(&f->r1);
	run_until_judged(f, 1, 1);

	snprintf(path, sizeof(path), "%s/cert.pem", f->r1.dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	mine = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(mine);
	{
		struct peerauth_peer_status s;
		uint8_t fpr[32];

		assert_int_equal(peerauth_peer_status(f->r2.pa, "r1", &s), 0);
		assert_int_equal(s.state, SVRCERT_STATE_VALID);
		assert_int_equal(s.problem, SVRCERT_P_NONE);
		svrcert_fingerprint_sha256(mine, fpr);
		assert_memory_equal(s.fingerprint, fpr, 32);
	}
	X509_free(mine);
	assert_peer(&f->r1, "r2", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r2.pem");
	assert_counters(&f->r2, 1, 0, 0, 0);
	assert_int_equal(cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_mutual_ok),
		T(test_wrong_peering_name_client),
		T(test_wrong_peering_name_server),
		T(test_expired),
		T(test_counter_waits_for_lock),
		T(test_not_yet_valid),
		T(test_untrusted_ca),
		T(test_revoked_by_crl_update),
		T(test_tls12_client_refused),
		T(test_own_cert_replaced),
		T(test_reconfigure),
		T(test_unreachable_backoff),
		T(test_tpm_key),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
