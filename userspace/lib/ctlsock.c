// SPDX-License-Identifier: GPL-2.0
/* The control socket: listening, peer credentials, JSON lines. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlsock.h"

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

bool ctlsock_in_use(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (fill_addr(path, &sa))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	/* Accepted or queued (EAGAIN: a full backlog) means a listener. */
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	ret = !ret || errno == EAGAIN;
	close(fd);
	return ret;
}

int ctlsock_listen(const char *path, bool have_group, gid_t group)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	int fd, ret;

	ret = fill_addr(path, &sa);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket of a previous run is replaced; one that someone
	 * still listens on is not taken away, nor one we failed to bind. */
	if (ctlsock_in_use(path)) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* Only the group changes: a daemon running as its own user may give
	 * the socket to a group it is in, but not to root (no CAP_CHOWN). */
	if (chmod(path, 0660) ||
	    (have_group && chown(path, (uid_t)-1, group)) || listen(fd, 16)) {
		ret = -errno;
		close(fd);
		unlink(path);
		return ret;
	}
	return fd;
}

int ctlsock_group_gid(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);

	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

static bool uid_in_group(uid_t uid, gid_t primary, gid_t group)
{
	struct passwd *pw = getpwuid(uid);
	gid_t groups[256];
	int n = 256, i;

	if (primary == group)
		return true;
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == group)
			return true;
	return false;
}

bool ctlsock_peer_allowed(int fd, bool have_group, gid_t group, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	*uid = cred.uid;
	if (cred.uid == 0)
		return true;
	return have_group && uid_in_group(cred.uid, cred.gid, group);
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

int ctlsock_read_line(int fd, int timeout_ms, char **line)
{
	struct timespec deadline;
	size_t len = 0;
	char *buf = malloc(CTLSOCK_LINE_MAX + 1);
	int ret = 0;

	*line = NULL;
	if (!buf)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	while (!ret) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = ms_left(&deadline);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			ret = -ETIMEDOUT;
			break;
		}
		n = recv(fd, buf + len, CTLSOCK_LINE_MAX - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			ret = n ? -errno : -ECONNRESET;
			break;
		}
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n))
			break;
		if (len == CTLSOCK_LINE_MAX)
			ret = -EMSGSIZE;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*line = buf;
	return 0;
}

int ctlsock_write_json(int fd, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	size_t len, off = 0;
	int ret = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n';	/* over the NUL: one line, no terminator sent */
	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, CTLSOCK_TIMEOUT_MS) <= 0) {
				ret = -ETIMEDOUT;
				break;
			}
			continue;
		}
		if (n < 0) {
			ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(text);
	return ret;
}

int ctlsock_request_wait(const char *path, json_t *req, json_t **resp,
			 int timeout_ms)
{
	struct sockaddr_un sa;
	char *line = NULL;
	int fd, ret;

	*resp = NULL;
	ret = fill_addr(path, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		ret = -errno;
	if (!ret)
		ret = ctlsock_write_json(fd, req);
	if (!ret)
		ret = ctlsock_read_line(fd, timeout_ms, &line);
	if (!ret) {
		*resp = json_loads(line, 0, NULL);
		ret = *resp ? 0 : -EBADMSG;
	}
	if (ret == -ECONNRESET || ret == -EPIPE)
		ret = -EACCES;	/* the daemon hangs up on refused peers */
	free(line);
	close(fd);
	return ret;
}

int ctlsock_request(const char *path, json_t *req, json_t **resp)
{
	return ctlsock_request_wait(path, req, resp, CTLSOCK_TIMEOUT_MS);
}
