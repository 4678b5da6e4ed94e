// SPDX-License-Identifier: GPL-2.0
/*
 * The real svrcertd as conductor ([conductor] enable = yes), its CRL
 * manager fetching the test PKI's intermediate CRL from the real HTTP
 * server tests/unit/crl_server.py; routers are libcurl clients over mutual
 * TLS with the PKI's r2 and r3. The full set holds the CRL's keys; a
 * router's long-poll is answered, with the signed delta holding exactly
 * r3's key, as soon as the CA's next CRL (revoking r3) is fetched; r3 is
 * then refused (403 revoked); the published CRL is served byte for byte;
 * the generation continues across a restart of the daemon; without a
 * certificate the daemon runs without conductor until one is installed;
 * a change of the list is served before the daemon judges its own
 * certificate again (the CA revokes r1, the conductor itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "../pki/testpki.h"
#include "test_conductor_fixture.h"

#include "lib/ctlsock.h"
#include "lib/store.h"
#include "pki/import_trust.h"
#include "pki/pki.h"

static pid_t daemon_pid;
static char sock[PATH_MAX];
static uint16_t cport;
static X509_STORE *trust;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A port nothing listens on now (the kernel's choice). */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
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
		 "audit-log = %s/state/audit.log\n"
		 "[conductor]\nenable = yes\nlisten = 127.0.0.1:%u\n"
		 "max-wait = 30s\n", fx_port, fx_dir, sock, fx_dir, cport);
	fx_save("svrcert.conf", text, strlen(text));
}

/* A router's state directory: r1's key and certificate, the PKI trusted. */
static void provision(void)
{
	struct svrcert_store st;
	struct svrcert_problems p;
	char dir[PATH_MAX], err[256];
	uint8_t *cert;
	size_t len;

	fx_path(dir, sizeof(dir), "state");
	fx_run("mkdir -p state && cp '%s' state/" STORE_KEY " && chmod 600 "
	       "state/" STORE_KEY " && openssl pkey -in '%s' -pubout -out "
	       "state/" STORE_PUBKEY, testpki_path("r1.key"),
	       testpki_path("r1.key"));
	assert_int_equal(store_open(&st, dir), 0);
	svrcert_problems_init(&p);
	assert_int_equal(trust_ca_add(&st, "root", testpki_path("bundle.pem"),
				      SVRCERT_MODE_STRICT, time(NULL), &p, err,
				      sizeof(err)), 0);
	svrcert_problems_free(&p);
	cert = testpki_read("r1.pem", &len);
	assert_int_equal(store_write(&st, STORE_CERT, cert, len, 0644), 0);
	free(cert);
	store_unlock(&st);
	store_close(&st);
}

static int group_setup(void **state)
{
	STACK_OF(X509) *certs = NULL;
	struct svrcert_problems p;
	char www[PATH_MAX];
	uint8_t *buf;
	size_t len;

	if (testpki_setup() || fx_setup_dir("dcond"))
		return -1;
	fx_run("mkdir -p www && cp -a '%s' pki", testpki_path(""));
	fx_path(www, sizeof(www), "www");
	fx_path(sock, sizeof(sock), "ctl.sock");
	if (fx_start_server(www))
		return -1;
	cport = free_port();
	write_conf();
	provision();
	svrcert_problems_init(&p);
	buf = testpki_read("bundle.pem", &len);
	if (svrcert_bundle_check(buf, len, SVRCERT_MODE_STRICT, 0, &certs, &p))
		return -1;
	free(buf);
	svrcert_problems_free(&p);
	trust = svrcert_store_new();
	if (!trust || svrcert_store_add_certs(trust, certs))
		return -1;
	sk_X509_pop_free(certs, X509_free);
	curl_global_init(CURL_GLOBAL_DEFAULT);
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
	X509_STORE_free(trust);
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
		execl(prog, prog, "-c", conf, "--stderr", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(sock, F_OK), 0);
}

static struct resp as(const char *who, const char *path, long timeout)
{
	char cert[PATH_MAX], key[PATH_MAX];

	snprintf(cert, sizeof(cert), "%s.pem", testpki_path(who));
	snprintf(key, sizeof(key), "%s.key", testpki_path(who));
	return cd_request(cport, cert, key, testpki_path("bundle.pem"), "GET",
			  path, timeout);
}

