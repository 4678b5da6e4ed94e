// SPDX-License-Identifier: GPL-2.0
/* What svrcert.conf may say: the key table and the checks after parsing. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config_keys.h"
#include "util.h"

#define URL_MAX		2048
#define PATH_MAX_LEN	4095

enum vtype {
	V_NAME, V_STR, V_PATH, V_BOOL, V_DUR_H, V_DUR_S, V_FAILMODE, V_MODE,
	V_STORAGE, V_HANDLE, V_PORTS, V_SIZE, V_URL, V_ADDRS, V_ENDPOINT, V_GROUP,
	V_COUNT, V_REKEY, V_PROTECT, V_CONDUCTOR,
};

struct key_def {
	int kind;
	const char *key;
	enum vtype type;
	size_t off;		/* in the section's object */
};

#define CF(f) offsetof(struct svrcert_config, f)
#define CA(f) offsetof(struct svrcert_trusted_ca, f)
#define PR(f) offsetof(struct svrcert_peer, f)

static const struct key_def keys[] = {
	{ S_ROUTER, "name", V_NAME, CF(router_name) },
	{ S_ROUTER, "uuid-file", V_PATH, CF(uuid_file) },
	{ S_ROUTER, "peering-common-name", V_NAME, CF(peering_common_name) },
	{ S_ROUTER, "peer-validation", V_BOOL, CF(peer_validation) },
	{ S_ROUTER, "failure-mode", V_FAILMODE, CF(failure_mode) },
	{ S_ROUTER, "svr-ports", V_PORTS, CF(svr_port_min) },
	{ S_KEY, "storage", V_STORAGE, CF(key_storage) },
	{ S_KEY, "tpm-handle", V_HANDLE, CF(tpm_handle) },
	{ S_KEY, "key-file", V_PATH, CF(key_file) },
	{ S_KEY, "tcti", V_STR, CF(tpm_tcti) },
	{ S_TRUSTED_CA, "file", V_PATH, CA(file) },
	{ S_TRUSTED_CA, "validation-mode", V_MODE, CA(mode) },
	{ S_CRL, "url", V_URL, 0 },
	{ S_CRL, "polling-interval", V_DUR_H, CF(crl_polling_s) },
	{ S_CRL, "backoff-interval", V_DUR_S, CF(crl_backoff_s) },
	{ S_CRL, "timeout", V_DUR_S, CF(crl_timeout_s) },
	{ S_CRL, "connect-timeout", V_DUR_S, CF(crl_connect_timeout_s) },
	{ S_CRL, "max-size", V_SIZE, CF(crl_max_size) },
	{ S_CRL, "discover", V_BOOL, CF(crl_discover) },
	{ S_CRL, "conductor", V_CONDUCTOR, CF(crl_conductor) },
	{ S_CRL, "conductor-name", V_NAME, CF(crl_conductor_name) },
	{ S_PEER, "address", V_ADDRS, 0 },
	{ S_PEER, "authenticate", V_ENDPOINT, PR(authenticate) },
	{ S_PEER, "accept-any-source", V_BOOL, PR(accept_any_source) },
	{ S_PEER, "protect", V_PROTECT, PR(protect) },
	{ S_DAEMON, "state-dir", V_PATH, CF(state_dir) },
	{ S_DAEMON, "control-socket", V_PATH, CF(control_socket) },
	{ S_DAEMON, "control-group", V_GROUP, CF(control_group) },
	{ S_DAEMON, "audit-log", V_PATH, CF(audit_log) },
	{ S_DAEMON, "metrics-file", V_PATH, CF(metrics_file) },
	{ S_DAEMON, "metrics-interval", V_DUR_S, CF(metrics_interval_s) },
	{ S_DAEMON, "check-interval", V_DUR_S, CF(check_interval_s) },
	{ S_DAEMON, "listen", V_ENDPOINT, CF(listen) },
	{ S_DAEMON, "peer-keys", V_BOOL, CF(peer_keys) },
	{ S_DAEMON, "peer-key-rekey-interval", V_REKEY, CF(peer_key_rekey_s) },
	{ S_DAEMON, "peer-key-timeout", V_DUR_S, CF(peer_key_timeout_s) },
	{ S_REST, "listen", V_ENDPOINT, CF(rest_listen) },
	{ S_REST, "certificate", V_PATH, CF(rest_certificate) },
	{ S_REST, "key", V_PATH, CF(rest_key) },
	{ S_REST, "token-lifetime", V_DUR_S, CF(rest_token_lifetime_s) },
	{ S_REST, "body-max", V_SIZE, CF(rest_body_max) },
	{ S_REST, "connection-limit", V_COUNT, CF(rest_connections) },
	{ S_REST, "per-address-limit", V_COUNT, CF(rest_per_address) },
	{ S_REST, "request-timeout", V_DUR_S, CF(rest_request_timeout_s) },
	{ S_CONDUCTOR, "enable", V_BOOL, CF(conductor) },
	{ S_CONDUCTOR, "listen", V_ENDPOINT, CF(conductor_listen) },
	{ S_CONDUCTOR, "max-connections", V_COUNT, CF(conductor_conns) },
	{ S_CONDUCTOR, "max-wait", V_DUR_S, CF(conductor_wait_s) },
};

