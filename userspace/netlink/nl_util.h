/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure helpers around the svrcert UAPI, shared by svrcertctl and svrcertd:
 * enum <-> name tables, hex keys, peer addresses, key files. No netlink,
 * no global state; unit-tested in tests/unit/test_nl_util.c.
 */
#ifndef SVRCERT_NL_UTIL_H
#define SVRCERT_NL_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "nl.h"

/*
 * Names as the CLI prints and accepts them. *_name() returns "?" for an
 * out-of-range value; *_parse() returns 0 and the value, or -EINVAL.
 */
const char *svrcert_nl_state_name(int state);	/* "valid", "not-yet-valid", ... */
int svrcert_nl_state_parse(const char *s, int *out);
const char *svrcert_nl_reason_name(int reason);	/* "ok", "self-invalid", ... */
int svrcert_nl_reason_parse(const char *s, int *out);
const char *svrcert_nl_failure_mode_name(int mode);	/* "fail-soft", "fail-hard" */
int svrcert_nl_failure_mode_parse(const char *s, int *out);
const char *svrcert_nl_event_name(int type);	/* "peer-revoked", ... */
int svrcert_nl_event_parse(const char *s, int *out);
const char *svrcert_nl_verdict_name(int verdict);	/* "accept", "drop" */
int svrcert_nl_verdict_parse(const char *s, int *out);

/*
 * A peering name the kernel accepts: 1..SVRCERT_PEER_NAME_MAX printable
 * ASCII characters without blanks. Returns 0 or -EINVAL.
 */
int svrcert_nl_peer_name_check(const char *name);

#define SVRCERT_KEY_HEX_LEN (2 * SVRCERT_KEY_LEN)

/* Exactly 64 hex digits (either case), nothing else: 0 or -EINVAL. */
int svrcert_nl_key_parse(const char *s, uint8_t out[SVRCERT_KEY_LEN]);
/* Lower-case hex, NUL-terminated; returns OUT. */
char *svrcert_nl_key_format(const uint8_t key[SVRCERT_KEY_LEN],
			 char out[SVRCERT_KEY_HEX_LEN + 1]);

/* An IPv4 or IPv6 address in text form (inet_pton): 0 or -EINVAL. */
int svrcert_nl_addr_parse(const char *s, struct svrcert_nl_addr *out);
/* inet_ntop into OUT (INET6_ADDRSTRLEN bytes); returns OUT or "?". */
const char *svrcert_nl_addr_format(const struct svrcert_nl_addr *a, char *out, size_t len);

/*
 * Read a key file: one 64-hex key per line; blank lines and lines whose
 * first non-blank character is '#' are skipped; a key may be followed by
 * blanks and a '#' comment; surrounding blanks and CR are ignored.
 * On success *KEYS (malloc'd, free() it; NULL when empty) and *N are set.
 * On a bad line returns -EINVAL and ERR says "NAME:LINE: why"; nothing is
 * returned. -ENOMEM / -EIO as appropriate, also explained in ERR.
 */
int svrcert_nl_keyfile_read(FILE *f, const char *name, svrcert_key_t **keys,
			 size_t *n, char *err, size_t errlen);

#endif
