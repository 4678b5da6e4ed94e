// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

static const char hexdig[] = "0123456789abcdef";
static const char hexdig_up[] = "0123456789ABCDEF";

void svrcert_hex(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void svrcert_hex_colon(const uint8_t *in, size_t len, char *out)
{
	out[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		out[3 * i] = hexdig_up[in[i] >> 4];
		out[3 * i + 1] = hexdig_up[in[i] & 15];
		out[3 * i + 2] = i + 1 < len ? ':' : '\0';
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int svrcert_unhex(const char *in, uint8_t *out, size_t len)
{
	if (strlen(in) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int svrcert_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t used = 0, cap = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	/* The size may change under us: read until EOF, capped. */
	for (;;) {
		ssize_t r;

		if (used == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *n;

			if (cap > max) {
				ret = -EFBIG;
				goto out;
			}
			n = realloc(data, ncap + 1);
			if (!n) {
				ret = -ENOMEM;
				goto out;
			}
			data = n;
			cap = ncap;
		}
		r = read(fd, data + used, cap - used);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (used > max) {
			ret = -EFBIG;
			goto out;
		}
	}
	if (!data) {
		data = malloc(1);
		if (!data) {
			ret = -ENOMEM;
			goto out;
		}
	}
	data[used] = '\0';
	*buf = data;
	*len = used;
	data = NULL;
out:
	free(data);
	close(fd);
	return ret;
}

bool svrcert_is_text(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((buf[i] < 0x20 && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r') ||
		    buf[i] == 0x7f)
			return false;
	return true;
}

void svrcert_time_iso8601(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

json_t *svrcert_json_time(time_t t)
{
	char buf[32];

	svrcert_time_iso8601(t, buf, sizeof(buf));
	return json_string(buf);
}

int svrcert_time_parse_iso8601(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	if (!end || *end)
		return -EINVAL;
	*out = timegm(&tm);
	return 0;
}

void svrcert_time_openssl(time_t t, char *buf, size_t len)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s %2d %02d:%02d:%02d %d GMT", mon[tm.tm_mon],
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

void svrcert_appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*pos += (size_t)n;
	if (*pos >= len)
		*pos = len - 1;
}

int svrcert_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Length of the well-formed UTF-8 sequence at P (RFC 3629: no overlong
 * form, no surrogate, at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 :
		   (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	unsigned long cp = n == 1 ? p[0] : p[0] & (0x7f >> n);

	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* See util.h. */
void svrcert_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);

		if (!n)
			*p = '?';
		p += n ? n : 1;
	}
}

int svrcert_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, p + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EBADMSG;
		got += (size_t)r;
	}
	return 0;
}
