// SPDX-License-Identifier: GPL-2.0
/*
 * Times in JSON have one format, ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ"
 * (svrcertctl(8) OUTPUT, rest.md), in svrcertctl -j and the REST API
 * alike: the real svrcertd (REST fixture) with a key, a CSR, an imported
 * certificate and an alarm, then every JSON answer and every `-j` output
 * that can be had without svrcert.ko is walked, and a time-named member
 * holding a number (epoch seconds), a "*_epoch" member or a time string
 * in another format fails the test, naming the output and the path.
 * Audit events keep the seed's milliseconds ("...:35.123Z").
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_rest_fixture.h"

#include "lib/store.h"

static char *tok;
static regex_t iso, time_key;

static int group_setup(void **state)
{
	long st;

	if (regcomp(&iso, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
		    "[0-9]{2}(\\.[0-9]{3})?Z$", REG_EXTENDED | REG_NOSUB) ||
	    /* durations end in _s; these name points in time */
	    regcomp(&time_key, "(^|_)(time|timestamp|expires|since|raised|"
		    "learned|generated|update|updated|fetch|check|rekey|"
		    "authentication|before|after|epoch)$|_at$|_epoch$",
		    REG_EXTENDED | REG_NOSUB) || rf_setup())
		return -1;
	tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	return tok ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(tok);
	regfree(&iso);
	regfree(&time_key);
	rf_teardown();
	return 0;
}

struct scan {
	const char *what;	/* the output, for the message */
	int times;		/* time members seen */
};

static void scan_value(struct scan *s, const char *path, const char *key,
		       json_t *v);

static void scan_object(struct scan *s, const char *path, json_t *o)
{
	char sub[512];
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		if (strlen(k) > 6 && !strcmp(k + strlen(k) - 6, "_epoch"))
			fail_msg("%s: %s: an epoch member", s->what, sub);
		scan_value(s, sub, k, v);
	}
}

static void scan_value(struct scan *s, const char *path, const char *key,
		       json_t *v)
{
	char sub[512];
	size_t i;
	json_t *e;

	if (json_is_object(v)) {
		scan_object(s, path, v);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			scan_value(s, sub, key, e);
		}
	} else if (key && !regexec(&time_key, key, 0, NULL, 0)) {
		if (json_is_number(v))
			fail_msg("%s: %s is a number (%s), not an ISO 8601 "
				 "time", s->what, path, json_dumps(v,
				 JSON_ENCODE_ANY));
		/* "-" / "" / null: no such time (never fetched, ...) */
		if (json_is_string(v) && strcmp(json_string_value(v), "-") &&
		    *json_string_value(v)) {
			if (regexec(&iso, json_string_value(v), 0, NULL, 0))
				fail_msg("%s: %s = \"%s\" is not ISO 8601 UTC",
					 s->what, path, json_string_value(v));
			s->times++;
		}
	}
}

static int scan_text(const char *what, const char *text)
{
	struct scan s = { .what = what };
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	if (!v)
		fail_msg("%s: not JSON (%s): %.200s", what, err.text, text);
	scan_value(&s, "", NULL, v);
	json_decref(v);
	return s.times;
}

static int scan_rest(const char *method, const char *path, const char *body,
		     long want)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char what[256];
	int n;

	assert_int_equal(rf_request(method, path, tok, body, r), want);
	snprintf(what, sizeof(what), "%s %s", method, path);
	n = scan_text(what, r->body);
	free(r);
	return n;
}

static int scan_ctl(const char *args)
{
	char cmd[1024], what[256];
	static char out[1 << 20];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/build/svrcertctl %s -j --config %s",
		 rf_srcdir(), args, rf.conf);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	snprintf(what, sizeof(what), "svrcertctl %s -j", args);
	return scan_text(what, out);
}

/* The key, a CSR signed by the test CA, imported: every certificate
 * time exists. */
static void provision(void)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char path[256], *pem = NULL;
	json_t *o;

	assert_int_equal(rf_request("POST", "/api/v1/private-key", tok, "{}", r),
			 201);
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request", tok,
				    NULL, r), 201);
	o = json_loads(r->body, 0, NULL);
	snprintf(path, sizeof(path), "%s/api.csr", rf.dir);
	assert_int_equal(rf_write(path, json_string_value(json_object_get(o,
							"csr"))), 0);
	json_decref(o);
	assert_int_equal(fixture_sh("%s/tests/pki/mkpki.sh sign %s %s "
				    "%s/api.pem 20 >/dev/null", rf_srcdir(),
				    testpki_path(""), path, rf.dir), 0);
	snprintf(path, sizeof(path), "%s/api.pem", rf.dir);
	assert_int_equal(store_read_path(path, &pem, NULL), 0);
	o = json_pack("{s:s}", "certificate", pem);
	free(pem);
	pem = json_dumps(o, 0);
	assert_int_equal(rf_request("POST", "/api/v1/certificate", tok, pem, r),
			 200);
	free(pem);
	json_decref(o);
	free(r);
}

static void test_rest_times(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char body[256];
	int n = 0;

	snprintf(body, sizeof(body), "{\"username\":\"admin\",\"password\":"
		 "\"Admin-Pass-1234\"}");
	assert_int_equal(rf_request("POST", "/api/v1/login", NULL, body, r), 200);
	/* the token's expiry */
	assert_int_equal(scan_text("POST /api/v1/login", r->body), 1);
	free(r);
	provision();
	/* 20 days left: certificate-expiring is raised, with its time */
	n += scan_rest("GET", "/api/v1/certificate", NULL, 200);
	n += scan_rest("GET", "/api/v1/alarms", NULL, 200);
	n += scan_rest("GET", "/api/v1/crl", NULL, 200);
	n += scan_rest("GET", "/api/v1/stats", NULL, 200);
	n += scan_rest("GET", "/api/v1/certificate-request", NULL, 200);
	assert_true(n >= 3);	/* not_before, not_after, raised */
}

static void test_ctl_times(void **state)
{
	int n = 0;

	n += scan_ctl("show certificate");
	n += scan_ctl("show alarms");
	n += scan_ctl("show certificate crl");
	n += scan_ctl("crl status");
	n += scan_ctl("daemon status");
	n += scan_ctl("trusted-ca list");
	n += scan_ctl("show events");
	n += scan_ctl("show stats security");
	/* not_before, not_after, raised, last_check, events' timestamps */
	assert_true(n >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rest_times),
		cmocka_unit_test(test_ctl_times),
	};

	(void)rf_error;		/* the fixture's */

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
