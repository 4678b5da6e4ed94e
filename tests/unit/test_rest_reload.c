// SPDX-License-Identifier: GPL-2.0
/*
 * [rest] on reload, against the real daemon (test_rest_fixture.h): an
 * unchanged [rest] keeps the listener and its connections; a bad
 * certificate, a key that does not match or a port in use fails the
 * reload by name and the old listener keeps serving with the previous
 * configuration; a new port, lifetime or certificate (also renewed in
 * place, by SIGHUP) takes effect; a request in progress on the replaced
 * listener still completes; removing listen turns the API off, adding it
 * back on.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Not every fixture helper is used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "test_rest_fixture.h"
#pragma GCC diagnostic pop

#include "lib/ctlsock.h"
#include "rest/token.h"

static char *admin_tok;

static int group_setup(void **state)
{
	long st;

	if (rf_setup())
		return -1;
	admin_tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	return admin_tok ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(admin_tok);
	rf_teardown();
	return 0;
}

/* svrcert.conf as the fixture writes it, with PORT, CERT, KEY and the
 * token lifetime in minutes. */
static void write_conf(int port, const char *cert, const char *key, int minutes)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\npeering-common-name = r1\n"
		 "[trusted-ca \"test\"]\nfile = %s\n"
		 "[daemon]\nstate-dir = %s\ncontrol-socket = %s\naudit-log = %s\n"
		 "[rest]\nlisten = 127.0.0.1:%d\ncertificate = %s\n"
		 "key = %s\ntoken-lifetime = %dm\nbody-max = 16K\n",
		 testpki_path("bundle.pem"), rf.state, rf.sock, rf.audit, port,
		 cert, key, minutes);
	assert_int_equal(rf_write(rf.conf, text), 0);
}

static void use_port(int port)
{
	rf.port = port;
	snprintf(rf.base, sizeof(rf.base), "https://127.0.0.1:%d", port);
}

/* Reload over the control socket: 0, or -1 with the error in ERR. */
static int reload(char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s}", "command", "reload"), *resp = NULL;
	int ret = ctlsock_request(rf.sock, req, &resp);
	const char *e = json_string_value(json_object_get(resp, "error"));

	json_decref(req);
	snprintf(err, errlen, "%s", e ? e : "");
	ret = !ret && json_is_true(json_object_get(resp, "ok")) ? 0 : -1;
	json_decref(resp);
	return ret;
}

static char web_key[160];

/* A fresh token's exp - iat: the token lifetime in force. */
static long lifetime_now(void)
{
	char *tok, *d1, *d2;
	uint8_t *raw;
	size_t len;
	json_t *o;
	long st, v;

	tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	assert_int_equal(st, 200);
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	assert_int_equal(token_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &raw,
					     &len), 0);
	o = json_loadb((char *)raw, len, 0, NULL);
	v = (long)(json_integer_value(json_object_get(o, "exp")) -
		   json_integer_value(json_object_get(o, "iat")));
	json_decref(o);
	free(raw);
	free(tok);
	return v;
}

static int group_conf(void)
{
	snprintf(web_key, sizeof(web_key), "%s/web.key", rf.dir);
	return 0;
}

/* A keep-alive connection: its first GET, then the caller's. */
static CURL *keepalive(struct rf_resp *r, struct curl_slist **hdrs)
{
	CURL *c = rf_easy("GET", "/api/v1/stats", admin_tok, NULL, r, hdrs);

	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	assert_int_equal(r->status, 200);
	return c;
}

/* Another GET on C: 200, and whether it needed a new connection. */
static long again(CURL *c, struct rf_resp *r)
{
	long fresh = -1;

	r->len = 0;
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	assert_int_equal(r->status, 200);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &fresh);
	return fresh;
}

static void test_unchanged_keeps_connections(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct curl_slist *hdrs;
	char err[1024];
	CURL *c;

	group_conf();
	c = keepalive(r, &hdrs);
	assert_int_equal(again(c, r), 0);	/* keep-alive works at all */
	assert_int_equal(reload(err, sizeof(err)), 0);
	assert_int_equal(again(c, r), 0);	/* same connection, same server */
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(r);
}

/* A reload that must fail naming WHY, the old listener serving on. */
static void expect_refused(const char *why)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct curl_slist *hdrs;
	char err[1024];
	CURL *c = keepalive(r, &hdrs);

	assert_int_equal(reload(err, sizeof(err)), -1);
	fprintf(stderr, "# refused: %s\n", err);
	if (!strstr(err, why) || !strstr(err, "previous configuration kept"))
		fail_msg("reload error \"%s\" does not name \"%s\"", err, why);
	assert_int_equal(again(c, r), 0);	/* untouched */
	assert_int_equal(rf_request("GET", "/api/v1/alarms", admin_tok, NULL, r), 200);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(r);
}

static void test_bad_certificate_keeps_old(void **state)
{
	char bad[192], other[192];

	snprintf(bad, sizeof(bad), "%s/garbage.pem", rf.dir);
	assert_int_equal(rf_write(bad, "-----BEGIN CERTIFICATE-----\nnope\n"), 0);
	/* with another lifetime: none of the new configuration applies */
	write_conf(rf.port, bad, web_key, 30);
	expect_refused("garbage.pem");
	/* a certificate that does not belong to the key */
	snprintf(other, sizeof(other), "%s", testpki_path("r1.pem"));
	write_conf(rf.port, other, web_key, 30);
	expect_refused("does not match");
	assert_int_equal(lifetime_now(), 600);
	write_conf(rf.port, rf.web_cert, web_key, 10);
}

/* A TLS key group or others may read, and a configuration others may
 * write, are refused by name and mode; the old listener keeps serving. */
