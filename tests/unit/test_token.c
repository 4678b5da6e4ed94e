// SPDX-License-Identifier: GPL-2.0
/* Bearer tokens (token.h): issue, verify, and every way to get it wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "rest/token.h"

static const uint8_t key[TOKEN_SECRET_LEN] = "0123456789abcdef0123456789abcde";

static char *issue(int64_t iat, int64_t exp)
{
	struct token_claims c = { .role = USER_ROLE_OPERATOR, .scopes = SCOPE_SHOW,
				  .iat = iat, .exp = exp };
	char *t = NULL;

	strcpy(c.name, "oper");
	strcpy(c.application, "GUI");
	strcpy(c.cred, "AAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(token_issue(key, &c, &t), 0);
	return t;
}

static void test_roundtrip(void **state)
{
	struct token_claims c;
	char *t = issue(1000, 2000);

	assert_int_equal(strncmp(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
	assert_null(strchr(t, '='));
	assert_int_equal(token_verify(key, t, 1500, &c), 0);
	assert_string_equal(c.name, "oper");
	assert_int_equal(c.role, USER_ROLE_OPERATOR);
	assert_int_equal(c.scopes, SCOPE_SHOW);
	assert_string_equal(c.application, "GUI");
	assert_int_equal(c.iat, 1000);
	assert_int_equal(c.exp, 2000);
	/* time bounds: exp is exclusive; iat may be at most 60 s ahead */
	assert_int_equal(token_verify(key, t, 2000, &c), -EKEYEXPIRED);
	assert_int_equal(token_verify(key, t, 1999, &c), 0);
	assert_int_equal(token_verify(key, t, 939, &c), -EKEYEXPIRED);
	assert_int_equal(token_verify(key, t, 940, &c), 0);
	free(t);
}

static void test_forgeries(void **state)
{
	uint8_t other[TOKEN_SECRET_LEN];
	struct token_claims c;
	char *t = issue(1000, 2000), *bad;
	size_t n = strlen(t);

	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(token_verify(other, t, 1500, &c), -EKEYREJECTED);
	/* one payload character changed */
	bad = strdup(t);
	bad[40] = bad[40] == 'A' ? 'B' : 'A';
	assert_int_equal(token_verify(key, bad, 1500, &c), -EKEYREJECTED);
	/* signature cut short, missing, or extra part */
	bad[40] = t[40];
	bad[n - 2] = '\0';
	assert_int_not_equal(token_verify(key, bad, 1500, &c), 0);
	*strrchr(bad, '.') = '\0';
	assert_int_equal(token_verify(key, bad, 1500, &c), -EBADMSG);
	free(bad);
	assert_true(asprintf(&bad, "%s.x", t) > 0);
	assert_int_equal(token_verify(key, bad, 1500, &c), -EBADMSG);
	free(bad);
	/* "alg":"none" with the same payload, empty signature */
	assert_true(asprintf(&bad, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0%.*s.",
			     (int)(strrchr(t, '.') - strchr(t, '.')), strchr(t, '.')) > 0);
	assert_int_equal(token_verify(key, bad, 1500, &c), -EBADMSG);
	free(bad);
	/* standard base64 characters are not base64url */
	bad = strdup(t);
	bad[n - 3] = '+';
	assert_int_equal(token_verify(key, bad, 1500, &c), -EBADMSG);
	free(bad);
	assert_int_equal(token_verify(key, "", 1500, &c), -EBADMSG);
	assert_int_equal(token_verify(key, NULL, 1500, &c), -EBADMSG);
	free(t);
}

/* A correctly signed payload that is not ours is still refused. */
static void test_bad_claims(void **state)
{
	static const char *const payloads[] = {
		"{\"name\":\"a\",\"roles\":[\"root\"],\"scopes\":[],\"iat\":1,\"exp\":9}",
		"{\"name\":\"a\",\"roles\":[\"admin\"],\"scopes\":[\"all\"],\"iat\":1,\"exp\":9}",
		"{\"name\":\"a:b\",\"roles\":[\"admin\"],\"scopes\":[],\"iat\":1,\"exp\":9}",
		"{\"name\":\"a\",\"roles\":[\"admin\"],\"scopes\":[],\"iat\":1}",
		"{\"name\":\"a\",\"name\":\"b\",\"roles\":[\"admin\"],\"scopes\":[],\"iat\":1,\"exp\":9}",
		"[1]",
		/* no "cred" (issued before tokens were bound to credentials) */
		"{\"name\":\"a\",\"roles\":[\"admin\"],\"scopes\":[],\"iat\":1,\"exp\":9}",
		"{\"name\":\"a\",\"roles\":[\"admin\"],\"scopes\":[],\"iat\":1,\"exp\":9,\"cred\":\"short\"}",
	};
	const char *h = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
	struct token_claims c;

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		char *p = token_b64url_encode((const uint8_t *)payloads[i],
					      strlen(payloads[i])), *signing, *tok, *sig;
		unsigned char mac[32];
		unsigned int len = 32;

		assert_true(asprintf(&signing, "%s.%s", h, p) > 0);
		HMAC(EVP_sha256(), key, TOKEN_SECRET_LEN, (unsigned char *)signing,
		     strlen(signing), mac, &len);
		sig = token_b64url_encode(mac, 32);
		assert_true(asprintf(&tok, "%s.%s", signing, sig) > 0);
		assert_int_equal(token_verify(key, tok, 5, &c), -EBADMSG);
		free(p);
		free(signing);
		free(sig);
		free(tok);
	}
}

