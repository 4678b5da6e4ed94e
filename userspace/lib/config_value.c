// SPDX-License-Identifier: GPL-2.0
/* Parsers for single configuration values; shared with svrcertctl. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "util.h"

#define DURATION_MAX_S (365u * 86400u)

static const struct {
	const char *name;
	uint32_t seconds;
} duration_units[] = {
	{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
	{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 },
	{ "minutes", 60 },
	{ "h", 3600 }, { "hr", 3600 }, { "hrs", 3600 }, { "hour", 3600 },
	{ "hours", 3600 },
	{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
};

/* Leading decimal digits only: strtoul would accept "-1", "+1", " 1". */
static int parse_decimal(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*out = v;
	return 0;
}

int svrcert_parse_duration(const char *s, uint32_t bare_unit_s, uint32_t *seconds)
{
	const char *unit;
	uint64_t v, mult = bare_unit_s;
	int ret = parse_decimal(s, &unit, &v);

	if (ret)
		return ret;
	if (*unit == ' ')
		unit++;
	if (*unit) {
		size_t i;

		for (i = 0; i < SVRCERT_ARRAY_SIZE(duration_units); i++)
			if (!strcasecmp(unit, duration_units[i].name))
				break;
		if (i == SVRCERT_ARRAY_SIZE(duration_units))
			return -EINVAL;
		mult = duration_units[i].seconds;
	}
	if (v == 0 || v > DURATION_MAX_S || v * mult > DURATION_MAX_S)
		return -ERANGE;
	*seconds = (uint32_t)(v * mult);
	return 0;
}

int svrcert_parse_size(const char *s, uint64_t *bytes)
{
	const char *unit;
	uint64_t v, mult = 1;
	int ret = parse_decimal(s, &unit, &v);

	if (ret)
		return ret;
	if (*unit) {
		if (unit[1] && strcasecmp(unit + 1, "b") && strcasecmp(unit + 1, "ib"))
			return -EINVAL;
		switch (toupper((unsigned char)*unit)) {
		case 'K': mult = 1ull << 10; break;
		case 'M': mult = 1ull << 20; break;
		case 'G': mult = 1ull << 30; break;
		default: return -EINVAL;
		}
	}
	if (v == 0 || v > (16ull << 30) || v * mult > (16ull << 30))
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

int svrcert_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "enabled" };
	static const char *const no[] = { "false", "no", "off", "0", "disabled" };

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int svrcert_parse_addr(const char *s, struct svrcert_addr *out)
{
	struct svrcert_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

const char *svrcert_validation_mode_name(enum svrcert_validation_mode m)
{
	return m == SVRCERT_MODE_WARN ? "warn" : "strict";
}

const char *svrcert_failure_mode_name(enum svrcert_failure_mode m)
{
	return m == SVRCERT_FAIL_HARD ? "fail-hard" : "fail-soft";
}

int svrcert_parse_rekey_interval(const char *s, uint32_t *seconds)
{
	uint32_t v;

	if (!strcasecmp(s, "never")) {
		*seconds = 0;
		return 0;
	}
	if (svrcert_parse_duration(s, 3600, &v))
		return -EINVAL;
	/* SSR's range: a key at least an hour, at most 30 days old. */
	if (v < 3600 || v > SVRCERT_PEER_KEY_REKEY_MAX_S)
		return -ERANGE;
	*seconds = v;
	return 0;
}

static const struct {
	const char *name;
	uint8_t proto;
} protect_names[] = {
	{ "all", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 },
	{ "icmpv6", 58 }, { "sctp", 132 },
};

int svrcert_parse_protect(const char *s, uint8_t *proto)
{
	const char *end;
	uint64_t v;

	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(protect_names); i++) {
		if (!strcasecmp(s, protect_names[i].name)) {
			*proto = protect_names[i].proto;
			return 0;
		}
	}
	/* 50 (ESP) itself cannot be protected by ESP. */
	if (parse_decimal(s, &end, &v) || *end || v < 1 || v > 255 || v == 50)
		return -EINVAL;
	*proto = (uint8_t)v;
	return 0;
}

const char *svrcert_protect_name(uint8_t proto)
{
	for (size_t i = 0; i < SVRCERT_ARRAY_SIZE(protect_names); i++)
		if (protect_names[i].proto == proto)
			return protect_names[i].name;
	return NULL;
}
