// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation keys from canonical issuer names (issue 13 item 10), end to
 * end through the real daemon: this router's certificate names its issuer
 * as the intermediate's subject in another spelling (PrintableString, upper
 * case, extra white space: NIST PKITS 4.3 name chaining, a valid chain in
 * OpenSSL), and the intermediate's CRL, served by tests/unit/crl_server.py,
 * revokes that serial under the intermediate's own subject bytes. svrcertd
 * must find its certificate revoked (certificate-invalid alarm, state
 * revoked), which it never did while keys hashed the issuer's bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "../pki/testpki.h"

#include <openssl/x509v3.h>

#include "lib/ctlsock.h"
#include "lib/store.h"
#include "pki/import_trust.h"

static pid_t daemon_pid;
static char sock[PATH_MAX];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_conf(void)
{
	char text[3 * PATH_MAX];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\npeering-common-name = r1\n"
		 "[crl]\nurl = http://127.0.0.1:%d/crl/int.crl\n"
		 "polling-interval = 1h\nbackoff-interval = 1s\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_port, fx_dir, sock, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

#define SERIAL 0x5eed

/* NAME with every value a PrintableString "  UPPER  CASE " of its text. */
static X509_NAME *respelled(const X509_NAME *name)
{
	X509_NAME *out = X509_NAME_new();

	assert_non_null(out);
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
		char text[256];
		int n = 0;

		n += snprintf(text, sizeof(text), "  ");
		for (int j = 0; j < ASN1_STRING_length(v) && n < 250; j++) {
			unsigned char c = ASN1_STRING_get0_data(v)[j];

			text[n++] = c >= 'a' && c <= 'z' ? c - 32 : c;
			if (c == ' ')
				text[n++] = ' ';
		}
		text[n++] = ' ';
		assert_int_equal(X509_NAME_add_entry_by_OBJ(out,
			X509_NAME_ENTRY_get_object(e), V_ASN1_PRINTABLESTRING,
			(unsigned char *)text, n, -1, 0), 1);
	}
	return out;
}

/* r1.pem re-issued by the intermediate under a respelled issuer name. */
static X509 *respelled_cert(void)
{
	X509 *ca = testpki_cert("int.pem"), *x = testpki_cert("r1.pem");
	X509_NAME *iss = respelled(X509_get_subject_name(ca));
	EVP_PKEY *key = testpki_key("int.key");

	assert_int_equal(X509_NAME_cmp(iss, X509_get_subject_name(ca)), 0);
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), SERIAL) &&
		    X509_set_issuer_name(x, iss) &&
		    X509_sign(x, key, EVP_sha256()) > 0);
	assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
	X509_NAME_free(iss);
	EVP_PKEY_free(key);
	X509_free(ca);
	return x;
}

/* The intermediate's CRL (number 1) revoking SERIAL, to FILE (DER). */
static void write_crl(const char *file)
{
	X509 *ca = testpki_cert("int.pem");
	EVP_PKEY *key = testpki_key("int.key");
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new(), *num = ASN1_INTEGER_new();
	ASN1_TIME *now = X509_gmtime_adj(NULL, -60), *next = X509_gmtime_adj(NULL, 86400);
	unsigned char *der = NULL;
	int len;

	assert_true(crl && r && serial && num && now && next &&
		    ASN1_INTEGER_set(serial, SERIAL) && ASN1_INTEGER_set(num, 1) &&
		    X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) &&
		    X509_CRL_set1_lastUpdate(crl, now) &&
		    X509_CRL_set1_nextUpdate(crl, next) &&
		    X509_REVOKED_set_serialNumber(r, serial) &&
		    X509_REVOKED_set_revocationDate(r, now) &&
		    X509_CRL_add0_revoked(crl, r) &&
		    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) &&
		    X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	len = i2d_X509_CRL(crl, &der);
	assert_true(len > 0);
	fx_save(file, der, (size_t)len);
	OPENSSL_free(der);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(serial);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	X509_free(ca);
}

/* The state directory of a provisioned router: key, trusted CA bundle and
 * the respelled-issuer certificate. No CRL held yet. */
