// SPDX-License-Identifier: GPL-2.0
/*
 * Output people can read (issue 16 item 5): "show stats security" in
 * aligned columns within 80 columns (golden file), no kernel counters
 * printed as zeros without svrcert.ko, one counter's -j as an object,
 * JSON names without spaces and as GET /api/v1/stats names them;
 * "daemon status" / "daemon reload" as aligned "key: value" lines, JSON
 * only with -j; serial numbers as OpenSSL prints them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_daemon_fixture.h"

#include "lib/counters.h"
#include "lib/util.h"

#define GOLDEN "tests/unit/golden/"

static struct dfx f;

static int setup(void **state)
{
	struct svrcert_store st;
	const char *src = getenv("SVRCERT_SRCDIR");

	if (src && chdir(src))
		return -1;
	dfx_setup(&f, "ctlout");
	if (store_open(&st, f.state) ||
	    counters_inc(&st, CNT_CSR_SUCCESS, NULL) ||
	    counters_inc(&st, CNT_CSR_SUCCESS, NULL) ||
	    counters_inc(&st, CNT_IMPORT_FAILURE, "private-key"))
		return -1;
	store_close(&st);
	return 0;
}

static int teardown(void **state)
{
	dfx_teardown(&f);
	return 0;
}

/* svrcertctl -c CONF ARGS: stdout (malloc'd), *rc its exit status. */
static char *ctl(int *rc, const char *args)
{
	char cmd[1024], *out = malloc(65536);
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "./build/svrcertctl -c %s %s 2>/dev/null",
		 f.conf, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	*rc = WEXITSTATUS(pclose(p));
	return out;
}

static char *slurp(const char *path)
{
	uint8_t *buf = NULL;
	size_t len;

	assert_int_equal(svrcert_read_file(path, 1 << 20, &buf, &len), 0);
	return (char *)buf;
}

static bool kernel_loaded(void)
{
	return access("/sys/module/svrcert", F_OK) == 0;
}

static void test_security_table(void **state)
{
	char *got, *want = slurp(GOLDEN "show-stats-security.txt"), *line;
	int rc;

	got = ctl(&rc, "show stats security");
	assert_int_equal(rc, 0);
	for (line = got; *line; line = strchr(line, '\n') + 1)
		assert_true(strcspn(line, "\n") <= 80);
	/* svrcert.ko's data path counters follow when it is loaded */
	if (!kernel_loaded())
		assert_string_equal(got, want);
	else
		assert_memory_equal(got, want, strlen(want));
	free(got);
	free(want);
}

static void test_security_json(void **state)
{
	json_t *o, *r;
	char *out;
	size_t i;
	int rc;

	out = ctl(&rc, "show stats security CSR success -j");
	assert_int_equal(rc, 0);
	o = json_loads(out, 0, NULL);
	assert_true(json_is_object(o));
	assert_true(json_is_string(json_object_get(o, "counter")));
	assert_string_equal(json_string_value(json_object_get(o, "counter")), "csr.success");
	assert_int_equal(json_integer_value(json_object_get(o, "value")), 2);
	assert_null(json_object_get(o, "notes"));	/* not the kernel's */
	json_decref(o);
	free(out);

	out = ctl(&rc, "show stats security -j");
	o = json_loads(out, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
		"counters"), "certificate-import.failure.private-key")), 1);
	json_array_foreach(json_object_get(o, "security"), i, r) {
		assert_null(strchr(json_string_value(json_object_get(r, "counter")), ' '));
		assert_null(json_object_get(r, "failure reasons"));
	}
	if (!kernel_loaded())
		assert_int_equal(json_array_size(json_object_get(o, "security")), 18);
	json_decref(o);
	free(out);
}

/* Every line "key:" then the value at one column; no JSON without -j. */
static void check_aligned(const char *out)
{
	const char *line;
	int col = -1, c;

	for (line = out; *line; line = strchr(line, '\n') + 1) {
		if (*line == ' ' || *line == '\n')
			continue;	/* nested members, indented */
		c = (int)strcspn(line, ":");
		assert_true(line[c] == ':');
		if (line[c + 1] == '\n')
			continue;	/* an object follows */
		c += 1 + (int)strspn(line + c + 1, " ");
		if (col < 0)
			col = c;
		assert_int_equal(c, col);
		assert_true(line[c] != '{' && line[c] != '[');
	}
}

