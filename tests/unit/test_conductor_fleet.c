// SPDX-License-Identifier: GPL-2.0
/*
 * Many routers waiting at one conductor (userspace/conductor/): the
 * conductor in a process of its own (its memory is then its own), N
 * routers (libcurl multi, r2's certificate; SVRCERT_CONDUCTOR_ROUTERS,
 * default 200) connecting in batches of 25 and each holding a long-poll:
 * every one waiting, the conductor's RSS per waiting router (at most
 * 64 KiB), then one generation answers every router with 200 and the
 * documents are signed twice in all.
 */
#include "test_conductor_server.h"

/* ---- many routers waiting --------------------------------------------- */

/* The conductor alone in a child process (its memory is then its own),
 * told by a byte on CMD: 's' its stats on RES, 'g' a new generation, 'q'
 * stop. No cmocka here: a failure exits non-zero. */
static void child(int cmd, int res, unsigned int max)
{
	struct conductor_params p = { .cfg = &F.cfg, .st = &F.st,
				      .storage = TPM_KEY_STORAGE_FILE,
				      .host = "127.0.0.1", .max_conns = max,
				      .max_wait_s = 60 };
	svrcert_revkey_t k[3] = { { 0 } };
	struct conductor_stats s;
	char err[400], c;

	if (conductor_start(&F.c, &p, err, sizeof(err)) ||
	    conductor_master(F.c, k, 1, err, sizeof(err)) < 0)
		_exit(1);
	conductor_stats(F.c, &s);
	if (write(res, &s, sizeof(s)) != sizeof(s))
		_exit(1);
	for (;;) {
		struct pollfd fds[2] = { { .fd = conductor_fd(F.c), .events = POLLIN },
					 { .fd = cmd, .events = POLLIN } };

		poll(fds, 2, conductor_timeout_ms(F.c));
		conductor_process(F.c);
		if (!(fds[1].revents & (POLLIN | POLLHUP)))
			continue;
		if (read(cmd, &c, 1) != 1 || c == 'q')
			break;
		if (c == 'g') {
			k[1][0] = k[1][0] + 1;
			k[2][0] = k[1][0];
			k[2][31] = 1;
			conductor_master(F.c, k, 3, err, sizeof(err));
		}
		conductor_stats(F.c, &s);
		if (c == 's' && write(res, &s, sizeof(s)) != sizeof(s))
			_exit(1);
	}
	conductor_stop(F.c);
	_exit(0);
}

static struct conductor_stats child_stats(int cmd, int res)
{
	struct conductor_stats s;

	assert_int_equal(write(cmd, "s", 1), 1);
	assert_int_equal(read(res, &s, sizeof(s)), sizeof(s));
	return s;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* Drive M until every transfer is done or T seconds pass; the transfers
 * still running. */
static int drive(CURLM *m, double t, int (*until)(void *), void *arg)
{
	struct timespec t0, t1;
	int running = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (running) {
		curl_multi_perform(m, &running);
		if (until && until(arg))
			break;
		curl_multi_poll(m, NULL, 0, 50, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > t)
			break;
	}
	return running;
}

struct fleet {
	int cmd, res;
	size_t n;
};

static int all_waiting(void *arg)
{
	static struct timespec last;
	struct fleet *fl = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) /
	    1000000 < 200)
		return 0;
	last = now;
	return child_stats(fl->cmd, fl->res).waiting == fl->n;
}

static void test_many_waiting(void **state)
{
	const char *env = getenv("SVRCERT_CONDUCTOR_ROUTERS");
	size_t n = env ? strtoul(env, NULL, 10) : 200, ok = 0;
	struct conductor_stats s0, s;
	int cmd[2], res[2], running;
	char url[300], cert[256], key[256], e[33];
	struct timespec t0, t1;
	CURL **h = calloc(n, sizeof(*h));
	struct resp *rs = calloc(n, sizeof(*rs));
	CURLM *m = curl_multi_init();
	long rss0, rss1;
	pid_t pid;

	assert_int_equal(pipe(cmd), 0);
	assert_int_equal(pipe(res), 0);
	pid = fork();
	if (pid == 0) {
		close(cmd[1]);	/* the parent gone: EOF, the child ends */
		close(res[0]);
		child(cmd[0], res[1], (unsigned int)n + 8);
	}
	close(cmd[0]);
	close(res[1]);
	assert_int_equal(read(res[0], &s0, sizeof(s0)), sizeof(s0));
	F.port = s0.port;
	free(get("/v1/revocation").body);	/* warm: one router served */
	rss0 = rss_kib(pid);
	cd_epoch_hex(s0.epoch, e);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/v1/revocation?epoch=%s"
		 "&since=%llu&wait=60", F.port, e,
		 (unsigned long long)s0.generation);
	snprintf(cert, sizeof(cert), "%s", testpki_path("r2.pem"));
	snprintf(key, sizeof(key), "%s", testpki_path("r2.key"));
	for (size_t i = 0; i < n; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_URL, url);
		curl_easy_setopt(h[i], CURLOPT_SSLCERT, cert);
		curl_easy_setopt(h[i], CURLOPT_SSLKEY, key);
		curl_easy_setopt(h[i], CURLOPT_CAINFO, testpki_path("bundle.pem"));
		curl_easy_setopt(h[i], CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, body_cb);
		curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &rs[i]);
		curl_easy_setopt(h[i], CURLOPT_TIMEOUT, 120L);
		curl_multi_add_handle(m, h[i]);
		/* In batches, as routers spread their (re)connects: all at
		 * once on a loaded 2-core host, handshakes pass their 10 s. */
		if ((i + 1) % 25 == 0 || i + 1 == n) {
			struct fleet fl = { cmd[1], res[0], i + 1 };

			drive(m, 60, all_waiting, &fl);
		}
	}
	s = child_stats(cmd[1], res[0]);
	rss1 = rss_kib(pid);
	print_message("%zu routers waiting: conductor RSS %ld -> %ld KiB, "
		      "%.1f KiB per waiting router\n", n, rss0, rss1,
		      (double)(rss1 - rss0) / (double)n);
	assert_int_equal(s.waiting, n);
	assert_true((rss1 - rss0) / (long)n <= 64);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(write(cmd[1], "g", 1), 1);
	running = drive(m, 60, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < n; i++) {
		long code = 0;

		curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &code);
		ok += code == 200;
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
		free(rs[i].body);
	}
	s = child_stats(cmd[1], res[0]);
	print_message("one generation: %zu of %zu answered 200 in %.3f s, "
		      "%lu signatures\n", ok, n,
		      (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		      s.signatures - s0.signatures);
	assert_int_equal(running, 0);
	assert_int_equal(ok, n);
	assert_int_equal(s.signatures - s0.signatures, 2);
	assert_int_equal(write(cmd[1], "q", 1), 1);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	curl_multi_cleanup(m);
	free(h);
	free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_waiting),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
