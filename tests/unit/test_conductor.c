// SPDX-License-Identifier: GPL-2.0
/*
 * The conductor (userspace/conductor/) with real mutual TLS on loopback:
 * the test PKI's r1 serves (file key), libcurl clients present r2 (valid),
 * r3 (revoked by the conductor's master list) or a self-signed
 * certificate. The server runs its own poll loop in a thread, as svrcertd's
 * loop would; every document is checked as a router checks it
 * (svrcert_conductor_verify). Cases: the full set with its ETag; a delta
 * since a generation, another epoch's full set; 304; If-None-Match on the
 * full set (304, and 200 after a new generation); a long-poll answered
 * the moment a generation is made, and one that times out; one signature
 * per document however many fetch it; the published CRL files; 403
 * naming why for a revoked and an untrusted router (logged, audited); a
 * router revoked while it waits closed, answered nothing, by the
 * generation that revokes it;
 * 400 / 404 / 405; the connection cap.
 */
#include "test_conductor_server.h"

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

/* If-None-Match on the full set (issue 15): the current generation's
 * ETag (plain, weak, in a list, or "*") gets 304, no body, no signature,
 * a few hundred bytes where the full set is thousands; another ETag, or a
 * new generation, gets 200 and the document. With since the journal
 * answers, whatever If-None-Match says. */
static void test_if_none_match(void **state)
{
	static const char *const pre[] = { "", "W/", "\"0-0\", ", "*" };
	struct svrcert_gen_update u = { 0 };
	struct conductor_stats s0, s;
	char hdr[200], path[200], etag0[80];
	uint64_t sent;
	struct resp r;

	start(16);
	r = get("/v1/revocation");
	assert_int_equal(r.code, 200);
	snprintf(etag0, sizeof(etag0), "%s", r.etag);
	free(r.body);
	s0 = stats();
	sent = s0.bytes_sent;
	for (size_t i = 0; i < 4; i++) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s%s", pre[i],
			 i == 3 ? "" : etag0);
		r = get_hdr("/v1/revocation", hdr);
		assert_int_equal(r.code, 304);
		assert_int_equal(r.len, 0);
		assert_string_equal(r.etag, etag0);
		free(r.body);
		s = stats();
		print_message("%s: 304, %llu bytes sent\n", hdr,
			      (unsigned long long)(s.bytes_sent - sent));
		assert_true(s.bytes_sent - sent < 300);
		sent = s.bytes_sent;
	}
	s = stats();
	assert_int_equal(s.not_modified, s0.not_modified + 4);
	assert_int_equal(s.full, s0.full);
	assert_int_equal(s.signatures, s0.signatures);
	/* Another ETag: the document. */
	r = get_hdr("/v1/revocation", "If-None-Match: \"0-0\"");
	verify(&r, &u);
	assert_true(r.len > 32 * F.m.n);
	print_message("another ETag: 200, the full set of %zu keys, %zu "
		      "bytes\n", F.m.n, r.len);
	svrcert_gen_update_release(&u);
	free(r.body);
	/* A new generation: the old ETag gets 200 and the new set. */
	set_master(18, 2, 4);
	snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag0);
	r = get_hdr("/v1/revocation", hdr);
	verify(&r, &u);
	assert_int_equal(u.kind, SVRCERT_GEN_FULL);
	assert_int_equal(u.gen, s0.generation + 1);
	expect_etag(&r);
	assert_string_not_equal(r.etag, etag0);
	svrcert_gen_update_release(&u);
	free(r.body);
	/* since: the journal answers (a delta), If-None-Match aside. */
	since_path(path, sizeof(path), s0.generation, NULL);
	snprintf(hdr, sizeof(hdr), "If-None-Match: *");
	r = get_hdr(path, hdr);
	verify(&r, &u);
	assert_int_equal(u.kind, SVRCERT_GEN_DELTA);
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
	assert_true(r.secs >= 0.9 && r.secs < (getenv("SVRCERT_SLOW") ? 20.0 :
						4.0));
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

