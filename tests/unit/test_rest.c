// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's REST API end to end: the real daemon (build/svrcertd) with
 * swtpm, the test PKI and libcurl over TLS on loopback. Login and tokens,
 * every rejection (401 missing/forged/expired, 403 scope, 413, 400 naming
 * the field, 429 per source and per user), the seed's provisioning flow
 * by API (TPM key -> CSR -> the test CA signs -> import -> GET), the audit
 * trail without secrets. Concurrency is test_rest_concurrency.c's, [rest]
 * on reload test_rest_reload.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "test_rest_fixture.h"

#include "lib/ctlsock.h"
#include "lib/store.h"
#include "rest/token.h"

static char *admin_tok, *oper_tok;

static int group_setup(void **state)
{
	/* svrcertd's peer keys on, with one (passive) peer to show */
	rf_conf_extra = "[peer \"r2\"]\naddress = 127.0.0.2\n";
	rf_daemon_extra = "peer-keys = yes\n";
	return rf_setup();
}

static int group_teardown(void **state)
{
	free(admin_tok);
	free(oper_tok);
	rf_teardown();
	return 0;
}

/* The token's payload, decoded. */
static json_t *token_payload(const char *tok)
{
	const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	uint8_t *raw;
	size_t len;
	json_t *o;

	if (!d2 || token_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &raw, &len))
		return NULL;
	o = json_loadb((char *)raw, len, 0, NULL);
	free(raw);
	return o;
}

static void test_login_token(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	json_t *p;
	long st;

	assert_null(rf_login(NULL, "admin", "wrong-password-1", &st));
	assert_int_equal(st, 401);
	assert_null(rf_login(NULL, "nobody", "Admin-Pass-1234", &st));
	assert_int_equal(st, 401);
	admin_tok = rf_login(NULL, "admin", "Admin-Pass-1234", &st);
	assert_int_equal(st, 200);
	oper_tok = rf_login(NULL, "oper", "Oper-Pass-1234", &st);
	assert_int_equal(st, 200);
	assert_non_null(admin_tok);
	assert_non_null(oper_tok);

	/* JWT-shaped, with the seed's claims and the configured lifetime */
	p = token_payload(admin_tok);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "admin");
	assert_string_equal(json_string_value(json_array_get(json_object_get(p, "roles"), 0)), "admin");
	assert_int_equal(json_array_size(json_object_get(p, "scopes")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(p, "scopes"), 0)), "configure");
	assert_int_equal(json_integer_value(json_object_get(p, "exp")) -
			 json_integer_value(json_object_get(p, "iat")), 600);
	json_decref(p);
	p = token_payload(oper_tok);
	assert_int_equal(json_array_size(json_object_get(p, "scopes")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(p, "scopes"), 0)), "show-commands");
	json_decref(p);

	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	free(r);
}

static char *sign_with(const uint8_t key[TOKEN_SECRET_LEN], int64_t iat,
		       int64_t exp, unsigned int scopes)
{
	struct token_claims c = { .role = USER_ROLE_ADMIN, .scopes = scopes,
				  .iat = iat, .exp = exp };
	char *tok = NULL;

	char path[256], err[256];
	struct user_db db;

	snprintf(c.name, sizeof(c.name), "admin");
	/* bound to admin's current credentials, as a login would */
	snprintf(path, sizeof(path), "%s/" USERS_FILE, rf.state);
	assert_int_equal(users_load(path, &db, err, sizeof(err)), 0);
	assert_int_equal(token_user_cred(key, users_find(&db, "admin"), c.cred), 0);
	users_free(&db);
	assert_int_equal(token_issue(key, &c, &tok), 0);
	return tok;
}

static void expect_401(const char *tok, const char *why)
{
	struct rf_resp *r = malloc(sizeof(*r));

	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 401);
	if (!strstr(rf_error(r), why))
		fail_msg("401 for \"%s\" without \"%s\"", rf_error(r), why);
	assert_non_null(strstr(r->www_auth, "Bearer"));
	free(r);
}

