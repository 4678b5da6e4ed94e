// SPDX-License-Identifier: GPL-2.0
/* Unit tests for the pure netlink-side helpers (userspace/lib/nl_util.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink/nl_util.h"

static const char key_hex[] =
	"00112233445566778899aabbccddeeff0123456789ABCDEFfedcba9876543210";
static const uint8_t key_bin[SVRCERT_KEY_LEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};

static void test_key_parse_good(void **state)
{
	uint8_t key[SVRCERT_KEY_LEN];
	char hex[SVRCERT_KEY_HEX_LEN + 1];

	assert_int_equal(svrcert_nl_key_parse(key_hex, key), 0);
	assert_memory_equal(key, key_bin, sizeof(key));
	/* Printing is lower case, so the mixed-case input comes back lowered. */
	svrcert_nl_key_format(key, hex);
	assert_int_equal(strlen(hex), SVRCERT_KEY_HEX_LEN);
	assert_string_equal(hex,
		"00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210");
}

static void test_key_parse_bad(void **state)
{
	uint8_t key[SVRCERT_KEY_LEN], before[SVRCERT_KEY_LEN];
	char buf[80];

	memset(key, 0x5a, sizeof(key));
	memcpy(before, key, sizeof(key));
	assert_int_equal(svrcert_nl_key_parse(NULL, key), -EINVAL);
	assert_int_equal(svrcert_nl_key_parse("", key), -EINVAL);
	/* 63 and 65 digits */
	snprintf(buf, sizeof(buf), "%.63s", key_hex);
	assert_int_equal(svrcert_nl_key_parse(buf, key), -EINVAL);
	snprintf(buf, sizeof(buf), "%s0", key_hex);
	assert_int_equal(svrcert_nl_key_parse(buf, key), -EINVAL);
	/* a non-hex character at the start, middle and end */
	snprintf(buf, sizeof(buf), "g%.63s", key_hex + 1);
	assert_int_equal(svrcert_nl_key_parse(buf, key), -EINVAL);
	snprintf(buf, sizeof(buf), "%s", key_hex);
	buf[31] = 'x';
	assert_int_equal(svrcert_nl_key_parse(buf, key), -EINVAL);
	snprintf(buf, sizeof(buf), "%s", key_hex);
	buf[63] = ' ';
	assert_int_equal(svrcert_nl_key_parse(buf, key), -EINVAL);
	/* "0x" prefix is not accepted */
	snprintf(buf, sizeof(buf), "0x%.62s", key_hex);
	assert_int_equal(svrcert_nl_key_parse(buf, key), -EINVAL);
	/* a failed parse leaves the output alone */
	assert_memory_equal(key, before, sizeof(key));
}

