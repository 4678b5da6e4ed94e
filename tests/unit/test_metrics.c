// SPDX-License-Identifier: GPL-2.0
/*
 * Metrics (issue 16 item 7): the exposition writer (lib/metrics.c), the
 * metric set (pki/metrics_collect.c) over a real state directory, and
 * svrcertd end to end: the [daemon] metrics-file textfile written
 * atomically and rewritten after a change, GET /api/v1/metrics with its
 * authentication, content type and the same names. Every output goes
 * through a small validator of the Prometheus text format 0.0.4.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

#include "test_rest_fixture.h"

#include "lib/config.h"
#include "lib/counters.h"
#include "lib/metrics.h"
#include "lib/store.h"
#include "lib/util.h"
#include "pki/metrics_collect.h"

/* ---- the validator -------------------------------------------------- */

#define V_FAMILIES	256

struct vstate {
	char fam[V_FAMILIES][128];	/* families seen, in order */
	char type[V_FAMILIES][16];
	size_t n;
	char help[128];			/* a HELP waiting for its TYPE */
	char **series;			/* name{labels} seen */
	size_t n_series;
	size_t samples;
};

static bool v_name(const char *s, size_t n, bool colon)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!(isalpha((unsigned char)c) || c == '_' || (colon && c == ':') ||
		      (i && isdigit((unsigned char)c))))
			return false;
	}
	return true;
}