static void test_unauthenticated(void **state)
{
	uint8_t daemon_key[TOKEN_SECRET_LEN], other[TOKEN_SECRET_LEN];
	char path[256], *tok, *none, *swapped;
	time_t now = time(NULL);
	const char *d1, *d2;

	expect_401(NULL, "bearer token is required");
	expect_401("not-a-token", "malformed");
	/* expired: signed with the daemon's own secret, exp in the past */
	snprintf(path, sizeof(path), "%s/rest-token.key", rf.state);
	assert_int_equal(token_secret_load(path, daemon_key), 0);
	tok = sign_with(daemon_key, now - 700, now - 100, SCOPE_ALL);
	expect_401(tok, "expired");
	free(tok);
	/* the same, valid, is accepted: the rejection above was the time */
	tok = sign_with(daemon_key, now, now + 100, SCOPE_ALL);
	{
		struct rf_resp *r = malloc(sizeof(*r));

		assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 200);
		free(r);
	}
	free(tok);
	/* forged: another key */
	memset(other, 0x5a, sizeof(other));
	tok = sign_with(other, now, now + 100, SCOPE_ALL);
	expect_401(tok, "signature");
	free(tok);
	/* the operator's signature on the admin's payload */
	d1 = strchr(admin_tok, '.');
	d2 = strrchr(oper_tok, '.');
	assert_true(asprintf(&swapped, "%.*s%s", (int)(strrchr(admin_tok, '.') - admin_tok),
			     admin_tok, d2) > 0);
	expect_401(swapped, "signature");
	free(swapped);
	/* "alg":"none" with the admin's payload and no signature */
	assert_true(asprintf(&none, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0%.*s.",
			     (int)(strrchr(admin_tok, '.') - d1), d1) > 0);
	expect_401(none, "malformed");
	free(none);
	/* unknown paths need a token too: nothing is learnt without one */
	expect_401(NULL, "bearer token");
}

/* GET /alarms lists svrcertd's per-peer alarms (STATE_DIR/peer-alarms.json)
 * after the own certificate's, as svrcertctl show alarms does. */
static void assert_peer_alarm_listed(struct rf_resp *r)
{
	static const char peers[] = "[{\"id\": \"peer-key\", \"peer\": \"r2\", \"severity\": \"critical\", \"state\": \"invalid\", \"message\": \"peer r2 key is invalid\", \"raised\": \"2026-12-06T01:02:03Z\"}]";
	char path[PATH_MAX];
	json_t *o, *a, *found = NULL;
	size_t i;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/" STORE_PEER_ALARMS, rf.state);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(peers, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rf_request("GET", "/api/v1/alarms", oper_tok, NULL, r), 200);
	unlink(path);
	o = json_loads(r->body, 0, NULL);
	json_array_foreach(json_object_get(o, "alarms"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "id")) ?: "", "peer-key"))
			found = a;
	assert_non_null(found);
	assert_string_equal(json_string_value(json_object_get(found, "peer")), "r2");
	assert_string_equal(json_string_value(json_object_get(found, "severity")), "critical");
	json_decref(o);
}

static void test_scope(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));

	assert_int_equal(rf_request("GET", "/api/v1/stats", oper_tok, NULL, r), 200);
	assert_int_equal(rf_request("GET", "/api/v1/alarms", oper_tok, NULL, r), 200);
	assert_peer_alarm_listed(r);
	assert_int_equal(rf_request("GET", "/api/v1/crl", oper_tok, NULL, r), 200);
	assert_int_equal(rf_request("POST", "/api/v1/private-key", oper_tok, "{}", r), 403);
	assert_non_null(strstr(rf_error(r), "configure"));
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request", oper_tok, NULL, r), 403);
	assert_int_equal(rf_request("GET", "/api/v1/certificate-request", oper_tok, NULL, r), 403);
	assert_int_equal(rf_request("POST", "/api/v1/certificate", oper_tok,
				    "{\"certificate\":\"x\"}", r), 403);
	assert_int_equal(rf_request("POST", "/api/v1/crl/fetch", oper_tok, "{}", r), 403);
	/* wrong method and unknown resource, with a token */
	assert_int_equal(rf_request("DELETE", "/api/v1/stats", admin_tok, NULL, r), 405);
	assert_int_equal(rf_request("PUT", "/api/v1/certificate-request", admin_tok,
				    NULL, r), 405);
	assert_non_null(strstr(rf_error(r), "use GET, POST"));
	assert_int_equal(rf_request("GET", "/api/v1/nothing", admin_tok, NULL, r), 404);
	free(r);
}

