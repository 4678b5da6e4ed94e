// SPDX-License-Identifier: GPL-2.0
/* Permission checks of configuration and private key files (fileperm.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"

/* "group", "others" or "group and others": who holds the bits in MODE
 * (GROUP_BITS, OTHER_BITS: the permission in question). */
static const char *whom(mode_t mode, mode_t group_bits, mode_t other_bits)
{
	bool g = mode & group_bits, o = mode & other_bits;

	return g && o ? "group and others" : g ? "group" : "others";
}

static const char *chmod_who(mode_t mode, mode_t group_bits,
			     mode_t other_bits)
{
	bool g = mode & group_bits, o = mode & other_bits;

	return g && o ? "go" : g ? "g" : "o";
}

/* Root's files and the caller's own are trusted; anybody else's are not. */
static int owner_check(const char *path, const struct stat *sb, char *err,
		       size_t errlen)
{
	if (sb->st_uid == 0 || sb->st_uid == geteuid())
		return 0;
	snprintf(err, errlen, "%s: owned by uid %u, not by root or uid %u "
		 "(who runs this); chown %u", path, (unsigned int)sb->st_uid,
		 (unsigned int)geteuid(), (unsigned int)geteuid());
	return -EPERM;
}

/* -ENOENT and the like; 1 for what is not a regular file, which the
 * caller's read refuses with its own message. */
static int stat_file(const char *path, struct stat *sb, char *err,
		     size_t errlen)
{
	if (stat(path, sb)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return S_ISREG(sb->st_mode) ? 0 : 1;
}

int svrcert_config_perm_check(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int ret = stat_file(path, &sb, err, errlen);

	if (ret)
		return ret < 0 ? ret : 0;
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: mode %04o: writable by %s; chmod %s-w",
			 path, (unsigned int)(sb.st_mode & 07777),
			 whom(sb.st_mode, S_IWGRP, S_IWOTH),
			 chmod_who(sb.st_mode, S_IWGRP, S_IWOTH));
		return -EPERM;
	}
	return owner_check(path, &sb, err, errlen);
}

int svrcert_key_perm_check(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	bool readable;
	int ret = stat_file(path, &sb, err, errlen);

	if (ret)
		return ret < 0 ? ret : 0;
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		readable = sb.st_mode & (S_IRGRP | S_IROTH);
		snprintf(err, errlen, "%s: mode %04o: private key %s by %s; "
			 "chmod %s-rwx", path, (unsigned int)(sb.st_mode & 07777),
			 readable ? "readable" : "accessible",
			 readable ? whom(sb.st_mode, S_IRGRP, S_IROTH) :
				    whom(sb.st_mode, S_IRWXG, S_IRWXO),
			 chmod_who(sb.st_mode, S_IRWXG, S_IRWXO));
		return -EPERM;
	}
	return owner_check(path, &sb, err, errlen);
}
