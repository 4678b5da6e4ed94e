// SPDX-License-Identifier: GPL-2.0
/*
 * The [rest] settings. They live in a small file of their own until
 * svrcert.conf(5) grows a [rest] section (requested from its owner):
 * svrcert.conf rejects unknown sections, by design.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "rest.h"

struct rest_parse {
	struct rest_config *rc;
	char *err;
	size_t errlen;
	const char *path;
};

static int set_listen(struct rest_config *rc, const char *v)
{
	const char *colon = strrchr(v, ':');
	const char *host = v;
	size_t hlen;
	char *end;
	long port;

	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	port = strtol(colon + 1, &end, 10);
	if (!hlen || hlen >= sizeof(rc->host) || *end || end == colon + 1 ||
	    port < 1 || port > 65535)
		return -EINVAL;
	memcpy(rc->host, host, hlen);
	rc->host[hlen] = '\0';
	rc->port = (uint16_t)port;
	return 0;
}

static int set_path(char *dst, size_t len, const char *v)
{
	if (v[0] != '/' || strlen(v) >= len)
		return -EINVAL;
	snprintf(dst, len, "%s", v);
	return 0;
}

static int set_uint(const char *v, unsigned long lo, unsigned long hi,
		    unsigned long *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (end == v || *end || v[0] == '-' || n < lo || n > hi)
		return -EINVAL;
	*out = n;
	return 0;
}

static const char *set_key(struct rest_config *rc, const char *key,
			   const char *v)
{
	unsigned long n;
	uint32_t secs;

	if (!strcmp(key, "listen"))
		return set_listen(rc, v) ? "not host:port" : NULL;
	if (!strcmp(key, "certificate"))
		return set_path(rc->cert_file, sizeof(rc->cert_file), v) ?
		       "not an absolute path" : NULL;
	if (!strcmp(key, "key"))
		return set_path(rc->key_file, sizeof(rc->key_file), v) ?
		       "not an absolute path" : NULL;
	if (!strcmp(key, "token-lifetime")) {
		if (svrcert_parse_duration(v, 1, &secs) || secs < 60 ||
		    secs > 7 * 86400)
			return "not a duration from 60s to 7d";
		rc->token_lifetime_s = secs;
		return NULL;
	}
	if (!strcmp(key, "body-max")) {
		if (set_uint(v, 1024, 1u << 20, &n))
			return "not a byte count from 1024 to 1048576";
		rc->body_max = n;
		return NULL;
	}
	if (!strcmp(key, "connection-limit")) {
		if (set_uint(v, 1, 65536, &n))
			return "not a number from 1 to 65536";
		rc->conn_limit = (unsigned int)n;
		return NULL;
	}
	return "unknown key";
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct rest_parse *p = user;
	const char *why;

	if (strcmp(section, "rest"))
		why = "unknown section (only [rest])";
	else
		why = set_key(p->rc, key, value);
	if (why)
		snprintf(p->err, p->errlen, "%s: [%s] %s: %s", p->path, section,
			 key, why);
	return why ? 0 : 1;
}

int rest_config_load(const char *path, struct rest_config *rc, char *err,
		     size_t errlen)
{
	struct rest_parse p = { rc, err, errlen, path };
	FILE *f;
	int line;

	memset(rc, 0, sizeof(*rc));
	rc->token_lifetime_s = REST_DEF_TOKEN_LIFETIME_S;
	rc->body_max = REST_DEF_BODY_MAX;
	rc->conn_limit = REST_DEF_CONN_LIMIT;
	err[0] = '\0';
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	line = ini_parse_file(f, handler, &p);
	fclose(f);
	if (line) {
		if (!err[0])
			snprintf(err, errlen, "%s:%d: syntax error", path, line);
		else if (line > 0) {
			char tmp[512];

			snprintf(tmp, sizeof(tmp), "%s", err);
			snprintf(err, errlen, "%s (line %d)", tmp, line);
		}
		return -EINVAL;
	}
	if (rc->host[0] && (!rc->cert_file[0] || !rc->key_file[0])) {
		snprintf(err, errlen, "%s: [rest] listen needs certificate and "
			 "key (the web server's, in PEM files)", path);
		return -EINVAL;
	}
	return 0;
}

const char *rest_config_path(void)
{
	const char *p = getenv("SVRCERT_REST_CONFIG");

	return p && p[0] ? p : REST_CONFIG_DEFAULT;
}
