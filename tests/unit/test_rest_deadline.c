// SPDX-License-Identifier: GPL-2.0
/*
 * [rest] request-timeout against the real daemon (test_rest_fixture.h):
 * clients that send their request one byte per second -- headers or body
 * -- keep the connection busy (the inactivity timeout never fires) but are
 * cut off at the deadline, so they cannot hold the connection limit; a
 * normal client is served meanwhile and after, and a request whose
 * answer takes time (our side) is not cut.
 */
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/ssl.h>

/* Not every fixture helper is used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_rest_fixture.h"
#pragma GCC diagnostic pop

#define DEADLINE_S	3
#define SLOW_N		16	/* = connection-limit: all of it */
#define GIVE_UP_S	15	/* for handshakes under load */
/* How long a slow client keeps dribbling after its handshake: below the
 * 30 s inactivity timeout (which the dribble never lets fire anyway), and
 * far above any bound below, so only the deadline can free a slot in
 * time; the bounds are generous because CI runs this beside two guests. */
#define SLOW_HOLD_S	25
#define SERVED_WITHIN_S	12	/* without the deadline: >= SLOW_HOLD_S */

static char *admin_tok;

static int group_setup(void **state)
{
	long st;

	signal(SIGPIPE, SIG_IGN);
	rf_rest_extra = "request-timeout = 3s\nconnection-limit = 16\n"
			"per-address-limit = 16\n";
	if (rf_setup())
		return -1;
	admin_tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	return admin_tok ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(admin_tok);
	rf_teardown();
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct slow {
	pthread_t th;
	const char *head;	/* sent at once */
	bool body;		/* then one byte per second: body, else headers */
	double cut_after;	/* seconds until the server closed; -1: never */
	bool connected;
};

static int tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)rf.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Whether the server closed: readable, and the read says end or error. */
static bool closed_by_server(SSL *ssl, int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];

	if (poll(&p, 1, wait_ms) <= 0)
		return false;
	return SSL_read(ssl, buf, sizeof(buf)) <= 0;
}

/*
 * A TLS connection to the daemon, tried again for a while: a slot the
 * previous test's clients held is free only once the server has seen
 * their close, and until then the connection limit refuses us.
 * Returns the SSL with its socket, NULL if none in GIVE_UP_S; *T0 is
 * when the successful attempt began.
 */
static SSL *connect_retrying(SSL_CTX *ctx, double *t0)
{
	double first = now_s();

	do {
		SSL *ssl = SSL_new(ctx);
		int fd;

		*t0 = now_s();
		fd = tcp_connect();
		if (fd >= 0 && SSL_set_fd(ssl, fd) && SSL_connect(ssl) == 1)
			return ssl;
		SSL_free(ssl);
		if (fd >= 0)
			close(fd);
		usleep(100 * 1000);
	} while (now_s() - first < GIVE_UP_S);
	return NULL;
}

