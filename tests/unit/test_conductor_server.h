/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The conductor under test for test_conductor*.c: the test PKI's r1
 * serving on loopback with a file key from its own state directory (a
 * master list revoking r3; a self-signed "stranger" made for the refusal
 * tests), run by a poll loop in a thread as svrcertd's loop would run it;
 * and the routers' requests (libcurl as r2, r3 or the stranger).
 * Header-only: every test_X.c is one program.
 */
#ifndef SVRCERT_TEST_CONDUCTOR_SERVER_H
#define SVRCERT_TEST_CONDUCTOR_SERVER_H

#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "swtpm_fixture.h"
#include "../pki/testpki.h"
#include "test_conductor_fixture.h"
#include "conductor/conductor.h"
#include "crl/crl_gendoc.h"
#include "crl/crl_master.h"
#include "lib/config.h"
#include "pki/conductor_doc.h"
#include "pki/pki.h"
#include "pki/validate.h"

struct fx {
	char dir[64];
	char conf[2048];
	struct svrcert_config cfg;
	struct svrcert_store st;
	struct audit_sink audit;
	struct conductor *c;
	pthread_t loop;
	pthread_mutex_t lock;
	volatile bool stop;
	uint16_t port;
	X509_STORE *trust;
	uint8_t r3key[32];
	long client_timeout;		/* s; 0: 20 */
	struct svrcert_master m;	/* the master list handed last */
};

static struct fx F;

/* ---- the server ------------------------------------------------------- */

static __attribute__((unused)) void *loop(void *arg)
{
	while (!F.stop) {
		struct pollfd p = { .fd = conductor_fd(F.c), .events = POLLIN };
		int t;

		pthread_mutex_lock(&F.lock);
		t = conductor_timeout_ms(F.c);
		pthread_mutex_unlock(&F.lock);
		poll(&p, 1, t < 0 || t > 50 ? 50 : t);
		pthread_mutex_lock(&F.lock);
		conductor_process(F.c);
		pthread_mutex_unlock(&F.lock);
	}
	return NULL;
}

/* The master list: r3's key, N keys of salt 1 and M of salt S. */
static __attribute__((unused)) void set_master(size_t n, uint8_t s, size_t m)
{
	svrcert_revkey_t *k = calloc(n + m + 1, sizeof(*k));
	char err[300];

	memcpy(k[0], F.r3key, 32);
	for (size_t i = 1; i <= n + m; i++) {
		k[i][0] = i <= n ? 1 : s;
		k[i][31] = (uint8_t)i;
	}
	svrcert_master_release(&F.m);
	assert_int_equal(svrcert_master_build(NULL, 0, k, n + m + 1, time(NULL),
					      &F.m), 0);
	free(k);
	pthread_mutex_lock(&F.lock);
	assert_true(conductor_master(F.c, F.m.keys, F.m.n, err,
				     sizeof(err)) >= 0);
	pthread_mutex_unlock(&F.lock);
}

static __attribute__((unused)) void start(unsigned int max_conns)
{
	struct conductor_params p = { .cfg = &F.cfg, .st = &F.st,
				      .audit = &F.audit,
				      .storage = TPM_KEY_STORAGE_FILE,
				      .host = "127.0.0.1",
				      .max_conns = max_conns, .max_wait_s = 30 };
	struct conductor_stats s;
	char err[400];

	assert_int_equal(conductor_start(&F.c, &p, err, sizeof(err)), 0);
	conductor_stats(F.c, &s);
	F.port = s.port;
	F.stop = false;
	set_master(20, 0, 0);
	assert_int_equal(pthread_create(&F.loop, NULL, loop, NULL), 0);
}

static __attribute__((unused)) void stop(void)
{
	if (!F.c)
		return;
	F.stop = true;
	pthread_join(F.loop, NULL);
	conductor_stop(F.c);
	F.c = NULL;
}

static __attribute__((unused)) struct conductor_stats stats(void)
{
	struct conductor_stats s;

	pthread_mutex_lock(&F.lock);
	conductor_stats(F.c, &s);
	pthread_mutex_unlock(&F.lock);
	return s;
}

static __attribute__((unused)) void copy(const char *from, const char *to, mode_t mode)
{
	char path[200];
	uint8_t *b;
	size_t len;

	b = testpki_read(from, &len);
	snprintf(path, sizeof(path), "%s/%s", F.dir, to);
	assert_int_equal(atomic_write_file(path, b, len, mode), 0);
	free(b);
}

