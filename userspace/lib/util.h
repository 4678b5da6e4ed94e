/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the library, daemon and CLI. */
#ifndef SVRCERT_UTIL_H
#define SVRCERT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SVRCERT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hex of LEN bytes into OUT (2*LEN+1 bytes, lower case). */
void svrcert_hex(const uint8_t *in, size_t len, char *out);
/* Upper-case colon-separated hex into OUT (3*LEN bytes; "" when LEN 0). */
void svrcert_hex_colon(const uint8_t *in, size_t len, char *out);
/* Parse exactly 2*LEN hex digits; returns 0 or -EINVAL. */
int svrcert_unhex(const char *in, uint8_t *out, size_t len);

/*
 * Read a whole regular file of at most MAX bytes into a malloc'ed buffer
 * with a NUL appended (not counted in *len). Returns 0, -errno from
 * open/read, -EFBIG when larger than MAX, -EINVAL when not a regular file.
 */
int svrcert_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/* Exactly LEN bytes from FD into BUF (EINTR retried): 0, -errno, or
 * -EBADMSG when the file ends first. */
int svrcert_read_full(int fd, void *buf, size_t len);

/* True when BUF holds no control bytes other than tab, CR and LF (text
 * such as PEM; UTF-8 allowed). */
bool svrcert_is_text(const uint8_t *buf, size_t len);

/*
 * Times in JSON (svrcertctl -j, the REST API, the control socket) are
 * ISO 8601 UTC strings "2025-03-19T20:50:35Z", never epoch numbers: these
 * three are the one way to write and read them (audit events keep the
 * seed's milliseconds, "...:35.123Z"; Prometheus metrics keep epoch
 * seconds, its convention).
 */
/* "2025-03-19T20:50:35Z" (UTC). BUF of at least 21 bytes. */
void svrcert_time_iso8601(time_t t, char *buf, size_t len);
/* The same as a JSON string (jansson's json_t *); NULL only without
 * memory. */
struct json_t;
struct json_t *svrcert_json_time(time_t t);
/* "2025-03-19T20:50:35Z" -> *OUT; -EINVAL for anything else. */
int svrcert_time_parse_iso8601(const char *s, time_t *out);
/* OpenSSL's form "Oct 17 16:33:11 2024 GMT" as in the seed's audit. */
void svrcert_time_openssl(time_t t, char *buf, size_t len);

/*
 * Each byte of S that is not part of a well-formed UTF-8 sequence becomes
 * '?'. A message may quote someone's input cut at a byte limit ("%.64s"
 * in the middle of a character); jansson refuses a string that is not
 * UTF-8, and the answer would go out empty, without saying what was wrong.
 */
void svrcert_utf8_sanitize(char *s);

/* snprintf that appends to BUF at *pos and never overruns. */
void svrcert_appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Formats a message into ERR (when ERR and ERRLEN are set) and returns RC:
 * `return svrcert_fail(err, errlen, -EINVAL, "bad %s", what);`. */
int svrcert_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