/*
 * The "cred" claim binds a token to its user's credentials: a new
 * password (new salt, even the same password), a delete and re-add, and
 * revoke-tokens each make old tokens' cred mismatch; nothing else does.
 */
static void test_cred_binding(void **state)
{
	struct token_claims c = { .role = USER_ROLE_OPERATOR, .scopes = SCOPE_SHOW,
				  .iat = 1000, .exp = 2000 };
	uint8_t other[TOKEN_SECRET_LEN];
	struct user_db db = { calloc(USERS_MAX, sizeof(struct user)), 0 };
	struct token_claims back;
	const struct user *u;
	char *t = NULL;

	assert_int_equal(users_set(&db, "oper", USER_ROLE_OPERATOR, "Battery-Staple-2"), 0);
	assert_int_equal(users_set(&db, "other", USER_ROLE_OPERATOR, "Battery-Staple-3"), 0);
	u = users_find(&db, "oper");
	strcpy(c.name, "oper");
	assert_int_equal(token_user_cred(key, u, c.cred), 0);
	assert_int_equal(strlen(c.cred), TOKEN_CRED_LEN);
	assert_int_equal(token_issue(key, &c, &t), 0);
	assert_int_equal(token_verify(key, t, 1500, &back), 0);
	assert_string_equal(back.cred, c.cred);
	assert_true(token_cred_matches(key, &back, u));
	/* nobody else's token, and not under another daemon's secret */
	assert_false(token_cred_matches(key, &back, users_find(&db, "other")));
	memset(other, 0x5a, sizeof(other));
	assert_false(token_cred_matches(other, &back, u));
	/* the role does not take part: a change narrows scopes instead */
	assert_int_equal(users_revoke_tokens(&db, "ghost"), -ENOENT);
	/* a password change, even to the same password */
	assert_int_equal(users_set_password(&db, "oper", "Battery-Staple-2"), 0);
	assert_false(token_cred_matches(key, &back, users_find(&db, "oper")));
	/* re-issued, then deleted and added again with the same password */
	assert_int_equal(token_user_cred(key, users_find(&db, "oper"), back.cred), 0);
	assert_true(token_cred_matches(key, &back, users_find(&db, "oper")));
	assert_int_equal(users_del(&db, "oper"), 0);
	assert_int_equal(users_set(&db, "oper", USER_ROLE_OPERATOR, "Battery-Staple-2"), 0);
	assert_false(token_cred_matches(key, &back, users_find(&db, "oper")));
	/* revoke-tokens */
	assert_int_equal(token_user_cred(key, users_find(&db, "oper"), back.cred), 0);
	assert_int_equal(users_revoke_tokens(&db, "oper"), 0);
	assert_false(token_cred_matches(key, &back, users_find(&db, "oper")));
	/* a token without a cred never matches */
	back.cred[0] = '\0';
	assert_false(token_cred_matches(key, &back, users_find(&db, "oper")));
	free(t);
	users_free(&db);
}

static void test_b64url(void **state)
{
	const uint8_t in[] = { 0xfb, 0xff, 0xfe, 0x00, 0x01 };
	char *s = token_b64url_encode(in, sizeof(in));
	uint8_t *out;
	size_t len;

	assert_string_equal(s, "-__-AAE");
	assert_int_equal(token_b64url_decode(s, strlen(s), &out, &len), 0);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	free(s);
	assert_int_equal(token_b64url_decode("a", 1, &out, &len), -EBADMSG);
	assert_int_equal(token_b64url_decode("ab!c", 4, &out, &len), -EBADMSG);
}

static void test_secret_file(void **state)
{
	char dir[] = "/tmp/svrcert-token.XXXXXX", path[64];
	uint8_t a[TOKEN_SECRET_LEN], b[TOKEN_SECRET_LEN];
	struct stat sb;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rest-token.key", dir);
	assert_int_equal(token_secret_load(path, a), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, TOKEN_SECRET_LEN);
	assert_int_equal(token_secret_load(path, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(token_secret_load(path, b), -EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, (gid_t)-1), 0);
		assert_int_equal(token_secret_load(path, b), -EPERM);
		assert_int_equal(chown(path, 0, (gid_t)-1), 0);
	}
	f = fopen(path, "a");
	fputs("x", f);
	fclose(f);
	assert_int_equal(token_secret_load(path, b), -EBADMSG);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_bad_claims),
		cmocka_unit_test(test_cred_binding),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