static void test_body_limit(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct curl_slist *hdrs;
	size_t n = 17 * 1024;
	char *big = malloc(n + 32);
	CURL *c;

	memset(big, 'a', n + 31);
	memcpy(big, "{\"certificate\":\"", 16);
	strcpy(big + n, "\"}");
	/* declared by Content-Length */
	assert_int_equal(rf_request("POST", "/api/v1/certificate", admin_tok, big, r), 413);
	assert_non_null(strstr(rf_error(r), "larger than 16384"));
	/* chunked: found while reading */
	c = rf_easy("POST", "/api/v1/certificate", admin_tok, big, r, &hdrs);
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	assert_int_equal(r->status, 413);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	/* just under the limit is read and judged on its content (no key
	 * yet: 409; with one: 422 for the junk) */
	big[16000] = '\0';
	strcpy(big + 15990, "\"}");
	rf_request("POST", "/api/v1/certificate", admin_tok, big, r);
	assert_true(r->status == 409 || r->status == 422);
	assert_non_null(strstr(r->body, "\"error\""));
	free(big);
	free(r);
}

static void expect_400(const char *method, const char *path, const char *tok,
		       const char *body, const char *field)
{
	struct rf_resp *r = malloc(sizeof(*r));

	assert_int_equal(rf_request(method, path, tok, body, r), 400);
	if (!strstr(rf_error(r), field))
		fail_msg("%s %s %s: 400 \"%s\" does not name %s", method, path,
			 body ? body : "", rf_error(r), field);
	free(r);
}

static void test_fields(void **state)
{
	expect_400("POST", "/api/v1/login", NULL, "{\"username\":\"admin\"}", "\"password\"");
	expect_400("POST", "/api/v1/login", NULL, "{\"username\":7,\"password\":\"x\"}",
		   "\"username\"");
	expect_400("POST", "/api/v1/login", NULL,
		   "{\"username\":\"a\",\"password\":\"b\",\"role\":\"admin\"}", "\"role\"");
	expect_400("POST", "/api/v1/login", NULL, "[1,2]", "JSON object");
	expect_400("POST", "/api/v1/login", NULL, "{\"username\":", "not valid JSON");
	expect_400("POST", "/api/v1/private-key", admin_tok, "{\"algorithm\":\"DSA\"}",
		   "\"algorithm\"");
	expect_400("POST", "/api/v1/private-key", admin_tok, "{\"curve\":\"P-999\"}", "\"curve\"");
	expect_400("POST", "/api/v1/private-key", admin_tok,
		   "{\"algorithm\":\"RSA\",\"bits\":1024}", "\"bits\"");
	expect_400("POST", "/api/v1/private-key", admin_tok, "{\"force\":\"yes\"}", "\"force\"");
	expect_400("POST", "/api/v1/certificate", admin_tok, "{}", "\"certificate\"");
	expect_400("POST", "/api/v1/certificate", admin_tok, "{\"certificate\":[]}",
		   "\"certificate\"");
	expect_400("POST", "/api/v1/certificate-request?country=USA", admin_tok, NULL,
		   "\"country\"");
	expect_400("POST", "/api/v1/certificate-request?days=0", admin_tok, NULL, "\"days\"");
	expect_400("POST", "/api/v1/certificate-request?subject=x", admin_tok, NULL,
		   "\"subject\"");
	expect_400("POST", "/api/v1/crl/fetch", admin_tok, "{\"url\":5}", "\"url\"");
	expect_400("POST", "/api/v1/crl/fetch", admin_tok, "{\"force\":1}", "\"force\"");
	expect_400("POST", "/api/v1/crl/fetch", admin_tok, "{\"issuer\":\"x\"}", "\"issuer\"");
}

