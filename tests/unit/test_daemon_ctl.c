// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's control socket under clients that do not play along (issue
 * 13, defect 3): silent clients, a request sent in pieces, more clients
 * than the daemon serves at once. The loop must keep answering others
 * promptly, close idle clients by their deadline, and hold a bounded
 * number of connections.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_daemon_fixture.h"

/* "Promptly": what a status over the control socket may take while
 * silent clients hold connections. The daemon closes an idle client after
 * 2 s; serving clients one by one made status wait for each. */
#define PROMPT_MS	1000
#define IDLE_CLOSE_MS	5000	/* 2 s deadline + slack for a busy host */

static int setup(void **state)
{
	struct dfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	dfx_setup(f, "dctl");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct dfx *f = *state;

	dfx_teardown(f);
	free(f);
	return 0;
}

/*
 * Open N connections that send nothing into FDS; returns how many got
 * through. Non-blocking: a full listen backlog (a daemon that does not
 * accept) is retried for up to 2 s rather than blocking the test.
 */
static int silent_clients(const char *sock, int *fds, int n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long end = dfx_now_ms() + 2000;
	int i, got = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (i = 0; i < n; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				SOCK_NONBLOCK, 0);

		assert_true(fd >= 0);
		while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
		       errno == EAGAIN && dfx_now_ms() < end)
			usleep(5 * 1000);
		fds[got++] = fd;	/* connected, or failed: closed later */
	}
	return got;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* Has the daemon hung up on FD (EOF or reset)? */
static bool hung_up(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);

	return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void test_silent_clients_do_not_stall(void **state)
{
	struct dfx *f = *state;
	int fds[20], n;
	long ms;

	n = silent_clients(f->sock, fds, 20);
	assert_int_equal(dfx_status(f->sock, &ms), 0);
	print_message("status with 20 silent clients: %ld ms\n", ms);
	assert_true(ms < PROMPT_MS);
	/* Again, with the silent ones still there. */
	assert_int_equal(dfx_status(f->sock, &ms), 0);
	assert_true(ms < PROMPT_MS);
	close_all(fds, n);
}

static void test_idle_clients_closed(void **state)
{
	struct dfx *f = *state;
	int fds[20], n, i, open_left;
	long t0, end;

	n = silent_clients(f->sock, fds, 20);
	assert_int_equal(n, 20);
	t0 = dfx_now_ms();
	end = t0 + IDLE_CLOSE_MS;
	do {
		usleep(100 * 1000);
		for (open_left = 0, i = 0; i < n; i++)
			open_left += !hung_up(fds[i]);
	} while (open_left && dfx_now_ms() < end);
	print_message("idle clients still open after %ld ms: %d of %d\n",
		      dfx_now_ms() - t0, open_left, n);
	assert_int_equal(open_left, 0);
	close_all(fds, n);
	assert_int_equal(dfx_status(f->sock, NULL), 0);
}

static void test_request_in_pieces(void **state)
{
	static const char head[] = "{\"command\": \"sta";
	static const char tail[] = "tus\"}\n";
	struct dfx *f = *state;
	char *line = NULL;
	json_t *resp;
	long ms;
	int fd = dfx_connect(f->sock);

	assert_true(fd >= 0);
	assert_int_equal(send(fd, head, sizeof(head) - 1, 0),
			 (ssize_t)sizeof(head) - 1);
	/* Half a request on one connection holds nobody else up... */
	assert_int_equal(dfx_status(f->sock, &ms), 0);
	assert_true(ms < PROMPT_MS);
	/* ...and the rest completes it. */
	assert_int_equal(send(fd, tail, sizeof(tail) - 1, 0),
			 (ssize_t)sizeof(tail) - 1);
	assert_int_equal(ctlsock_read_line(fd, 3000, &line), 0);
	resp = json_loads(line, 0, NULL);
	assert_non_null(resp);
	assert_true(json_is_true(json_object_get(resp, "ok")));
	assert_non_null(json_object_get(resp, "certificate"));
	json_decref(resp);
	free(line);
	close(fd);
}

/*
 * An unknown command is quoted in the error, cut to fit: a cut inside a
 * UTF-8 character must not cost the client its answer (jansson refuses a
 * string that is not UTF-8, and no line came back).
 */
static void test_unknown_command_cut_in_character(void **state)
{
	struct dfx *f = *state;
	char cmd[1 + 2 * 400 + 1], *line = NULL;
	json_t *req, *resp = NULL;
	const char *err;
	int i;

	cmd[0] = 'x';	/* so that the cut falls inside a two-byte character */
	for (i = 0; i < 400; i++)
		memcpy(cmd + 1 + 2 * i, "\xc3\xa9", 2);	/* U+00E9 */
	cmd[sizeof(cmd) - 1] = '\0';
	req = json_pack("{s:s}", "command", cmd);
	assert_non_null(req);
	assert_int_equal(ctlsock_request(f->sock, req, &resp), 0);
	assert_false(json_is_true(json_object_get(resp, "ok")));
	err = json_string_value(json_object_get(resp, "error"));
	assert_non_null(err);
	assert_int_equal(strncmp(err, "unknown command: x\xc3\xa9", 20), 0);
	json_decref(req);
	json_decref(resp);
	free(line);
}

static void test_client_limit(void **state)
{
	struct dfx *f = *state;
	int fds[200], n, before, during;
	long ms;

	before = dfx_open_fds(f->pid);
	assert_true(before > 0);
	n = silent_clients(f->sock, fds, 200);
	assert_int_equal(dfx_status(f->sock, &ms), 0);
	print_message("status with %d silent clients: %ld ms\n", n, ms);
	assert_true(ms < PROMPT_MS);
	/* The daemon serves at most 32 clients at once (the oldest idle one
	 * makes room): far fewer descriptors than the 200 attempts. */
	during = dfx_open_fds(f->pid);
	print_message("daemon descriptors: %d before, %d with %d clients\n",
		      before, during, n);
	assert_true(during <= before + 32 + 2);
	close_all(fds, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_silent_clients_do_not_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_clients_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_in_pieces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command_cut_in_character,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
