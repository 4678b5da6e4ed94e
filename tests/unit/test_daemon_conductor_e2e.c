// SPDX-License-Identifier: GPL-2.0
/*
 * A router's [crl] conductor source against the real conductor: two real
 * svrcertd on loopback, the conductor (r1, [conductor] enable = yes, its
 * CRL manager fetching the test PKI's intermediate CRL from the real CRL
 * server) and a router (r2, key file, no CRL url at all). The router holds
 * the conductor's full set (the CRL's key of bad-revoked.pem); the CA then
 * revokes r3 and the conductor fetches the new CRL: the router's waiting
 * long-poll brings the signed delta, and r3's revocation key is in the
 * router's published list within seconds, with no router polling the CA.
 * Then the router's key in a real swtpm (tpm-blob, its certificate issued
 * by the test CA from a CSR the TPM signed): the handshake with the
 * conductor signs in the TPM, and the router holds the full set.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "swtpm_fixture.h"
#include "test_crl_fixture.h"
#include "test_daemon_crl_fixture.h"
#include "../pki/testpki.h"

#include "lib/ctlsock.h"
#include "lib/store.h"
#include "pki/csr.h"
#include "pki/import_trust.h"
#include "pki/pki.h"
#include "tpm/tpm.h"

static pid_t cond_pid;
static char cond_sock[PATH_MAX];
static uint16_t cport;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/* The conductor's state directory: r1's key and certificate, the PKI
 * installed as a trusted CA. */
