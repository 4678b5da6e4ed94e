// SPDX-License-Identifier: GPL-2.0
/*
 * One svrcertd per state directory, and a control socket nobody takes away
 * (issue 13, defect 4): a second daemon on the same state directory, or on
 * another state directory with the same control socket, refuses to start,
 * says why, and leaves the running daemon, its socket and its state
 * directory untouched; a reload onto a state directory another daemon
 * holds fails; a daemon unlinks at exit only the socket it bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_daemon_fixture.h"

/* A second daemon started by a test, stopped by teardown if still up. */
static pid_t second = -1;

static int setup(void **state)
{
	struct dfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	dfx_setup(f, "dlock");
	second = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct dfx *f = *state;

	if (second > 0) {
		kill(second, SIGKILL);
		waitpid(second, NULL, 0);
	}
	second = -1;
	dfx_teardown(f);
	free(f);
	return 0;
}

static ino_t inode_of(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) ? 0 : sb.st_ino;
}

/* Every entry of DIR with its inode, size and change time, one a line. */
static void snapshot(const char *dir, char *out, size_t len)
{
	struct dirent **ents;
	size_t off = 0;
	int n, i;

	out[0] = '\0';
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		char path[4200];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (strcmp(ents[i]->d_name, "..") && !lstat(path, &sb) &&
		    off < len)
			off += (size_t)snprintf(out + off, len - off,
					"%s %lu %lld %ld.%09ld\n",
					ents[i]->d_name,
					(unsigned long)sb.st_ino,
					(long long)sb.st_size,
					(long)sb.st_ctim.tv_sec,
					sb.st_ctim.tv_nsec);
		free(ents[i]);
	}
	free(ents);
}

static char *read_text(const char *path)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(store_read_path(path, &data, &len), 0);
	return data;
}

/* Start a second daemon (STATE_DIR: --state-dir, else the configured one);
 * it must exit non-zero within 10 s. Returns its log. */
static char *second_refused(struct dfx *f, const char *state_dir)
{
	char log[160];
	int status;

	snprintf(log, sizeof(log), "%s/daemon-b.log", f->dir);
	second = dfx_spawn(f->conf, state_dir, NULL, log);
	assert_true(second > 0);
	assert_int_equal(dfx_wait_exit(second, 10000, &status), 0);
	second = -1;
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	return read_text(log);
}

static void test_same_state_dir_refused(void **state)
{
	struct dfx *f = *state;
	char before[8192], after[8192], pid[32];
	ino_t sock = inode_of(f->sock);
	char *log;
	int i;

	assert_true(sock != 0);
	/* Once the running daemon has written what it writes at start. */
	snapshot(f->state, after, sizeof(after));
	for (i = 0; i < 1 || (i < 30 && strcmp(before, after)); i++) {
		strcpy(before, after);
		usleep(300 * 1000);
		snapshot(f->state, after, sizeof(after));
	}
	assert_string_equal(before, after);
	log = second_refused(f, NULL);
	print_message("second daemon: %s", log);
	/* The message names the state directory and who holds it. */
	assert_non_null(strstr(log, f->state));
	snprintf(pid, sizeof(pid), "pid %d", (int)f->pid);
	assert_non_null(strstr(log, pid));
	free(log);
	/* The running daemon keeps its socket and answers on it. */
	assert_int_equal(inode_of(f->sock), sock);
	assert_int_equal(dfx_status(f->sock, NULL), 0);
	/* Nothing in the state directory was written by the second one. */
	snapshot(f->state, after, sizeof(after));
	assert_string_equal(before, after);
}

static void test_same_socket_other_state_dir_refused(void **state)
{
	struct dfx *f = *state;
	char other[160];
	ino_t sock = inode_of(f->sock);
	char *log;

	snprintf(other, sizeof(other), "%s/state-b", f->dir);
	log = second_refused(f, other);
	print_message("second daemon: %s", log);
	assert_non_null(strstr(log, f->sock));
	free(log);
	assert_int_equal(inode_of(f->sock), sock);
	assert_int_equal(dfx_status(f->sock, NULL), 0);
}

static void test_exit_unlinks_only_own_socket(void **state)
{
	struct dfx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmp[100];
	int fd, status;
	ino_t mine;

	/* Someone else's socket now sits where the daemon bound its own. */
	snprintf(tmp, sizeof(tmp), "%s/run/other.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	mine = inode_of(tmp);
	assert_int_equal(rename(tmp, f->sock), 0);
	kill(f->pid, SIGTERM);
	assert_int_equal(dfx_wait_exit(f->pid, 10000, &status), 0);
	f->pid = -1;
	assert_int_equal(inode_of(f->sock), mine);
	close(fd);
}

static void test_exit_unlinks_own_socket(void **state)
{
	struct dfx *f = *state;
	int status;

	kill(f->pid, SIGTERM);
	assert_int_equal(dfx_wait_exit(f->pid, 10000, &status), 0);
	f->pid = -1;
	assert_int_equal(access(f->sock, F_OK), -1);
}

static void test_restart_after_kill(void **state)
{
	struct dfx *f = *state;
	char log[160];
	int status;

	/* A crash leaves the socket file and the lock file behind. */
	kill(f->pid, SIGKILL);
	assert_int_equal(dfx_wait_exit(f->pid, 10000, &status), 0);
	assert_int_equal(access(f->sock, F_OK), 0);
	snprintf(log, sizeof(log), "%s/daemon-c.log", f->dir);
	f->pid = dfx_spawn(f->conf, NULL, NULL, log);
	assert_true(f->pid > 0);
	assert_int_equal(dfx_wait_answer(f->sock), 0);
	/* ...and it holds the state directory. */
	free(second_refused(f, NULL));
}

static void test_reload_to_held_state_dir_fails(void **state)
{
	struct dfx *f = *state;
	char conf[160], dir[160], sock[100], log[160];
	json_t *req = json_pack("{s:s}", "command", "reload"), *resp = NULL;
	const char *error;

	/* Another daemon holds DIR/state-c... */
	snprintf(conf, sizeof(conf), "%s/svrcert-c.conf", f->dir);
	snprintf(dir, sizeof(dir), "%s/state-c", f->dir);
	snprintf(sock, sizeof(sock), "%s/run/c.sock", f->dir);
	snprintf(log, sizeof(log), "%s/daemon-c.log", f->dir);
	dfx_write_config(conf, dir, sock);
	second = dfx_spawn(conf, NULL, NULL, log);
	assert_true(second > 0);
	assert_int_equal(dfx_wait_answer(sock), 0);
	/* ...so a reload that moves the first one there fails. */
	dfx_write_config(f->conf, dir, f->sock);
	assert_int_equal(ctlsock_request(f->sock, req, &resp), 0);
	error = json_string_value(json_object_get(resp, "error"));
	print_message("reload: %s\n", error ? error : "(ok)");
	assert_false(json_is_true(json_object_get(resp, "ok")));
	assert_non_null(error);
	assert_non_null(strstr(error, dir));
	json_decref(resp);
	json_decref(req);
	/* The previous configuration, state directory included, stays. */
	req = json_pack("{s:s}", "command", "status");
	assert_int_equal(ctlsock_request(f->sock, req, &resp), 0);
	assert_string_equal(json_string_value(json_object_get(resp,
						"state_dir")), f->state);
	json_decref(resp);
	json_decref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_state_dir_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_same_socket_other_state_dir_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_exit_unlinks_only_own_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_unlinks_own_socket,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_after_kill, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_reload_to_held_state_dir_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