static void test_daemon_status(void **state)
{
	const char *forms[] = { "daemon status", "daemon reload", "daemon check" };
	json_t *o;
	char *out;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		out = ctl(&rc, forms[i]);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "state-dir:"));
		check_aligned(out);
		free(out);
	}
	out = ctl(&rc, "daemon status -j");
	o = json_loads(out, 0, NULL);
	assert_true(json_is_object(o));
	assert_string_equal(json_string_value(json_object_get(o, "state_dir")), f.state);
	json_decref(o);
	free(out);
}

/* The serial as "openssl x509 -text" prints it, in the text output; the
 * hex of "openssl x509 -serial" in JSON. */
static void test_serial_as_openssl(void **state)
{
	static const struct { const char *set, *text, *json; } cases[] = {
		{ "8214", "8214 (0x2016)", "2016" },
		{ "0x0102030405060708090a", "01:02:03:04:05:06:07:08:09:0a",
		  "0102030405060708090A" },
	};
	char *out;
	size_t i;
	int rc;

	for (i = 0; i < 2; i++) {
		assert_int_equal(fixture_sh("openssl req -x509 -newkey ec -pkeyopt "
			"ec_paramgen_curve:P-256 -nodes -keyout %s/k.pem -out "
			"%s/cert.pem -days 2 -subj /CN=r1 -set_serial %s 2>/dev/null",
			f.dir, f.state, cases[i].set), 0);
		out = ctl(&rc, "show certificate");
		assert_int_equal(rc, 0);
		{
			char want[128];

			snprintf(want, sizeof(want), "\nSerial                %s\n",
				 cases[i].text);
			if (!strstr(out, want))
				fail_msg("no \"%s\" in:\n%s", cases[i].text, out);
		}
		free(out);
		out = ctl(&rc, "show certificate -j");
		assert_non_null(strstr(out, cases[i].json));
		free(out);
	}
}

static json_t *status_json(const char *sock)
{
	json_t *req = json_pack("{s:s}", "command", "status"), *resp = NULL;

	assert_int_equal(ctlsock_request(sock, req, &resp), 0);
	json_decref(req);
	return resp;
}

static void write_conf(const char *interval)
{
	char text[1024];
	int n;

	n = snprintf(text, sizeof(text), "[router]\nname = r1\n"
		     "peering-common-name = r1\n[daemon]\nstate-dir = %s\n"
		     "control-socket = %s\naudit-log = %s/audit.log\n"
		     "check-interval = %s\n", f.state, f.sock, f.state, interval);
	assert_int_equal(atomic_write_file(f.conf, text, (size_t)n, 0644), 0);
}

/* check-interval is a configuration key (issue 16 item 8), applied at
 * start and by a reload; svrcertd --check-interval still wins. */
static void test_check_interval_key(void **state)
{
	json_t *st, *req, *resp = NULL;
	char log[160];
	int status;

	write_conf("2m");
	kill(f.pid, SIGTERM);
	assert_int_equal(dfx_wait_exit(f.pid, 10000, &status), 0);
	snprintf(log, sizeof(log), "%s/daemon-c.log", f.dir);
	f.pid = dfx_spawn(f.conf, NULL, NULL, log);
	assert_int_equal(dfx_wait_answer(f.sock), 0);
	st = status_json(f.sock);
	assert_int_equal(json_integer_value(json_object_get(st, "check_interval_s")), 120);
	json_decref(st);
	write_conf("5m");
	req = json_pack("{s:s}", "command", "reload");
	assert_int_equal(ctlsock_request(f.sock, req, &resp), 0);
	json_decref(req);
	json_decref(resp);
	st = status_json(f.sock);
	assert_int_equal(json_integer_value(json_object_get(st, "check_interval_s")), 300);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_security_table),
		cmocka_unit_test(test_security_json),
		cmocka_unit_test(test_daemon_status),
		cmocka_unit_test(test_serial_as_openssl),
		cmocka_unit_test(test_check_interval_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
