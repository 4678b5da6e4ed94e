// SPDX-License-Identifier: GPL-2.0
/* Pure helpers around the svrcert UAPI: names, hex keys, addresses, key files. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nl_util.h"
#include "lib/util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Designated initializers keep each name next to its UAPI value. */
static const char *const state_names[] = {
	[SVRCERT_STATE_UNKNOWN] = "unknown",
	[SVRCERT_STATE_VALID] = "valid",
	[SVRCERT_STATE_INVALID] = "invalid",
	[SVRCERT_STATE_REVOKED] = "revoked",
	[SVRCERT_STATE_EXPIRED] = "expired",
	[SVRCERT_STATE_NOT_YET_VALID] = "not-yet-valid",
};

static const char *const reason_names[] = {
	[SVRCERT_REASON_UNSPEC] = "unspec",
	[SVRCERT_REASON_OK] = "ok",
	[SVRCERT_REASON_DISABLED] = "disabled",
	[SVRCERT_REASON_SELF_INVALID] = "self-invalid",
	[SVRCERT_REASON_UNAUTHENTICATED] = "unauthenticated",
	[SVRCERT_REASON_INVALID] = "invalid",
	[SVRCERT_REASON_REVOKED] = "revoked",
	[SVRCERT_REASON_NOT_YET_VALID] = "not-yet-valid",
	[SVRCERT_REASON_EXPIRED] = "expired",
	[SVRCERT_REASON_UNPROTECTED] = "unprotected",
};

static const char *const failure_mode_names[] = {
	[SVRCERT_FAIL_SOFT] = "fail-soft",
	[SVRCERT_FAIL_HARD] = "fail-hard",
};

static const char *const event_names[] = {
	[SVRCERT_EVENT_UNSPEC] = "unspec",
	[SVRCERT_EVENT_PEER_REVOKED] = "peer-revoked",
	[SVRCERT_EVENT_PEER_EXPIRED] = "peer-expired",
	[SVRCERT_EVENT_PEER_INVALID] = "peer-invalid",
	[SVRCERT_EVENT_FAIL_HARD_DROP] = "fail-hard-drop",
};

static const char *const verdict_names[] = {
	[SVRCERT_VERDICT_ACCEPT] = "accept",
	[SVRCERT_VERDICT_DROP] = "drop",
};

/* A table must cover its enum exactly, or a new UAPI value would print "?". */
_Static_assert(ARRAY_SIZE(state_names) == __SVRCERT_STATE_MAX, "state names");
_Static_assert(ARRAY_SIZE(reason_names) == __SVRCERT_REASON_MAX, "reason names");
_Static_assert(ARRAY_SIZE(failure_mode_names) == __SVRCERT_FAIL_MAX, "mode names");
_Static_assert(ARRAY_SIZE(event_names) == __SVRCERT_EVENT_MAX, "event names");

static const char *table_name(const char *const *t, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && t[v] ? t[v] : "?";
}

