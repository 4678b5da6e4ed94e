// SPDX-License-Identifier: GPL-2.0
/* REST users (users.h) and the failed-login throttle (rest_throttle.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rest/rest_throttle.h"
#include "rest/users.h"

static void test_names_roles(void **state)
{
	enum user_role r;

	assert_true(users_name_ok("admin"));
	assert_true(users_name_ok("a.b_c-9"));
	assert_false(users_name_ok(""));
	assert_false(users_name_ok("-x"));
	assert_false(users_name_ok(".x"));
	assert_false(users_name_ok("a:b"));
	assert_false(users_name_ok("a b"));
	assert_false(users_name_ok("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_int_equal(users_role_parse("admin", &r), 0);
	assert_int_equal(r, USER_ROLE_ADMIN);
	assert_int_equal(users_role_parse("operator", &r), 0);
	assert_int_equal(users_role_parse("root", &r), -EINVAL);
	assert_int_equal(users_role_scopes(USER_ROLE_ADMIN), SCOPE_CONFIGURE | SCOPE_SHOW);
	assert_int_equal(users_role_scopes(USER_ROLE_OPERATOR), SCOPE_SHOW);
	assert_int_equal(users_scope_bit("configure"), SCOPE_CONFIGURE);
	assert_int_equal(users_scope_bit("show-commands"), SCOPE_SHOW);
	assert_int_equal(users_scope_bit("all"), 0);
}

static void test_file_roundtrip(void **state)
{
	char dir[] = "/tmp/svrcert-users.XXXXXX", path[64], err[256];
	const struct user *u;
	struct user_db db, db2;
	struct stat sb;
	char *text = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rest-users", dir);
	assert_int_equal(users_load(path, &db, err, sizeof(err)), 0);	/* missing: empty */
	assert_int_equal(db.n, 0);
	assert_int_equal(users_set(&db, "admin", USER_ROLE_ADMIN, "Correct-Horse-1"), 0);
	assert_int_equal(users_set(&db, "oper", USER_ROLE_OPERATOR, "Battery-Staple-2"), 0);
	assert_int_equal(users_set(&db, "x", USER_ROLE_ADMIN, "short"), -ERANGE);
	assert_int_equal(users_set(&db, "bad name", USER_ROLE_ADMIN, "long-enough-1"), -EINVAL);
	assert_int_equal(users_save(path, &db), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* salted yescrypt; no password in the file */
	f = fopen(path, "r");
	text = calloc(1, 4096);
	assert_true(fread(text, 1, 4095, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "admin:admin:$y$"));
	assert_null(strstr(text, "Correct-Horse-1"));
	free(text);

	assert_int_equal(users_load(path, &db2, err, sizeof(err)), 0);
	assert_int_equal(db2.n, 2);
	assert_int_equal(users_verify(&db2, "admin", "Correct-Horse-1", &u), 0);
	assert_string_equal(u->name, "admin");
	assert_int_equal(users_verify(&db2, "admin", "Correct-Horse-2", &u), -EACCES);
	assert_int_equal(users_verify(&db2, "nobody", "Correct-Horse-1", &u), -EACCES);
	assert_int_equal(users_verify(&db2, "oper", "", &u), -EACCES);
	/* same password twice: different salts */
	assert_int_equal(users_set(&db2, "twin", USER_ROLE_OPERATOR, "Correct-Horse-1"), 0);
	assert_string_not_equal(users_find(&db2, "twin")->hash, users_find(&db2, "admin")->hash);
	assert_int_equal(users_set_password(&db2, "oper", "New-Password-3"), 0);
	assert_int_equal(users_verify(&db2, "oper", "New-Password-3", &u), 0);
	assert_int_equal(users_verify(&db2, "oper", "Battery-Staple-2", &u), -EACCES);
	assert_int_equal(users_set_password(&db2, "ghost", "New-Password-3"), -ENOENT);
	assert_int_equal(users_del(&db2, "admin"), 0);
	assert_int_equal(users_del(&db2, "admin"), -ENOENT);
	assert_null(users_find(&db2, "admin"));
	assert_int_equal(db2.n, 2);
	users_free(&db2);
	users_free(&db);

	/* a file others may read is refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(users_load(path, &db, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	/* ... and so is one another user owns (the tests run as root) */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, (gid_t)-1), 0);
		assert_int_equal(users_load(path, &db, err, sizeof(err)), -EPERM);
		assert_int_equal(chown(path, 0, (gid_t)-1), 0);
	}

	/* a damaged file is refused with its line */
	f = fopen(path, "a");
	fputs("mallory:admin\n", f);
	fclose(f);
	assert_int_equal(users_load(path, &db, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, ":3:"));
	unlink(path);
	rmdir(dir);
}

