// SPDX-License-Identifier: GPL-2.0
/*
 * Peer authentication over time and transport: TLS 1.2 refused, own
 * certificate replaced, reload, unreachable peer with backoff, counters
 * waiting for the state lock, and a key held in a real swtpm signing the
 * handshake. Fixture: test_peerauth_fixture.h.
 */
#include <arpa/inet.h>
#include <pthread.h>

#include "test_peerauth_fixture.h"

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

/* A TLS 1.2-only client is refused by the listener. */
static void test_tls12_client_refused(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r2 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd, i;

	start_r2(f);
	assert_non_null(ctx);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_use_certificate_file(ctx, testpki_path("r1.pem"),
						      SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, testpki_path("r1.key"),
						     SSL_FILETYPE_PEM), 1);
	assert_int_not_equal(raw_client_to_r2(f, ctx, 100, &ssl, &fd), 1);
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

/* The certificate is there but its key is not (yet): no peer is called.
 * The key arrives without the certificate changing: the next check loads
 * the identity and calls every peer; a check before that logs nothing new
 * and changes nothing. */
static void test_identity_retried_until_loaded(void **state)
{
	struct fx *f = *state;
	char key[PATH_MAX + 16];
	struct router *rs[] = { &f->r1, &f->r2 };
	json_t *j;

	start_r2(f);
	install(&f->r1, "cert.pem", "r1.pem");
	snprintf(key, sizeof(key), "file:%s/late.key", f->r1.dir);
	router_config(&f->r1, "r1", key, "r2", f->r2.port);
	router_start(&f->r1);
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 0);
	drive(rs, 2, r2_never, f, 300);	/* nothing to wait for */
	assert_int_equal(results(&f->r2, "r1"), 0);
	j = peerauth_status_json(f->r1.pa);
	assert_non_null(strstr(json_string_value(json_object_get(j,
			"identity_error")), "late.key"));
	json_decref(j);

	assert_int_equal(fixture_sh("install -m 600 %s %s/late.key",
				    testpki_path("r1.key"), f->r1.dir), 0);
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	run_until_judged(f, 1, 1);
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "r1.pem");
	j = peerauth_status_json(f->r1.pa);
	assert_string_equal(json_string_value(json_object_get(j,
			    "identity_error")), "");
	json_decref(j);
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 0);
}

/* A stand-in for r2 whose handshake "times out" on its side: it
 * completes the TLS handshake (r2's certificate, r1's asked for) and
 * closes without a close_notify, ACCEPTS times. */
struct mute_peer {
	int lfd, accepts;
};

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok, (void)x;
	return 1;
}

static void *mute_peer_run(void *arg)
{
	struct mute_peer *m = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	SSL_CTX_use_certificate_file(ctx, testpki_path("r2.pem"), SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(ctx, testpki_path("r2.key"), SSL_FILETYPE_PEM);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	for (int i = 0; i < 2; i++) {
		int fd = accept(m->lfd, NULL, NULL);
		SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;

		if (!ssl)
			break;
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1)
			m->accepts++;
		SSL_free(ssl);		/* no SSL_shutdown: no close_notify */
		close(fd);
	}
	SSL_CTX_free(ctx);
	return NULL;
}

static bool r1_failed_twice(struct fx *f)
{
	return cnt(&f->r1, PA_CNT_HANDSHAKE_FAILED) >= 2;
}

/* The call's TLS handshake ends on our side before the peer has checked
 * our certificate: without its close_notify the call failed and is made
 * again after the backoff (1 s), not at the next revalidation (an hour). */
static void test_unconfirmed_call_retried(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1 };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct mute_peer m = { .lfd = socket(AF_INET, SOCK_STREAM, 0) };
	struct peerauth_peer_status st;
	json_t *j, *p;
	pthread_t t;

	assert_true(m.lfd >= 0);
	assert_int_equal(bind(m.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(m.lfd, 4), 0);
	assert_int_equal(getsockname(m.lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(pthread_create(&t, NULL, mute_peer_run, &m), 0);
	install(&f->r1, "cert.pem", "r1.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2",
		      ntohs(sa.sin_port));
	router_start(&f->r1);
	assert_true(drive(rs, 1, r1_failed_twice, f, 15000));
	pthread_join(t, NULL);
	close(m.lfd);
	assert_int_equal(m.accepts, 2);		/* both handshakes completed */
	assert_int_equal(peerauth_peer_status(f->r1.pa, "r2", &st), 0);
	assert_int_equal(st.state, SVRCERT_STATE_VALID);	/* r1's judgement */
	j = peerauth_status_json(f->r1.pa);
	p = json_array_get(json_object_get(j, "peers"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(p,
			"transport_error")), "the peer did not confirm it"));
	json_decref(j);
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

/* r1's key, made as SPEC says, lives in a real swtpm; the handshake signs
 * there (ECDSA, or RSA-PSS for an RSA key). */
static void tpm_key_authenticates(struct fx *f, const struct tpm_key_spec *spec)
{
	struct tpm_ctx t;
	struct csr_request rq = { .common_name = "r1" };
	EVP_PKEY *key = NULL;
	char *pem = NULL, err[256], path[128];
	X509 *mine;
	FILE *fp;

	assert_int_equal(swtpm_start(&f->tpm), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate_spec(&t, &f->r1.st, spec, false), 0);
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

static void test_tpm_key(void **state)
{
	const struct tpm_key_spec ec = TPM_KEY_SPEC_DEFAULT;

	tpm_key_authenticates(*state, &ec);
}

static void test_tpm_rsa_key(void **state)
{
	const struct tpm_key_spec rsa = { .type = TPM_KEY_RSA, .bits = 2048 };

	tpm_key_authenticates(*state, &rsa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_counter_waits_for_lock),
		T(test_tls12_client_refused),
		T(test_own_cert_replaced),
		T(test_identity_retried_until_loaded),
		T(test_unconfirmed_call_retried),
		T(test_reconfigure),
		T(test_unreachable_backoff),
		T(test_tpm_key),
		T(test_tpm_rsa_key),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