static char *json_body(const char *field, const char *value)
{
	json_t *o = json_pack("{s:s}", field, value);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

static json_int_t stat_value(const char *key)
{
	struct rf_resp *r = malloc(sizeof(*r));
	json_t *o;
	json_int_t v;

	assert_int_equal(rf_request("GET", "/api/v1/stats", admin_tok, NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	v = json_integer_value(json_object_get(json_object_get(o, "counters"), key));
	json_decref(o);
	free(r);
	return v;
}

/* How many system.generate_csr events the audit log holds. */
static int csr_events(void)
{
	char *log = NULL, *p;
	int n = 0;

	if (store_read_path(rf.audit, &log, NULL))
		return 0;
	for (p = log; (p = strstr(p, "\"type\":\"system.generate_csr\"")); p++)
		n++;
	free(log);
	return n;
}

/* What a CSR request may change: the stored CSR (its text and time), the
 * CSR counters and the audit's generate_csr events. */
struct csr_trace {
	char *pem;
	struct timespec mtime;
	json_int_t ok, failed;
	int events;
};

static void csr_trace_take(struct csr_trace *t)
{
	char path[256];
	struct stat sb;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/csr.pem", rf.state);
	if (!stat(path, &sb)) {
		t->mtime = sb.st_mtim;
		assert_int_equal(store_read_path(path, &t->pem, NULL), 0);
	}
	t->ok = stat_value("csr.success");
	t->failed = stat_value("csr.failure");
	t->events = csr_events();
}

static void csr_trace_same(struct csr_trace *before)
{
	struct csr_trace now;

	csr_trace_take(&now);
	if (before->pem || now.pem)
		assert_string_equal(before->pem ? before->pem : "(none)",
				    now.pem ? now.pem : "(none)");
	assert_int_equal(before->mtime.tv_sec, now.mtime.tv_sec);
	assert_int_equal(before->mtime.tv_nsec, now.mtime.tv_nsec);
	assert_int_equal(before->ok, now.ok);
	assert_int_equal(before->failed, now.failed);
	assert_int_equal(before->events, now.events);
	free(now.pem);
	free(before->pem);
}

/* Before any CSR: GET is 404 saying how to make one, and tries to make
 * none (no key yet: an attempt would count and audit a failure). */
static void test_csr_get_none(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct csr_trace t;

	csr_trace_take(&t);
	assert_null(t.pem);
	assert_int_equal(rf_request("GET", "/api/v1/certificate-request", admin_tok,
				    NULL, r), 404);
	assert_non_null(strstr(rf_error(r), "no CSR has been made"));
	assert_non_null(strstr(rf_error(r), "POST /api/v1/certificate-request"));
	csr_trace_same(&t);
	free(r);
}

/* GET has no side effects: it answers the CSR the last POST made, and
 * the stored CSR, counters and audit stay as they were; fields on a GET
 * are 400 (they would ask for a new CSR). */
static void test_csr_get_no_side_effects(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	struct csr_trace t;
	json_t *o;
	int i;

	csr_trace_take(&t);
	assert_non_null(t.pem);
	for (i = 0; i < 2; i++) {
		assert_int_equal(rf_request("GET", "/api/v1/certificate-request",
					    admin_tok, NULL, r), 200);
		o = json_loads(r->body, 0, NULL);
		assert_string_equal(json_string_value(json_object_get(o, "csr")), t.pem);
		assert_string_equal(json_string_value(json_object_get(o, "common_name")),
				    "r1");
		json_decref(o);
	}
	assert_int_equal(rf_request("GET", "/api/v1/certificate-request?days=30",
				    admin_tok, NULL, r), 400);
	assert_non_null(strstr(rf_error(r), "POST"));
	assert_int_equal(rf_request("GET", "/api/v1/certificate-request", admin_tok,
				    "{\"common_name\":\"x\"}", r), 400);
	assert_non_null(strstr(rf_error(r), "POST"));
	csr_trace_same(&t);
	free(r);
}

static void import_file(const char *file, long want_status, int want_step)
{
	struct rf_resp *r = malloc(sizeof(*r));
	size_t len;
	uint8_t *pem = testpki_read(file, &len);
	char *body;
	json_t *o;

	assert_non_null(pem);
	body = json_body("certificate", (char *)pem);
	assert_int_equal(rf_request("POST", "/api/v1/certificate", admin_tok, body, r),
			 want_status);
	o = json_loads(r->body, 0, NULL);
	if (want_step)
		assert_int_equal(json_integer_value(json_object_get(o, "step")), want_step);
	json_decref(o);
	free(body);
	free(pem);
	free(r);
}

static void test_provisioning(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char path[256], *body, *pem, fp[128];
	json_t *o;

	json_int_t ok0 = stat_value("certificate-import.success");
	json_int_t fail0 = stat_value("certificate-import.failure");
	json_int_t csr0 = stat_value("csr.success");

	assert_int_equal(rf_request("POST", "/api/v1/private-key", admin_tok,
				    "{\"algorithm\":\"RSA\",\"bits\":4096}", r), 501);
	assert_non_null(strstr(rf_error(r), "cannot make RSA 4096"));
	assert_int_equal(rf_request("GET", "/api/v1/certificate", admin_tok, NULL, r), 404);
	/* 1. the key, made in swtpm */
	assert_int_equal(rf_request("POST", "/api/v1/private-key", admin_tok, "{}", r), 201);
	o = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "curve")), "P-256");
	assert_non_null(strstr(json_string_value(json_object_get(o, "public_key")),
			       "BEGIN PUBLIC KEY"));
	json_decref(o);
	snprintf(path, sizeof(path), "%s/key.pem", rf.state);
	assert_int_equal(fixture_sh("grep -q 'BEGIN TSS2 PRIVATE KEY' %s", path), 0);
	assert_int_equal(rf_request("POST", "/api/v1/private-key", admin_tok, "{}", r), 409);
	/* 2. the CSR */
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request?organization="
				    "svrcert%20test&country=DE&days=30", admin_tok, NULL, r), 201);
	o = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "common_name")), "r1");
	snprintf(path, sizeof(path), "%s/api.csr", rf.dir);
	assert_int_equal(rf_write(path, json_string_value(json_object_get(o, "csr"))), 0);
	json_decref(o);
	assert_int_equal(fixture_sh("openssl req -in %s -noout -verify -subject 2>&1 | "
				    "grep -q 'O = svrcert test, CN = r1'", path), 0);
	/* 3. the CA signs it */
	assert_int_equal(fixture_sh("%s/tests/pki/mkpki.sh sign %s %s %s/api.pem >/dev/null",
				    rf_srcdir(), testpki_path(""), path, rf.dir), 0);
	/* 4. import: wrong key and private-key files are refused first */
	import_file("r1.pem", 422, 2);
	import_file("bad-withkey.pem", 422, 1);
	snprintf(path, sizeof(path), "%s/api.pem", rf.dir);
	assert_int_equal(store_read_path(path, &pem, NULL), 0);
	body = json_body("certificate", pem);
	assert_int_equal(rf_request("POST", "/api/v1/certificate", admin_tok, body, r), 200);
	o = json_loads(r->body, 0, NULL);
	snprintf(fp, sizeof(fp), "%s",
		 json_string_value(json_object_get(o, "fingerprint_sha256")));
	json_decref(o);
	free(body);
	free(pem);
	/* 5. what is installed now */
	assert_int_equal(rf_request("GET", "/api/v1/certificate", admin_tok, NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "valid");
	assert_string_equal(json_string_value(json_object_get(o, "fingerprint_sha256")), fp);
	assert_non_null(strstr(json_string_value(json_object_get(o, "subject")), "CN=r1"));
	json_decref(o);
	assert_int_equal(stat_value("certificate-import.success"), ok0 + 1);
	assert_int_equal(stat_value("certificate-import.failure"), fail0 + 2);
	assert_int_equal(stat_value("csr.success"), csr0 + 1);
	free(r);
}

