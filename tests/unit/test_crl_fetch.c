// SPDX-License-Identifier: GPL-2.0
/*
 * crl_fetch against a real HTTP server on loopback (tests/unit/crl_server.py,
 * started per run, self-stopping): 200 and 304 via ETag and Last-Modified,
 * size cap on chunked and on Content-Length bodies, total and connect
 * failures, scheme allow-list incl. redirects, compression bombs, and a
 * poll loop that keeps running while a slow server stalls.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "crl/crl_fetch.h"

static char dir[256];
static pid_t server;
static int port;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_file(const char *name, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void url(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", port, path);
}

static pid_t tls_server;
static int tls_port;

/* crl_server.py on a free port; with TLS when cert and key are given. */
static int spawn_server(pid_t *pid, int *portp, const char *cert,
			const char *key)
{
	char self[PATH_MAX] = { 0 }, script[PATH_MAX + 64], line[64];
	int pfd[2];
	FILE *out;

	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0 || pipe(pfd))
		return -1;
	/* build/tests/test_crl_fetch -> tests/unit/crl_server.py */
	snprintf(script, sizeof(script), "%s/../../tests/unit/crl_server.py",
		 dirname(self));
	*pid = fork();
	if (*pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		if (cert)
			execlp("python3", "python3", script, "--root", dir,
			       "--lifetime", "120", "--tls-cert", cert,
			       "--tls-key", key, (char *)NULL);
		else
			execlp("python3", "python3", script, "--root", dir,
			       "--lifetime", "120", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	out = fdopen(pfd[0], "r");
	if (!out || !fgets(line, sizeof(line), out) ||
	    sscanf(line, "PORT %d", portp) != 1)
		return -1;
	fclose(out);
	return 0;
}

static int start_server(void)
{
	char cmd[1024], cert[300], key[300];

	/* a self-signed server certificate for 127.0.0.1, our HTTPS trust */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.pem "
		 "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
		 ">/dev/null 2>&1", dir);
	snprintf(cert, sizeof(cert), "%s/tls.pem", dir);
	snprintf(key, sizeof(key), "%s/tls.key", dir);
	if (system(cmd))
		return -1;
	return spawn_server(&server, &port, NULL, NULL) ?:
	       spawn_server(&tls_server, &tls_port, cert, key);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s/svrcert-crlfetch.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	write_file("a.crl", "first CRL bytes", 15);
	return start_server();
}