/* A long-poll as WHO (poll_thread's, for another router). */
struct router_poller {
	pthread_t t;
	const char *who;
	char path[200];
	struct resp r;
};

static void *router_poll_thread(void *arg)
{
	struct router_poller *p = arg;

	p->r = req(p->who, "GET", p->path);
	return NULL;
}

/* r1 (a router like r2 here) revoked while it waits: the generation that
 * revokes it closes its connection, answered nothing; r2 gets it. */
static void test_revoked_while_waiting(void **state)
{
	struct svrcert_gen_update u = { 0 };
	struct router_poller p[2] = { { .who = "r1" }, { .who = "r2" } };
	svrcert_revkey_t k[2];
	struct conductor_stats s0;
	char err[300];
	FILE *f = fopen(testpki_path("r1.pem"), "r");
	X509 *r1 = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	assert_non_null(r1);
	assert_int_equal(svrcert_revkey_from_cert(r1, k[1]), 0);
	X509_free(r1);
	memcpy(k[0], F.r3key, 32);
	start(16);
	s0 = stats();
	for (int i = 0; i < 2; i++) {
		since_path(p[i].path, sizeof(p[i].path), s0.generation,
			   "&wait=30");
		assert_int_equal(pthread_create(&p[i].t, NULL,
						router_poll_thread, &p[i]), 0);
	}
	for (int i = 0; i < 200 && stats().waiting < 2; i++)
		usleep(50000);
	assert_int_equal(stats().waiting, 2);
	svrcert_master_release(&F.m);
	assert_int_equal(svrcert_master_build(NULL, 0, k, 2, time(NULL),
					      &F.m), 0);
	pthread_mutex_lock(&F.lock);
	assert_int_equal(conductor_master(F.c, F.m.keys, F.m.n, err,
					  sizeof(err)), 1);
	pthread_mutex_unlock(&F.lock);
	for (int i = 0; i < 2; i++)
		pthread_join(p[i].t, NULL);
	print_message("revoked r1 while waiting: curl %d, HTTP %ld\n",
		      (int)p[0].r.rc, p[0].r.code);
	assert_int_not_equal(p[0].r.rc, CURLE_OK);
	assert_int_equal(p[0].r.code, 0);
	assert_int_equal(p[0].r.len, 0);
	verify(&p[1].r, &u);
	assert_int_equal(u.gen, s0.generation + 1);
	svrcert_gen_update_release(&u);
	assert_int_equal(stats().refused, s0.refused + 1);
	assert_int_equal(stats().refused_revoked, s0.refused_revoked + 1);
	assert_true(audit_has(CONDUCTOR_AUDIT_TYPE, "CN=r1"));
	free(p[0].r.body);
	free(p[1].r.body);
	/* And r1 is refused when it comes back. */
	p[0].r = req("r1", "GET", "/v1/revocation");
	assert_int_equal(p[0].r.code, 403);
	free(p[0].r.body);
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
	assert_int_equal(stats().max_conns, 2);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_full, test_teardown),
		cmocka_unit_test_teardown(test_delta_and_304, test_teardown),
		cmocka_unit_test_teardown(test_if_none_match, test_teardown),
		cmocka_unit_test_teardown(test_long_poll, test_teardown),
		cmocka_unit_test_teardown(test_long_poll_timeout, test_teardown),
		cmocka_unit_test_teardown(test_refused, test_teardown),
		cmocka_unit_test_teardown(test_revoked_while_waiting,
					  test_teardown),
		cmocka_unit_test_teardown(test_requests, test_teardown),
		cmocka_unit_test_teardown(test_connection_cap, test_teardown),
	};

	if (getenv("TEST_VERBOSE"))
		openlog("test_conductor", LOG_PERROR, LOG_DAEMON);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