const char *conf_section_name(const struct conf_ctx *c,
			      const struct conf_section *s)
{
	if (s->kind == S_TRUSTED_CA)
		return c->cfg.cas[s->index].name;
	if (s->kind == S_PEER)
		return c->cfg.peers[s->index].name;
	return "";
}

/* "[router]" or "[peer \"r2\"]" for messages. */
static void section_label(const struct conf_ctx *c, const struct conf_section *s,
			  char *buf, size_t len)
{
	const char *name = conf_section_name(c, s);

	if (*name)
		snprintf(buf, len, "[%s \"%s\"]", conf_kind_name(s->kind), name);
	else
		snprintf(buf, len, "[%s]", conf_kind_name(s->kind));
}

int conf_section_open(struct conf_ctx *c, struct conf_section *s, int kind,
		      const char *name, size_t nlen)
{
	struct svrcert_config *cfg = &c->cfg;

	s->kind = kind;
	if (kind == S_TRUSTED_CA) {
		struct svrcert_trusted_ca *n = reallocarray(cfg->cas, cfg->n_cas + 1,
							    sizeof(*n));
		if (!n)
			return -ENOMEM;
		cfg->cas = n;
		memset(&n[cfg->n_cas], 0, sizeof(*n));
		n[cfg->n_cas].line = s->line;
		n[cfg->n_cas].name = strndup(name, nlen);
		if (!n[cfg->n_cas].name)
			return -ENOMEM;
		s->index = cfg->n_cas++;
	} else if (kind == S_PEER) {
		struct svrcert_peer *n = reallocarray(cfg->peers, cfg->n_peers + 1,
						      sizeof(*n));
		if (!n)
			return -ENOMEM;
		cfg->peers = n;
		memset(&n[cfg->n_peers], 0, sizeof(*n));
		n[cfg->n_peers].line = s->line;
		n[cfg->n_peers].name = strndup(name, nlen);
		if (!n[cfg->n_peers].name)
			return -ENOMEM;
		s->index = cfg->n_peers++;
	}
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int set_string(char **dst, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static int parse_endpoint(const char *v, struct svrcert_endpoint *ep,
			  const char **why)
{
	const char *colon, *host = v;
	size_t hlen;
	uint32_t port = 0;
	char *end;

	*why = "must be HOST:PORT or [IPV6]:PORT";
	if (*v == '[') {
		const char *rb = strchr(v, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		host = v + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || strchr(v, ':') != colon)
			return -EINVAL;
		hlen = (size_t)(colon - v);
	}
	if (hlen == 0 || hlen > 253 || !isdigit((unsigned char)colon[1]))
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-_:", host[i]))
			return -EINVAL;
	port = (uint32_t)strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535) {
		*why = "port must be 1-65535";
		return -EINVAL;
	}
	free(ep->host);
	ep->host = strndup(host, hlen);
	if (!ep->host)
		return -ENOMEM;
	ep->port = (uint16_t)port;
	return 0;
}

static int parse_ports(const char *v, uint16_t *minmax, const char **why)
{
	unsigned long lo, hi;
	char *end;

	*why = "must be PORT or MIN-MAX, 1-65535, MIN <= MAX";
	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	lo = strtoul(v, &end, 10);
	hi = lo;
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return -EINVAL;
		hi = strtoul(end + 1, &end, 10);
	}
	if (*end || lo == 0 || hi > 65535 || lo > hi)
		return -EINVAL;
	minmax[0] = (uint16_t)lo;
	minmax[1] = (uint16_t)hi;
	return 0;
}

static int add_url(struct svrcert_config *cfg, const char *v, const char **why)
{
	char **n;

	*why = "must be an http:// or https:// URL without spaces, at most 2048 bytes";
	if (strlen(v) > URL_MAX || strpbrk(v, " \t") ||
	    (strncasecmp(v, "http://", 7) && strncasecmp(v, "https://", 8)))
		return -EINVAL;
	if (strchr(v, ':')[3] == '\0' || strchr(v, ':')[3] == '/')
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_crl_urls; i++) {
		if (!strcmp(cfg->crl_urls[i], v)) {
			*why = "is listed twice";
			return -EINVAL;
		}
	}
	n = reallocarray(cfg->crl_urls, cfg->n_crl_urls + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	cfg->crl_urls = n;
	n[cfg->n_crl_urls] = strdup(v);
	if (!n[cfg->n_crl_urls])
		return -ENOMEM;
	cfg->n_crl_urls++;
	return 0;
}

