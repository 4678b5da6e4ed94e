/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Users of the REST API (svrcertd's HTTPS interface) and their password
 * hashes, in STATE_DIR/rest-users: mode 0600, owned by root, one line per
 * user, "NAME:ROLE:HASH" or "NAME:ROLE:HASH:GEN". HASH is a libxcrypt
 * yescrypt ("$y$") string made with a fresh random salt; passwords
 * themselves are never stored or logged. GEN (decimal, 0 when absent)
 * counts `svrcertctl user revoke-tokens`. A token is bound to HASH and GEN
 * (token.h), so a new password (new salt, even for the same password), a
 * delete and re-add, or a revoke-tokens each end the tokens issued before.
 * The file is rewritten atomically (store.h) on every change.
 *
 * A role grants scopes, the seed's words for what a bearer token allows:
 *   admin     configure + show-commands
 *   operator  show-commands
 */
#ifndef SVRCERT_USERS_H
#define SVRCERT_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERS_FILE		"rest-users"
#define USER_NAME_MAX		32
#define USER_HASH_MAX		128
#define USER_PASSWORD_MIN	8
#define USER_PASSWORD_MAX	1024
#define USERS_MAX		1024

/* Scopes, as bits; the token carries them by name. */
#define SCOPE_CONFIGURE		(1u << 0)	/* "configure" */
#define SCOPE_SHOW		(1u << 1)	/* "show-commands" */
#define SCOPE_ALL		(SCOPE_CONFIGURE | SCOPE_SHOW)

enum user_role {
	USER_ROLE_ADMIN,
	USER_ROLE_OPERATOR,
};

struct user {
	char name[USER_NAME_MAX + 1];
	enum user_role role;
	char hash[USER_HASH_MAX];
	uint64_t gen;		/* token generation (revoke-tokens) */
};

struct user_db {
	struct user *v;
	size_t n;
};

/* 1..32 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool users_name_ok(const char *name);
int users_role_parse(const char *s, enum user_role *role);
const char *users_role_name(enum user_role role);
unsigned int users_role_scopes(enum user_role role);
/* "configure" <-> SCOPE_CONFIGURE ...; 0 for an unknown name. */
unsigned int users_scope_bit(const char *name);
const char *users_scope_name(unsigned int bit);

/* Load PATH; a missing file is an empty database. A malformed line fails
 * the load (-EBADMSG) with ERR naming the line; a file that group or
 * others may access, or that another user owns, fails with -EPERM. */
int users_load(const char *path, struct user_db *db, char *err,
	       size_t errlen);
/* Rewrite PATH atomically, mode 0600. */
int users_save(const char *path, const struct user_db *db);
void users_free(struct user_db *db);

const struct user *users_find(const struct user_db *db, const char *name);
/* Add NAME or replace its role and password (fresh salt).
 * -EINVAL bad name, -ERANGE password too short/long, -ENOSPC too many. */
int users_set(struct user_db *db, const char *name, enum user_role role,
	      const char *password);
/* Only the password; -ENOENT when NAME is unknown. */
int users_set_password(struct user_db *db, const char *name,
		       const char *password);
int users_del(struct user_db *db, const char *name);
/* End every token issued to NAME so far (GEN + 1); -ENOENT when unknown. */
int users_revoke_tokens(struct user_db *db, const char *name);

/*
 * Check NAME's password. Returns 0 and *OUT, or -EACCES for an unknown
 * user or a wrong password alike -- an unknown name costs the same hash
 * computation, so timing does not tell which names exist.
 */
int users_verify(const struct user_db *db, const char *name,
		 const char *password, const struct user **out);

#endif