static void *slow_client(void *arg)
{
	struct slow *s = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	double t0, held_from;
	SSL *ssl;

	s->cut_after = -1;
	ssl = connect_retrying(ctx, &t0);
	if (!ssl)
		goto out;
	__atomic_store_n(&s->connected, true, __ATOMIC_RELEASE);
	held_from = now_s();
	if (SSL_write(ssl, s->head, (int)strlen(s->head)) <= 0)
		goto out;
	while (now_s() - held_from < SLOW_HOLD_S) {
		if (closed_by_server(ssl, SSL_get_fd(ssl), 1000) ||
		    SSL_write(ssl, s->body ? "x" : "X", 1) <= 0) {
			s->cut_after = now_s() - t0;
			break;
		}
	}
out:
	if (ssl) {
		close(SSL_get_fd(ssl));
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * Until every one of the N slow clients is through its TLS handshake
 * (seconds each on a loaded host, not the one second once assumed), so
 * the slots they are meant to hold are held before the normal client
 * comes.
 */
static void wait_connected(struct slow *s, int n)
{
	double t0 = now_s();
	int i, up;

	do {
		for (up = 0, i = 0; i < n; i++)
			up += __atomic_load_n(&s[i].connected, __ATOMIC_ACQUIRE);
		if (up == n)
			return;
		usleep(50 * 1000);
	} while (now_s() - t0 < GIVE_UP_S);
	fail_msg("only %d of %d slow clients got through their handshake", up, n);
}

static void test_slow_senders_cut_at_deadline(void **state)
{
	static const char hdr[] = "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	static const char post[] = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: 1000\r\n\r\n{";
	struct rf_resp *r = malloc(sizeof(*r));
	struct slow s[SLOW_N];
	double worst = 0;
	int i;

	memset(s, 0, sizeof(s));
	/* all but one: the normal client needs a slot meanwhile */
	for (i = 0; i < SLOW_N - 1; i++) {
		s[i].head = i % 2 ? post : hdr;
		s[i].body = i % 2;
		assert_int_equal(pthread_create(&s[i].th, NULL, slow_client, &s[i]), 0);
	}
	wait_connected(s, SLOW_N - 1);
	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	for (i = 0; i < SLOW_N - 1; i++) {
		pthread_join(s[i].th, NULL);
		assert_true(s[i].connected);
		if (s[i].cut_after < 0)
			fail_msg("slow client %d (%s) never cut off in %d s", i,
				 s[i].body ? "body" : "headers", SLOW_HOLD_S);
		if (s[i].cut_after > worst)
			worst = s[i].cut_after;
		assert_true(s[i].cut_after >= DEADLINE_S - 0.5);
	}
	fprintf(stderr, "# %d slow clients cut off after at most %.1f s\n",
		SLOW_N - 1, worst);
	assert_true(worst < SERVED_WITHIN_S);
	/* the slots are free again */
	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	free(r);
}

/* All of the connection limit taken by slow senders: a normal client is
 * served once the deadline has freed it, not after the inactivity
 * timeout (which the one byte a second never lets fire). */
static void test_limit_freed_by_deadline(void **state)
{
	static const char hdr[] = "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct rf_resp *r = malloc(sizeof(*r));
	struct slow s[SLOW_N];
	double t0;
	long st;
	int i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < SLOW_N; i++) {
		s[i].head = hdr;
		assert_int_equal(pthread_create(&s[i].th, NULL, slow_client, &s[i]), 0);
	}
	wait_connected(s, SLOW_N);
	t0 = now_s();
	/* refused while the limit is held: try again until served */
	while ((st = rf_request("GET", "/api/v1/stats", admin_tok, NULL, r)) != 200 &&
	       now_s() - t0 < SERVED_WITHIN_S)
		usleep(200 * 1000);
	fprintf(stderr, "# served after %.1f s with the limit held (HTTP %ld)\n",
		now_s() - t0, st);
	assert_int_equal(st, 200);
	assert_true(now_s() - t0 < SERVED_WITHIN_S);
	for (i = 0; i < SLOW_N; i++) {
		pthread_join(s[i].th, NULL);
		assert_true(s[i].cut_after > 0);
	}
	free(r);
}

/* The deadline is per request: re-armed after each answer, so a
 * keep-alive connection serves requests spaced under the deadline for
 * longer than one deadline in all. */
static void test_keepalive_within_deadline(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct curl_slist *hdrs = NULL;
	CURL *c = rf_easy("GET", "/api/v1/stats", admin_tok, NULL, r, &hdrs);
	long fresh = -1;

	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	/* a second request soon after: the same connection, re-armed */
	sleep(DEADLINE_S - 1);
	r->len = 0;
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &fresh);
	assert_int_equal(fresh, 0);
	sleep(DEADLINE_S - 1);
	r->len = 0;
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	assert_int_equal(r->status, 200);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &fresh);
	assert_int_equal(fresh, 0);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_senders_cut_at_deadline),
		cmocka_unit_test(test_limit_freed_by_deadline),
		cmocka_unit_test(test_keepalive_within_deadline),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