/* https://HOST[:PORT] and nothing else: the request path is the
 * conductor's API (/v1/revocation), and only TLS carries the router's
 * identity. Kept without a trailing slash. */
static int set_conductor(char **dst, const char *v, const char **why)
{
	const char *host = v + 8, *end, *colon;
	struct svrcert_endpoint ep = { 0 };
	size_t n = strlen(v);
	char hp[300];
	int ret;

	*why = "must be https://HOST or https://HOST:PORT (no path, query or "
	       "user), at most 300 bytes";
	if (strncasecmp(v, "https://", 8) || n > 300)
		return -EINVAL;
	if (n > 8 && v[n - 1] == '/')
		n--;
	end = v + n;
	if (end == host || memchr(host, '/', (size_t)(end - host)) ||
	    memchr(host, '@', (size_t)(end - host)) ||
	    memchr(host, '?', (size_t)(end - host)))
		return -EINVAL;
	/* HOST alone: parse_endpoint wants a port */
	colon = host[0] == '[' ? strstr(host, "]:") : strchr(host, ':');
	snprintf(hp, sizeof(hp), "%.*s%s", (int)(end - host), host,
		 colon && colon < end ? "" : ":443");
	ret = parse_endpoint(hp, &ep, why);
	free(ep.host);
	if (ret)
		return ret;
	free(*dst);
	*dst = strndup(v, n);
	return *dst ? 0 : -ENOMEM;
}

/* "address = A[, B ...]"; repeatable. */
static int add_addrs(struct svrcert_peer *peer, const char *v, const char **why,
		     char *bad, size_t badlen)
{
	char *copy = strdup(v), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", \t", &save); tok && !ret;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct svrcert_addr a, *n;

		snprintf(bad, badlen, "%s", tok);
		if (svrcert_parse_addr(tok, &a)) {
			*why = "is not an IPv4 or IPv6 address";
			ret = -EINVAL;
			break;
		}
		for (size_t i = 0; i < peer->n_addrs; i++) {
			if (!memcmp(&peer->addrs[i], &a, sizeof(a))) {
				*why = "is listed twice";
				ret = -EINVAL;
			}
		}
		if (!ret && peer->n_addrs >= SVRCERT_PEER_ADDRS_MAX) {
			*why = "is one address too many (at most 16 per peer)";
			ret = -EINVAL;
		}
		if (ret)
			break;
		n = reallocarray(peer->addrs, peer->n_addrs + 1, sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
			break;
		}
		peer->addrs = n;
		n[peer->n_addrs++] = a;
	}
	free(copy);
	return ret;
}

static int set_enum(const char *v, const char *const *names, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool group_ok(const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len > 32 || !(isalpha((unsigned char)*v) || *v == '_'))
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("_.-", *v))
			return false;
	return true;
}

static const char *const failmode_names[] = { "fail-soft", "fail-hard" };
static const char *const mode_names[] = { "strict", "warn" };
static const char *const storage_names[] = { "tpm", "tpm-blob", "file" };

