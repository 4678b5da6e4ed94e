/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture for test_rest: the real svrcertd (build/svrcertd) with its REST
 * API on a free loopback port, a real swtpm, the test PKI, a throw-away
 * state directory and web certificate, and a libcurl client that checks
 * the server's certificate against that web certificate.
 */
#ifndef SVRCERT_TEST_REST_FIXTURE_H
#define SVRCERT_TEST_REST_FIXTURE_H

#include <curl/curl.h>
#include <jansson.h>
#include <sys/resource.h>

#include "../pki/testpki.h"
#include "swtpm_fixture.h"

#define RF_BODY_MAX	(256 * 1024)

struct rest_fixture {
	struct swtpm_fixture tpm;
	char dir[64];			/* config, web cert, logs, socket */
	char state[128];
	char conf[128];
	char sock[128];
	char audit[128];
	char web_cert[128];
	char daemon_log[128];
	char base[64];			/* https://127.0.0.1:PORT */
	int port;
	pid_t daemon;
};

struct rf_resp {
	long status;
	char body[RF_BODY_MAX];
	size_t len;
	char retry_after[32];
	char www_auth[256];
};

static struct rest_fixture rf;
/* More [rest] lines for a test's daemon (set before rf_setup). */
static const char *rf_rest_extra = "";
/* More sections before [daemon] (e.g. a [peer]), more [daemon] lines. */
static const char *rf_conf_extra = "";
static const char *rf_daemon_extra = "";

static const char *rf_srcdir(void)
{
	const char *s = getenv("SVRCERT_SRCDIR");

	return s && *s ? s : ".";
}

static int rf_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

static int rf_write_config(void)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\npeering-common-name = r1\n"
		 "[trusted-ca \"test\"]\nfile = %s\n%s"
		 "[daemon]\nstate-dir = %s\ncontrol-socket = %s\naudit-log = %s\n%s"
		 "[rest]\nlisten = 127.0.0.1:%d\ncertificate = %s\n"
		 "key = %s/web.key\ntoken-lifetime = 10m\nbody-max = 16K\n%s",
		 testpki_path("bundle.pem"), rf_conf_extra, rf.state, rf.sock,
		 rf.audit, rf_daemon_extra, rf.port, rf.web_cert, rf.dir,
		 rf_rest_extra);
	return rf_write(rf.conf, text);
}

/* Add a REST user with svrcertctl, the password on standard input. */
static int rf_user_add(const char *name, const char *role, const char *pw)
{
	return fixture_sh("printf '%%s\\n' '%s' | %s/build/svrcertctl user add %s "
			  "--role %s --password-stdin --config %s", pw,
			  rf_srcdir(), name, role, rf.conf);
}

