/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bearer tokens of the REST API, shaped as the seed's (a JWT:
 * base64url(header).base64url(payload).base64url(signature)), signed with
 * HMAC-SHA256 ("HS256") under a random 256-bit secret of this daemon kept
 * in STATE_DIR/rest-token.key (mode 0600). Only svrcertd issues and checks
 * them, so a shared-secret MAC is enough; replacing the secret file (or
 * deleting it and restarting) invalidates every token at once.
 *
 * Payload: {"name":..., "roles":[...], "scopes":[...], "application":...,
 *           "iat":..., "exp":..., "cred":...}
 * "cred" binds the token to its user's credentials at login
 * (token_user_cred): base64url of the first 16 bytes of
 * HMAC-SHA256(secret, "svrcert-cred" NUL name NUL password-hash NUL gen).
 * The hash has a fresh salt on every password set, so a password change or
 * a delete and re-add changes it, and `user revoke-tokens` bumps gen; a
 * token whose cred no longer matches is refused. Without the secret the
 * value says nothing about the hash.
 * Verification accepts only the exact header {"alg":"HS256","typ":"JWT"}
 * ("alg":"none" and every other algorithm are forgeries), compares the MAC
 * in constant time, and only then parses the payload.
 */
#ifndef SVRCERT_TOKEN_H
#define SVRCERT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "users.h"

#define TOKEN_SECRET_FILE	"rest-token.key"
#define TOKEN_SECRET_LEN	32
#define TOKEN_MAX		2048	/* longest token accepted */
#define TOKEN_APP_MAX		64
#define TOKEN_SKEW_S		60	/* iat may be this far ahead */
#define TOKEN_CRED_LEN		22	/* base64url of 16 bytes */

struct token_claims {
	char name[USER_NAME_MAX + 1];
	enum user_role role;
	unsigned int scopes;		/* SCOPE_* bits */
	char application[TOKEN_APP_MAX + 1];
	int64_t iat, exp;
	char cred[TOKEN_CRED_LEN + 1];
};

/* Read the secret from PATH, or create it (random, 0600, atomically)
 * when missing. -EBADMSG when the file is not exactly the secret, -EPERM
 * when group or others may access it or another user owns it. */
int token_secret_load(const char *path, uint8_t key[TOKEN_SECRET_LEN]);

/* A signed token for C; *OUT is malloc'd. */
int token_issue(const uint8_t key[TOKEN_SECRET_LEN],
		const struct token_claims *c, char **out);

/*
 * Check TOKEN at time NOW. Returns 0 and fills *C, or:
 *   -EBADMSG      not a well-formed token of ours
 *   -EKEYREJECTED bad signature (forged or from another daemon)
 *   -EKEYEXPIRED  exp has passed (or iat lies in the future)
 */
int token_verify(const uint8_t key[TOKEN_SECRET_LEN], const char *token,
		 time_t now, struct token_claims *c);

/* U's current credential stamp (the "cred" claim). 0 or -EIO. */
int token_user_cred(const uint8_t key[TOKEN_SECRET_LEN], const struct user *u,
		    char out[TOKEN_CRED_LEN + 1]);
/* Whether C was issued for U's current credentials (constant time). */
bool token_cred_matches(const uint8_t key[TOKEN_SECRET_LEN],
			const struct token_claims *c, const struct user *u);

/* base64url without padding (RFC 7515 section 2); exposed for tests. */
char *token_b64url_encode(const uint8_t *in, size_t len);
int token_b64url_decode(const char *in, size_t inlen, uint8_t **out,
			size_t *outlen);

#endif
