// SPDX-License-Identifier: GPL-2.0
/* Atomic, mode-aware storage of the router's state files. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "store.h"

#define STORE_READ_MAX	(1024 * 1024)

/*
 * The state directory belongs to the daemon's user (svrcert, with the
 * packaged unit), but root runs svrcertctl in it too. A file root creates
 * there is handed to the owner of the directory it is in, so the daemon
 * can still read and replace it; the mode stays as asked (0600 keys stay
 * private to that user). Nothing to do unless we are root and the
 * directory is not root's. FD is the new file (or directory), DIR_PATH
 * the directory holding it.
 */
static int give_to_dir_owner(int fd, const char *dir_path)
{
	struct stat dir;

	if (geteuid() != 0)
		return 0;
	if (stat(dir_path, &dir))
		return -errno;
	if (dir.st_uid == 0)
		return 0;
	return fchown(fd, dir.st_uid, dir.st_gid) ? -errno : 0;
}

/* The same for PATH's directory. */
int store_give_to_dir_owner(int fd, const char *path)
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	return give_to_dir_owner(fd, dirname(copy));
}

static int mkdir_p_one(const char *dir, mode_t mode)
{
	int fd, ret;

	if (mkdir(dir, mode)) {
		if (errno != EEXIST)
			return -errno;
		return 0;
	}
	/* New: hand it over like a file (see give_to_dir_owner). */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = store_give_to_dir_owner(fd, dir);
	close(fd);
	return ret;
}

int store_open(struct svrcert_store *st, const char *dir)
{
	struct stat sb;
	int n;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (!dir)
		dir = SVRCERT_STATE_DIR_DEFAULT;
	n = snprintf(st->dir, sizeof(st->dir), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(st->dir) || !n)
		return -ENAMETOOLONG;
	if (mkdir_p_one(st->dir, 0700))
		return -errno;
	if (stat(st->dir, &sb))
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	return 0;
}

void store_unlock(struct svrcert_store *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);	/* closing drops the flock */
	st->lock_fd = -1;
}

void store_close(struct svrcert_store *st)
{
	store_unlock(st);
}

static int lock_with(struct svrcert_store *st, int how)
{
	char path[PATH_MAX];
	int ret;

	if (st->lock_fd >= 0)
		return 0;
	ret = store_path(st, ".lock", path, sizeof(path));
	if (ret)
		return ret;
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		return -errno;
	ret = give_to_dir_owner(st->lock_fd, st->dir);
	if (ret || flock(st->lock_fd, how)) {
		ret = ret ? ret : -errno;
		close(st->lock_fd);
		st->lock_fd = -1;
	}
	return ret;
}

int store_lock(struct svrcert_store *st)
{
	return lock_with(st, LOCK_EX);
}

int store_trylock(struct svrcert_store *st)
{
	return lock_with(st, LOCK_EX | LOCK_NB);
}

/* Names are ours, never the user's, but refuse anything that could leave
 * the state directory anyway. */
static bool name_is_safe(const char *name)
{
	const char *slash = strchr(name, '/');

	if (!*name || name[0] == '/' || strstr(name, ".."))
		return false;
	return !slash || (slash[1] && !strchr(slash + 1, '/'));
}

int store_path(const struct svrcert_store *st, const char *name, char *out,
	       size_t outlen)
{
	int n;

	if (!name_is_safe(name))
		return -EINVAL;
	n = snprintf(out, outlen, "%s/%s", st->dir, name);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, ret = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int atomic_write_file(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fchmod(fd, mode) ? -errno : 0;
	if (!ret)
		ret = store_give_to_dir_owner(fd, path);
	if (!ret)
		ret = write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	return fsync_dir_of(path);
}

int store_write(const struct svrcert_store *st, const char *name,
		const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX];
	char *slash;
	int ret;

	ret = store_path(st, name, path, sizeof(path));
	if (ret)
		return ret;
	slash = strrchr(path, '/');
	if (strchr(name, '/')) {
		*slash = '\0';
		ret = mkdir_p_one(path, 0755);
		*slash = '/';
		if (ret)
			return ret;
	}
	return atomic_write_file(path, data, len, mode);
}

int store_read_path(const char *path, char **data, size_t *len)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t n;
	int fd, ret = 0;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		ret = -errno;
		goto out;
	}
	if (sb.st_size > STORE_READ_MAX) {
		ret = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	n = read(fd, buf, (size_t)sb.st_size);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	*data = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

int store_read(const struct svrcert_store *st, const char *name, char **data,
	       size_t *len)
{
	char path[PATH_MAX];
	int ret;

	*data = NULL;
	ret = store_path(st, name, path, sizeof(path));
	return ret ? ret : store_read_path(path, data, len);
}

int store_key_path(const struct svrcert_store *st, char *out, size_t outlen)
{
	if (!st->key_file[0])
		return store_path(st, STORE_KEY, out, outlen);
	if (snprintf(out, outlen, "%s", st->key_file) >= (int)outlen)
		return -ENAMETOOLONG;
	return 0;
}

bool store_exists(const struct svrcert_store *st, const char *name)
{
	char path[PATH_MAX];

	return !store_path(st, name, path, sizeof(path)) && !access(path, F_OK);
}

int store_remove(const struct svrcert_store *st, const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = store_path(st, name, path, sizeof(path));
	if (ret)
		return ret;
	if (unlink(path))
		return -errno;
	return fsync_dir_of(path);
}

int store_append_line(const struct svrcert_store *st, const char *name,
		      const char *line, mode_t mode)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = store_path(st, name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	ret = store_give_to_dir_owner(fd, path);
	if (!ret)
		ret = write_all(fd, line, strlen(line));
	if (!ret)
		ret = write_all(fd, "\n", 1);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static bool uuid_is_valid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t i, d = 0;

	if (strlen(s) != STORE_UUID_LEN)
		return false;
	for (i = 0; i < STORE_UUID_LEN; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!strchr("0123456789abcdef", s[i]) || !s[i]) {
			return false;
		}
	}
	return true;
}

static int uuid_generate_v4(char out[STORE_UUID_LEN + 1])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, STORE_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

static int uuid_path(const struct svrcert_store *st, char *out, size_t len)
{
	if (!st->uuid_file[0])
		return store_path(st, STORE_ROUTER_UUID, out, len);
	return snprintf(out, len, "%s", st->uuid_file) >= (int)len ?
	       -ENAMETOOLONG : 0;
}

int store_router_uuid(const struct svrcert_store *st,
		      char out[STORE_UUID_LEN + 1])
{
	char *data = NULL, line[STORE_UUID_LEN + 2], path[PATH_MAX];
	int ret;

	ret = uuid_path(st, path, sizeof(path));
	if (!ret)
		ret = store_read_path(path, &data, NULL);
	if (!ret) {
		data[strcspn(data, "\r\n")] = '\0';
		ret = uuid_is_valid(data) ? 0 : -EBADMSG;
		if (!ret)
			memcpy(out, data, STORE_UUID_LEN + 1);
		free(data);
		return ret;
	}
	if (ret != -ENOENT)
		return ret;
	/* Generated once: it names this router for the rest of its life. */
	ret = uuid_generate_v4(out);
	if (ret)
		return ret;
	snprintf(line, sizeof(line), "%s\n", out);
	return atomic_write_file(path, line, strlen(line), STORE_MODE_PUBLIC);
}