/* Control characters in CSR subject fields: 400 naming field and
 * character, by query and by body; svrcertctl csr --cn the same. */
static void test_csr_control_characters(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char log[256];

	assert_int_equal(rf_request("POST", "/api/v1/certificate-request?organization="
				    "a%0Ab", admin_tok, NULL, r), 400);
	assert_non_null(strstr(rf_error(r), "organization: control character U+000A"));
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request", admin_tok,
				    "{\"common_name\":\"r1\\u001b[2J\"}", r), 400);
	assert_non_null(strstr(rf_error(r), "common name: control character U+001B"));
	assert_int_equal(rf_request("POST", "/api/v1/certificate-request", admin_tok,
				    "{\"locality\":\"x\\u009b\"}", r), 400);
	assert_non_null(strstr(rf_error(r), "locality: control character U+009B"));
	snprintf(log, sizeof(log), "%s/csr-cli.err", rf.dir);
	assert_int_equal(fixture_sh("%s/build/svrcertctl csr --cn \"$(printf 'r1\\033[2J')\" "
				    "--config %s 2>%s", rf_srcdir(), rf.conf, log), 1);
	assert_int_equal(fixture_sh("grep -q 'common name: control character U+001B' %s",
				    log), 0);
	free(r);
}

static void test_node_scoped(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char host[256], path[512];

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(path, sizeof(path), "/api/v1/router/r1/node/%s/certificate", host);
	assert_int_equal(rf_request("GET", path, oper_tok, NULL, r), 200);
	assert_int_equal(rf_request("GET", path, NULL, NULL, r), 401);
	snprintf(path, sizeof(path), "/api/v1/router/r2/node/%s/stats", host);
	assert_int_equal(rf_request("GET", path, oper_tok, NULL, r), 404);
	assert_non_null(strstr(rf_error(r), "not this node"));
	assert_int_equal(rf_request("GET", "/api/v1/router/r1/node/other/stats",
				    oper_tok, NULL, r), 404);
	assert_int_equal(rf_request("POST", "/api/v1/router/r1/node/x/login", NULL, "{}", r), 401);
	free(r);
}

