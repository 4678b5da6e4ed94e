// SPDX-License-Identifier: GPL-2.0
/*
 * One svrcertd per state directory. Two daemons on one state directory
 * would both publish into it, feed the kernel from it and fight over its
 * control socket; the second one refuses to start instead, before it
 * touches anything.
 *
 * The lock is an flock on STATE_DIR/svrcertd.lock, held as long as the
 * daemon runs: the kernel drops it when the process ends, however it
 * ends, so a crash leaves nothing stale to clean up. The file holds the
 * holder's pid, for the message of the one refused; it is never unlinked
 * (unlinking a lock file lets two processes lock two different files).
 * It is not the store's own lock (STATE_DIR/.lock), which svrcertctl and
 * the daemon take for each change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

/* The pid written in the lock file FD, 0 when none (yet). */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || !*end) ? pid : 0;
}

static int write_pid(int fd)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)len, 0) != len)
		return -errno;
	return 0;
}

int daemon_lock_state(const char *dir, char *err, size_t errlen)
{
	char path[4200];
	long pid;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, DAEMON_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the lock file %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		/* The pid is only for the message: not fatal. */
		if (write_pid(fd))
			syslog(LOG_WARNING, "cannot write our pid into %s: %m",
			       path);
		return fd;
	}
	ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
	pid = ret == -EBUSY ? holder_pid(fd) : 0;
	if (ret == -EBUSY && pid)
		snprintf(err, errlen, "state directory %s is in use by another "
			 "svrcertd (pid %ld, lock %s); one svrcertd per state "
			 "directory", dir, pid, path);
	else if (ret == -EBUSY)
		snprintf(err, errlen, "state directory %s is in use by another "
			 "svrcertd (lock %s); one svrcertd per state directory",
			 dir, path);
	else
		snprintf(err, errlen, "cannot lock %s: %s", path,
			 strerror(-ret));
	close(fd);
	return ret;
}

bool daemon_lock_is_of(int lock_fd, const char *dir)
{
	char path[4200];
	struct stat held, there;

	snprintf(path, sizeof(path), "%s/%s", dir, DAEMON_LOCK_FILE);
	return lock_fd >= 0 && !fstat(lock_fd, &held) &&
	       !stat(path, &there) && held.st_dev == there.st_dev &&
	       held.st_ino == there.st_ino;
}