/* Parse V for K into OBJ. Returns 0, -ENOMEM, or -EINVAL with *why. */
static int set_value(struct conf_ctx *c, const struct key_def *k, void *obj,
		     const char *v, const char **why, char *bad, size_t badlen)
{
	char *field = (char *)obj + k->off;

	switch (k->type) {
	case V_NAME:
		*why = "must be 1-63 characters of A-Z a-z 0-9 . _ -";
		return conf_name_ok(v, strlen(v)) ? set_string((char **)field, v) : -EINVAL;
	case V_STR:
		*why = "must be 1-255 printable characters";
		return strlen(v) <= 255 ? set_string((char **)field, v) : -EINVAL;
	case V_PATH:
		*why = "must be an absolute path";
		return v[0] == '/' && strlen(v) <= PATH_MAX_LEN ?
			set_string((char **)field, v) : -EINVAL;
	case V_GROUP:
		*why = "must be a group name";
		return group_ok(v) ? set_string((char **)field, v) : -EINVAL;
	case V_BOOL:
		*why = "must be true or false";
		return svrcert_parse_bool(v, (bool *)field);
	case V_DUR_H:
	case V_DUR_S:
		*why = k->type == V_DUR_H ?
			"must be a duration of 1s to 365d (bare number: hours), e.g. 24h, 90m, 1d" :
			"must be a duration of 1s to 365d (bare number: seconds), e.g. 60s, 5m";
		return svrcert_parse_duration(v, k->type == V_DUR_H ? 3600 : 1,
					      (uint32_t *)field) ? -EINVAL : 0;
	case V_SIZE:
		*why = "must be a size of 1 byte to 16G, e.g. 4096, 64K, 256M";
		return svrcert_parse_size(v, (uint64_t *)field) ? -EINVAL : 0;
	case V_FAILMODE:
		*why = "must be fail-soft or fail-hard";
		return set_enum(v, failmode_names, 2, (int *)field);
	case V_MODE:
		*why = "must be strict or warn";
		return set_enum(v, mode_names, 2, (int *)field);
	case V_STORAGE:
		*why = "must be tpm, tpm-blob or file";
		return set_enum(v, storage_names, 3, (int *)field);
	case V_HANDLE: {
		char *end;
		unsigned long h = strtoul(v, &end, 16);

		*why = "must be a persistent TPM handle 0x81000000-0x81ffffff";
		if (strncasecmp(v, "0x", 2) || *end || h < 0x81000000ul || h > 0x81fffffful)
			return -EINVAL;
		*(uint32_t *)field = (uint32_t)h;
		c->key_line = c->lineno;
		return 0;
	}
	case V_COUNT: {
		char *end;
		unsigned long n;

		*why = "must be a whole number of 1 to 1000000";
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)v[0]) || *end || errno || n < 1 ||
		    n > 1000000)
			return -EINVAL;
		*(uint32_t *)field = (uint32_t)n;
		return 0;
	}
	case V_REKEY:
		*why = "must be never or a duration of 1h to 720h (bare number: hours)";
		return svrcert_parse_rekey_interval(v, (uint32_t *)field);
	case V_PROTECT:
		*why = "must be all, tcp, udp, icmp, icmpv6, sctp, gre or an IP protocol number 1-255 but 50 (ESP)";
		return svrcert_parse_protect(v, (uint8_t *)field);
	case V_PORTS:
		return parse_ports(v, (uint16_t *)field, why);
	case V_URL:
		return add_url(&c->cfg, v, why);
	case V_CONDUCTOR:
		return set_conductor((char **)field, v, why);
	case V_ADDRS:
		return add_addrs(obj, v, why, bad, badlen);
	case V_ENDPOINT:
		return parse_endpoint(v, (struct svrcert_endpoint *)field, why);
	}
	return -EINVAL;
}

static bool key_repeatable(const struct key_def *k)
{
	return k->type == V_URL || k->type == V_ADDRS;
}

/* One vocabulary with svrcertctl set and show policy (issue 16): the
 * failure mode is "failure-mode"; the older spelling still reads, as the
 * same key (both in one section is "set twice"). */
static const char *key_alias(int kind, const char *key)
{
	return kind == S_ROUTER && !strcmp(key, "invalid-certificate-behavior") ?
	       "failure-mode" : key;
}

int conf_set_key(struct conf_ctx *c, struct conf_section *s, const char *key,
		 const char *value)
{
	char label[120], bad[128] = "";
	const char *why = "is not valid";
	void *obj = &c->cfg;
	size_t i;
	int ret;

	section_label(c, s, label, sizeof(label));
	for (i = 0; i < SVRCERT_ARRAY_SIZE(keys); i++)
		if (keys[i].kind == s->kind && !strcmp(keys[i].key,
						       key_alias(s->kind, key)))
			break;
	if (i == SVRCERT_ARRAY_SIZE(keys)) {
		conf_error(c, c->lineno, "%s %s: unknown key", label, key);
		return -EINVAL;
	}
	if ((s->seen & (1ull << i)) && !key_repeatable(&keys[i])) {
		conf_error(c, c->lineno, "%s %s: set twice in this section", label, key);
		return -EINVAL;
	}
	s->seen |= 1ull << i;
	if (!*value || !printable(value)) {
		conf_error(c, c->lineno, "%s %s: %s", label, key,
			   *value ? "control characters in value" : "empty value");
		return -EINVAL;
	}
	if (s->kind == S_TRUSTED_CA)
		obj = &c->cfg.cas[s->index];
	else if (s->kind == S_PEER)
		obj = &c->cfg.peers[s->index];
	if (!strcmp(key, "key-file"))
		c->key_line = c->lineno;
	ret = set_value(c, &keys[i], obj, value, &why, bad, sizeof(bad));
	if (ret == -ENOMEM)
		conf_error(c, c->lineno, "out of memory");
	else if (ret)
		conf_error(c, c->lineno, "%s %s: \"%.100s\" %s", label, key,
			   *bad ? bad : value, why);
	return ret;
}

uint64_t conf_key_bit(int kind, const char *key)
{
	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(keys); i++)
		if (keys[i].kind == kind && !strcmp(keys[i].key, key))
			return 1ull << i;
	return 0;
}

void conf_ctx_release(struct conf_ctx *c)
{
	free(c->sects);
	c->sects = NULL;
	c->n_sects = 0;
}
