// SPDX-License-Identifier: GPL-2.0
/* POST /api/v1/login and the bearer-token check of every other request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "lib/util.h"
#include "rest_int.h"
#include "users.h"

static const char *const login_fields[] = {
	"username", "password", "application", NULL
};

/* The token for an authenticated user (NULL and a 500 answer on failure). */
static char *issue_for(struct rest_req *r, const struct user *u,
		       const char *app, time_t now, struct token_claims *c)
{
	char *token = NULL;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", u->name);
	c->role = u->role;
	c->scopes = users_role_scopes(u->role);
	snprintf(c->application, sizeof(c->application), "%s", app ? app : "");
	c->iat = now;
	c->exp = now + r->srv->rc.token_lifetime_s;
	if (token_user_cred(r->srv->secret, u, c->cred) ||
	    token_issue(r->srv->secret, c, &token)) {
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot sign a "
			   "token");
		return NULL;
	}
	return token;
}

/*
 * The attempt is reserved in the throttle before the password is hashed
 * and settled after (rest_throttle.h): requests run in parallel, and
 * guesses sent all at once must not all be checked before the first
 * failure counts.
 */
static void login_check(struct rest_req *r, const char *name,
			const char *password, const char *app)
{
	char ipkey[THROTTLE_KEY_MAX], userkey[THROTTLE_KEY_MAX], err[512];
	const char *keys[] = { ipkey, userkey };
	const struct user *u = NULL;
	struct token_claims c;
	struct user_db db;
	char *token = NULL;
	time_t now = time(NULL);
	int ret;

	snprintf(ipkey, sizeof(ipkey), "ip:%s", r->source);
	snprintf(userkey, sizeof(userkey), "user:%s", name);
	r->retry_after = throttle_begin(r->srv->throttle, keys, 2, now);
	if (r->retry_after) {
		rest_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "too many failed "
			   "logins for this user or from this address: try "
			   "again in %u s", r->retry_after);
		return;
	}
	ret = users_load(r->srv->users_path, &db, err, sizeof(err));
	if (ret) {
		/* not the client's failure: it does not count */
		throttle_cancel(r->srv->throttle, keys, 2);
		syslog(LOG_ERR, "REST login: %s", err);
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the user database "
			   "cannot be read (see the system log)");
		return;
	}
	ret = users_verify(&db, name, password, &u);
	throttle_end(r->srv->throttle, keys, 2, !ret, time(NULL));
	if (ret) {
		users_free(&db);
		rest_error(r, MHD_HTTP_UNAUTHORIZED, "wrong user name or "
			   "password");
		return;
	}
	token = issue_for(r, u, app, now, &c);
	users_free(&db);
	if (!token)
		return;
	r->who = c;
	r->permitted = true;
	rest_reply(r, MHD_HTTP_OK, json_pack("{s:s, s:o}", "token", token,
					     "expires", svrcert_json_time((time_t)c.exp)));
	free(token);
}

void rest_login(struct rest_req *r)
{
	const char *name, *password, *app;
	json_t *in = rest_body_object(r, false);

	if (!in)
		return;
	if (!rest_only_fields(r, in, login_fields) &&
	    !rest_string_field(r, in, "username", USER_NAME_MAX, true, &name) &&
	    !rest_string_field(r, in, "password", USER_PASSWORD_MAX, true,
			       &password) &&
	    !rest_string_field(r, in, "application", TOKEN_APP_MAX, false,
			       &app)) {
		/* The attempted name goes into the audit line, not more. */
		snprintf(r->who.name, sizeof(r->who.name), "%s", name);
		if (app)
			snprintf(r->who.application, sizeof(r->who.application),
				 "%s", app);
		login_check(r, name, password, app);
	}
	json_decref(in);
}

static void unauthorized(struct rest_req *r, const char *msg)
{
	r->www_auth = "Bearer realm=\"svrcert\", error=\"invalid_token\"";
	rest_error(r, MHD_HTTP_UNAUTHORIZED, "%s", msg);
}

/*
 * The user must still exist with the credentials the token was issued for
 * (not deleted and re-added, no new password, no revoke-tokens since); a
 * role changed since login narrows scopes. NULL when valid, else why not.
 */
static const char *still_valid(struct rest_req *r, struct token_claims *c)
{
	const char *why = NULL;
	const struct user *u;
	struct user_db db;
	char err[512];

	if (users_load(r->srv->users_path, &db, err, sizeof(err))) {
		syslog(LOG_ERR, "REST: %s", err);
		return "the user database cannot be read (see the system log)";
	}
	u = users_find(&db, c->name);
	if (!u)
		why = "the token's user no longer exists";
	else if (!token_cred_matches(r->srv->secret, c, u))
		why = "the token was revoked (its user's credentials changed "
		      "or its tokens were revoked): log in again";
	else
		c->scopes &= users_role_scopes(u->role);
	users_free(&db);
	return why;
}

bool rest_authenticate(struct rest_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	struct token_claims c;
	const char *why;
	int ret;

	if (!h || strncasecmp(h, "Bearer ", 7)) {
		r->www_auth = "Bearer realm=\"svrcert\"";
		rest_error(r, MHD_HTTP_UNAUTHORIZED, "a bearer token is required "
			   "(Authorization: Bearer TOKEN, from POST "
			   REST_PREFIX "/login)");
		return false;
	}
	for (h += 7; *h == ' '; h++)
		;
	ret = token_verify(r->srv->secret, h, time(NULL), &c);
	if (ret == -EKEYEXPIRED) {
		unauthorized(r, "the token has expired: log in again");
		return false;
	}
	if (ret) {
		unauthorized(r, ret == -EKEYREJECTED ? "the token's signature "
			     "is not valid" : "the token is malformed");
		return false;
	}
	why = still_valid(r, &c);
	if (why) {
		unauthorized(r, why);
		return false;
	}
	r->who = c;
	r->authenticated = true;
	return true;
}
