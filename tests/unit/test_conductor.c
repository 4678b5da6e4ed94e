// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor (userspace/conductor/) with real mutual TLS on loopback:
 * the test PKI's r1 serves (file key), libcurl clients present r2 (valid),
 * r3 (revoked by the conductor's master list) or a self-signed
 * certificate. The server runs its own poll loop in a thread, as svrcertd's
 * loop would; every document is checked as a router checks it
 * (svrcert_conductor_verify). Cases: the full set with its ETag; a delta
 * since a generation, another epoch's full set; 304; a long-poll answered
 * the moment a generation is made, and one that times out; one signature
 * per document however many fetch it; the published CRL files; 403
 * naming why for a revoked and an untrusted router (logged, audited);
 * 400 / 404 / 405; the connection cap.
 */
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

static void *loop(void *arg)
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
static void set_master(size_t n, uint8_t s, size_t m)
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

static void start(unsigned int max_conns)
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

static void stop(void)
{
	if (!F.c)
		return;
	F.stop = true;
	pthread_join(F.loop, NULL);
	conductor_stop(F.c);
	F.c = NULL;
}

static struct conductor_stats stats(void)
{
	struct conductor_stats s;

	pthread_mutex_lock(&F.lock);
	conductor_stats(F.c, &s);
	pthread_mutex_unlock(&F.lock);
	return s;
}

static void copy(const char *from, const char *to, mode_t mode)
{
	char path[200];
	uint8_t *b;
	size_t len;

	b = testpki_read(from, &len);
	snprintf(path, sizeof(path), "%s/%s", F.dir, to);
	assert_int_equal(atomic_write_file(path, b, len, mode), 0);
	free(b);
}

static int group_setup(void **state)
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

static int group_teardown(void **state)
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
static struct resp req(const char *who, const char *method, const char *path)
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

static struct resp get(const char *path)
{
	return req("r2", "GET", path);
}

static void verify(const struct resp *r, struct svrcert_gen_update *u)
{
	cd_verify(r, F.trust, "r1", u);
}

static void since_path(char *out, size_t len, uint64_t gen, const char *extra)
{
	struct conductor_stats s = stats();
	char e[33];

	cd_epoch_hex(s.epoch, e);
	snprintf(out, len, "/v1/revocation?epoch=%s&since=%llu%s", e,
		 (unsigned long long)gen, extra ? extra : "");
}

static void expect_etag(const struct resp *r)
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
static long keepalive(const char *who)
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

/* ---- tests ------------------------------------------------------------ */

static void test_full(void **state)
{
	struct svrcert_gen_update u = { 0 };
	struct conductor_stats s;
	struct resp r;

	start(16);
	r = get("/v1/revocation");
	verify(&r, &u);
	s = stats();
	assert_int_equal(u.kind, SVRCERT_GEN_FULL);
	assert_int_equal(u.gen, s.generation);
	assert_memory_equal(u.epoch, s.epoch, 16);
	assert_string_equal(u.conductor, "r1");
	assert_int_equal(u.nadded, F.m.n);
	assert_memory_equal(u.added, F.m.keys, F.m.n * 32);
	expect_etag(&r);
	svrcert_gen_update_release(&u);
	free(r.body);
	assert_int_equal(keepalive("r2"), 0);
	stop();
}

static void test_delta_and_304(void **state)
{
	struct svrcert_gen_update u = { 0 };
	struct conductor_stats s0, s;
	char path[200];
	struct resp r;

	start(16);
	s0 = stats();
	set_master(18, 2, 4);		/* 2 keys out, 4 in */
	s = stats();
	assert_int_equal(s.generation, s0.generation + 1);
	/* The new generation's two documents, signed once each. */
	assert_int_equal(s.signatures, s0.signatures + 2);
	for (int i = 0; i < 3; i++) {
		since_path(path, sizeof(path), s0.generation, NULL);
		r = get(path);
		verify(&r, &u);
		assert_int_equal(u.kind, SVRCERT_GEN_DELTA);
		assert_int_equal(u.base, s0.generation);
		assert_int_equal(u.gen, s.generation);
		assert_int_equal(u.nadded, 4);
		assert_int_equal(u.nremoved, 2);
		expect_etag(&r);
		svrcert_gen_update_release(&u);
		free(r.body);
	}
	assert_int_equal(stats().signatures, s.signatures);
	/* Nothing new: 304 with the ETag. */
	since_path(path, sizeof(path), s.generation, NULL);
	r = get(path);
	assert_int_equal(r.code, 304);
	assert_int_equal(r.len, 0);
	expect_etag(&r);
	free(r.body);
	/* Another epoch, or a generation never made: the full set. */
	r = get("/v1/revocation?epoch=00000000000000000000000000000000&since=1");
	verify(&r, &u);
	assert_int_equal(u.kind, SVRCERT_GEN_FULL);
	assert_int_equal(u.nadded, F.m.n);
	svrcert_gen_update_release(&u);
	free(r.body);
	since_path(path, sizeof(path), s.generation + 5, NULL);
	r = get(path);
	verify(&r, &u);
	assert_int_equal(u.kind, SVRCERT_GEN_FULL);
	svrcert_gen_update_release(&u);
	free(r.body);
	stop();
}

struct poller {
	pthread_t t;
	char path[200];
	struct resp r;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->r = get(p->path);
	return NULL;
}

static void test_long_poll(void **state)
{
	struct svrcert_gen_update u = { 0 };
	struct conductor_stats s0;
	struct poller p[3];
	struct timespec t0, t1;
	double held;

	start(16);
	s0 = stats();
	for (int i = 0; i < 3; i++) {
		since_path(p[i].path, sizeof(p[i].path), s0.generation,
			   "&wait=30");
		assert_int_equal(pthread_create(&p[i].t, NULL, poll_thread,
						&p[i]), 0);
	}
	for (int i = 0; i < 200 && stats().waiting < 3; i++)
		usleep(50000);
	assert_int_equal(stats().waiting, 3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	set_master(20, 3, 1);
	for (int i = 0; i < 3; i++) {
		pthread_join(p[i].t, NULL);
		verify(&p[i].r, &u);
		assert_int_equal(u.kind, SVRCERT_GEN_DELTA);
		assert_int_equal(u.base, s0.generation);
		assert_int_equal(u.gen, s0.generation + 1);
		svrcert_gen_update_release(&u);
		free(p[i].r.body);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	held = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("long-poll: answered %.3f s after the generation\n",
		      held);
	/* Under valgrind everything is ~20 times slower. */
	assert_true(held < (getenv("SVRCERT_SLOW") ? 20.0 : 2.0));
	assert_int_equal(stats().waiting, 0);
	/* One signature per document for three waiting routers. */
	assert_int_equal(stats().signatures, s0.signatures + 2);
	stop();
}

static void test_long_poll_timeout(void **state)
{
	char path[200];
	struct resp r;

	start(16);
	since_path(path, sizeof(path), stats().generation, "&wait=1");
	r = get(path);
	assert_int_equal(r.code, 304);
	expect_etag(&r);
	print_message("long-poll wait=1: 304 after %.3f s\n", r.secs);
	assert_true(r.secs >= 0.9 && r.secs < 4.0);
	free(r.body);
	/* wait=0 is clamped to 1 s, not refused. */
	since_path(path, sizeof(path), stats().generation, "&wait=0");
	r = get(path);
	assert_int_equal(r.code, 304);
	assert_true(r.secs >= 0.9);
	free(r.body);
	assert_int_equal(stats().waiting, 0);
	/* A router that gives up while held: its request goes with it. */
	F.client_timeout = 1;
	since_path(path, sizeof(path), stats().generation, "&wait=30");
	r = get(path);
	F.client_timeout = 0;
	assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
	free(r.body);
	for (int i = 0; i < 100 && (stats().waiting || stats().connections); i++)
		usleep(20000);
	assert_int_equal(stats().waiting, 0);
	assert_int_equal(stats().connections, 0);
	stop();
}

static bool audit_has(const char *a, const char *b)
{
	char path[200];
	uint8_t *buf = NULL;
	size_t len;
	bool found = false;

	snprintf(path, sizeof(path), "%s/audit.log", F.dir);
	if (svrcert_read_file(path, 1 << 20, &buf, &len))
		return false;
	for (char *l = (char *)buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strcspn(l, "\n");
		char line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (strstr(line, a) && strstr(line, b))
			found = true;
	}
	free(buf);
	return found;
}

static void test_refused(void **state)
{
	struct resp r;

	start(16);
	r = req("r3", "GET", "/v1/revocation");
	assert_int_equal(r.code, 403);
	print_message("revoked: %s", (char *)r.body);
	assert_non_null(r.body);
	assert_int_equal(strncmp((char *)r.body, "revoked: ", 9), 0);
	assert_non_null(strchr((char *)r.body, '\n'));
	assert_true(audit_has(CONDUCTOR_AUDIT_TYPE, "CN=r3"));
	free(r.body);
	r = req("self", "GET", "/v1/revocation");
	assert_int_equal(r.code, 403);
	print_message("self-signed: %s", (char *)r.body);
	assert_int_equal(strncmp((char *)r.body, "untrusted: ", 11), 0);
	assert_true(audit_has(CONDUCTOR_AUDIT_TYPE, "CN=stranger"));
	free(r.body);
	/* The refused router's connection is closed after the answer. */
	assert_int_equal(keepalive("r3"), 1);
	/* Whatever the path: the answer is the refusal. */
	r = req("r3", "GET", "/v1/crl/index.json");
	assert_int_equal(r.code, 403);
	free(r.body);
	assert_int_equal(stats().refused, 5);
	/* r2 is still served. */
	r = get("/v1/revocation");
	assert_int_equal(r.code, 200);
	free(r.body);
	stop();
}

static void test_requests(void **state)
{
	static const struct {
		const char *method, *path;
		long code;
	} cases[] = {
		{ "GET", "/v1/nothing", 404 },
		{ "GET", "/", 404 },
		{ "POST", "/v1/revocation", 405 },
		{ "DELETE", "/v1/crl/index.json", 405 },
		{ "GET", "/v1/revocation?since=1", 400 },
		{ "GET", "/v1/revocation?epoch=00000000000000000000000000000000", 400 },
		{ "GET", "/v1/revocation?epoch=0011&since=1", 400 },
		{ "GET", "/v1/revocation?epoch=0000000000000000000000000000000g&since=1", 400 },
		{ "GET", "/v1/revocation?epoch=00000000000000000000000000000000&since=x", 400 },
		{ "GET", "/v1/revocation?epoch=00000000000000000000000000000000&since=99999999999999999999", 400 },
		{ "GET", "/v1/revocation?epoch=00000000000000000000000000000000&since=1&since=2", 400 },
		{ "GET", "/v1/revocation?epoch=00000000000000000000000000000000&since=1&wait=soon", 400 },
		{ "GET", "/v1/revocation?wait=5", 400 },
		{ "GET", "/v1/revocation?full=1", 400 },
		{ "GET", "/v1/crl/index.json?x=1", 400 },
		{ "GET", "/v1/crl/0123abcd.crl", 200 },
		{ "GET", "/v1/crl/0123abcd.delta", 404 },
		{ "GET", "/v1/crl/%2e%2e%2fkey.pem", 404 },
		{ "GET", "/v1/crl/../key.pem", 404 },
		{ "GET", "/v1/crl/master.bin", 404 },
		{ "GET", "/v1/crl/.0123abcd.crl", 404 },
		{ "GET", "/v1/crl/index.json", 200 },
	};
	char path[200];
	uint8_t *want;
	size_t len;

	fixture_sh("mkdir -p %s/crl && cp %s %s/crl/0123abcd.crl && echo "
		   "'{\"version\": 1}' > %s/index.json", F.dir,
		   testpki_path("int.crl.der"), F.dir, F.dir);
	start(16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r = req("r2", cases[i].method, cases[i].path);

		if (r.code != cases[i].code)
			fail_msg("%s %s: %ld, want %ld (%s)", cases[i].method,
				 cases[i].path, r.code, cases[i].code,
				 r.body ? (char *)r.body : "");
		free(r.body);
	}
	/* The CA's CRL as published, byte for byte. */
	struct resp r = get("/v1/crl/0123abcd.crl");
	snprintf(path, sizeof(path), "%s/crl/0123abcd.crl", F.dir);
	assert_int_equal(svrcert_read_file(path, 1 << 20, &want, &len), 0);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.body, want, len);
	free(want);
	free(r.body);
	stop();
}

/* A TCP connection that never starts TLS: holds a slot. */
static int idle_conn(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(F.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void test_connection_cap(void **state)
{
	int a, b;
	struct resp r;

	start(2);
	a = idle_conn();
	b = idle_conn();
	for (int i = 0; i < 100 && stats().connections < 2; i++)
		usleep(20000);
	assert_int_equal(stats().connections, 2);
	r = get("/v1/revocation");	/* the third: closed at accept */
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_true(stats().rejected >= 1);
	free(r.body);
	close(a);
	close(b);
	for (int i = 0; i < 100 && stats().connections; i++)
		usleep(20000);
	r = get("/v1/revocation");
	assert_int_equal(r.code, 200);
	free(r.body);
	stop();
}

/* A failed test leaves its conductor running: stopped here. */
static int test_teardown(void **state)
{
	stop();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_full, test_teardown),
		cmocka_unit_test_teardown(test_delta_and_304, test_teardown),
		cmocka_unit_test_teardown(test_long_poll, test_teardown),
		cmocka_unit_test_teardown(test_long_poll_timeout, test_teardown),
		cmocka_unit_test_teardown(test_refused, test_teardown),
		cmocka_unit_test_teardown(test_requests, test_teardown),
		cmocka_unit_test_teardown(test_connection_cap, test_teardown),
	};

	if (getenv("TEST_VERBOSE"))
		openlog("test_conductor", LOG_PERROR, LOG_DAEMON);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