static int table_parse(const char *const *t, size_t n, const char *s, int *out)
{
	size_t i;

	for (i = 0; s && i < n; i++) {
		if (t[i] && !strcmp(t[i], s)) {
			*out = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

#define NAME_PAIR(fn, table)						\
const char *svrcert_nl_##fn##_name(int v)					\
{									\
	return table_name(table, ARRAY_SIZE(table), v);			\
}									\
int svrcert_nl_##fn##_parse(const char *s, int *out)			\
{									\
	return table_parse(table, ARRAY_SIZE(table), s, out);		\
}

NAME_PAIR(state, state_names)
NAME_PAIR(reason, reason_names)
NAME_PAIR(failure_mode, failure_mode_names)
NAME_PAIR(event, event_names)
NAME_PAIR(verdict, verdict_names)

int svrcert_nl_peer_name_check(const char *name)
{
	size_t i, len = name ? strlen(name) : 0;

	if (len == 0 || len > SVRCERT_PEER_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			return -EINVAL;
	return 0;
}

/* Parses exactly SVRCERT_KEY_HEX_LEN digits at S; the caller checks the end. */
static int key_parse_digits(const char *s, uint8_t out[SVRCERT_KEY_LEN])
{
	char digits[SVRCERT_KEY_HEX_LEN + 1];

	if (strnlen(s, SVRCERT_KEY_HEX_LEN) < SVRCERT_KEY_HEX_LEN)
		return -EINVAL;
	memcpy(digits, s, SVRCERT_KEY_HEX_LEN);
	digits[SVRCERT_KEY_HEX_LEN] = '\0';
	return svrcert_unhex(digits, out, SVRCERT_KEY_LEN);
}

int svrcert_nl_key_parse(const char *s, uint8_t out[SVRCERT_KEY_LEN])
{
	uint8_t tmp[SVRCERT_KEY_LEN];

	if (!s || strlen(s) != SVRCERT_KEY_HEX_LEN || key_parse_digits(s, tmp))
		return -EINVAL;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

char *svrcert_nl_key_format(const uint8_t key[SVRCERT_KEY_LEN],
			 char out[SVRCERT_KEY_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SVRCERT_KEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 0xf];
	}
	out[SVRCERT_KEY_HEX_LEN] = '\0';
	return out;
}

int svrcert_nl_addr_parse(const char *s, struct svrcert_nl_addr *out)
{
	struct svrcert_nl_addr a;

	memset(&a, 0, sizeof(a));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

const char *svrcert_nl_addr_format(const struct svrcert_nl_addr *a, char *out, size_t len)
{
	const void *src = a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6;

	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, src, out, (socklen_t)len))
		return "?";
	return out;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/*
 * One line: 1 and *KEY set for a key, 0 for a blank or comment line,
 * -EINVAL with WHY set for anything else.
 */
static int keyfile_line(char *line, uint8_t key[SVRCERT_KEY_LEN], const char **why)
{
	char *s = trim(line), *rest;

	if (!*s || *s == '#')
		return 0;
	rest = s + strcspn(s, " \t#");
	if (*rest) {
		char *comment = trim(rest);

		if (*comment && *comment != '#') {
			*why = "more than one word (one key per line)";
			return -EINVAL;
		}
		*rest = '\0';
	}
	if (strlen(s) != SVRCERT_KEY_HEX_LEN) {
		*why = "a key must be exactly 64 hex digits";
		return -EINVAL;
	}
	if (key_parse_digits(s, key)) {
		*why = "not a hex digit in key";
		return -EINVAL;
	}
	return 1;
}

static int keys_grow(svrcert_key_t **keys, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 1024;
	svrcert_key_t *nk;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nk = realloc(*keys, ncap * sizeof(**keys));
	if (!nk)
		return -ENOMEM;
	*keys = nk;
	*cap = ncap;
	return 0;
}

int svrcert_nl_keyfile_read(FILE *f, const char *name, svrcert_key_t **keys,
			 size_t *n, char *err, size_t errlen)
{
	svrcert_key_t *out = NULL;
	size_t cap = 0, count = 0, lineno = 0, linecap = 0;
	char *line = NULL;
	const char *why = NULL;
	ssize_t len;
	int ret = 0;


	while ((len = getline(&line, &linecap, f)) >= 0) {
		uint8_t key[SVRCERT_KEY_LEN];
		int r;

		lineno++;
		if (strlen(line) != (size_t)len) {
			why = "NUL byte in line";
			ret = -EINVAL;
			break;
		}
		r = keyfile_line(line, key, &why);
		if (r < 0) {
			ret = r;
			break;
		}
		if (!r)
			continue;
		if (keys_grow(&out, &cap, count + 1)) {
			snprintf(err, errlen, "%s: out of memory after %zu keys", name, count);
			ret = -ENOMEM;
			goto out;
		}
		memcpy(out[count++], key, SVRCERT_KEY_LEN);
	}
	if (ret) {
		snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
	} else if (ferror(f)) {
		snprintf(err, errlen, "%s: read error after line %zu", name, lineno);
		ret = -EIO;
	}
out:
	free(line);
	if (ret) {
		free(out);
		return ret;
	}
	*keys = out;
	*n = count;
	return 0;
}