static void provision_conductor(void)
{
	struct svrcert_store st;
	struct svrcert_problems p;
	char dir[PATH_MAX], err[256];
	uint8_t *cert;
	size_t len;

	fx_path(dir, sizeof(dir), "cond");
	fx_run("mkdir -p cond && cp '%s' cond/" STORE_KEY " && chmod 600 "
	       "cond/" STORE_KEY " && openssl pkey -in '%s' -pubout -out "
	       "cond/" STORE_PUBKEY, testpki_path("r1.key"),
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

/* The router's [key]: r2.key in a file, or (TCTI) a TPM blob. */
static void write_router_conf(const char *tcti)
{
	char text[3 * PATH_MAX], key[PATH_MAX + 64];

	if (tcti)
		snprintf(key, sizeof(key), "storage = tpm-blob\ntcti = %s\n",
			 tcti);
	else
		snprintf(key, sizeof(key), "storage = file\nkey-file = %s/r2.key\n",
			 fx_dir);
	snprintf(text, sizeof(text),
		 "[router]\nname = r2\n[key]\n%s"
		 "[trusted-ca \"pki\"]\nfile = %s\n"
		 "[crl]\nconductor = https://127.0.0.1:%u\n"
		 "conductor-name = r1\ndiscover = no\n"
		 "backoff-interval = 2s\ntimeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 key, testpki_path("bundle.pem"), cport, fx_dir, fx_dir,
		 fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

static void write_confs(void)
{
	char text[3 * PATH_MAX];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[crl]\nurl = http://127.0.0.1:%d/crl/int.crl\n"
		 "polling-interval = 1h\nbackoff-interval = 1s\n"
		 "timeout = 5s\nconnect-timeout = 2s\ndiscover = no\n"
		 "[daemon]\nstate-dir = %s/cond\ncontrol-socket = %s\n"
		 "audit-log = %s/cond/audit.log\n"
		 "[conductor]\nenable = yes\nlisten = 127.0.0.1:%u\n",
		 fx_port, fx_dir, cond_sock, fx_dir, cport);
	fx_save("cond.conf", text, strlen(text));
	write_router_conf(NULL);
}

static void start_conductor(void)
{
	char prog[PATH_MAX + 32], conf[PATH_MAX], log[PATH_MAX];
	int i, fd;

	snprintf(prog, sizeof(prog), "%s/../svrcertd", fx_bindir);
	fx_path(conf, sizeof(conf), "cond.conf");
	fx_path(log, sizeof(log), "cond.log");
	cond_pid = fork();
	if (cond_pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(prog, prog, "-c", conf, "--stderr", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(cond_sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(cond_sock, F_OK), 0);
}

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (testpki_setup() || fx_setup_dir("dconde2e"))
		return -1;
	fx_run("mkdir -p www state && cp -a '%s' pki && cp pki/int.crl.der "
	       "www/int.crl && cp '%s' r2.key && chmod 600 r2.key && "
	       "cp '%s' state/cert.pem", testpki_path(""),
	       testpki_path("r2.key"), testpki_path("r2.pem"));
	fx_path(www, sizeof(www), "www");
	fx_path(cond_sock, sizeof(cond_sock), "cond.sock");
	if (fx_start_server(www))
		return -1;
	cport = free_port();
	provision_conductor();
	write_confs();
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	if (cond_pid > 0) {
		kill(cond_pid, SIGTERM);
		waitpid(cond_pid, NULL, 0);
	}
	testpki_teardown();
	return fx_teardown();
}

static void revkey_of(const char *pem, svrcert_revkey_t out)
{
	FILE *f = fopen(pem, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	assert_non_null(x);
	assert_int_equal(svrcert_revkey_from_cert(x, out), 0);
	X509_free(x);
}

/* The router's published list holds K (within 10 s); false if not. */
static bool router_holds(const svrcert_revkey_t k, double within)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	double end = now_s() + within;
	bool hit = false;

	fx_path(path, sizeof(path), "state/master.bin");
	while (!hit && now_s() < end) {
		if (!svrcert_master_load(path, &m, err, sizeof(err))) {
			hit = svrcert_revkeys_contains(m.keys, m.n, k);
			svrcert_master_release(&m);
		}
		if (!hit)
			usleep(20000);
	}
	return hit;
}

static void test_router_follows_real_conductor(void **state)
{
	svrcert_revkey_t revoked, r3;
	json_t *req, *resp = NULL;
	double t0, t;
	long long gen;
	char gen_expr[200];

	revkey_of(testpki_path("bad-revoked.pem"), revoked);
	revkey_of(testpki_path("r3.pem"), r3);
	start_conductor();
	start_daemon();
	wait_status(".conductor.state == \"ok\" and .conductor.keys == 1 and "
		    ".conductor.name == \"r1\" and .conductor.in_flight");
	assert_true(router_holds(revoked, 1));
	assert_false(router_holds(r3, 0.1));
	fx_run("jq -e '.conductor.generation' status.json > gen.txt");
	{
		size_t len;
		uint8_t *g = fx_load("gen.txt", &len);

		gen = atoll((char *)g);
		free(g);
	}

	/* The CA revokes r3; the conductor fetches its CRL; the router's
	 * waiting request brings the delta. */
	fx_run("'%s/../../tests/pki/mkpki.sh' revoke pki pki/r3.pem && "
	       "cp pki/int.crl.der www/int.crl.tmp && mv www/int.crl.tmp "
	       "www/int.crl", fx_bindir);
	t0 = now_s();
	req = json_pack("{s:s}", "command", "crl-fetch");
	assert_int_equal(ctlsock_request(cond_sock, req, &resp), 0);
	json_decref(req);
	json_decref(resp);
	assert_true(router_holds(r3, 10));
	t = now_s() - t0;
	print_message("r3's key in the router's list %.2f s after the "
		      "conductor was told to fetch the CA's CRL\n", t);
	assert_true(t < 5.0);
	snprintf(gen_expr, sizeof(gen_expr), ".conductor.generation == %lld "
		 "and (.conductor.last_result | startswith(\"ok: generation "
		 "%lld (delta), +1 -0 keys\"))", gen + 1, gen + 1);
	wait_status(gen_expr);
	assert_true(router_holds(revoked, 1));
	fx_run("grep -q 'Updated revocation state from conductor r1' "
	       "state/audit.log");
	/* the router asked the conductor only: no CRL source of its own */
	fx_run("jq -e '.sources == [] and .conductor.failures == 0' "
	       "status.json");
	stop_daemon();
}

/* `svrcertctl [-c cond.conf] show conductor -j` (the router's, or with
 * COND the conductor's) until jq's EXPR holds; the reply in show.json. */
static void wait_show(bool cond, const char *expr)
{
	static char out[65536];
	char cmd[PATH_MAX + 600], args[PATH_MAX + 64];

	snprintf(args, sizeof(args), "%s%s%sshow conductor -j", cond ? "-c '" :
		 "", cond ? fx_dir : "", cond ? "/cond.conf' " : "");
	snprintf(cmd, sizeof(cmd), "cd '%s' && jq -e '%s' show.json "
		 ">/dev/null 2>&1", fx_dir, expr);
	for (int t = 0; t < 300; t++) {
		if (!ctl(out, sizeof(out), args)) {
			fx_save("show.json", out, strlen(out));
			if (!system(cmd))
				return;
		}
		usleep(100000);
	}
	fail_msg("show conductor never satisfied: %s (last in %s/show.json)",
		 expr, fx_dir);
}

/* CERT (on KEY) asks the conductor for the full set: its HTTP status. */
static void expect_refused(const char *cert, const char *key)
{
	fx_run("test \"$(curl -sk --tlsv1.3 --cert pki/%s --key pki/%s -o "
	       "/dev/null -w '%%{http_code}' https://127.0.0.1:%u/v1/revocation)"
	       "\" = 403", cert, key, cport);
}

/* svrcertctl show conductor on both sides (issue 15): the conductor's
 * generation, routers, answers, bytes, refusals by reason, signatures;
 * the router's source with its answers, bytes, last success and failure.
 * Both the JSON and the text, and never a key. */
static void test_show_conductor(void **state)
{
	char expr[600], out[16384];
	long long gen;

	fx_run("jq -e '.conductor.generation' status.json > gen.txt");
	{
		size_t len;
		uint8_t *g = fx_load("gen.txt", &len);

		gen = atoll((char *)g);
		free(g);
	}
	/* Three refused routers, one per reason. */
	expect_refused("r3.pem", "r3.key");
	expect_refused("bad-expired.pem", "r1.key");
	expect_refused("bad-untrusted.pem", "r1.key");
	snprintf(expr, sizeof(expr), ".source == null and .conductor.running "
		 "and .conductor.name == \"r1\" and .conductor.generation == "
		 "%lld and .conductor.keys == 2 and .conductor.refused == "
		 "{\"revoked\": 1, \"expired\": 1, \"not_yet_valid\": 0, "
		 "\"untrusted\": 1, \"over_limit\": 0} and "
		 ".conductor.answers.full >= 1 and .conductor.answers.delta >= 1 "
		 "and .conductor.signatures >= 2 and .conductor.bytes.sent > 0 "
		 "and .conductor.accepted >= 4", gen);
	wait_show(true, expr);
	fx_run("! grep -qi 'private\\|BEGIN' show.json");
	snprintf(expr, sizeof(expr), "-c '%s/cond.conf' show conductor", fx_dir);
	assert_int_equal(ctl(out, sizeof(out), expr), 0);
	assert_non_null(strstr(out, "conductor r1 on 127.0.0.1\n"));
	assert_non_null(strstr(out, "refused: 1 revoked, 1 expired, 0 not yet "
			       "valid, 1 untrusted, 0 over max-connections"));

	/* The router again (it holds GEN): its long-poll waits at the
	 * conductor, nothing answered yet since it started. */
	start_daemon();
	snprintf(expr, sizeof(expr), ".conductor == null and .source.state == "
		 "\"ok\" and .source.generation == %lld and .source.in_flight "
		 "and .source.answers == {\"full\": 0, \"delta\": 0, "
		 "\"not_modified\": 0, \"resync\": 0, \"rejected\": 0} and "
		 ".source.last_failure == null and .source.fallback == false",
		 gen);
	wait_show(false, expr);
	wait_show(true, ".conductor.waiting == 1 and .conductor.connections "
		  "== 1");
	/* A new generation: one delta, in a few hundred bytes. */
	fx_run("'%s/../../tests/pki/mkpki.sh' revoke pki pki/bad-identity.pem "
	       "&& cp pki/int.crl.der www/int.crl.tmp && mv www/int.crl.tmp "
	       "www/int.crl", fx_bindir);
	fx_run("'%s/../svrcertctl' -c cond.conf crl fetch", fx_bindir);
	snprintf(expr, sizeof(expr), ".source.generation == %lld and "
		 ".source.keys == 3 and .source.answers.delta == 1 and "
		 ".source.bytes_received > 0 and .source.bytes_received < 4096 "
		 "and .source.last_success != null", gen + 1);
	wait_show(false, expr);
	fx_run("jq .source.bytes_received show.json > bytes.txt");
	{
		size_t len;
		uint8_t *b = fx_load("bytes.txt", &len);

		print_message("one revocation: a delta of %lld bytes to the "
			      "router\n", atoll((char *)b));
		free(b);
	}
	assert_int_equal(ctl(out, sizeof(out), "show conductor"), 0);
	snprintf(expr, sizeof(expr), "conductor source https://127.0.0.1:%u "
		 "(r1)\n  state ok", cport);
	assert_non_null(strstr(out, expr));
	assert_non_null(strstr(out, "answers: 0 full, 1 delta, 0 not "
			       "modified, 0 resync, 0 rejected"));
	assert_non_null(strstr(out, "fallback not in use"));
	snprintf(expr, sizeof(expr), ".conductor.generation == %lld and "
		 ".conductor.keys == 3", gen + 1);
	wait_show(true, expr);

	/* The conductor down: the router's last failure says so; back up,
	 * the router's long-poll waits at it again (its state says
	 * "unreachable" until that request is answered: the state is the
	 * last answer's). */
	kill(cond_pid, SIGTERM);
	waitpid(cond_pid, NULL, 0);
	cond_pid = 0;
	wait_show(false, ".source.last_failure != null and "
		  "(.source.last_failure_result | startswith(\"failed: \")) "
		  "and .source.state == \"unreachable\"");
	start_conductor();
	wait_show(true, ".conductor.waiting == 1 and .conductor.answers.full "
		  "== 0 and .conductor.answers.delta == 0");
	wait_show(false, ".source.in_flight and .source.answers.delta == 1 and "
		  ".source.last_failure != null");
	stop_daemon();
}

/* A new router state: r2's key made in swtpm, its CSR signed there and
 * issued by the test CA; the router authenticates to the conductor with
 * it and takes the full set (the three CRL keys by now). */
static void test_router_key_in_tpm(void **state)
{
	const struct tpm_key_spec spec = TPM_KEY_SPEC_DEFAULT;
	struct csr_request rq = { .common_name = "r2" };
	struct swtpm_fixture tpm;
	struct svrcert_store st;
	svrcert_revkey_t r3;
	char *pem = NULL, err[256], dir[PATH_MAX];
	EVP_PKEY *key = NULL;
	struct tpm_ctx t;

	revkey_of(testpki_path("r3.pem"), r3);
	assert_int_equal(swtpm_start(&tpm), 0);
	fx_run("rm -rf state && mkdir state");
	fx_path(dir, sizeof(dir), "state");
	assert_int_equal(store_open(&st, dir), 0);
	assert_int_equal(tpm_ctx_open(&t, TPM_KEY_STORAGE_TPM, NULL), 0);
	assert_int_equal(tpm_key_generate_spec(&t, &st, &spec, false), 0);
	assert_int_equal(tpm_key_load(&t, &st, &key), 0);
	assert_int_equal(csr_build_pem(&t, key, "r2", &rq, &pem, err,
				       sizeof(err)), 0);
	EVP_PKEY_free(key);
	tpm_ctx_close(&t);
	store_close(&st);
	fx_save("state/csr.pem", pem, strlen(pem));
	free(pem);
	fx_run("'%s/../../tests/pki/mkpki.sh' sign pki state/csr.pem "
	       "state/cert.pem 30", fx_bindir);
	fx_run("grep -q 'TSS2 PRIVATE KEY' state/key.pem");
	write_router_conf(tpm.tcti);
	start_daemon();
	wait_status(".conductor.state == \"ok\" and .conductor.keys == 3");
	assert_true(router_holds(r3, 1));
	stop_daemon();
	swtpm_stop(&tpm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router_follows_real_conductor),
		cmocka_unit_test(test_show_conductor),
		cmocka_unit_test(test_router_key_in_tpm),
	};

	(void)fx_trust;
	(void)fx_mkcrl;
	(void)fx_make_ca;
	(void)serve_fetch;
	(void)master_holds;
	(void)walk;
	(void)alarm_for;
	(void)counter;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