/* The full set once the conductor serves one holding NKEYS keys. */
static void full_set(size_t nkeys, struct svrcert_gen_update *u)
{
	struct resp r = { 0 };

	for (int i = 0; i < 200; i++) {
		free(r.body);
		r = as("r2", "/v1/revocation", 5);
		if (r.code == 200) {
			cd_verify(&r, trust, "r1", u);
			if (u->nadded == nkeys)
				break;
			svrcert_gen_update_release(u);
		}
		usleep(100000);
	}
	assert_int_equal(r.code, 200);
	assert_int_equal(u->kind, SVRCERT_GEN_FULL);
	assert_int_equal(u->nadded, nkeys);
	free(r.body);
}

static uint8_t *revkey_of(const char *pem, uint8_t out[32])
{
	FILE *f = fopen(pem, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	assert_non_null(x);
	assert_int_equal(svrcert_revkey_from_cert(x, out), 0);
	X509_free(x);
	return out;
}

struct poller {
	pthread_t t;
	char path[200];
	struct resp r;
	double done;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->r = as("r2", p->path, 40);
	p->done = now_s();
	return NULL;
}

static void crl_fetch(void)
{
	json_t *req = json_pack("{s:s}", "command", "crl-fetch"), *resp = NULL;

	assert_int_equal(ctlsock_request(sock, req, &resp), 0);
	json_decref(req);
	json_decref(resp);
}

static void test_conductor_serves_the_crl_manager(void **state)
{
	struct svrcert_gen_update u = { 0 }, d = { 0 };
	uint8_t revoked[32], r3[32];
	struct poller p = { 0 };
	uint64_t gen;
	double served;
	char e[33];
	struct resp r;

	fx_run("cp pki/int.crl.der www/int.crl");
	start_daemon();
	full_set(1, &u);	/* int.crl revokes bad-revoked.pem */
	assert_memory_equal(u.added[0], revkey_of(testpki_path(
			    "bad-revoked.pem"), revoked), 32);
	gen = u.gen;
	cd_epoch_hex(u.epoch, e);
	svrcert_gen_update_release(&u);
	/* r3 is served while not revoked. */
	r = as("r3", "/v1/revocation", 5);
	assert_int_equal(r.code, 200);
	free(r.body);

	/* A router waits; the CA revokes r3; the CRL manager fetches it. */
	snprintf(p.path, sizeof(p.path), "/v1/revocation?epoch=%s&since=%llu"
		 "&wait=30", e, (unsigned long long)gen);
	assert_int_equal(pthread_create(&p.t, NULL, poll_thread, &p), 0);
	sleep(1);
	fx_run("'%s/../../tests/pki/mkpki.sh' revoke pki pki/r3.pem && "
	       "cp pki/int.crl.der www/int.crl.tmp && mv www/int.crl.tmp "
	       "www/int.crl", fx_bindir);
	served = now_s();
	crl_fetch();
	pthread_join(p.t, NULL);
	print_message("long-poll answered %.3f s after the CRL was served\n",
		      p.done - served);
	cd_verify(&p.r, trust, "r1", &d);
	assert_int_equal(d.kind, SVRCERT_GEN_DELTA);
	assert_int_equal(d.base, gen);
	assert_int_equal(d.gen, gen + 1);
	assert_int_equal(d.nadded, 1);
	assert_int_equal(d.nremoved, 0);
	assert_memory_equal(d.added[0], revkey_of(testpki_path("r3.pem"), r3),
			    32);
	assert_true(p.done - served < 5.0);
	svrcert_gen_update_release(&d);
	free(p.r.body);

	/* r3 is now refused, by name. */
	r = as("r3", "/v1/revocation", 5);
	assert_int_equal(r.code, 403);
	assert_int_equal(strncmp((char *)r.body, "revoked: ", 9), 0);
	free(r.body);
	fx_run("grep -q 'conductor: refused .*CN=r3' daemon.log");
	fx_run("grep -q '\"system.conductor_client\".*CN=r3' state/audit.log");

	/* The CA-signed CRL, as published. */
	r = as("r2", "/v1/crl/index.json", 5);
	assert_int_equal(r.code, 200);
	{
		json_t *idx = json_loadb((char *)r.body, r.len, 0, NULL);
		const char *file = json_string_value(json_object_get(
			json_array_get(json_object_get(idx, "crls"), 0), "file"));
		char path[300];
		uint8_t *want;
		size_t len;
		struct resp c;

		assert_non_null(file);
		snprintf(path, sizeof(path), "/v1/%s", file);	/* crl/<name>.crl */
		c = as("r2", path, 5);
		want = fx_load("www/int.crl", &len);
		assert_int_equal(c.code, 200);
		assert_int_equal(c.len, len);
		assert_memory_equal(c.body, want, len);
		free(want);
		free(c.body);
		json_decref(idx);
	}
	free(r.body);

	/* A restart continues the generation: the router's since is still
	 * answered (304, nothing new). */
	stop_daemon();
	start_daemon();
	full_set(2, &u);
	assert_int_equal(u.gen, gen + 1);
	svrcert_gen_update_release(&u);
	snprintf(p.path, sizeof(p.path), "/v1/revocation?epoch=%s&since=%llu",
		 e, (unsigned long long)gen + 1);
	r = as("r2", p.path, 5);
	assert_int_equal(r.code, 304);
	free(r.body);
	stop_daemon();

	/* No certificate: no conductor (svrcertd runs on); the certificate
	 * installed: the conductor starts. */
	fx_run("mv state/cert.pem cert.saved");
	start_daemon();
	sleep(1);
	r = as("r2", "/v1/revocation", 5);
	assert_int_equal(r.rc, CURLE_COULDNT_CONNECT);
	free(r.body);
	fx_run("cp cert.saved state/cert.pem.tmp && mv state/cert.pem.tmp "
	       "state/cert.pem");
	full_set(2, &u);	/* retried for 10 s at most */
	svrcert_gen_update_release(&u);
	fx_run("grep -q 'conductor not started: .*cert' daemon.log");
	stop_daemon();
}

/* Lines of daemon.log, for a check of what came after. */
static int log_lines(void)
{
	size_t len, i;
	uint8_t *b = fx_load("daemon.log", &len);
	int n = 0;

	for (i = 0; i < len; i++)
		n += b[i] == '\n';
	free(b);
	return n;
}

/* A change of the published list makes svrcertd judge its own certificate
 * again, which reads every held CRL (d2i_X509_CRL, ~2 s for a 1 M-entry
 * CRL): the conductor must serve the new generation first, not wait for
 * that. The CA revokes the conductor's own certificate (r1): in the log,
 * the conductor's generation comes before the own-certificate alarm (the
 * two came in the other order when the judgement ran inside the CRL
 * manager's turn, before the conductor's; bench-fleet measured 2 s at
 * 1 M entries between the conductor's master.bin and its answer). */
static void test_generation_before_own_check(void **state)
{
	struct svrcert_gen_update u = { 0 };
	int from, i, rc = 0;
	char cmd[600];

	start_daemon();
	full_set(2, &u);
	svrcert_gen_update_release(&u);
	from = log_lines();
	fx_run("'%s/../../tests/pki/mkpki.sh' revoke pki pki/r1.pem && "
	       "cp pki/int.crl.der www/int.crl.tmp && mv www/int.crl.tmp "
	       "www/int.crl", fx_bindir);
	crl_fetch();
	snprintf(cmd, sizeof(cmd), "cd '%s' && awk 'NR > %d && "
		 "/conductor: generation/ && !g { g = NR } NR > %d && "
		 "/alarm raised: certificate-invalid.*revoked/ && !a { a = NR } "
		 "END { exit (!(g && a) ? 2 : g < a ? 0 : 1) }' daemon.log",
		 fx_dir, from, from);
	for (i = 0; i < 200; i++) {
		rc = system(cmd);
		if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 2)
			break;
		usleep(100000);
	}
	if (!WIFEXITED(rc) || WEXITSTATUS(rc)) {	/* what the daemon said */
		size_t len;
		char *since;

		fx_run("tail -n +%d daemon.log | grep -v audit > since.log || :",
		       from + 1);
		since = (char *)fx_load("since.log", &len);
		print_message("awk: %d; the log since the fetch:\n%.*s\n", rc,
			      (int)len, since);
		free(since);
	}
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conductor_serves_the_crl_manager),
		cmocka_unit_test(test_generation_before_own_check),
	};

	(void)fx_trust;	/* fixture helpers this test does not need */
	(void)fx_mkcrl;
	(void)fx_make_ca;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
