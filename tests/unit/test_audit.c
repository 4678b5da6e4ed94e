// SPDX-License-Identifier: GPL-2.0
/* Audit lines (audit.c): shape, timestamp, sinks, one line per event. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "swtpm_fixture.h"

#include "lib/audit.h"
#include "lib/store.h"

static void assert_timestamp(const char *ts)
{
	regex_t re;

	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
				 "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, ts, 0, NULL, 0), 0);
	regfree(&re);
}

static void test_event_shape(void **state)
{
	json_t *ev = audit_event_json(AUDIT_INGEST_CERT, "Ingested certificate: x",
				      json_pack("{s:s}", "common_name", "x"), false);
	char host[256];
	const char *key;
	json_t *v;
	int n = 0;

	assert_non_null(ev);
	gethostname(host, sizeof(host));
	assert_timestamp(json_string_value(json_object_get(ev, "timestamp")));
	assert_string_equal(json_string_value(json_object_get(ev, "type")),
			    "system.ingest_certificate");
	assert_string_equal(json_string_value(json_object_get(ev, "node")), host);
	assert_true(json_is_false(json_object_get(ev, "permitted")));
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(ev, "detail"), "common_name")), "x");
	json_object_foreach(ev, key, v)
		n++;
	assert_int_equal(n, 6);	/* nothing else */
	json_decref(ev);
}

static void test_sinks_append_lines(void **state)
{
	struct svrcert_store st;
	struct audit_sink in_dir = { .st = &st }, to_path = { .st = &st };
	char dir[64], path[128], *text;
	struct stat sb;
	json_t *ev;
	int lines = 0;
	char *p;

	assert_int_equal(fixture_tempdir(dir, "audit"), 0);
	assert_int_equal(store_open(&st, dir), 0);
	/* Newlines inside values stay escaped: one event, one line. */
	assert_int_equal(audit_event(&in_dir, AUDIT_GENERATE_CSR, "a\nb",
				     json_pack("{s:s}", "name", "x\ny"), true), 0);
	assert_int_equal(audit_event(&in_dir, AUDIT_GENERATE_CSR, "second",
				     NULL, true), 0);
	assert_int_equal(store_read(&st, STORE_AUDIT_LOG, &text, NULL), 0);
	for (p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	ev = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "description")), "a\nb");
	json_decref(ev);
	free(text);

	snprintf(path, sizeof(path), "%s/elsewhere.log", dir);
	to_path.path = path;
	assert_int_equal(audit_event(&to_path, AUDIT_INGEST_CERT, "x", NULL, true), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0137, 0);	/* at most 0640 */
	/* Unwritable sink: the caller hears of it. */
	to_path.path = "/nonexistent-dir/audit.log";
	assert_int_equal(audit_event(&to_path, AUDIT_INGEST_CERT, "x", NULL, true), -ENOENT);
	store_close(&st);
	fixture_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_shape),
		cmocka_unit_test(test_sinks_append_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