/* {a="x",b="y\"z"}: label names valid and unique, values escaped. */
static const char *v_labels(const char *p)
{
	char seen[8][64];
	size_t n = 0, k, len;

	p++;
	while (*p != '}') {
		len = strcspn(p, "=");
		if (!v_name(p, len, false) || len >= 64 || n == 8)
			return NULL;
		for (k = 0; k < n; k++)
			if (strlen(seen[k]) == len && !strncmp(seen[k], p, len))
				return NULL;
		snprintf(seen[n++], 64, "%.*s", (int)len, p);
		p += len;
		if (p[0] != '=' || p[1] != '"')
			return NULL;
		for (p += 2; *p != '"'; p++) {
			if (*p == '\n' || !*p)
				return NULL;
			if (*p == '\\' && !strchr("\\\"n", *++p))
				return NULL;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

static int v_fail(const char *why, const char *line)
{
	fprintf(stderr, "invalid exposition line (%s): %.200s\n", why, line);
	return -1;
}

static int v_comment(struct vstate *v, const char *line)
{
	char name[128], rest[512];
	size_t i;

	if (sscanf(line, "# HELP %127s %511[^\n]", name, rest) == 2) {
		if (!v_name(name, strlen(name), true) || v->help[0])
			return v_fail("HELP", line);
		snprintf(v->help, sizeof(v->help), "%s", name);
		return 0;
	}
	if (sscanf(line, "# TYPE %127s %511s", name, rest) != 2)
		return v_fail("comment", line);
	if (strcmp(name, v->help) || (strcmp(rest, "counter") && strcmp(rest, "gauge")))
		return v_fail("TYPE without its HELP", line);
	for (i = 0; i < v->n; i++)
		if (!strcmp(v->fam[i], name))
			return v_fail("family twice", line);
	if (!strcmp(rest, "counter") &&
	    (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total")))
		return v_fail("counter without _total", line);
	if (v->n == V_FAMILIES)
		return v_fail("too many families", line);
	snprintf(v->fam[v->n], 128, "%s", name);
	snprintf(v->type[v->n++], 16, "%.15s", rest);
	v->help[0] = '\0';
	return 0;
}

static int v_sample(struct vstate *v, const char *line)
{
	size_t len = strcspn(line, "{ "), i;
	const char *p = line + len;
	char *end;

	if (!v->n || v->help[0] || !v_name(line, len, true) ||
	    strlen(v->fam[v->n - 1]) != len || strncmp(v->fam[v->n - 1], line, len))
		return v_fail("sample outside its family", line);
	if (*p == '{' && !(p = v_labels(p)))
		return v_fail("labels", line);
	if (*p != ' ')
		return v_fail("no value", line);
	strtod(p + 1, &end);
	if (end == p + 1 || *end)
		return v_fail("value", line);
	for (i = 0; i < v->n_series; i++)
		if (strlen(v->series[i]) == (size_t)(p - line) &&
		    !strncmp(v->series[i], line, (size_t)(p - line)))
			return v_fail("series twice", line);
	v->series = realloc(v->series, (v->n_series + 1) * sizeof(char *));
	v->series[v->n_series++] = strndup(line, (size_t)(p - line));
	v->samples++;
	return 0;
}

/* 0 when TEXT is valid exposition text; V keeps what was seen. */
static int validate(const char *text, struct vstate *v)
{
	char *copy = strdup(text), *line, *save = NULL;
	int ret = 0;

	memset(v, 0, sizeof(*v));
	if (!*text || text[strlen(text) - 1] != '\n')
		ret = v_fail("no final newline", text);
	for (line = strtok_r(copy, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save))
		ret = line[0] == '#' ? v_comment(v, line) : v_sample(v, line);
	if (!ret && v->help[0])
		ret = v_fail("HELP without TYPE", v->help);
	free(copy);
	return ret;
}

static void v_free(struct vstate *v)
{
	for (size_t i = 0; i < v->n_series; i++)
		free(v->series[i]);
	free(v->series);
}

static bool v_has_family(const struct vstate *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->fam[i], name))
			return true;
	return false;
}

/* ---- the writer ----------------------------------------------------- */

static void test_writer_format(void **state)
{
	struct metrics m;
	struct vstate v;
	char *text = NULL;

	metrics_init(&m);
	metrics_family(&m, "svrcert_x_total", "counter", "a\\b\nc");
	metrics_u64(&m, 18446744073709551615ull, "peer", "r\"2\\\n", NULL);
	metrics_u64(&m, 0, NULL);
	metrics_family(&m, "svrcert_t_timestamp_seconds", "gauge", "t");
	metrics_i64(&m, -5, "a", "1", "b", "2", NULL);
	assert_int_equal(metrics_finish(&m, &text, NULL), 0);
	assert_string_equal(text,
		"# HELP svrcert_x_total a\\\\b\\nc\n"
		"# TYPE svrcert_x_total counter\n"
		"svrcert_x_total{peer=\"r\\\"2\\\\\\n\"} 18446744073709551615\n"
		"svrcert_x_total 0\n"
		"# HELP svrcert_t_timestamp_seconds t\n"
		"# TYPE svrcert_t_timestamp_seconds gauge\n"
		"svrcert_t_timestamp_seconds{a=\"1\",b=\"2\"} -5\n");
	assert_int_equal(validate(text, &v), 0);
	assert_int_equal(v.samples, 3);
	v_free(&v);
	free(text);
}

/* What would make the output invalid is refused, not printed. */
static void test_writer_refuses(void **state)
{
	struct metrics m;
	char *text = NULL;

	metrics_init(&m);
	metrics_family(&m, "a_total", "counter", "x");
	metrics_family(&m, "a_total", "counter", "x");
	assert_int_equal(metrics_finish(&m, &text, NULL), -EEXIST);
	metrics_init(&m);
	metrics_family(&m, "1bad", "gauge", "x");
	assert_int_equal(metrics_finish(&m, &text, NULL), -EINVAL);
	metrics_init(&m);
	metrics_family(&m, "ok", "histogram", "x");
	assert_int_equal(metrics_finish(&m, &text, NULL), -EINVAL);
	metrics_init(&m);
	metrics_u64(&m, 1, NULL);		/* before any family */
	assert_int_equal(metrics_finish(&m, &text, NULL), -EINVAL);
	metrics_init(&m);
	metrics_family(&m, "ok", "gauge", "x");
	metrics_u64(&m, 1, "bad-label", "v", NULL);
	assert_int_equal(metrics_finish(&m, &text, NULL), -EINVAL);
	metrics_init(&m);
	metrics_family(&m, "ok", "gauge", "x");
	metrics_u64(&m, 1, "__reserved", "v", NULL);
	assert_int_equal(metrics_finish(&m, &text, NULL), -EINVAL);
	assert_null(text);
	assert_true(metrics_name_ok("svrcert:rule_x"));
	assert_false(metrics_label_name_ok("a:b"));
}

/* ---- the metric set over a state directory (no daemon) --------------- */

static void test_collect_state(void **state)
{
	static const char peers[] = "[{\"id\": \"peer-key\", \"peer\": \"r2\", \"severity\": \"critical\", \"state\": \"invalid\", \"message\": \"peer r2 key is invalid\", \"raised\": \"2026-12-06T01:02:03Z\"}]";
	struct svrcert_env env;
	struct svrcert_env_args args = { rf.conf, NULL };
	char err[512], *text = NULL;
	struct vstate v;

	assert_int_equal(svrcert_env_open(&env, &args, err, sizeof(err)), 0);
	assert_int_equal(counters_inc(&env.st, CNT_IMPORT_FAILURE, "private-key"), 0);
	assert_int_equal(counters_inc(&env.st, CNT_CSR_SUCCESS, NULL), 0);
	/* svrcertd's per-peer alarms, labelled by peer */
	assert_int_equal(store_write(&env.st, STORE_PEER_ALARMS, peers, strlen(peers),
				     STORE_MODE_PUBLIC), 0);
	assert_int_equal(svrcert_metrics_collect(&env, NULL, &text, NULL), 0);
	assert_int_equal(store_remove(&env.st, STORE_PEER_ALARMS), 0);
	svrcert_env_close(&env);
	assert_int_equal(validate(text, &v), 0);
	/* every counter of lib/counters, once, by result */
	for (int i = 0; i < CNT__MAX; i++) {
		char want[160], fam[96];
		const char *dot = strchr(counter_descs[i].key, '.');
		size_t k, n = (size_t)snprintf(fam, sizeof(fam), "svrcert_");

		for (k = 0; counter_descs[i].key + k < dot; k++)
			fam[n++] = counter_descs[i].key[k] == '-' ? '_' :
				   counter_descs[i].key[k];
		fam[n] = '\0';
		snprintf(want, sizeof(want), "\n%s_total{result=\"%s\"} ", fam,
			 counter_descs[i].item);
		assert_non_null(strstr(text, want));
	}
	assert_non_null(strstr(text, "\nsvrcert_certificate_import_total{result=\"failure\"} 1\n"));
	assert_non_null(strstr(text, "\nsvrcert_csr_total{result=\"success\"} 1\n"));
	assert_non_null(strstr(text, "\nsvrcert_certificate_import_failure_reasons_total{reason=\"private-key\"} 1\n"));
	/* the test CA bundle's expiry, the alarms, the own certificate */
	assert_non_null(strstr(text, "\nsvrcert_trusted_ca_expiry_timestamp_seconds{bundle=\"test\",index=\"0\",subject=\""));
	assert_non_null(strstr(text, "\nsvrcert_alarm_active{alarm=\"certificate-expiring\"} 0\n"));
	assert_non_null(strstr(text, "\nsvrcert_alarm_active{alarm=\"peer-key\",peer=\"r2\"} 1\n"));
	assert_non_null(strstr(text, "\nsvrcert_alarm_raised_timestamp_seconds{alarm=\"peer-key\","
			       "severity=\"critical\",peer=\"r2\"} 1796518923\n"));
	assert_non_null(strstr(text, "\nsvrcert_certificate_installed 0\n"));
	assert_true(v_has_family(&v, "svrcert_crl_next_update_timestamp_seconds"));
	assert_true(v_has_family(&v, "svrcert_kernel_module_loaded"));
	/* without svrcert.ko: no zeros for kernel counters that do not exist */
	if (strstr(text, "\nsvrcert_kernel_module_loaded 0\n"))
		assert_false(v_has_family(&v, "svrcert_kernel_packets_total"));
	v_free(&v);
	free(text);
}

/* [daemon] metrics-file must be a .prom file (node_exporter reads only
 * those), metrics-interval 5s..1h; both are optional. */
static void test_config_keys(void **state)
{
	static const char *const bad[] = {
		"metrics-file = /tmp/x.txt\n", "metrics-file = /tmp/x.prom.tmp\n",
		"metrics-interval = 1s\n", "metrics-interval = 2h\n",
	};
	struct svrcert_config cfg;
	char text[256], err[512];
	size_t i;

	assert_int_equal(svrcert_config_load_string("[router]\nname = r\n",
						     "t.conf", &cfg, err,
						     sizeof(err)), 0);
	assert_null(cfg.metrics_file);
	assert_int_equal(cfg.metrics_interval_s, 60);
	svrcert_config_free(&cfg);
	assert_int_equal(svrcert_config_load_string("[router]\nname = r\n"
		"[daemon]\nmetrics-file = /var/lib/node/svrcert.prom\n"
		"metrics-interval = 15s\n", "t.conf", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.metrics_file, "/var/lib/node/svrcert.prom");
	assert_int_equal(cfg.metrics_interval_s, 15);
	svrcert_config_free(&cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[router]\nname = r\n[daemon]\n%s",
			 bad[i]);
		err[0] = '\0';
		assert_int_not_equal(svrcert_config_load_string(text, "t.conf",
					&cfg, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "[daemon] metrics-"));
	}
}

/* ---- svrcertd: the textfile and GET /api/v1/metrics ------------------ */

static char metrics_path[160];

static int write_config_with_metrics(void)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\npeering-common-name = r1\n"
		 "[trusted-ca \"test\"]\nfile = %s\n"
		 "[daemon]\nstate-dir = %s\ncontrol-socket = %s\naudit-log = %s\n"
		 "metrics-file = %s\nmetrics-interval = 1h\n"
		 "[rest]\nlisten = 127.0.0.1:%d\ncertificate = %s\n"
		 "key = %s/web.key\ntoken-lifetime = 10m\nbody-max = 16K\n",
		 testpki_path("bundle.pem"), rf.state, rf.sock, rf.audit,
		 metrics_path, rf.port, rf.web_cert, rf.dir);
	return rf_write(rf.conf, text);
}

static int group_setup(void **state)
{
	if (rf_setup())
		return -1;
	kill(rf.daemon, SIGTERM);
	waitpid(rf.daemon, NULL, 0);
	rf.daemon = 0;
	/* a directory of its own, as node_exporter's textfile directory */
	snprintf(metrics_path, sizeof(metrics_path), "%s/textfile", rf.dir);
	if (mkdir(metrics_path, 0755))
		return -1;
	strcat(metrics_path, "/svrcert.prom");
	return write_config_with_metrics() || rf_start_daemon();
}

static int group_teardown(void **state)
{
	rf_teardown();
	return 0;
}

static char *read_textfile(void)
{
	uint8_t *buf = NULL;
	size_t len;

	return svrcert_read_file(metrics_path, 1 << 20, &buf, &len) ? NULL :
	       (char *)buf;
}

/* The file appears, valid, 0644, and no temp file is left beside it. */
static void test_textfile(void **state)
{
	struct dirent *e;
	struct stat sb;
	struct vstate v;
	char *text = NULL, dir[160];
	DIR *d;
	int i;

	for (i = 0; i < 100 && !(text = read_textfile()); i++)
		usleep(100 * 1000);
	assert_non_null(text);
	assert_int_equal(validate(text, &v), 0);
	assert_true(v.samples > 20);
	assert_int_equal(stat(metrics_path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	snprintf(dir, sizeof(dir), "%s/textfile", rf.dir);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		assert_true(e->d_name[0] == '.' || !strcmp(e->d_name, "svrcert.prom"));
	closedir(d);
	v_free(&v);
	free(text);
}

/* A change is in the file at once, not a metrics-interval (1h here)
 * later: svrcertctl and the REST API notify svrcertd after each change
 * (svrcert_env_notify_daemon), which checks and rewrites the file. */
static void test_textfile_on_change(void **state)
{
	const char *want = "\nsvrcert_csr_total{result=\"failure\"} ";
	struct svrcert_env_args args = { rf.conf, NULL };
	struct svrcert_env env;
	char err[512], *text, *p;
	long before, after = -1;
	int i;

	text = read_textfile();
	assert_non_null(text);
	p = strstr(text, want);
	assert_non_null(p);
	before = strtol(p + strlen(want), NULL, 10);
	free(text);
	assert_int_equal(svrcert_env_open(&env, &args, err, sizeof(err)), 0);
	assert_int_equal(counters_inc(&env.st, CNT_CSR_FAILURE, NULL), 0);
	assert_int_equal(svrcert_env_notify_daemon(&env), 0);
	svrcert_env_close(&env);
	for (i = 0; i < 50 && after != before + 1; i++) {
		usleep(100 * 1000);
		text = read_textfile();
		p = text ? strstr(text, want) : NULL;
		after = p ? strtol(p + strlen(want), NULL, 10) : -1;
		free(text);
	}
	assert_int_equal(after, before + 1);
}

static long get_metrics(const char *tok, struct rf_resp *r, char *ctype,
			size_t len)
{
	struct curl_slist *hdrs;
	CURL *c = rf_easy("GET", "/api/v1/metrics", tok, NULL, r, &hdrs);
	char *ct = NULL;

	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(ctype, len, "%s", ct ? ct : "");
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	return r->status;
}

/* Authenticated like the other GETs; the same text format and names. */
static void test_rest_metrics(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct vstate v, f;
	char ct[128], *tok, *text;
	long st;
	size_t i;

	assert_int_equal(get_metrics(NULL, r, ct, sizeof(ct)), 401);
	assert_int_equal(get_metrics("forged.token.here", r, ct, sizeof(ct)), 401);
	tok = rf_login(NULL, "oper", "Oper-Pass-1234", &st);	/* show scope */
	assert_non_null(tok);
	assert_int_equal(get_metrics(tok, r, ct, sizeof(ct)), 200);
	assert_string_equal(ct, METRICS_CONTENT_TYPE);
	assert_int_equal(validate(r->body, &v), 0);
	text = read_textfile();
	assert_non_null(text);
	assert_int_equal(validate(text, &f), 0);
	assert_int_equal(v.n, f.n);
	for (i = 0; i < v.n; i++)
		assert_string_equal(v.fam[i], f.fam[i]);
	assert_int_equal(rf_request("POST", "/api/v1/metrics", tok, "{}", r), 405);
	assert_non_null(strstr(rf_error(r), "method not allowed"));
	v_free(&v);
	v_free(&f);
	free(text);
	free(tok);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_format),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_collect_state),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_textfile),
		cmocka_unit_test(test_textfile_on_change),
		cmocka_unit_test(test_rest_metrics),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