static int teardown(void **state)
{
	char cmd[300];

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	if (tls_server > 0) {
		kill(tls_server, SIGTERM);
		waitpid(tls_server, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static int fetch(const char *path, struct svrcert_fetch_req *req,
		 struct svrcert_fetch_result *res)
{
	char u[1024];

	url(u, sizeof(u), path);
	req->url = u;
	return svrcert_fetch_sync(req, res);
}

static void test_ok_then_304_by_etag(void **state)
{
	struct svrcert_fetch_req req = { 0 };
	struct svrcert_fetch_result res, res2;
	char etag[256];

	assert_int_equal(fetch("/crl/a.crl", &req, &res), 0);
	assert_int_equal(res.status, SVRCERT_FETCH_OK);
	assert_int_equal(res.http_code, 200);
	assert_int_equal(res.body_len, 15);
	assert_memory_equal(res.body, "first CRL bytes", 15);
	assert_true(res.etag[0] == '"');
	assert_true(strstr(res.last_modified, "GMT") != NULL);
	snprintf(etag, sizeof(etag), "%s", res.etag);
	svrcert_fetch_result_release(&res);

	req = (struct svrcert_fetch_req){ .etag = etag };
	assert_int_equal(fetch("/crl/a.crl", &req, &res2), 0);
	assert_int_equal(res2.status, SVRCERT_FETCH_NOT_MODIFIED);
	assert_int_equal(res2.http_code, 304);
	assert_null(res2.body);

	/* a new CRL at the same URL: the old ETag no longer matches */
	write_file("a.crl", "second CRL", 10);
	req = (struct svrcert_fetch_req){ .etag = etag };
	assert_int_equal(fetch("/crl/a.crl", &req, &res2), 0);
	assert_int_equal(res2.status, SVRCERT_FETCH_OK);
	assert_int_equal(res2.body_len, 10);
	assert_string_not_equal(res2.etag, etag);
	svrcert_fetch_result_release(&res2);
	write_file("a.crl", "first CRL bytes", 15);
}

static void test_304_by_last_modified(void **state)
{
	struct svrcert_fetch_req req = { 0 };
	struct svrcert_fetch_result res;
	char lm[64];

	assert_int_equal(fetch("/crl/a.crl", &req, &res), 0);
	snprintf(lm, sizeof(lm), "%s", res.last_modified);
	svrcert_fetch_result_release(&res);
	req = (struct svrcert_fetch_req){ .last_modified = lm };
	assert_int_equal(fetch("/crl/a.crl", &req, &res), 0);
	assert_int_equal(res.status, SVRCERT_FETCH_NOT_MODIFIED);
}

static void test_size_cap_chunked(void **state)
{
	struct svrcert_fetch_req req = { .max_size = 100000 };
	struct svrcert_fetch_result res;

	assert_int_equal(fetch("/chunked/300000", &req, &res), -EFBIG);
	assert_int_equal(res.status, SVRCERT_FETCH_FAILED);
	assert_non_null(strstr(res.msg, "exceeds the size cap of 100000 bytes"));
	assert_null(res.body);
	req = (struct svrcert_fetch_req){ .max_size = 100000 };
	assert_int_equal(fetch("/chunked/100000", &req, &res), 0);
	assert_int_equal(res.body_len, 100000);
	svrcert_fetch_result_release(&res);
}

static void test_size_cap_content_length(void **state)
{
	struct svrcert_fetch_req req = { .max_size = 100000 };
	struct svrcert_fetch_result res;

	assert_int_equal(fetch("/length/300000", &req, &res), -EFBIG);
	assert_non_null(strstr(res.msg, "size cap"));
}

/*
 * A hostile server answers with Content-Encoding gzip/deflate although we
 * never asked for it: 50 MiB of zeros in ~50 KiB. svrcert does not set
 * CURLOPT_ACCEPT_ENCODING, so libcurl must hand over the compressed bytes
 * as they came (they then fail to parse as a CRL: test_daemon_crl), never
 * the 50 MiB; and a compressed stream larger than the cap is still cut.
 */
static void test_compression_bomb(void **state)
{
	static const struct { const char *enc; uint8_t magic; } v[] = {
		{ "gzip", 0x1f },	/* RFC 1952 header 1f 8b */
		{ "deflate", 0x78 },	/* RFC 1950 zlib header */
	};
	struct svrcert_fetch_req req;
	struct svrcert_fetch_result res;
	char path[64];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/bomb/52428800?enc=%s", v[i].enc);
		req = (struct svrcert_fetch_req){ .max_size = 100000 };
		assert_int_equal(fetch(path, &req, &res), 0);
		assert_int_equal(res.status, SVRCERT_FETCH_OK);
		/* the compressed bytes, not decoded: bounded by the cap */
		assert_in_range(res.body_len, 1000, 100000);
		assert_int_equal(res.body[0], v[i].magic);
		svrcert_fetch_result_release(&res);
		/* the compressed stream alone over the cap: refused, no body */
		req = (struct svrcert_fetch_req){ .max_size = 20000 };
		assert_int_equal(fetch(path, &req, &res), -EFBIG);
		assert_non_null(strstr(res.msg, "exceeds the size cap of 20000 bytes"));
		assert_null(res.body);
	}
}

static void test_total_timeout(void **state)
{
	struct svrcert_fetch_req req = { .total_timeout_ms = 500 };
	struct svrcert_fetch_result res;
	double t0 = now();

	assert_int_equal(fetch("/slow/5", &req, &res), -ETIMEDOUT);
	assert_true(now() - t0 < 3.0);
	assert_non_null(strstr(res.msg, "/slow/5"));
}

static void test_connection_refused(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct svrcert_fetch_req req = { 0 };
	struct svrcert_fetch_result res;
	char u[128];

	/* a port that was just free and has no listener */
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/crl/a.crl", ntohs(sa.sin_port));
	req.url = u;
	assert_int_equal(svrcert_fetch_sync(&req, &res), -ECONNREFUSED);
	assert_int_equal(res.status, SVRCERT_FETCH_FAILED);
}

static void test_schemes(void **state)
{
	struct svrcert_fetch_req req = { .url = "ftp://127.0.0.1/x.crl" };
	struct svrcert_fetch_result res;
	char to[512];

	assert_int_equal(svrcert_fetch_sync(&req, &res), -EPROTONOSUPPORT);
	req.url = "file:///etc/hostname";
	assert_int_equal(svrcert_fetch_sync(&req, &res), -EPROTONOSUPPORT);
	req.url = "not a url";
	assert_int_not_equal(svrcert_fetch_sync(&req, &res), 0);
	/* redirects may not leave http/https either */
	req = (struct svrcert_fetch_req){ 0 };
	assert_int_equal(fetch("/redirect?to=file:///etc/hostname", &req, &res),
			 -EPROTONOSUPPORT);
	/* but may move within http */
	snprintf(to, sizeof(to), "/redirect?to=http://127.0.0.1:%d/crl/a.crl", port);
	req = (struct svrcert_fetch_req){ 0 };
	assert_int_equal(fetch(to, &req, &res), 0);
	assert_int_equal(res.body_len, 15);
	svrcert_fetch_result_release(&res);
}

static void test_https(void **state)
{
	struct svrcert_fetch_req req = { 0 };
	struct svrcert_fetch_result res;
	char u[128], ca[300];

	snprintf(u, sizeof(u), "https://127.0.0.1:%d/crl/a.crl", tls_port);
	snprintf(ca, sizeof(ca), "%s/tls.pem", dir);
	req.url = u;
	req.ca_file = ca;
	assert_int_equal(svrcert_fetch_sync(&req, &res), 0);
	assert_int_equal(res.status, SVRCERT_FETCH_OK);
	assert_int_equal(res.body_len, 15);
	svrcert_fetch_result_release(&res);
	/* the server's certificate is not trusted by the system store */
	req.ca_file = NULL;
	assert_int_equal(svrcert_fetch_sync(&req, &res), -EKEYREJECTED);
	assert_non_null(strstr(res.msg, "certificate"));
}

static void test_http_error_status(void **state)
{
	struct svrcert_fetch_req req = { 0 };
	struct svrcert_fetch_result res;

	assert_int_equal(fetch("/status/404", &req, &res), -EBADMSG);
	assert_int_equal(res.http_code, 404);
	assert_non_null(strstr(res.msg, "HTTP 404 from http://127.0.0.1"));
	assert_null(res.body);
	assert_int_equal(fetch("/crl/missing.crl", &req, &res), -EBADMSG);
}

struct loop_log {
	int done;
	char order[3][32];
	int err[3];
	int still_running_at_done[3];
	struct svrcert_fetcher *f;
};

static void on_done(struct svrcert_fetch_result *res, void *ctx)
{
	struct loop_log *log = ctx;

	if (log->done < 3) {
		snprintf(log->order[log->done], sizeof(log->order[0]), "%s",
			 (const char *)res->user);
		log->err[log->done] = res->err;
		log->still_running_at_done[log->done] =
			(int)svrcert_fetcher_running(log->f);
	}
	log->done++;
}

/* The daemon's shape: its own 50 ms timer in the same poll() as curl. */
static void test_poll_loop_never_blocks(void **state)
{
	struct loop_log log = { 0 };
	struct svrcert_fetcher *f = svrcert_fetcher_new(on_done, &log);
	struct svrcert_fetch_req req = { .total_timeout_ms = 5000 };
	char u1[128], u2[128], u3[128];
	double t0 = now(), worst = 0, deadline = t0 + 10;
	int ticks = 0;

	log.f = f;
	url(u1, sizeof(u1), "/slow/2");
	url(u2, sizeof(u2), "/crl/a.crl");
	url(u3, sizeof(u3), "/chunked/200000");
	req.url = u1, req.user = "slow";
	assert_int_equal(svrcert_fetcher_add(f, &req), 0);
	req.url = u2, req.user = "crl";
	assert_int_equal(svrcert_fetcher_add(f, &req), 0);
	req.url = u3, req.user = "chunked";
	assert_int_equal(svrcert_fetcher_add(f, &req), 0);
	assert_int_equal(svrcert_fetcher_running(f), 3);
	while (svrcert_fetcher_running(f) && now() < deadline) {
		struct pollfd fds[16];
		size_t n = svrcert_fetcher_pollfds(f, fds, 16);
		int t = svrcert_fetcher_timeout_ms(f);
		double p0;

		if (t < 0 || t > 50)
			t = 50;		/* the loop's own timer */
		poll(fds, n, t);
		p0 = now();
		svrcert_fetcher_process(f, fds, n);
		if (now() - p0 > worst)
			worst = now() - p0;
		ticks++;
	}
	svrcert_fetcher_free(f);
	assert_int_equal(log.done, 3);
	/* the fast ones finished while the stalled one was still in flight */
	assert_string_equal(log.order[2], "slow");
	assert_true(log.still_running_at_done[0] >= 1);
	assert_int_equal(log.err[0], 0);
	assert_int_equal(log.err[1], 0);
	assert_int_equal(log.err[2], 0);
	/* ~2 s of stall at <= 50 ms per turn: the loop kept turning */
	assert_true(ticks >= 20);
	assert_true(worst < 0.25);
}

static void test_free_with_transfers_in_flight(void **state)
{
	struct loop_log log = { 0 };
	struct svrcert_fetcher *f = svrcert_fetcher_new(on_done, &log);
	struct svrcert_fetch_req req = { .user = "slow" };
	struct pollfd fds[16];
	char u[128];
	size_t n;

	log.f = f;
	url(u, sizeof(u), "/slow/3");
	req.url = u;
	assert_int_equal(svrcert_fetcher_add(f, &req), 0);
	n = svrcert_fetcher_pollfds(f, fds, 16);
	poll(fds, n, 100);
	svrcert_fetcher_process(f, fds, n);
	svrcert_fetcher_free(f);	/* no callback, no leak (ASan/valgrind) */
	assert_int_equal(log.done, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_then_304_by_etag),
		cmocka_unit_test(test_304_by_last_modified),
		cmocka_unit_test(test_size_cap_chunked),
		cmocka_unit_test(test_size_cap_content_length),
		cmocka_unit_test(test_compression_bomb),
		cmocka_unit_test(test_total_timeout),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_schemes),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_http_error_status),
		cmocka_unit_test(test_poll_loop_never_blocks),
		cmocka_unit_test(test_free_with_transfers_in_flight),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
