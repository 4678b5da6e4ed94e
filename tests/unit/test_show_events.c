// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show events, run as a user would (build/svrcertctl) on a
 * throw-away state directory whose audit.log the test writes: the seed's
 * layout (compared with tests/unit/golden/show-events.txt), --type,
 * --since with a date and an age, -j, control characters escaped, a torn
 * line skipped with a warning, and a bad --since refused.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>

#include "swtpm_fixture.h"

#define CTL "build/svrcertctl"
#define GOLDEN "tests/unit/golden/"

struct fx {
	char dir[64];
	char out[128], err[128];
};

/* Two events of the seed's examples, one with an ESC in a name, a torn line. */
static const char *const log_lines[] = {
	"{\"timestamp\":\"2025-03-19T20:50:35.173Z\",\"type\":\"system.generate_csr\","
	"\"node\":\"test-1\",\"description\":\"Generated CSR for: Test\\u001b[2JCertificate\","
	"\"detail\":{\"name\":\"TestCertificate\",\"common_name\":\"example.com\"},"
	"\"permitted\":true}",
	"{\"timestamp\":\"2025-03-07T20:59:50.736Z\",\"type\":\"system.crl_update\","
	"\"node\":\"t158-dut1.CONDUCTOR\",\"description\":\"Updated CRL for issuer: endpoint\","
	"\"detail\":{\"forced\":false,\"total_entries\":279},\"permitted\":true}",
	"{\"timestamp\":\"2025-03-26T21:2",
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[160];
	FILE *c;
	size_t i;

	assert_non_null(f);
	assert_int_equal(fixture_tempdir(f->dir, "events"), 0);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	snprintf(f->err, sizeof(f->err), "%s/err", f->dir);
	snprintf(path, sizeof(path), "%s/svrcert.conf", f->dir);
	c = fopen(path, "w");
	assert_non_null(c);
	fputs("[router]\nname = events\n", c);
	fclose(c);
	setenv("SVRCERT_CONFIG", path, 1);
	setenv("SVRCERT_STATE_DIR", f->dir, 1);
	setenv("SVRCERT_CONTROL_SOCKET", "/nonexistent/svrcert.sock", 1);
	snprintf(path, sizeof(path), "%s/audit.log", f->dir);
	c = fopen(path, "w");
	assert_non_null(c);
	for (i = 0; i < sizeof(log_lines) / sizeof(log_lines[0]); i++)
		fprintf(c, "%s\n", log_lines[i]);
	fclose(c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fixture_rm_rf(f->dir);
	free(f);
	return 0;
}

static int ctl(struct fx *f, const char *args)
{
	return fixture_sh(CTL " show events %s >%s 2>%s", args, f->out, f->err);
}

static char *slurp(const char *path)
{
	FILE *in = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(in);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, in);
	fclose(in);
	buf[n] = '\0';
	return buf;
}

static void assert_has(const char *path, const char *want, bool has)
{
	char *s = slurp(path);

	if (!!strstr(s, want) != has)
		fail_msg("%s %s \"%s\"; it holds:\n%s", path,
			 has ? "lacks" : "holds", want, s);
	free(s);
}

/* Every event in the seed's layout, a raw ESC never printed. */
static void test_layout(void **state)
{
	struct fx *f = *state;
	char *want = slurp(GOLDEN "show-events.txt"), *got;

	assert_int_equal(ctl(f, ""), 0);
	got = slurp(f->out);
	if (strcmp(got, want))
		fail_msg("show events differs from " GOLDEN "show-events.txt:\n%s", got);
	assert_null(strchr(got, '\x1b'));
	free(got);
	free(want);
	assert_has(f->err, "1 line(s) that are not events skipped", true);
}

static void test_filters(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ctl(f, "--type system.crl_update"), 0);
	assert_has(f->out, "Updated CRL for issuer: endpoint", true);
	assert_has(f->out, "system.generate_csr", false);

	assert_int_equal(ctl(f, "--since 2025-03-10"), 0);
	assert_has(f->out, "system.generate_csr", true);
	assert_has(f->out, "system.crl_update", false);

	assert_int_equal(ctl(f, "--since 2025-03-19T20:50:36Z"), 0);
	assert_has(f->out, "no events", true);

	/* An age: every event here is older than a day. */
	assert_int_equal(ctl(f, "--since 1d"), 0);
	assert_has(f->out, "no events", true);

	assert_int_equal(ctl(f, "--since yesterday"), 2);
	assert_has(f->err, "--since yesterday: not an ISO 8601 time", true);
}

static void test_json(void **state)
{
	struct fx *f = *state;
	json_t *v;
	char *s;

	assert_int_equal(ctl(f, "-j --type system.generate_csr"), 0);
	s = slurp(f->out);
	v = json_loads(s, 0, NULL);
	free(s);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "node")),
			    "test-1");
	assert_true(json_is_true(json_object_get(json_array_get(v, 0), "permitted")));
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
