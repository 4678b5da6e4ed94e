// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's REST API under concurrent load, against the real daemon
 * (test_rest_fixture.h: swtpm, test PKI, libcurl over TLS on loopback):
 * 1000 requests at once from many client addresses all answered while
 * the control socket keeps answering; a TPM operation held up inside the
 * TPM stalls neither other API clients nor the loop; the per-address
 * connection limit; parallel imports count exactly and keep the audit
 * log whole; parallel password guesses cannot outrun the login
 * throttle. Liveness is asserted, never speed (benchmarks do that).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Not every fixture helper is used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_rest_fixture.h"
#pragma GCC diagnostic pop

#include "lib/ctlsock.h"
#include "rest/rest.h"
#include "lib/store.h"
#include "rest/rest_throttle.h"

#define FLOOD_N		1000
#define FLOOD_SOURCES	25	/* 40 connections each: under the per-IP limit */

static char *admin_tok, *oper_tok;

static int group_setup(void **state)
{
	long st;

	if (rf_setup())
		return -1;
	admin_tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	oper_tok = rf_login(NULL, "oper", "Oper-Pass-1234", &st);
	return admin_tok && oper_tok ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(admin_tok);
	free(oper_tok);
	rf_teardown();
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- the control socket, asked every 50 ms from a thread of its own --- */

struct ctl_probe {
	pthread_t th;
	atomic_bool stop;
	int answered, failed;
	double worst_ms;
};

static void *probe_control(void *arg)
{
	struct ctl_probe *p = arg;

	while (!atomic_load(&p->stop)) {
		json_t *req = json_pack("{s:s}", "command", "status"), *resp = NULL;
		double t0 = now_ms(), dt;

		if (ctlsock_request(rf.sock, req, &resp) == 0 &&
		    json_is_true(json_object_get(resp, "ok")))
			p->answered++;
		else
			p->failed++;
		dt = now_ms() - t0;
		if (dt > p->worst_ms)
			p->worst_ms = dt;
		json_decref(req);
		json_decref(resp);
		usleep(50 * 1000);
	}
	return NULL;
}

static void probe_start(struct ctl_probe *p)
{
	memset(p, 0, sizeof(*p));
	atomic_init(&p->stop, false);
	assert_int_equal(pthread_create(&p->th, NULL, probe_control, p), 0);
}

/* The loop answered all along: none failed or took longer than
 * ctlsock's own timeout (liveness, not speed). */
static void probe_stop(struct ctl_probe *p, int at_least)
{
	atomic_store(&p->stop, true);
	pthread_join(p->th, NULL);
	fprintf(stderr, "# control socket answered %d times (failed %d), "
		"slowest %.0f ms\n", p->answered, p->failed, p->worst_ms);
	assert_true(p->answered >= at_least);
	assert_int_equal(p->failed, 0);
	assert_true(p->worst_ms < CTLSOCK_TIMEOUT_MS);
}

/* ---- 1000 at once ----------------------------------------------------- */

static int run_multi(CURLM *m)
{
	int running;

	do {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
	} while (running);
	return 0;
}

static void test_flood(void **state)
{
	struct rf_resp *resp = calloc(FLOOD_N, sizeof(*resp));
	struct curl_slist *hdrs[FLOOD_N];
	CURL *easy[FLOOD_N];
	struct ctl_probe probe;
	CURLM *m = curl_multi_init();
	int ok = 0, i, msgs;
	char src[32];
	CURLMsg *msg;
	double t0 = now_ms();

	assert_non_null(resp);
	for (i = 0; i < FLOOD_N; i++) {
		easy[i] = rf_easy("GET", "/api/v1/stats", oper_tok, NULL, &resp[i],
				  &hdrs[i]);
		snprintf(src, sizeof(src), "127.0.1.%d", 1 + i % FLOOD_SOURCES);
		curl_easy_setopt(easy[i], CURLOPT_INTERFACE, src);
		curl_multi_add_handle(m, easy[i]);
	}
	probe_start(&probe);
	run_multi(m);
	probe_stop(&probe, 10);
	while ((msg = curl_multi_info_read(m, &msgs)))
		if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
			fprintf(stderr, "transfer: %s\n",
				curl_easy_strerror(msg->data.result));
	for (i = 0; i < FLOOD_N; i++) {
		long code = 0;

		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &code);
		ok += code == 200 && strstr(resp[i].body, "\"security\"");
		curl_multi_remove_handle(m, easy[i]);
		curl_easy_cleanup(easy[i]);
		curl_slist_free_all(hdrs[i]);
	}
	curl_multi_cleanup(m);
	fprintf(stderr, "# %d/%d answered 200 in %.0f ms\n", ok, FLOOD_N,
		now_ms() - t0);
	free(resp);
	assert_int_equal(ok, FLOOD_N);
}