static __attribute__((unused)) int group_setup(void **state)
{
	STACK_OF(X509) *certs = NULL;
	struct svrcert_problems pr;
	struct svrcert_master m = { 0 };
	char err[300], path[200];
	uint8_t *buf;
	size_t len;
	X509 *r3;
	FILE *f;

	if (testpki_setup() || fixture_tempdir(F.dir, "cond") ||
	    store_open(&F.st, F.dir))
		return -1;
	copy("r1.key", "key.pem", 0600);
	copy("r1.pem", "cert.pem", 0644);
	snprintf(F.conf, sizeof(F.conf),
		 "[router]\nname = r1\n[key]\nstorage = file\nkey-file = "
		 "%s/key.pem\n[trusted-ca \"test\"]\nfile = %s\n[daemon]\n"
		 "state-dir = %s\n", F.dir, testpki_path("bundle.pem"), F.dir);
	if (svrcert_config_load_string(F.conf, "t.conf", &F.cfg, err,
				       sizeof(err)))
		return -1;
	snprintf(path, sizeof(path), "%s/audit.log", F.dir);
	F.audit.st = &F.st;
	F.audit.path = strdup(path);
	/* r3 revoked in the master list the conductor publishes. */
	f = fopen(testpki_path("r3.pem"), "r");
	r3 = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!r3 || svrcert_revkey_from_cert(r3, F.r3key))
		return -1;
	X509_free(r3);
	snprintf(path, sizeof(path), "%s/%s", F.dir, SVRCERT_MASTER_FILE);
	if (svrcert_master_build(NULL, 0, (const svrcert_revkey_t *)F.r3key,
				 1, time(NULL), &m) ||
	    svrcert_master_write(path, &m))
		return -1;
	svrcert_master_release(&m);
	/* A self-signed router: untrusted. */
	if (fixture_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
		       "ec_paramgen_curve:P-256 -nodes -keyout self.key -out "
		       "self.pem -subj /CN=stranger -days 2 2>/dev/null", F.dir))
		return -1;
	svrcert_problems_init(&pr);
	buf = testpki_read("bundle.pem", &len);
	if (svrcert_bundle_check(buf, len, SVRCERT_MODE_STRICT, 0, &certs, &pr))
		return -1;
	free(buf);
	F.trust = svrcert_store_new();
	if (!F.trust || svrcert_store_add_certs(F.trust, certs))
		return -1;
	sk_X509_pop_free(certs, X509_free);
	svrcert_problems_free(&pr);
	pthread_mutex_init(&F.lock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static __attribute__((unused)) int group_teardown(void **state)
{
	svrcert_master_release(&F.m);
	svrcert_config_free(&F.cfg);
	X509_STORE_free(F.trust);
	store_close(&F.st);
	fixture_rm_rf(F.dir);
	testpki_teardown();
	return 0;
}

/* ---- a router's requests ---------------------------------------------- */

/* METHOD PATH as router WHO ("r2", "r3": the test PKI's; "self"). */
static __attribute__((unused)) struct resp req(const char *who, const char *method, const char *path)
{
	char cert[256], key[256];

	if (!strcmp(who, "self")) {
		snprintf(cert, sizeof(cert), "%s/self.pem", F.dir);
		snprintf(key, sizeof(key), "%s/self.key", F.dir);
	} else {
		snprintf(cert, sizeof(cert), "%s.pem", testpki_path(who));
		snprintf(key, sizeof(key), "%s.key", testpki_path(who));
	}
	return cd_request(F.port, cert, key, testpki_path("bundle.pem"), method,
			  path, F.client_timeout);
}

static __attribute__((unused)) struct resp get(const char *path)
{
	return req("r2", "GET", path);
}

/* GET PATH as r2 with one more header line ("If-None-Match: ..."). */
static __attribute__((unused)) struct resp get_hdr(const char *path,
						   const char *header)
{
	char cert[256], key[256];

	snprintf(cert, sizeof(cert), "%s.pem", testpki_path("r2"));
	snprintf(key, sizeof(key), "%s.key", testpki_path("r2"));
	return cd_request_hdr(F.port, cert, key, testpki_path("bundle.pem"),
			      "GET", path, F.client_timeout, header);
}

static __attribute__((unused)) void verify(const struct resp *r, struct svrcert_gen_update *u)
{
	cd_verify(r, F.trust, "r1", u);
}

static __attribute__((unused)) void since_path(char *out, size_t len, uint64_t gen, const char *extra)
{
	struct conductor_stats s = stats();
	char e[33];

	cd_epoch_hex(s.epoch, e);
	snprintf(out, len, "/v1/revocation?epoch=%s&since=%llu%s", e,
		 (unsigned long long)gen, extra ? extra : "");
}

static __attribute__((unused)) void expect_etag(const struct resp *r)
{
	struct conductor_stats s = stats();
	char e[33], want[80];

	cd_epoch_hex(s.epoch, e);
	snprintf(want, sizeof(want), "\"%s-%llu\"", e,
		 (unsigned long long)s.generation);
	assert_string_equal(r->etag, want);
}

/* Two requests on one handle: connections made for the second (0: the
 * first's was kept, no second handshake). */
static __attribute__((unused)) long keepalive(const char *who)
{
	char cert[256], key[256], url[200];
	CURL *h = curl_easy_init();
	long made = -1;
	struct resp r = { 0 };

	snprintf(cert, sizeof(cert), "%s.pem", testpki_path(who));
	snprintf(key, sizeof(key), "%s.key", testpki_path(who));
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/v1/revocation", F.port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	curl_easy_setopt(h, CURLOPT_CAINFO, testpki_path("bundle.pem"));
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	if (curl_easy_perform(h) == CURLE_OK && curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &made);
	curl_easy_cleanup(h);
	free(r.body);
	return made;
}


/* A failed test leaves its conductor running: stopped here. */
static __attribute__((unused)) int test_teardown(void **state)
{
	stop();
	return 0;
}

#endif