static void test_crl(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	bool has_manager;
	json_t *o;

	assert_int_equal(rf_request("GET", "/api/v1/crl", oper_tok, NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	assert_true(json_is_array(json_object_get(o, "held")));
	assert_int_equal(json_integer_value(json_object_get(o, "polling_interval_s")), 86400);
	/* svrcertd's CRL manager answers through the control socket once
	 * it is in the loop; until then both endpoints say so plainly */
	has_manager = json_is_object(json_object_get(o, "manager"));
	fprintf(stderr, "# svrcertd's CRL manager %s\n", has_manager ?
		"answers: expecting 202 / 409" : "is absent: expecting 501");
	if (!has_manager)
		assert_non_null(strstr(json_string_value(json_object_get(o, "manager")),
				       "does not fetch CRLs"));
	json_decref(o);
	rf_request("POST", "/api/v1/crl/fetch", admin_tok, "{\"force\":true}", r);
	if (has_manager) {
		assert_int_equal(r->status, 202);
		o = json_loads(r->body, 0, NULL);
		assert_true(json_is_array(json_object_get(o, "started")));
		json_decref(o);
		assert_int_equal(rf_request("POST", "/api/v1/crl/fetch", admin_tok,
					    "{\"url\":\"http://127.0.0.1:1/x.crl\"}", r), 409);
		assert_non_null(strstr(rf_error(r), "not a configured CRL url"));
	} else {
		assert_int_equal(r->status, 501);
		assert_non_null(strstr(rf_error(r), "does not fetch CRLs"));
	}
	free(r);
}

/* GET /peers/security: what `svrcertctl show peers security -j` prints,
 * for any role that may read, only with a token, and never key bytes. */
static void test_peers_security(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char *ctl_out, host[256], path[512];
	json_t *o, *k, *cli, *v;
	const char *field;
	FILE *p;

	assert_int_equal(rf_request("GET", "/api/v1/peers/security", NULL, NULL, r), 401);
	assert_int_equal(rf_request("GET", "/api/v1/peers/security", oper_tok, NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	assert_true(json_is_array(o));
	assert_int_equal(json_array_size(o), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, 0), "name")),
			    "r2");
	k = json_object_get(json_array_get(o, 0), "keys");
	assert_string_equal(json_string_value(json_object_get(k, "state")), "none");
	assert_true(json_is_integer(json_object_get(k, "spi_in")));
	assert_true(json_is_null(json_object_get(k, "established")));
	/* the fields of the view only: no key, salt or secret anywhere */
	json_object_foreach(k, field, v) {
		snprintf(path, sizeof(path), " %s ", field);
		assert_non_null(strstr(" state index spi_in spi_out algorithm established "
				       "last_rekey rekeys last_failure failures ", path));
	}
	assert_null(strstr(r->body, "salt"));
	assert_null(strstr(r->body, "secret"));
	/* the same document as the CLI's, field for field */
	assert_true(asprintf(&ctl_out, "%s/build/svrcertctl --config %s show peers "
			     "security -j", rf_srcdir(), rf.conf) > 0);
	p = popen(ctl_out, "r");
	assert_non_null(p);
	cli = json_loadf(p, 0, NULL);
	assert_int_equal(pclose(p), 0);
	assert_true(json_equal(cli, o));
	json_decref(cli);
	free(ctl_out);
	json_decref(o);
	/* node-scoped too */
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(path, sizeof(path), "/api/v1/router/r1/node/%s/peers/security", host);
	assert_int_equal(rf_request("GET", path, admin_tok, NULL, r), 200);
	free(r);
}

/* GET /conductor: what `svrcertctl show conductor -j` prints (here
 * neither a conductor nor a [crl] conductor: both null), only with a
 * token. The counts themselves: test_daemon_conductor_e2e. */
static void test_conductor_status(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char *cmd;
	json_t *o, *cli;
	FILE *p;

	assert_int_equal(rf_request("GET", "/api/v1/conductor", NULL, NULL, r), 401);
	assert_int_equal(rf_request("GET", "/api/v1/conductor", oper_tok, NULL, r), 200);
	o = json_loads(r->body, 0, NULL);
	assert_true(json_is_null(json_object_get(o, "conductor")));
	assert_true(json_is_null(json_object_get(o, "source")));
	assert_int_equal(json_object_size(o), 2);
	assert_true(asprintf(&cmd, "%s/build/svrcertctl --config %s show "
			     "conductor -j", rf_srcdir(), rf.conf) > 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	cli = json_loadf(p, 0, NULL);
	assert_int_equal(pclose(p), 0);
	assert_true(json_equal(cli, o));
	json_decref(cli);
	json_decref(o);
	free(cmd);
	free(r);
}

static void test_deleted_user(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char *tok;
	long st;

	assert_int_equal(rf_user_add("temp", "operator", "Temp-Pass-1234"), 0);
	tok = rf_login(NULL, "temp", "Temp-Pass-1234", &st);
	assert_int_equal(st, 200);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 200);
	assert_int_equal(fixture_sh("%s/build/svrcertctl user del temp --config %s",
				    rf_srcdir(), rf.conf), 0);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 401);
	assert_non_null(strstr(rf_error(r), "no longer exists"));
	free(tok);
	free(r);
}

