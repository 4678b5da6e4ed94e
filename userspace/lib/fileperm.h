/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Refusing files others could read or change: a private key readable by
 * group or others leaks the identity it proves; a configuration that
 * group, others or another user may write lets them choose the trusted
 * CAs, the key file and the users' state. Both are refused before use
 * with an error that names the file, its mode and the fix, e.g.
 *	"/etc/svrcert/svrcert.conf: mode 0666: writable by group and
 *	 others; chmod go-w"
 * Symbolic links are followed: what counts is the file read. What is not a
 * regular file passes (0): the caller's read refuses it in its own words.
 */
#ifndef SVRCERT_FILEPERM_H
#define SVRCERT_FILEPERM_H

#include <stddef.h>

/* PATH (a configuration): not writable by group or others, owned by root
 * or by the caller (euid). 0, -EPERM with ERR, or -errno of stat. */
int svrcert_config_perm_check(const char *path, char *err, size_t errlen);

/* PATH (a private key): no access at all for group or others, owned by
 * root or by the caller. 0, -EPERM with ERR, or -errno of stat. */
int svrcert_key_perm_check(const char *path, char *err, size_t errlen);

#endif
