// SPDX-License-Identifier: GPL-2.0
/* REST API users: the rest-users file and libxcrypt password hashes. */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/store.h"
#include "users.h"
#include "lib/util.h"

#define USERS_FILE_MAX	(USERS_MAX * (USER_NAME_MAX + USER_HASH_MAX + 40))
/* yescrypt at libxcrypt's default cost: the same work as a real check. */
#define USERS_HASH_PREFIX	"$y$"
static const char dummy_hash[] =
	"$y$j9T$0OU4wAySzue.lFOXvPvir0$bCiDf5ZDdwHFoRb5qtMh/WKfA4ESVlNkuncmFb0SggA";

static const char *const role_names[] = {
	[USER_ROLE_ADMIN] = "admin",
	[USER_ROLE_OPERATOR] = "operator",
};

static const char *const scope_names[] = { "configure", "show-commands" };

bool users_name_ok(const char *name)
{
	size_t i, len = name ? strlen(name) : 0;

	if (len == 0 || len > USER_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

int users_role_parse(const char *s, enum user_role *role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (s && !strcmp(s, role_names[i])) {
			*role = (enum user_role)i;
			return 0;
		}
	return -EINVAL;
}

const char *users_role_name(enum user_role role)
{
	return (unsigned int)role < 2 ? role_names[role] : "unknown";
}

unsigned int users_role_scopes(enum user_role role)
{
	return role == USER_ROLE_ADMIN ? SCOPE_ALL : SCOPE_SHOW;
}

unsigned int users_scope_bit(const char *name)
{
	for (unsigned int i = 0; i < 2; i++)
		if (name && !strcmp(name, scope_names[i]))
			return 1u << i;
	return 0;
}

const char *users_scope_name(unsigned int bit)
{
	return bit == SCOPE_CONFIGURE ? scope_names[0] :
	       bit == SCOPE_SHOW ? scope_names[1] : "unknown";
}

static int hash_password(const char *password, char out[USER_HASH_MAX])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int ret = 0;

	if (!crypt_gensalt_rn(USERS_HASH_PREFIX, 0, NULL, 0, salt, sizeof(salt)))
		return -errno ? -errno : -EINVAL;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	h = crypt_r(password, salt, cd);
	if (!h || h[0] == '*' || strlen(h) >= USER_HASH_MAX)
		ret = -EINVAL;
	else
		snprintf(out, USER_HASH_MAX, "%s", h);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/* Constant-time comparison of crypt_r(PASSWORD, HASH) with HASH. */
static bool hash_matches(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	bool ok = false;

	if (!cd)
		return false;
	h = crypt_r(password, hash, cd);
	if (h && h[0] != '*' && strlen(h) == strlen(hash))
		ok = !CRYPTO_memcmp(h, hash, strlen(hash));
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* The optional ":GEN" after the hash: decimal digits only. */
static int parse_gen(char *hash, uint64_t *gen)
{
	char *g = strchr(hash, ':'), *end;

	*gen = 0;
	if (!g)
		return 0;
	*g++ = '\0';
	if (!*g || strspn(g, "0123456789") != strlen(g) || strlen(g) > 19)
		return -EBADMSG;
	*gen = strtoull(g, &end, 10);
	return 0;
}

static int parse_line(char *line, struct user *u)
{
	char *role = strchr(line, ':'), *hash;

	if (!role)
		return -EBADMSG;
	*role++ = '\0';
	hash = strchr(role, ':');
	if (!hash)
		return -EBADMSG;
	*hash++ = '\0';
	if (!users_name_ok(line) || users_role_parse(role, &u->role) ||
	    parse_gen(hash, &u->gen) || hash[0] != '$' ||
	    strlen(hash) >= USER_HASH_MAX)
		return -EBADMSG;
	snprintf(u->name, sizeof(u->name), "%s", line);
	snprintf(u->hash, sizeof(u->hash), "%s", hash);
	return 0;
}

static int parse_text(char *text, struct user_db *db, const char *path,
		      char *err, size_t errlen)
{
	char *line, *save = NULL;
	int lineno = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (db->n == USERS_MAX) {
			snprintf(err, errlen, "%s: more than %d users", path,
				 USERS_MAX);
			return -EFBIG;
		}
		if (parse_line(line, &db->v[db->n]) ||
		    users_find(db, db->v[db->n].name)) {
			snprintf(err, errlen, "%s:%d: not NAME:ROLE:HASH with a "
				 "unique valid name, a known role and a crypt "
				 "hash", path, lineno);
			return -EBADMSG;
		}
		db->n++;
	}
	return 0;
}

int users_load(const char *path, struct user_db *db, char *err,
	       size_t errlen)
{
	uint8_t *buf = NULL;
	struct stat sb;
	size_t len;
	int ret;

	memset(db, 0, sizeof(*db));
	db->v = calloc(USERS_MAX, sizeof(*db->v));
	if (!db->v)
		return -ENOMEM;
	if (!stat(path, &sb) && ((sb.st_mode & 0077) || sb.st_uid != geteuid())) {
		/* hashes are secrets too: refuse rather than trust a file
		 * others could read (or have written) */
		snprintf(err, errlen, "%s: mode %03o, owner %u: must belong to "
			 "uid %u and be readable by it only (chmod 600)", path,
			 sb.st_mode & 0777, (unsigned int)sb.st_uid,
			 (unsigned int)geteuid());
		users_free(db);
		return -EPERM;
	}
	ret = svrcert_read_file(path, USERS_FILE_MAX, &buf, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		users_free(db);
		return ret;
	}
	ret = parse_text((char *)buf, db, path, err, errlen);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (ret)
		users_free(db);
	return ret;
}

int users_save(const char *path, const struct user_db *db)
{
	size_t cap = db->n * (USER_NAME_MAX + USER_HASH_MAX + 40) + 1, pos = 0;
	char *text = malloc(cap);
	int ret;

	if (!text)
		return -ENOMEM;
	text[0] = '\0';
	for (size_t i = 0; i < db->n; i++) {
		svrcert_appendf(text, cap, &pos, "%s:%s:%s", db->v[i].name,
				users_role_name(db->v[i].role), db->v[i].hash);
		if (db->v[i].gen)
			svrcert_appendf(text, cap, &pos, ":%llu",
					(unsigned long long)db->v[i].gen);
		svrcert_appendf(text, cap, &pos, "\n");
	}
	ret = atomic_write_file(path, text, pos, STORE_MODE_SECRET);
	free(text);
	return ret;
}

void users_free(struct user_db *db)
{
	if (db->v)
		OPENSSL_cleanse(db->v, USERS_MAX * sizeof(*db->v));
	free(db->v);
	db->v = NULL;
	db->n = 0;
}

const struct user *users_find(const struct user_db *db, const char *name)
{
	for (size_t i = 0; name && i < db->n; i++)
		if (!strcmp(db->v[i].name, name))
			return &db->v[i];
	return NULL;
}

static int password_ok(const char *password)
{
	size_t len = password ? strlen(password) : 0;

	return len >= USER_PASSWORD_MIN && len <= USER_PASSWORD_MAX ? 0 :
	       -ERANGE;
}

int users_set(struct user_db *db, const char *name, enum user_role role,
	      const char *password)
{
	struct user *u = (struct user *)users_find(db, name);
	char hash[USER_HASH_MAX];
	int ret;

	if (!users_name_ok(name))
		return -EINVAL;
	ret = password_ok(password);
	if (ret)
		return ret;
	if (!u && db->n == USERS_MAX)
		return -ENOSPC;
	ret = hash_password(password, hash);
	if (ret)
		return ret;
	if (!u) {
		u = &db->v[db->n++];
		snprintf(u->name, sizeof(u->name), "%s", name);
		u->gen = 0;	/* a new salt ends old tokens all the same */
	}
	u->role = role;
	memcpy(u->hash, hash, sizeof(hash));
	return 0;
}

int users_set_password(struct user_db *db, const char *name,
		       const char *password)
{
	const struct user *u = users_find(db, name);

	return u ? users_set(db, name, u->role, password) : -ENOENT;
}

int users_del(struct user_db *db, const char *name)
{
	const struct user *u = users_find(db, name);
	size_t i;

	if (!u)
		return -ENOENT;
	i = (size_t)(u - db->v);
	memmove(&db->v[i], &db->v[i + 1], (db->n - i - 1) * sizeof(*db->v));
	db->n--;
	memset(&db->v[db->n], 0, sizeof(*db->v));
	return 0;
}

int users_revoke_tokens(struct user_db *db, const char *name)
{
	struct user *u = (struct user *)users_find(db, name);

	if (!u)
		return -ENOENT;
	u->gen++;
	return 0;
}

int users_verify(const struct user_db *db, const char *name,
		 const char *password, const struct user **out)
{
	const struct user *u = users_find(db, name);
	bool ok;

	if (!password || strlen(password) > USER_PASSWORD_MAX)
		password = "";
	ok = hash_matches(password, u ? u->hash : dummy_hash);
	if (!u || !ok)
		return -EACCES;
	*out = u;
	return 0;
}