/* ---- a TPM operation held up does not hold up anyone else -------------- */

struct bg_req {
	pthread_t th;
	const char *method, *path, *body;
	struct rf_resp resp;
	atomic_bool done;
};

static void *bg_run(void *arg)
{
	struct bg_req *b = arg;

	rf_request(b->method, b->path, admin_tok, b->body, &b->resp);
	atomic_store(&b->done, true);
	return NULL;
}

static void bg_start(struct bg_req *b, const char *method, const char *path,
		     const char *body)
{
	b->method = method;
	b->path = path;
	b->body = body;
	atomic_init(&b->done, false);
	assert_int_equal(pthread_create(&b->th, NULL, bg_run, b), 0);
}

/* Occupy swtpm's one client slot: the daemon's next TPM operation waits
 * inside the TPM until this connection closes. */
static int hold_swtpm(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)rf.tpm.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Until N clients are connected to swtpm (the daemon's TPM operation is
 * waiting inside the TPM behind ours): seen from the kernel's socket
 * table, so no sleep has to guess how long a TLS handshake takes. */
static void wait_tpm_clients(int n)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!fixture_sh("test $(ss -Htn state established '( dport = :%d )' "
				"| wc -l) -ge %d", rf.tpm.port, n))
			return;
		usleep(50 * 1000);
	}
	fail_msg("the daemon never reached the TPM");
}

static void test_slow_tpm(void **state)
{
	struct bg_req *keygen = calloc(1, sizeof(*keygen));
	struct bg_req *csr = calloc(1, sizeof(*csr));
	struct rf_resp *r = malloc(sizeof(*r));
	struct ctl_probe probe;
	int i, fd;

	/* a key first, so that the CSR below works whichever goes first */
	rf_request("POST", "/api/v1/private-key", admin_tok, "{}", r);
	assert_true(r->status == 201 || r->status == 409);
	fd = hold_swtpm();
	probe_start(&probe);
	bg_start(keygen, "POST", "/api/v1/private-key", "{\"force\":true}");
	wait_tpm_clients(2);	/* it is inside the TPM now, waiting */
	/* a second TPM request waits behind the first (rest_server.c's
	 * TPM mutex; OpenSSL's provider loading happens to serialise the
	 * two as well, so this cannot tell which of them held it) */
	bg_start(csr, "POST", "/api/v1/certificate-request", NULL);
	usleep(200 * 1000);
	/* everyone else is served meanwhile: GETs, a login (a password
	 * hash), while both TPM requests are still waiting */
	for (i = 0; i < 5; i++)
		assert_int_equal(rf_request("GET", "/api/v1/stats", oper_tok,
					    NULL, r), 200);
	free(rf_login("127.0.0.3", "oper", "Oper-Pass-1234", &r->status));
	assert_int_equal(r->status, 200);
	assert_false(atomic_load(&keygen->done));
	assert_false(atomic_load(&csr->done));
	/* the TPM is free again: both finish, in turn */
	close(fd);
	pthread_join(keygen->th, NULL);
	pthread_join(csr->th, NULL);
	probe_stop(&probe, 5);
	assert_int_equal(keygen->resp.status, 201);
	assert_int_equal(csr->resp.status, 201);
	assert_non_null(strstr(csr->resp.body, "BEGIN CERTIFICATE REQUEST"));
	free(keygen);
	free(csr);
	free(r);
}

/* ---- the state directory under parallel writers ------------------------ */

static json_int_t counter(const char *key)
{
	struct rf_resp *r = malloc(sizeof(*r));
	json_t *o;
	json_int_t v;

	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	v = json_integer_value(json_object_get(json_object_get(o, "counters"), key));
	json_decref(o);
	free(r);
	return v;
}

/* Every line of the audit log is one whole JSON event. */
static size_t audit_lines_whole(void)
{
	char *log = NULL, *line, *save = NULL;
	size_t n = 0;
	json_t *o;

	assert_int_equal(store_read_path(rf.audit, &log, NULL), 0);
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		o = json_loads(line, 0, NULL);
		if (!json_is_object(o))
			fail_msg("audit line %zu is not one JSON event: %.80s", n + 1,
				 line);
		json_decref(o);
	}
	free(log);
	return n;
}

/* 30 imports at once, each refused (a certificate for another key): the
 * failure counter, a read-modify-write under the state lock, moves by
 * exactly 30 -- the lock excludes threads, not only processes -- and
 * the audit log stays whole lines. */