/* A token is tied to its user's current credentials: a password change,
 * a delete and re-add under the same name and password, and
 * `user revoke-tokens` each end the tokens issued before. */
static void test_token_credentials(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char *tok, *other;
	long st;

	assert_int_equal(rf_user_add("cred", "operator", "Cred-Pass-1234"), 0);
	other = rf_login(NULL, "oper", "Oper-Pass-1234", &st);
	tok = rf_login(NULL, "cred", "Cred-Pass-1234", &st);
	assert_int_equal(st, 200);
	assert_int_equal(fixture_sh("printf '%%s\\n' Cred-Pass-5678 | %s/build/svrcertctl "
				    "user passwd cred --password-stdin --config %s",
				    rf_srcdir(), rf.conf), 0);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 401);
	assert_non_null(strstr(rf_error(r), "credentials changed"));
	free(tok);

	tok = rf_login(NULL, "cred", "Cred-Pass-5678", &st);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 200);
	assert_int_equal(fixture_sh("%s/build/svrcertctl user del cred --config %s",
				    rf_srcdir(), rf.conf), 0);
	assert_int_equal(rf_user_add("cred", "operator", "Cred-Pass-5678"), 0);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 401);
	free(tok);

	tok = rf_login(NULL, "cred", "Cred-Pass-5678", &st);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 200);
	assert_int_equal(fixture_sh("%s/build/svrcertctl user revoke-tokens cred "
				    "--config %s", rf_srcdir(), rf.conf), 0);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 401);
	assert_int_equal(fixture_sh("%s/build/svrcertctl user revoke-tokens ghost "
				    "--config %s 2>/dev/null", rf_srcdir(), rf.conf), 1);
	/* the password still works, and other users' tokens were untouched */
	free(tok);
	tok = rf_login(NULL, "cred", "Cred-Pass-5678", &st);
	assert_int_equal(rf_request("GET", "/api/v1/stats", tok, NULL, r), 200);
	assert_int_equal(rf_request("GET", "/api/v1/stats", other, NULL, r), 200);
	free(tok);
	free(other);
	free(r);
}

