// SPDX-License-Identifier: GPL-2.0
/* HS256 bearer tokens (JWT-shaped) for the REST API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/store.h"
#include "token.h"
#include "lib/util.h"

/* The only header we issue and accept, byte for byte. */
#define TOKEN_HEADER	"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

int token_secret_load(const char *path, uint8_t key[TOKEN_SECRET_LEN])
{
	uint8_t *buf = NULL;
	struct stat sb;
	size_t len;
	int ret;

	/* a secret others can read, or wrote, lets them mint tokens */
	if (!stat(path, &sb) && ((sb.st_mode & 0077) || sb.st_uid != geteuid()))
		return -EPERM;
	ret = svrcert_read_file(path, 4096, &buf, &len);
	if (ret == -ENOENT) {
		if (RAND_priv_bytes(key, TOKEN_SECRET_LEN) != 1)
			return -EIO;
		return atomic_write_file(path, key, TOKEN_SECRET_LEN,
					 STORE_MODE_SECRET);
	}
	if (ret)
		return ret;
	if (len == TOKEN_SECRET_LEN)
		memcpy(key, buf, TOKEN_SECRET_LEN);
	else
		ret = -EBADMSG;
	OPENSSL_cleanse(buf, len);
	free(buf);
	return ret;
}

char *token_b64url_encode(const uint8_t *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	int n, i;

	if (!out)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

int token_b64url_decode(const char *in, size_t inlen, uint8_t **out,
			size_t *outlen)
{
	size_t pad = (4 - inlen % 4) % 4, i;
	char *std;
	int n;

	if (inlen == 0 || inlen > TOKEN_MAX || pad == 3)
		return -EBADMSG;
	std = malloc(inlen + pad + 1);
	*out = malloc(inlen + pad + 1);
	if (!std || !*out) {
		free(std);
		free(*out);
		return -ENOMEM;
	}
	for (i = 0; i < inlen; i++) {
		char c = in[i];

		if (c == '+' || c == '/' || c == '=')
			break;	/* not base64url */
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	memset(std + inlen, '=', pad);
	std[inlen + pad] = '\0';
	n = i == inlen ? EVP_DecodeBlock(*out, (unsigned char *)std,
					 (int)(inlen + pad)) : -1;
	free(std);
	if (n < 0 || (size_t)n < pad) {
		free(*out);
		*out = NULL;
		return -EBADMSG;
	}
	*outlen = (size_t)n - pad;
	return 0;
}

static int mac(const uint8_t key[TOKEN_SECRET_LEN], const char *data,
	       size_t len, uint8_t out[32])
{
	unsigned int outlen = 32;

	return HMAC(EVP_sha256(), key, TOKEN_SECRET_LEN,
		    (const unsigned char *)data, len, out, &outlen) &&
	       outlen == 32 ? 0 : -EIO;
}

int token_user_cred(const uint8_t key[TOKEN_SECRET_LEN], const struct user *u,
		    char out[TOKEN_CRED_LEN + 1])
{
	char data[sizeof("svrcert-cred") + USER_NAME_MAX + USER_HASH_MAX + 24];
	uint8_t m[32];
	char *b64;
	int n, ret;

	n = snprintf(data, sizeof(data), "svrcert-cred%c%s%c%s%c%llu", 0,
		     u->name, 0, u->hash, 0, (unsigned long long)u->gen);
	ret = n > 0 && n < (int)sizeof(data) ? mac(key, data, (size_t)n, m) :
	      -EIO;
	OPENSSL_cleanse(data, sizeof(data));
	b64 = ret ? NULL : token_b64url_encode(m, 16);
	if (!ret && !b64)
		ret = -ENOMEM;
	if (b64)
		snprintf(out, TOKEN_CRED_LEN + 1, "%s", b64);
	free(b64);
	return ret;
}

bool token_cred_matches(const uint8_t key[TOKEN_SECRET_LEN],
			const struct token_claims *c, const struct user *u)
{
	char want[TOKEN_CRED_LEN + 1];

	return !token_user_cred(key, u, want) &&
	       strlen(c->cred) == TOKEN_CRED_LEN &&
	       !CRYPTO_memcmp(want, c->cred, TOKEN_CRED_LEN);
}

static json_t *claims_json(const struct token_claims *c)
{
	json_t *o = json_pack("{s:s, s:[s], s:[], s:s, s:I, s:I, s:s}",
			      "name", c->name, "roles", users_role_name(c->role),
			      "scopes", "application", c->application,
			      "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp,
			      "cred", c->cred);
	json_t *scopes = json_object_get(o, "scopes");

	for (unsigned int bit = 1; o && bit & SCOPE_ALL; bit <<= 1)
		if (c->scopes & bit)
			json_array_append_new(scopes,
					      json_string(users_scope_name(bit)));
	return o;
}

int token_issue(const uint8_t key[TOKEN_SECRET_LEN],
		const struct token_claims *c, char **out)
{
	json_t *o = claims_json(c);
	char *payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char *h = token_b64url_encode((const uint8_t *)TOKEN_HEADER,
				      strlen(TOKEN_HEADER));
	char *p = payload ? token_b64url_encode((uint8_t *)payload,
						strlen(payload)) : NULL;
	char *signing = NULL, *sig = NULL;
	uint8_t m[32];
	int ret = -ENOMEM;

	*out = NULL;
	if (h && p && asprintf(&signing, "%s.%s", h, p) > 0 &&
	    !(ret = mac(key, signing, strlen(signing), m))) {
		sig = token_b64url_encode(m, sizeof(m));
		if (sig && asprintf(out, "%s.%s", signing, sig) < 0)
			*out = NULL;
		ret = *out ? 0 : -ENOMEM;
	}
	json_decref(o);
	free(payload);
	free(h);
	free(p);
	free(signing);
	free(sig);
	return ret;
}

/* Scopes by name; an unknown scope makes the token malformed. */
static int parse_scopes(json_t *arr, unsigned int *scopes)
{
	json_t *it;
	size_t i;

	*scopes = 0;
	if (!json_is_array(arr))
		return -EBADMSG;
	json_array_foreach(arr, i, it) {
		unsigned int bit = users_scope_bit(json_string_value(it));

		if (!bit)
			return -EBADMSG;
		*scopes |= bit;
	}
	return 0;
}

static int parse_claims(const uint8_t *json, size_t len,
			struct token_claims *c)
{
	json_t *o = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES,
			       NULL), *roles;
	const char *name = NULL, *app = "", *cred = NULL;
	json_int_t iat = 0, exp = 0;
	int ret = -EBADMSG;

	memset(c, 0, sizeof(*c));
	if (o && !json_unpack(o, "{s:s, s:o, s:I, s:I, s?s, s:s}", "name", &name,
			      "roles", &roles, "iat", &iat, "exp", &exp,
			      "application", &app, "cred", &cred) &&
	    strlen(cred) == TOKEN_CRED_LEN &&
	    users_name_ok(name) && json_array_size(roles) == 1 &&
	    !users_role_parse(json_string_value(json_array_get(roles, 0)),
			      &c->role) &&
	    strlen(app) <= TOKEN_APP_MAX &&
	    !parse_scopes(json_object_get(o, "scopes"), &c->scopes)) {
		snprintf(c->name, sizeof(c->name), "%s", name);
		snprintf(c->application, sizeof(c->application), "%s", app);
		snprintf(c->cred, sizeof(c->cred), "%s", cred);
		c->iat = iat;
		c->exp = exp;
		ret = 0;
	}
	json_decref(o);
	return ret;
}

int token_verify(const uint8_t key[TOKEN_SECRET_LEN], const char *token,
		 time_t now, struct token_claims *c)
{
	const char *dot1, *dot2;
	uint8_t m[32], *sig = NULL, *payload = NULL, *hdr = NULL;
	size_t siglen, plen, hlen;
	int ret;

	if (!token || strlen(token) > TOKEN_MAX ||
	    !(dot1 = strchr(token, '.')) || !(dot2 = strchr(dot1 + 1, '.')) ||
	    strchr(dot2 + 1, '.'))
		return -EBADMSG;
	ret = token_b64url_decode(token, (size_t)(dot1 - token), &hdr, &hlen);
	if (!ret && (hlen != strlen(TOKEN_HEADER) ||
		     memcmp(hdr, TOKEN_HEADER, hlen)))
		ret = -EBADMSG;
	if (!ret)
		ret = token_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig,
					  &siglen);
	if (!ret)
		ret = mac(key, token, (size_t)(dot2 - token), m);
	if (!ret && (siglen != sizeof(m) || CRYPTO_memcmp(sig, m, sizeof(m))))
		ret = -EKEYREJECTED;
	if (!ret)
		ret = token_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1),
					  &payload, &plen);
	if (!ret)
		ret = parse_claims(payload, plen, c);
	if (!ret && (c->exp <= (int64_t)now || c->iat > (int64_t)now + TOKEN_SKEW_S))
		ret = -EKEYEXPIRED;
	free(hdr);
	free(sig);
	free(payload);
	return ret;
}