static int rf_start_daemon(void)
{
	char bin[512];
	int i, fd;

	snprintf(bin, sizeof(bin), "%s/build/svrcertd", rf_srcdir());
	rf.daemon = fork();
	if (rf.daemon < 0)
		return -1;
	if (rf.daemon == 0) {
		fd = open(rf.daemon_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(bin, "svrcertd", "--config", rf.conf, "--stderr",
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && !fixture_can_connect(rf.port); i++) {
		if (waitpid(rf.daemon, NULL, WNOHANG) == rf.daemon) {
			rf.daemon = 0;
			return -1;
		}
		usleep(50 * 1000);
	}
	return i < 200 ? 0 : -1;
}

static int rf_setup(void)
{
	struct rlimit rl = { 8192, 8192 };

	memset(&rf, 0, sizeof(rf));
	/* 1000 concurrent connections: both ends need the descriptors. */
	setrlimit(RLIMIT_NOFILE, &rl);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (testpki_setup() || swtpm_start(&rf.tpm) ||
	    fixture_tempdir(rf.dir, "rest"))
		return -1;
	snprintf(rf.state, sizeof(rf.state), "%s/state", rf.dir);
	snprintf(rf.conf, sizeof(rf.conf), "%s/svrcert.conf", rf.dir);
	snprintf(rf.sock, sizeof(rf.sock), "%s/control.sock", rf.dir);
	snprintf(rf.audit, sizeof(rf.audit), "%s/audit.log", rf.dir);
	snprintf(rf.web_cert, sizeof(rf.web_cert), "%s/web.pem", rf.dir);
	snprintf(rf.daemon_log, sizeof(rf.daemon_log), "%s/svrcertd.log", rf.dir);
	rf.port = fixture_bind_port(0);
	snprintf(rf.base, sizeof(rf.base), "https://127.0.0.1:%d", rf.port);
	if (rf.port <= 0 || rf_write_config() ||
	    fixture_sh("openssl req -x509 -newkey ec -pkeyopt "
		       "ec_paramgen_curve:P-256 -nodes -keyout %s/web.key -out "
		       "%s -days 2 -subj /CN=127.0.0.1 -addext "
		       "subjectAltName=IP:127.0.0.1 2>/dev/null", rf.dir,
		       rf.web_cert) ||
	    rf_user_add("admin", "admin", "Admin-Pass-1234") ||
	    rf_user_add("oper", "operator", "Oper-Pass-1234") ||
	    rf_user_add("victim", "admin", "Victim-Pass-1234"))
		return -1;
	return rf_start_daemon();
}

static void rf_teardown(void)
{
	if (rf.daemon > 0) {
		kill(rf.daemon, SIGTERM);
		waitpid(rf.daemon, NULL, 0);
	}
	if (getenv("SVRCERT_TEST_KEEP"))
		fprintf(stderr, "kept %s\n", rf.dir);
	else
		fixture_rm_rf(rf.dir);
	swtpm_stop(&rf.tpm);
	testpki_teardown();
	curl_global_cleanup();
}

static size_t rf_on_body(char *p, size_t sz, size_t n, void *u)
{
	struct rf_resp *r = u;
	size_t len = sz * n;

	if (r->len + len >= sizeof(r->body))
		return 0;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static void rf_header_value(const char *p, size_t len, const char *name,
			    char *out, size_t outlen)
{
	size_t n = strlen(name), v;

	if (len <= n || strncasecmp(p, name, n))
		return;
	for (p += n, len -= n; len && *p == ' '; p++, len--)
		;
	for (v = 0; v < len && v + 1 < outlen && p[v] != '\r' && p[v] != '\n'; v++)
		out[v] = p[v];
	out[v] = '\0';
}

static size_t rf_on_header(char *p, size_t sz, size_t n, void *u)
{
	struct rf_resp *r = u;

	rf_header_value(p, sz * n, "Retry-After:", r->retry_after,
			sizeof(r->retry_after));
	rf_header_value(p, sz * n, "WWW-Authenticate:", r->www_auth,
			sizeof(r->www_auth));
	return sz * n;
}

/* A configured easy handle; the caller frees it and *HDRS. */
static CURL *rf_easy(const char *method, const char *path, const char *token,
		     const char *body, struct rf_resp *r,
		     struct curl_slist **hdrs)
{
	CURL *c = curl_easy_init();
	char url[1024], auth[4096];

	memset(r, 0, sizeof(*r));
	*hdrs = NULL;
	snprintf(url, sizeof(url), "%s%s", rf.base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, rf.web_cert);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rf_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, rf_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		*hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		*hdrs = curl_slist_append(*hdrs, auth);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	return c;
}

/* One request from SOURCE (NULL: the default address); the HTTP status,
 * or -1 when the transfer itself failed. */
static long rf_request_from(const char *source, const char *method,
			    const char *path, const char *token,
			    const char *body, struct rf_resp *r)
{
	struct curl_slist *hdrs;
	CURL *c = rf_easy(method, path, token, body, r, &hdrs);
	CURLcode rc;

	if (source)
		curl_easy_setopt(c, CURLOPT_INTERFACE, source);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	return rc == CURLE_OK ? r->status : -1;
}

static long rf_request(const char *method, const char *path,
		       const char *token, const char *body, struct rf_resp *r)
{
	return rf_request_from(NULL, method, path, token, body, r);
}

/* The "error" message of a JSON error answer ("" when none). */
static const char *rf_error(struct rf_resp *r)
{
	static char msg[2048];
	json_t *o = json_loads(r->body, 0, NULL);
	const char *e = json_string_value(json_object_get(o, "error"));

	snprintf(msg, sizeof(msg), "%s", e ? e : "");
	json_decref(o);
	return msg;
}

/* Log in; the token (malloc'd) or NULL. */
static char *rf_login(const char *source, const char *user, const char *pw,
		      long *status)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char body[512];
	json_t *o;
	char *tok = NULL;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\","
		 "\"application\":\"test\"}", user, pw);
	*status = rf_request_from(source, "POST", "/api/v1/login", NULL, body, r);
	o = json_loads(r->body, 0, NULL);
	if (*status == 200 && json_string_value(json_object_get(o, "token")))
		tok = strdup(json_string_value(json_object_get(o, "token")));
	json_decref(o);
	free(r);
	return tok;
}

#endif