static void test_audit(void **state)
{
	char *log = NULL, *sig = strrchr(admin_tok, '.') + 1;
	size_t len;

	assert_int_equal(store_read_path(rf.audit, &log, &len), 0);
	assert_non_null(strstr(log, "\"type\":\"system.rest_request\""));
	assert_non_null(strstr(log, "\"type\":\"system.ingest_certificate\""));
	assert_non_null(strstr(log, "\"type\":\"system.generate_csr\""));
	/* who, and whether it was permitted */
	assert_non_null(strstr(log, "\"description\":\"REST POST /api/v1/login\",\"detail\":"
			       "{\"method\":\"POST\",\"path\":\"/api/v1/login\",\"user\":\"admin\""));
	assert_non_null(strstr(log, "\"status\":401"));
	assert_non_null(strstr(log, "\"status\":403"));
	assert_non_null(strstr(log, "\"permitted\":false"));
	assert_non_null(strstr(log, "\"user\":\"oper\",\"source\":\"127.0.0.1\","
			       "\"status\":200,\"application\":\"test\"},\"permitted\":true"));
	/* no secrets: passwords, tokens, signatures */
	assert_null(strstr(log, "Admin-Pass-1234"));
	assert_null(strstr(log, "Oper-Pass-1234"));
	assert_null(strstr(log, "wrong-password-1"));
	assert_null(strstr(log, sig));
	assert_null(strstr(log, "eyJ"));
	free(log);
}

/* Last: it locks 127.0.0.1 out of logging in. */
static void test_throttle(void **state)
{
	struct rf_resp *r = malloc(sizeof(*r));
	char *tok;
	long st;
	int i;

	for (i = 0; i < 5; i++) {
		assert_null(rf_login("127.0.0.1", "victim", "guess-guess-1", &st));
		assert_int_equal(st, 401);
	}
	/* locked now, even with the right password */
	assert_null(rf_login("127.0.0.1", "victim", "Victim-Pass-1234", &st));
	assert_int_equal(st, 429);
	/* per user: from another source too */
	assert_null(rf_login("127.0.0.2", "victim", "Victim-Pass-1234", &st));
	assert_int_equal(st, 429);
	/* per source: another user from the same source */
	assert_null(rf_login("127.0.0.1", "admin", "Admin-Pass-1234", &st));
	assert_int_equal(st, 429);
	/* another user from another source is not affected */
	tok = rf_login("127.0.0.2", "admin", "Admin-Pass-1234", &st);
	assert_int_equal(st, 200);
	free(tok);
	/* Retry-After says how long */
	assert_int_equal(rf_request_from("127.0.0.1", "POST", "/api/v1/login", NULL,
					 "{\"username\":\"victim\",\"password\":\"x\"}", r), 429);
	assert_true(atoi(r->retry_after) > 0 && atoi(r->retry_after) <= 900);
	/* tokens already issued still work: only logins are throttled */
	assert_int_equal(rf_request_from("127.0.0.1", "GET", "/api/v1/stats", admin_tok,
					 NULL, r), 200);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_token),
		cmocka_unit_test(test_unauthenticated),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_csr_get_none),
		cmocka_unit_test(test_provisioning),
		cmocka_unit_test(test_csr_get_no_side_effects),
		cmocka_unit_test(test_csr_control_characters),
		cmocka_unit_test(test_node_scoped),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_peers_security),
		cmocka_unit_test(test_conductor_status),
		cmocka_unit_test(test_deleted_user),
		cmocka_unit_test(test_token_credentials),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_throttle),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