/* revoke-tokens' generation: kept in a fourth field only once bumped, so
 * files of the NAME:ROLE:HASH form still load (generation 0). */
static void test_token_generation(void **state)
{
	char dir[] = "/tmp/svrcert-users.XXXXXX", path[64], err[256];
	struct user_db db, db2;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rest-users", dir);
	assert_int_equal(users_load(path, &db, err, sizeof(err)), 0);
	assert_int_equal(users_set(&db, "admin", USER_ROLE_ADMIN, "Correct-Horse-1"), 0);
	assert_int_equal(users_set(&db, "oper", USER_ROLE_OPERATOR, "Battery-Staple-2"), 0);
	assert_int_equal(users_find(&db, "oper")->gen, 0);
	assert_int_equal(users_revoke_tokens(&db, "oper"), 0);
	assert_int_equal(users_revoke_tokens(&db, "oper"), 0);
	assert_int_equal(users_revoke_tokens(&db, "nobody"), -ENOENT);
	/* a password change keeps the generation (the new salt suffices) */
	assert_int_equal(users_set_password(&db, "oper", "Battery-Staple-3"), 0);
	assert_int_equal(users_save(path, &db), 0);
	assert_int_equal(users_load(path, &db2, err, sizeof(err)), 0);
	assert_int_equal(users_find(&db2, "oper")->gen, 2);
	assert_int_equal(users_find(&db2, "admin")->gen, 0);
	assert_string_equal(users_find(&db2, "oper")->hash, users_find(&db, "oper")->hash);
	users_free(&db2);
	users_free(&db);
	/* a bad generation is a bad line */
	f = fopen(path, "a");
	fputs("x:admin:$y$abc:12a\n", f);
	fclose(f);
	assert_int_equal(users_load(path, &db, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, ":3:"));
	unlink(path);
	rmdir(dir);
}

/* One whole attempt for KEY: the wait throttle_begin() answered (0: the
 * attempt ran and ended as OK says). */
static unsigned int attempt(struct throttle *t, const char *key, time_t now,
			    bool ok)
{
	const char *keys[] = { key };
	unsigned int w = throttle_begin(t, keys, 1, now);

	if (!w)
		throttle_end(t, keys, 1, ok, now);
	return w;
}

static void test_throttle_lockout(void **state)
{
	struct throttle *t = throttle_new();
	time_t now = 100000, at;
	unsigned int w = 0;
	int i;

	assert_non_null(t);
	for (i = 0; i < THROTTLE_FREE - 1; i++)
		assert_int_equal(attempt(t, "ip:1", now, false), 0);
	assert_int_equal(throttle_wait(t, "ip:1", now), 0);
	assert_int_equal(attempt(t, "ip:1", now, false), 0);
	assert_int_equal(throttle_wait(t, "ip:1", now), THROTTLE_BASE_LOCK_S);
	assert_int_equal(throttle_wait(t, "ip:2", now), 0);
	/* locked: even the right password is not tried */
	assert_int_equal(attempt(t, "ip:1", now, true), THROTTLE_BASE_LOCK_S);
	/* each failure after a lockout doubles it, up to the cap */
	at = now + THROTTLE_BASE_LOCK_S;
	assert_int_equal(attempt(t, "ip:1", at, false), 0);
	assert_int_equal(throttle_wait(t, "ip:1", at), 2 * THROTTLE_BASE_LOCK_S);
	for (i = 0; i < 10; i++) {
		at += throttle_wait(t, "ip:1", at);
		assert_int_equal(attempt(t, "ip:1", at, false), 0);
		w = throttle_wait(t, "ip:1", at);
	}
	assert_int_equal(w, THROTTLE_MAX_LOCK_S);
	/* success clears: four more failures lock nothing */
	at += w;
	assert_int_equal(attempt(t, "ip:1", at, true), 0);
	for (i = 0; i < THROTTLE_FREE - 1; i++)
		assert_int_equal(attempt(t, "ip:1", at, false), 0);
	assert_int_equal(throttle_wait(t, "ip:1", at), 0);
	/* failures spread beyond the window do not add up */
	for (i = 0; i < 10; i++)
		assert_int_equal(attempt(t, "user:u", now + i * (THROTTLE_WINDOW_S / 2 + 1),
					 false), 0);
	assert_int_equal(throttle_wait(t, "user:u", now + 10 * THROTTLE_WINDOW_S), 0);
	throttle_unref(t);
}

