// SPDX-License-Identifier: GPL-2.0
/*
 * REST body parsing without a server (rest_json.c, the parsers the fuzz
 * target fuzz_rest_body drives): an error answer always carries its
 * message, even when the message quotes client input cut in the middle of
 * a UTF-8 character (found by fuzz_rest_body: the 400 went out as {}).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pki/csr.h"
#include "rest/rest_int.h"

static const char *error_of(const struct rest_req *r)
{
	return json_string_value(json_object_get(r->out, "error"));
}

static void test_error_cut_utf8(void **state)
{
	struct rest_req r = { 0 };

	/* "é" is C3 A9: %.3s keeps "ab" and the lead byte C3 alone. */
	rest_error(&r, MHD_HTTP_BAD_REQUEST, "field \"%.3s\": bad", "ab\xc3\xa9");
	assert_int_equal(r.status, MHD_HTTP_BAD_REQUEST);
	assert_non_null(error_of(&r));
	assert_string_equal(error_of(&r), "field \"ab?\": bad");
	/* Whole characters stay; overlong, surrogate and stray bytes do not. */
	rest_error(&r, MHD_HTTP_BAD_REQUEST, "%s", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
		   "|\xc0\xaf|\xed\xa0\x80|\x80|\xff");
	assert_string_equal(error_of(&r), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|??|???|?|?");
	json_decref(r.out);
}

/* The fuzz target's input: a SAN URI whose 64th byte starts a character. */
static void test_csr_body_error_has_message(void **state)
{
	static const char body[] =
		"{\"common_name\":\"r1\",\"san_uri\":[\"htt:.pxe1slqqqqqqqqqqqqqqqqqqqq"
		"qqqqqqqqqqqqqqqqqqqqqqqq@ospexae\xd2\x96" "et\"]}";
	struct rest_req r = { .body = (char *)body, .len = sizeof(body) - 1 };
	struct csr_request q;
	json_t *in = rest_body_parse(&r, false);

	assert_non_null(in);
	assert_int_equal(rest_csr_body_parse(&r, in, &q), -EINVAL);
	assert_int_equal(r.status, MHD_HTTP_BAD_REQUEST);
	assert_non_null(error_of(&r));
	assert_non_null(strstr(error_of(&r), "field \"san_uri\": SAN uri \"htt:."));
	json_decref(r.out);
	json_decref(in);
}

static void test_body_parse(void **state)
{
	struct rest_req r = { .body = (char *)"[1]", .len = 3 };
	json_t *in = rest_body_parse(&r, false);

	assert_null(in);
	assert_string_equal(error_of(&r), "request body must be a JSON object");
	json_decref(r.out);
	r = (struct rest_req){ 0 };
	in = rest_body_parse(&r, true);
	assert_true(json_is_object(in) && !json_object_size(in) && !r.out);
	json_decref(in);
	assert_null(rest_body_parse(&r, false));
	assert_string_equal(error_of(&r), "a JSON object is required as the request body");
	json_decref(r.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_cut_utf8),
		cmocka_unit_test(test_csr_body_error_has_message),
		cmocka_unit_test(test_body_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
