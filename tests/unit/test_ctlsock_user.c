// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd runs as its own user (svrcertd.service: User=svrcert, no
 * CAP_CHOWN). Its control socket with [daemon] control-group must still
 * come up: the socket is given to the group, its owner stays the daemon's
 * user (a chown to root needs CAP_CHOWN and failed with EPERM).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_with_group_as_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