static void test_loose_permissions_refused(void **state)
{
	char loose[192], err[1024];

	snprintf(loose, sizeof(loose), "%s/loose.key", rf.dir);
	assert_int_equal(fixture_sh("cp %s %s && chmod 0644 %s", web_key, loose,
				    loose), 0);
	write_conf(rf.port, rf.web_cert, loose, 30);
	expect_refused("loose.key: mode 0644");
	assert_int_equal(chmod(loose, 0640), 0);
	expect_refused("loose.key: mode 0640");
	assert_int_equal(chmod(loose, 0600), 0);
	write_conf(rf.port, rf.web_cert, web_key, 10);
	/* (requests that read the configuration fail meanwhile, too) */
	assert_int_equal(chmod(rf.conf, 0666), 0);
	assert_int_equal(reload(err, sizeof(err)), -1);
	if (!strstr(err, "svrcert.conf: mode 0666: writable by group and others; chmod go-w"))
		fail_msg("reload error \"%s\"", err);
	assert_int_equal(chmod(rf.conf, 0620), 0);
	assert_int_equal(reload(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "svrcert.conf: mode 0620: writable by group; chmod g-w"));
	assert_int_equal(chmod(rf.conf, 0644), 0);
	assert_int_equal(reload(err, sizeof(err)), 0);
	assert_int_equal(lifetime_now(), 600);
}

static void test_port_in_use_keeps_old(void **state)
{
	int taken = fixture_bind_port(0), fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)taken) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	write_conf(taken, rf.web_cert, web_key, 10);
	expect_refused("Address already in use");
	close(fd);
	write_conf(rf.port, rf.web_cert, web_key, 10);
}

/* ---- changes that take effect --------------------------------------- */

struct bg_req {
	pthread_t th;
	struct rf_resp resp;
	atomic_bool done;
};

static void *bg_keygen(void *arg)
{
	struct bg_req *b = arg;

	rf_request("POST", "/api/v1/private-key", admin_tok, "{\"force\":true}",
		   &b->resp);
	atomic_store(&b->done, true);
	return NULL;
}

static int hold_swtpm(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)rf.tpm.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Until N clients are connected to swtpm (the daemon's TPM operation is
 * waiting inside the TPM behind ours): seen from the kernel's socket
 * table, so no sleep has to guess how long a TLS handshake takes. */
static void wait_tpm_clients(int n)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!fixture_sh("test $(ss -Htn state established '( dport = :%d )' "
				"| wc -l) -ge %d", rf.tpm.port, n))
			return;
		usleep(50 * 1000);
	}
	fail_msg("the daemon never reached the TPM");
}

static bool eventually_refused(int port)
{
	for (int i = 0; i < 50; i++) {
		if (!fixture_can_connect(port))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* New port and token lifetime; a key generation in progress on the old
 * listener (held up in the TPM) still completes there. */
static void test_port_change(void **state)
{
	struct bg_req *kg = calloc(1, sizeof(*kg));
	struct rf_resp *r = malloc(sizeof(*r));
	int old = rf.port, next = fixture_bind_port(0), tpm = hold_swtpm();
	char err[1024];

	atomic_init(&kg->done, false);
	assert_int_equal(pthread_create(&kg->th, NULL, bg_keygen, kg), 0);
	wait_tpm_clients(2);
	write_conf(next, rf.web_cert, web_key, 20);
	assert_int_equal(reload(err, sizeof(err)), 0);
	use_port(next);
	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	/* the old port stops accepting; its request in progress goes on */
	assert_true(eventually_refused(old));
	assert_false(atomic_load(&kg->done));
	close(tpm);
	pthread_join(kg->th, NULL);
	assert_int_equal(kg->resp.status, 201);
	/* the new lifetime; tokens issued before still valid */
	assert_int_equal(lifetime_now(), 1200);
	free(kg);
	free(r);
}

/* The web certificate renewed in place (same paths), then SIGHUP. */
static void test_renewed_certificate_sighup(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	int i;

	assert_int_equal(fixture_sh("openssl req -x509 -newkey ec -pkeyopt "
				    "ec_paramgen_curve:P-256 -nodes -keyout %s -out %s "
				    "-days 2 -subj /CN=127.0.0.1 -addext "
				    "subjectAltName=IP:127.0.0.1 2>/dev/null",
				    web_key, rf.web_cert), 0);
	/* clients now trust only the new one: the old one is still served */
	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), -1);
	assert_int_equal(kill(rf.daemon, SIGHUP), 0);
	for (i = 0; i < 50; i++) {
		if (rf_request("GET", "/api/v1/stats", admin_tok, NULL, r) == 200)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(r->status, 200);
	free(r);
}

/* [rest] listen removed: the API is off at the reload; back: on again. */
static void test_off_and_on(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char text[2048], err[1024];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\npeering-common-name = r1\n"
		 "[trusted-ca \"test\"]\nfile = %s\n"
		 "[daemon]\nstate-dir = %s\ncontrol-socket = %s\naudit-log = %s\n",
		 testpki_path("bundle.pem"), rf.state, rf.sock, rf.audit);
	assert_int_equal(rf_write(rf.conf, text), 0);
	assert_int_equal(reload(err, sizeof(err)), 0);
	assert_true(eventually_refused(rf.port));
	write_conf(rf.port, rf.web_cert, web_key, 10);
	assert_int_equal(reload(err, sizeof(err)), 0);
	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_keeps_connections),
		cmocka_unit_test(test_bad_certificate_keeps_old),
		cmocka_unit_test(test_loose_permissions_refused),
		cmocka_unit_test(test_port_in_use_keeps_old),
		cmocka_unit_test(test_port_change),
		cmocka_unit_test(test_renewed_certificate_sighup),
		cmocka_unit_test(test_off_and_on),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