static void provision(void)
{
	struct svrcert_store st;
	struct svrcert_problems p;
	char dir[PATH_MAX], err[256];
	X509 *x = respelled_cert();
	BIO *pem = BIO_new(BIO_s_mem());
	char *buf;
	long len;

	fx_path(dir, sizeof(dir), "state");
	fx_run("mkdir -p state && cp '%s' state/" STORE_KEY " && openssl pkey "
	       "-in '%s' -pubout -out state/" STORE_PUBKEY,
	       testpki_path("r1.key"), testpki_path("r1.key"));
	assert_int_equal(store_open(&st, dir), 0);
	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&st, "root", testpki_path("bundle.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), 0);
	svrcert_problems_free(&p);
	assert_true(pem && PEM_write_bio_X509(pem, x));
	len = BIO_get_mem_data(pem, &buf);
	assert_int_equal(store_write(&st, STORE_CERT, buf, (size_t)len, 0644), 0);
	BIO_free(pem);
	X509_free(x);
	store_unlock(&st);
	store_close(&st);
	write_crl("canon.crl.der");
}

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (testpki_setup() || fx_setup_dir("dcrlcanon"))
		return -1;
	fx_run("mkdir -p www");
	fx_path(www, sizeof(www), "www");
	fx_path(sock, sizeof(sock), "ctl.sock");
	if (fx_start_server(www))
		return -1;
	write_conf();
	provision();
	return 0;
}

static void stop_daemon(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	daemon_pid = 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	testpki_teardown();
	return fx_teardown();
}

static void start_daemon(void)
{
	char prog[PATH_MAX + 32], conf[PATH_MAX], log[PATH_MAX];
	int i, fd;

	snprintf(prog, sizeof(prog), "%s/../svrcertd", fx_bindir);
	fx_path(conf, sizeof(conf), "svrcert.conf");
	fx_path(log, sizeof(log), "daemon.log");
	daemon_pid = fork();
	if (daemon_pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* The periodic check must not be what notices. */
		execl(prog, prog, "-c", conf, "--check-interval", "3600",
		      "--stderr", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(sock, F_OK), 0);
}

static json_t *request(const char *cmd)
{
	json_t *req = json_pack("{s:s}", "command", cmd), *resp = NULL;

	assert_int_equal(ctlsock_request(sock, req, &resp), 0);
	json_decref(req);
	return resp;
}

/* The state of alarm ID in the daemon's alarms reply, NULL when not raised
 * (a static copy). */
static const char *alarm_state(const char *id)
{
	static char state[32];
	json_t *resp = request("alarms"), *a;
	const char *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(resp, "alarms"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "id")) ?: "",
			    id)) {
			snprintf(state, sizeof(state), "%s", json_string_value(
				 json_object_get(a, "state")) ?: "");
			found = state;
		}
	json_decref(resp);
	return found;
}

/* The CRL number the daemon holds for its one source ("" for none). */
static const char *held_number(void)
{
	static char num[64];
	json_t *resp = request("crl");

	snprintf(num, sizeof(num), "%s", json_string_value(json_object_get(
		 json_array_get(json_object_get(resp, "sources"), 0),
		 "crl_number")) ?: "");
	json_decref(resp);
	return num;
}

static void test_respelled_issuer_revoked(void **state)
{
	double served, accepted, raised = 0;
	int i;

	start_daemon();
	/* No CRL yet (the server has none: 404, retried every second): the
	 * certificate is good, its chain built across the two spellings. */
	assert_null(alarm_state("certificate-invalid"));
	sleep(2);
	assert_null(alarm_state("certificate-invalid"));

	fx_run("cp canon.crl.der www/int.crl.tmp && mv www/int.crl.tmp www/int.crl");
	served = now_s();
	for (i = 0; i < 100 && strcmp(held_number(), "01"); i++)
		usleep(50000);
	accepted = now_s();
	assert_string_equal(held_number(), "01");
	for (i = 0; i < 100; i++) {
		const char *st = alarm_state("certificate-invalid");

		if (st) {
			raised = now_s();
			assert_string_equal(st, "revoked");
			break;
		}
		usleep(50000);
	}
	print_message("CRL served -> accepted %.2f s -> alarm %.2f s later\n",
		      accepted - served, raised ? raised - accepted : -1.0);
	assert_true(raised > 0);
	assert_true(raised - accepted <= 2.0);
	fx_run("grep -q '\"certificate.revoked\": *[1-9]' state/counters.json");
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_respelled_issuer_revoked),
	};

	(void)fx_trust;	/* fixture helpers this test does not need */
	(void)fx_load;
	(void)fx_mkcrl;
	(void)fx_make_ca;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
