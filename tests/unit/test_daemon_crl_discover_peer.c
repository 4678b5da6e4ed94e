// SPDX-License-Identifier: GPL-2.0
/*
 * CRL discovery of a peer's certificate (issue 15 item 5) end to end: the
 * real svrcertd as r1 (test PKI, tests/pki/mkpki.sh: r1.pem on r1.key,
 * listening on loopback, [peer "r2"] passive) and a TLS client presenting
 * r2.pem. Every test PKI leaf names the same CRL distribution point
 * (PKI_CRL_URL), so the one discovered source is referred to by "own" and,
 * once r2 was judged valid, by "peer r2" too; deleting the peer leaves
 * "own" alone.
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
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "test_crl_fixture.h"
#include "test_daemon_crl_fixture.h"
#include "../pki/testpki.h"

static int port;

static void write_conf(bool peer)
{
	char text[3 * PATH_MAX];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\npeering-common-name = r1\n"
		 "[key]\nstorage = file\nkey-file = %s/r1.key\n"
		 "[trusted-ca \"pki\"]\nfile = %s\n"
		 "[crl]\nbackoff-interval = 1h\nconnect-timeout = 1s\n%s"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\nlisten = 127.0.0.1:%d\n",
		 fx_dir, testpki_path("bundle.pem"),
		 peer ? "[peer \"r2\"]\naddress = 127.0.0.1\n" : "",
		 fx_dir, fx_dir, fx_dir, port);
	fx_save("svrcert.conf", text, strlen(text));
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

/* Call svrcertd as r2 (TLS 1.3, r2.pem) and wait for it to hang up. */
static void call_as_r2(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char byte;
	SSL *ssl;
	int fd;

	assert_non_null(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_use_certificate_file(ctx, testpki_path("r2.pem"),
						      SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, testpki_path("r2.key"),
						     SSL_FILETYPE_PEM), 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	assert_int_equal(SSL_connect(ssl), 1);
	SSL_read(ssl, &byte, 1);	/* the server judges, then talks or closes */
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
}

static int group_setup(void **state)
{
	if (testpki_setup() || fx_setup_dir("dcrldiscpeer"))
		return -1;
	port = free_port();
	fx_run("mkdir -p state && cp '%s' r1.key && chmod 600 r1.key && "
	       "cp '%s' state/cert.pem", testpki_path("r1.key"),
	       testpki_path("r1.pem"));
	write_conf(true);
	return port > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	stop_daemon();
	testpki_teardown();
	return fx_teardown();
}

static void test_peer_certificate_followed(void **state)
{
	char expr[600];
	const char *cdp = getenv("PKI_CRL_URL") ? getenv("PKI_CRL_URL") :
			  "http://127.0.0.1:8080/int.crl";

	start_daemon();
	snprintf(expr, sizeof(expr), ".sources | length == 1 and "
		 ".[0].url == \"%s\" and .[0].referenced_by == [\"own\"]", cdp);
	wait_status(expr);
	call_as_r2();
	wait_status(".sources[0].referenced_by == [\"own\", \"peer r2\"]");
	/* the peer deleted: its reference goes, the own certificate's stays */
	write_conf(false);
	kill(daemon_pid, SIGHUP);
	wait_status(".sources | length == 1 and "
		    ".[0].referenced_by == [\"own\"]");
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_certificate_followed),
	};

	(void)fx_load;
	(void)fx_trust;
	(void)fx_mkcrl;
	(void)fx_make_ca;
	(void)fx_start_server;
	(void)serve_fetch;
	(void)alarm_for;
	(void)master_holds;
	(void)walk;
	(void)counter;
	(void)testpki_read;
	(void)testpki_cert;
	(void)testpki_key;
	(void)testpki_shell;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