static void test_parallel_imports(void **state)
{
	enum { N = 30 };
	struct rf_resp *resp = calloc(N, sizeof(*resp));
	struct curl_slist *hdrs[N];
	CURL *easy[N];
	CURLM *m = curl_multi_init();
	json_int_t before = counter("certificate-import.failure");
	size_t len;
	uint8_t *pem = testpki_read("r1.pem", &len);
	json_t *o = json_pack("{s:s}", "certificate", (char *)pem);
	char *body = json_dumps(o, JSON_COMPACT);
	int i, refused = 0;

	for (i = 0; i < N; i++) {
		easy[i] = rf_easy("POST", "/api/v1/certificate", admin_tok, body,
				  &resp[i], &hdrs[i]);
		curl_multi_add_handle(m, easy[i]);
	}
	run_multi(m);
	for (i = 0; i < N; i++) {
		long code = 0;

		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &code);
		refused += code == 422;
		curl_multi_remove_handle(m, easy[i]);
		curl_easy_cleanup(easy[i]);
		curl_slist_free_all(hdrs[i]);
	}
	curl_multi_cleanup(m);
	assert_int_equal(refused, N);
	assert_int_equal(counter("certificate-import.failure"), before + N);
	assert_true(audit_lines_whole() > 2 * N);
	json_decref(o);
	free(body);
	free(pem);
	free(resp);
}

/* ---- limits ----------------------------------------------------------- */

/* A plain TCP connection from SOURCE that never says hello. */
static int idle_conn(const char *source)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, me = sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, source, &me.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	sa.sin_port = htons((unsigned short)rf.port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail_msg("idle connection from %s: %s", source, strerror(errno));
	return fd;
}

static void test_per_ip_limit(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	int fds[REST_DEF_PER_IP_LIMIT], i;

	long st = 0;

	for (i = 0; i < (int)REST_DEF_PER_IP_LIMIT; i++)
		fds[i] = idle_conn("127.0.2.1");
	/* that address has used up its share (once the server has accepted
	 * them all; they stay for its 30 s idle timeout); others have not */
	for (i = 0; i < 50 && st != -1; i++) {
		st = rf_request_from("127.0.2.1", "GET", "/api/v1/stats", oper_tok,
				     NULL, r);
		if (st != -1)
			usleep(100 * 1000);
	}
	assert_int_equal(st, -1);
	assert_int_equal(rf_request_from("127.0.2.2", "GET", "/api/v1/stats",
					 oper_tok, NULL, r), 200);
	for (i = 0; i < (int)REST_DEF_PER_IP_LIMIT; i++)
		close(fds[i]);
	/* closed: served again */
	for (i = 0; i < 50 && st != 200; i++) {
		usleep(100 * 1000);
		st = rf_request_from("127.0.2.1", "GET", "/api/v1/stats", oper_tok,
				     NULL, r);
	}
	assert_int_equal(st, 200);
	free(r);
}

/* 20 wrong passwords for one user sent at once, from 20 addresses: only
 * the free attempts are checked, the rest are refused (429) before their
 * password is hashed, and the user is locked out afterwards. */
static void test_parallel_guesses(void **state)
{
	enum { N = 20 };
	struct rf_resp *resp = calloc(N, sizeof(*resp));
	struct curl_slist *hdrs[N];
	CURL *easy[N];
	CURLM *m = curl_multi_init();
	int i, unauthorized = 0, throttled = 0;
	char src[32];
	long st;

	for (i = 0; i < N; i++) {
		easy[i] = rf_easy("POST", "/api/v1/login", NULL,
				  "{\"username\":\"victim\",\"password\":\"guess-guess\"}",
				  &resp[i], &hdrs[i]);
		snprintf(src, sizeof(src), "127.0.3.%d", i + 1);
		curl_easy_setopt(easy[i], CURLOPT_INTERFACE, src);
		curl_multi_add_handle(m, easy[i]);
	}
	run_multi(m);
	for (i = 0; i < N; i++) {
		long code = 0;

		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &code);
		unauthorized += code == 401;
		throttled += code == 429;
		curl_multi_remove_handle(m, easy[i]);
		curl_easy_cleanup(easy[i]);
		curl_slist_free_all(hdrs[i]);
	}
	curl_multi_cleanup(m);
	free(resp);
	fprintf(stderr, "# %d checked (401), %d refused (429)\n", unauthorized,
		throttled);
	assert_int_equal(unauthorized + throttled, N);
	assert_true(unauthorized >= 1 && unauthorized <= THROTTLE_FREE);
	/* locked out now, even with the right password */
	assert_null(rf_login("127.0.3.100", "victim", "Victim-Pass-1234", &st));
	assert_int_equal(st, 429);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_slow_tpm),
		cmocka_unit_test(test_parallel_imports),
		cmocka_unit_test(test_per_ip_limit),
		cmocka_unit_test(test_parallel_guesses),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
