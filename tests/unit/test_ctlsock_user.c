// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd runs as its own user (svrcertd.service: User=svrcert, no
 * CAP_CHOWN). Its control socket with [daemon] control-group must still
 * come up: the socket is given to the group, its owner stays the daemon's
 * user (a chown to root needs CAP_CHOWN and failed with EPERM).
 *
 * And the client's wait for the reply is the caller's: svrcertctl's
 * action requests wait longer than the 5 s of a show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/ctlsock.h"

#define UID_USER 65534		/* nobody */
#define GID_USER 65534		/* nogroup */
#define GID_CONTROL 65533	/* a second group the user is in */

/* In a child as UID_USER in groups GID_USER and GID_CONTROL, without
 * capabilities: listen on DIR/control.sock for GID_CONTROL. */
static void listen_as_user(const char *dir)
{
	gid_t groups[] = { GID_USER, GID_CONTROL };
	char path[128];
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/control.sock", dir);
	if (setgroups(2, groups) || setgid(GID_USER) || setuid(UID_USER)) {
		fprintf(stderr, "cannot become uid %d: %s\n", UID_USER,
			strerror(errno));
		_exit(2);
	}
	fd = ctlsock_listen(path, true, GID_CONTROL);
	if (fd < 0) {
		fprintf(stderr, "ctlsock_listen as uid %d: %s\n", UID_USER,
			strerror(-fd));
		_exit(1);
	}
	if (stat(path, &sb) || sb.st_uid != UID_USER ||
	    sb.st_gid != GID_CONTROL || (sb.st_mode & 0777) != 0660) {
		fprintf(stderr, "socket owner %u:%u mode %o\n", sb.st_uid,
			sb.st_gid, sb.st_mode & 0777);
		_exit(3);
	}
	_exit(0);
}

static void test_listen_with_group_as_user(void **state)
{
	char dir[] = "/tmp/svrcert-ctlsock.XXXXXX";
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip();		/* needs to become another user */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		listen_as_user(dir);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A daemon that answers DELAY_MS after the request, once. */
static void answer_late(int lfd, int delay_ms)
{
	int fd = accept(lfd, NULL, NULL);
	char *line = NULL;
	json_t *ok = json_pack("{s:b}", "ok", 1);

	if (fd < 0 || ctlsock_read_line(fd, 2000, &line))
		_exit(1);
	usleep((useconds_t)delay_ms * 1000);
	ctlsock_write_json(fd, ok);	/* the client may have gone */
	_exit(0);
}

static int reply_after(const char *path, int delay_ms, int wait_ms)
{
	json_t *req = json_pack("{s:s}", "command", "status"), *resp = NULL;
	int lfd = ctlsock_listen(path, false, 0), ret, status;
	pid_t pid;

	assert_true(lfd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		answer_late(lfd, delay_ms);
	close(lfd);
	ret = ctlsock_request_wait(path, req, &resp, wait_ms);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(ret || json_is_true(json_object_get(resp, "ok")));
	json_decref(req);
	json_decref(resp);
	return ret;
}

static void test_reply_wait_is_the_callers(void **state)
{
	char dir[] = "/tmp/svrcert-ctlsock.XXXXXX", path[128];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	assert_int_equal(reply_after(path, 400, 100), -ETIMEDOUT);
	assert_int_equal(reply_after(path, 400, 3000), 0);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_with_group_as_user),
		cmocka_unit_test(test_reply_wait_is_the_callers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