static void test_addr_parse(void **state)
{
	struct svrcert_nl_addr a;
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(svrcert_nl_addr_parse("192.0.2.7", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(ntohl(a.v4.s_addr), 0xc0000207);
	assert_string_equal(svrcert_nl_addr_format(&a, buf, sizeof(buf)), "192.0.2.7");

	assert_int_equal(svrcert_nl_addr_parse("2001:DB8::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.v6.s6_addr[0], 0x20);
	assert_int_equal(a.v6.s6_addr[15], 0x01);
	assert_string_equal(svrcert_nl_addr_format(&a, buf, sizeof(buf)), "2001:db8::1");

	assert_int_equal(svrcert_nl_addr_parse("::ffff:10.0.0.1", &a), 0);
	assert_int_equal(a.family, AF_INET6);

	assert_int_equal(svrcert_nl_addr_parse("192.0.2.256", &a), -EINVAL);
	assert_int_equal(svrcert_nl_addr_parse("192.0.2", &a), -EINVAL);
	assert_int_equal(svrcert_nl_addr_parse("10.0.0.1/24", &a), -EINVAL);
	assert_int_equal(svrcert_nl_addr_parse("2001:db8::1::2", &a), -EINVAL);
	assert_int_equal(svrcert_nl_addr_parse("router.example", &a), -EINVAL);
	assert_int_equal(svrcert_nl_addr_parse("", &a), -EINVAL);
	assert_int_equal(svrcert_nl_addr_parse(NULL, &a), -EINVAL);

	a.family = AF_UNIX;
	assert_string_equal(svrcert_nl_addr_format(&a, buf, sizeof(buf)), "?");
}

static void test_peer_name_check(void **state)
{
	char name[SVRCERT_PEER_NAME_MAX + 2];

	assert_int_equal(svrcert_nl_peer_name_check("router-b"), 0);
	assert_int_equal(svrcert_nl_peer_name_check("urn:ssr:peering:b~1"), 0);
	memset(name, 'a', sizeof(name));
	name[SVRCERT_PEER_NAME_MAX] = '\0';
	assert_int_equal(svrcert_nl_peer_name_check(name), 0);
	name[SVRCERT_PEER_NAME_MAX] = 'a';
	name[SVRCERT_PEER_NAME_MAX + 1] = '\0';
	assert_int_equal(svrcert_nl_peer_name_check(name), -EINVAL);
	assert_int_equal(svrcert_nl_peer_name_check(""), -EINVAL);
	assert_int_equal(svrcert_nl_peer_name_check(NULL), -EINVAL);
	assert_int_equal(svrcert_nl_peer_name_check("router b"), -EINVAL);
	assert_int_equal(svrcert_nl_peer_name_check("tab\there"), -EINVAL);
	assert_int_equal(svrcert_nl_peer_name_check("caf\xc3\xa9"), -EINVAL);
}

typedef const char *(*name_fn)(int);
typedef int (*parse_fn)(const char *, int *);

/* Every value in 0..max has a distinct name that parses back to it. */
static void round_trip(name_fn name, parse_fn parse, int max)
{
	int v, w, out;

	for (v = 0; v <= max; v++) {
		const char *n = name(v);

		assert_string_not_equal(n, "?");
		assert_int_equal(parse(n, &out), 0);
		assert_int_equal(out, v);
		for (w = 0; w < v; w++)
			assert_string_not_equal(n, name(w));
	}
	assert_string_equal(name(-1), "?");
	assert_string_equal(name(max + 1), "?");
	out = 1234;
	assert_int_equal(parse("no-such-name", &out), -EINVAL);
	assert_int_equal(parse(NULL, &out), -EINVAL);
	assert_int_equal(parse("", &out), -EINVAL);
	assert_int_equal(out, 1234);
}

static void test_names_round_trip(void **state)
{
	round_trip(svrcert_nl_state_name, svrcert_nl_state_parse, SVRCERT_STATE_MAX);
	round_trip(svrcert_nl_reason_name, svrcert_nl_reason_parse, SVRCERT_REASON_MAX);
	round_trip(svrcert_nl_failure_mode_name, svrcert_nl_failure_mode_parse,
		   SVRCERT_FAIL_MAX);
	round_trip(svrcert_nl_event_name, svrcert_nl_event_parse, SVRCERT_EVENT_MAX);
	round_trip(svrcert_nl_verdict_name, svrcert_nl_verdict_parse, SVRCERT_VERDICT_DROP);
}

static void test_names_fixed(void **state)
{
	/* The CLI, the man page and CTL.md promise these spellings. */
	assert_string_equal(svrcert_nl_state_name(SVRCERT_STATE_NOT_YET_VALID), "not-yet-valid");
	assert_string_equal(svrcert_nl_state_name(SVRCERT_STATE_UNKNOWN), "unknown");
	assert_string_equal(svrcert_nl_reason_name(SVRCERT_REASON_SELF_INVALID), "self-invalid");
	assert_string_equal(svrcert_nl_failure_mode_name(SVRCERT_FAIL_HARD), "fail-hard");
	assert_string_equal(svrcert_nl_event_name(SVRCERT_EVENT_FAIL_HARD_DROP),
			    "fail-hard-drop");
}

/* Run the key-file reader over TEXT (LEN bytes; -1 for strlen). */
static int read_text(const char *text, ssize_t len, svrcert_key_t **keys, size_t *n,
		     char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, len < 0 ? strlen(text) : (size_t)len, "r");
	int r;

	assert_non_null(f);
	*keys = (svrcert_key_t *)0x1;	/* must stay untouched on failure */
	*n = 777;
	r = svrcert_nl_keyfile_read(f, "keys.txt", keys, n, err, errlen);
	fclose(f);
	return r;
}

static void test_keyfile_good(void **state)
{
	char text[1024], err[256] = "";
	svrcert_key_t *keys;
	size_t n;

	snprintf(text, sizeof(text),
		 "# revoked keys\n"
		 "\n"
		 "   %s  \n"
		 "\t# indented comment\n"
		 "%s # trailing comment\r\n"
		 "%s\r\n"	/* CRLF file */
		 "%s",	/* last line without newline */
		 key_hex, key_hex, key_hex, key_hex);
	assert_int_equal(read_text(text, -1, &keys, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(keys[3], key_bin, SVRCERT_KEY_LEN);
	assert_memory_equal(keys[0], key_bin, SVRCERT_KEY_LEN);
	assert_memory_equal(keys[1], key_bin, SVRCERT_KEY_LEN);
	assert_memory_equal(keys[2], key_bin, SVRCERT_KEY_LEN);
	free(keys);
}

static void test_keyfile_empty(void **state)
{
	char err[256] = "";
	svrcert_key_t *keys;
	size_t n;

	assert_int_equal(read_text("# nothing here\n\n", -1, &keys, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(keys);
}

static void test_keyfile_many(void **state)
{
	size_t count = 5000, i, n;
	char *text = malloc(count * (SVRCERT_KEY_HEX_LEN + 1) + 1), err[256];
	svrcert_key_t *keys;

	assert_non_null(text);
	for (i = 0; i < count; i++)
		snprintf(text + i * (SVRCERT_KEY_HEX_LEN + 1), SVRCERT_KEY_HEX_LEN + 2,
			 "%064zx\n", i);
	assert_int_equal(read_text(text, -1, &keys, &n, err, sizeof(err)), 0);
	assert_int_equal(n, count);
	assert_int_equal(keys[4999][31], 4999 & 0xff);
	assert_int_equal(keys[4999][30], 4999 >> 8);
	free(keys);
	free(text);
}

/* A bad line fails the whole file and the message names the line. */
static void expect_bad(const char *text, ssize_t len, const char *want)
{
	char err[256] = "";
	svrcert_key_t *keys;
	size_t n;

	assert_int_equal(read_text(text, len, &keys, &n, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(keys, (svrcert_key_t *)0x1);
	assert_int_equal(n, 777);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_keyfile_bad(void **state)
{
	char text[1024];

	snprintf(text, sizeof(text), "%s\n# ok\n%.63s\n", key_hex, key_hex);
	expect_bad(text, -1, "keys.txt:3: a key must be exactly 64 hex digits");
	snprintf(text, sizeof(text), "%s0\n", key_hex);
	expect_bad(text, -1, "keys.txt:1: a key must be exactly 64 hex digits");
	snprintf(text, sizeof(text), "\n\n%.63sz\n", key_hex);
	expect_bad(text, -1, "keys.txt:3: not a hex digit");
	snprintf(text, sizeof(text), "%s %s\n", key_hex, key_hex);
	expect_bad(text, -1, "keys.txt:1: more than one word");
	snprintf(text, sizeof(text), "%s\n%s\n", key_hex, key_hex);
	text[SVRCERT_KEY_HEX_LEN + 1 + 10] = '\0';	/* NUL inside line 2 */
	expect_bad(text, (ssize_t)(2 * (SVRCERT_KEY_HEX_LEN + 1)), "keys.txt:2: NUL byte");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_parse_good),
		cmocka_unit_test(test_key_parse_bad),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_peer_name_check),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_names_fixed),
		cmocka_unit_test(test_keyfile_good),
		cmocka_unit_test(test_keyfile_empty),
		cmocka_unit_test(test_keyfile_many),
		cmocka_unit_test(test_keyfile_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