/* Attempts in flight count: parallel guesses cannot outrun the lock. */
static void test_throttle_parallel(void **state)
{
	struct throttle *t = throttle_new();
	const char *both[] = { "ip:a", "user:p" }, *user[] = { "user:p" };
	const char *ip[] = { "ip:a" };
	time_t now = 5000;
	int i;

	assert_non_null(t);
	for (i = 0; i < THROTTLE_FREE; i++)
		assert_int_equal(throttle_begin(t, user, 1, now), 0);
	/* all free attempts are in flight: the next waits */
	assert_int_equal(throttle_begin(t, user, 1, now), THROTTLE_BUSY_S);
	/* refused for the user: nothing is reserved for the source either */
	assert_int_equal(throttle_begin(t, both, 2, now), THROTTLE_BUSY_S);
	for (i = 0; i < THROTTLE_FREE - 1; i++)
		assert_int_equal(throttle_begin(t, ip, 1, now), 0);
	throttle_end(t, ip, 1, false, now);
	/* a success among them frees the user's allowance again */
	throttle_end(t, user, 1, true, now);
	assert_int_equal(throttle_begin(t, user, 1, now), 0);
	/* all fail: locked out, the pending count back to zero */
	for (i = 0; i < THROTTLE_FREE; i++)
		throttle_end(t, user, 1, false, now);
	assert_int_equal(throttle_wait(t, "user:p", now), THROTTLE_BASE_LOCK_S);
	/* after the lockout one attempt at a time */
	now += THROTTLE_BASE_LOCK_S;
	assert_int_equal(throttle_begin(t, user, 1, now), 0);
	assert_int_equal(throttle_begin(t, user, 1, now), THROTTLE_BUSY_S);
	throttle_end(t, user, 1, false, now);
	assert_int_equal(throttle_wait(t, "user:p", now), 2 * THROTTLE_BASE_LOCK_S);
	throttle_unref(t);
}

/* The table is bounded: many keys do not grow it, locked ones stay; it
 * lives as long as its last reference. */
static void test_throttle_bounded(void **state)
{
	struct throttle *t = throttle_new();
	time_t now = 100000;
	int i;

	assert_non_null(t);
	for (i = 0; i < THROTTLE_FREE; i++)
		attempt(t, "user:target", now, false);
	for (i = 0; i < 2 * THROTTLE_SLOTS; i++) {
		char k[32];

		snprintf(k, sizeof(k), "ip:%d", i);
		assert_int_equal(attempt(t, k, now + 1, false), 0);
	}
	assert_int_equal(throttle_wait(t, "user:target", now), THROTTLE_BASE_LOCK_S);
	assert_ptr_equal(throttle_ref(t), t);
	throttle_unref(t);
	assert_int_equal(throttle_wait(t, "user:target", now), THROTTLE_BASE_LOCK_S);
	throttle_unref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_roles),
		cmocka_unit_test(test_file_roundtrip),
		cmocka_unit_test(test_token_generation),
		cmocka_unit_test(test_throttle_lockout),
		cmocka_unit_test(test_throttle_parallel),
		cmocka_unit_test(test_throttle_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
