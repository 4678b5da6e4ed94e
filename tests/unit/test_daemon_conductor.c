// SPDX-License-Identifier: GPL-2.0
/*
 * The router's [crl] conductor source (issue 15 items 2-3) with the real
 * svrcertd as r2 (test PKI, key-storage = file) against a real HTTPS
 * server that requires r2's client certificate (tests/unit/
 * conductor_server.py: the conductor's wire contract, long-poll
 * included), serving documents signed here with r1's key
 * (pki/conductor_doc.h), and a real CRL server with a real CA's CRL as
 * the configured url to fall back to:
 *
 *   first fetch: GET /v1/revocation, the full set held, published, the
 *     url standing by (never fetched); a new generation reaches the router
 *     while its long-poll waits (a delta: +2 -1 keys); 304s keep the state;
 *   a tampered document, one signed by a CN=r1 certificate of another CA:
 *     rejected, state kept, crl-invalid, counted, audited, the url fetched
 *     meanwhile (fallback), then a good one clears it;
 *   another epoch: its full set replaces the state; a delta that does not
 *     apply: the full set asked for (bare GET) and taken;
 *   403: crl-unreachable with the conductor's text; the conductor down:
 *     alarm, state kept, the url fetched again; a TLS server that is not
 *     conductor r1 (r3's certificate) refused; back: standby again;
 *   restart with the conductor down: the held state (conductor-held.bin)
 *     and its keys are in force before any answer; the conductor back:
 *     reachable (alarm gone) while its first long-poll is still held;
 *   a reload naming another conductor: the held state and its keys go, the
 *     server (r1) is refused as not that conductor; named back: full set.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_crl_fixture.h"
#include "test_daemon_crl_fixture.h"
#include "../pki/testpki.h"
#include "crl/crl_gendoc.h"
#include "pki/conductor_doc.h"

static pid_t cond_pid;
static int cond_port;
static struct svrcert_store r1st;
static struct svrcert_crl ca_crl;
static uint8_t epoch1[SVRCERT_GEN_EPOCH_LEN], epoch2[SVRCERT_GEN_EPOCH_LEN];

/* ---- the stand-in conductor ---------------------------------------------- */

/* Serving as CERT / KEY of the test PKI (r1: the conductor). */
static void cond_start(int port, const char *cert, const char *key)
{
	char script[PATH_MAX + 64], root[PATH_MAX], line[64], portarg[16];
	int pfd[2];
	FILE *out;

	snprintf(script, sizeof(script), "%s/../../tests/unit/"
		 "conductor_server.py", fx_bindir);
	fx_path(root, sizeof(root), "srv");
	snprintf(portarg, sizeof(portarg), "%d", port);
	assert_int_equal(pipe(pfd), 0);
	cond_pid = fork();
	if (cond_pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execlp("python3", "python3", script, "--root", root, "--cert",
		       testpki_path(cert), "--key", testpki_path(key), "--ca",
		       testpki_path("bundle.pem"), "--port", portarg,
		       (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	out = fdopen(pfd[0], "r");
	assert_non_null(out);
	assert_non_null(fgets(line, sizeof(line), out));
	assert_int_equal(sscanf(line, "PORT %d", &cond_port), 1);
	fclose(out);
}

static void cond_stop(void)
{
	if (cond_pid > 0) {
		kill(cond_pid, SIGTERM);
		waitpid(cond_pid, NULL, 0);
	}
	cond_pid = 0;
}

/* Key I of a family: 32 bytes, ascending in I. */
static void key(svrcert_revkey_t k, uint8_t family, unsigned int i)
{
	memset(k, family, SVRCERT_REVKEY_LEN);
	k[30] = (uint8_t)(i >> 8);
	k[31] = (uint8_t)i;
}

/* Sign U with r1's key and r1/cert.pem, as conductor "r1", into srv/NAME,
 * atomically. */
static void publish(const struct svrcert_gen_update *u, const char *name)
{
	struct svrcert_conductor_signer s = { .st = &r1st,
		.storage = TPM_KEY_STORAGE_FILE, .name = "r1" };
	char err[300] = "", file[300];
	uint8_t *doc = NULL;
	size_t len = 0;

	if (svrcert_conductor_sign(&s, u, &doc, &len, err, sizeof(err)))
		fail_msg("sign: %s", err);
	snprintf(file, sizeof(file), "srv/%s.tmp", name);
	fx_save(file, doc, len);
	fx_run("mv srv/%s.tmp srv/%s", name, name);
	free(doc);
}

static void set_current(const uint8_t *epoch, uint64_t gen)
{
	char hex[40], text[80];

	svrcert_hex(epoch, SVRCERT_GEN_EPOCH_LEN, hex);
	snprintf(text, sizeof(text), "%s %llu\n", hex, (unsigned long long)gen);
	fx_save("srv/current.tmp", text, strlen(text));
	fx_run("mv srv/current.tmp srv/current");
}

/* srv/full.der: the full set KEYS of generation GEN. */
static void full(const uint8_t *epoch, uint64_t gen, time_t when,
		 svrcert_revkey_t *keys, size_t n)
{
	struct svrcert_gen_update u = { .kind = SVRCERT_GEN_FULL,
		.gen = gen, .time = when, .added = keys, .nadded = n };

	memcpy(u.epoch, epoch, SVRCERT_GEN_EPOCH_LEN);
	publish(&u, "full.der");
}

static void delta(const uint8_t *epoch, uint64_t base, uint64_t gen,
		  time_t when, svrcert_revkey_t *add, size_t na,
		  svrcert_revkey_t *rm, size_t nr, const char *name)
{
	struct svrcert_gen_update u = { .kind = SVRCERT_GEN_DELTA,
		.base = base, .gen = gen, .time = when, .added = add,
		.nadded = na, .removed = rm, .nremoved = nr };

	memcpy(u.epoch, epoch, SVRCERT_GEN_EPOCH_LEN);
	publish(&u, name);
}

/* ---- the router ------------------------------------------------------------ */

/* The router's configuration, expecting conductor NAME. */
static void write_conf(const char *name)
{
	char text[4 * PATH_MAX];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/ca.crl", fx_port);
	snprintf(text, sizeof(text),
		 "[router]\nname = r2\n"
		 "[key]\nstorage = file\nkey-file = %s/r2.key\n"
		 "[trusted-ca \"pki\"]\nfile = %s\n"
		 "[trusted-ca \"a\"]\nfile = %s/a.pem\n"
		 "[crl]\nurl = %s\nconductor = https://127.0.0.1:%d/\n"
		 "conductor-name = %s\ndiscover = no\n"
		 "polling-interval = 1h\nbackoff-interval = 2s\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, testpki_path("bundle.pem"), fx_dir, url, cond_port,
		 name, fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

/* The published master list: N keys, holding (or not) each of K. */
static void master_has(size_t n, const svrcert_revkey_t *k, size_t nk,
		       bool in)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	size_t i;

	fx_path(path, sizeof(path), "state/master.bin");
	assert_int_equal(svrcert_master_load(path, &m, err, sizeof(err)), 0);
	if (m.n != n)
		fail_msg("master list has %zu keys, want %zu", m.n, n);
	for (i = 0; i < nk; i++)
		assert_int_equal(svrcert_revkeys_contains(m.keys, m.n, k[i]),
				 in);
	svrcert_master_release(&m);
}

static int crl_hits(void)
{
	char cmd[200], out[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -s http://127.0.0.1:%d/hits", fx_port);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return atoi(out);
}

static svrcert_revkey_t ka[4], kb[2];

static int group_setup(void **state)
{
	char www[PATH_MAX], path[PATH_MAX];

	if (testpki_setup() || fx_setup_dir("dcond"))
		return -1;
	fx_run("mkdir -p www state srv r1 && cp '%s' r2.key && chmod 600 r2.key"
	       " && cp '%s' state/cert.pem && cp '%s' r1/key.pem && "
	       "chmod 600 r1/key.pem && cp '%s' r1/cert.pem",
	       testpki_path("r2.key"), testpki_path("r2.pem"),
	       testpki_path("r1.key"), testpki_path("r1.pem"));
	fx_path(path, sizeof(path), "r1");
	if (store_open(&r1st, path))
		return -1;
	fx_path(www, sizeof(www), "www");
	if (fx_start_server(www))
		return -1;
	fx_make_ca("a", "/O=svrcert test/CN=fallback CA");
	fx_mkcrl("ca.der", "a", 3, "--number 1 --seed 31");
	walk("ca.der", "a", &ca_crl);
	fx_run("cp ca.der www/ca.crl");
	memset(epoch1, 0xe1, sizeof(epoch1));
	memset(epoch2, 0xe2, sizeof(epoch2));
	for (unsigned int i = 0; i < 4; i++)
		key(ka[i], 0xa0, i);
	for (unsigned int i = 0; i < 2; i++)
		key(kb[i], 0xb0, i);
	cond_start(0, "r1-chain.pem", "r1.key");
	write_conf("r1");
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	cond_stop();
	store_close(&r1st);
	svrcert_crl_release(&ca_crl);
	testpki_teardown();
	return fx_teardown();
}

/* First fetch: the full set of generation 5, by r2's certificate; the CRL
 * url stands by. */
static void test_first_full_fetch(void **state)
{
	time_t now = time(NULL);

	full(epoch1, 5, now - 100, ka, 3);
	set_current(epoch1, 5);
	start_daemon();
	wait_status(".conductor.generation == 5 and .conductor.keys == 3 and "
		    ".conductor.state == \"ok\" and .conductor.in_flight");
	master_has(3, ka, 3, true);
	fx_run("head -1 srv/requests.log | grep -qx '/v1/revocation r2'");
	/* then the long-poll from the held state */
	fx_run("grep -q '^/v1/revocation?epoch=e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
	       "&since=5&wait=60 r2$' srv/requests.log");
	/* If-None-Match: none with nothing held, then the held generation's
	 * ETag (the answer's) */
	fx_run("head -1 srv/inm.log | grep -qx '/v1/revocation -' && grep -qx "
	       "'/v1/revocation?epoch=e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1&since=5"
	       "&wait=60 \"e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1-5\"' srv/inm.log");
	fx_run("jq -e '.sources[0].standby and .sources[0].attempts == 0 and "
	       ".conductor.fallback == false' status.json");
	assert_int_equal(crl_hits(), 0);
	assert_true(counter("crl-fetch.success") >= 1);
	assert_true(counter("crl-ingestion.success") >= 1);
	fx_run("grep -q 'Updated revocation state from conductor r1: "
	       "generation 5' state/audit.log");
	fx_run("test -s state/conductor-held.bin");
}

/* Push: generation 6 while the router's request waits: +2 -1 keys. */
static void test_delta_pushed(void **state)
{
	struct timespec t0, t1;
	double s;

	delta(epoch1, 5, 6, time(NULL) - 90, kb, 2, &ka[0], 1, "delta-5.der");
	full(epoch1, 6, time(NULL) - 90, ka + 1, 2);	/* not asked for */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	set_current(epoch1, 6);
	wait_status(".conductor.generation == 6");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("generation 6 held %.2f s after the conductor had it\n",
		      s);
	assert_true(s < 5.0);
	master_has(4, ka + 1, 2, true);
	master_has(4, kb, 2, true);
	master_has(4, ka, 1, false);
	fx_run("jq -e '.conductor.last_result | startswith(\"ok: generation 6 "
	       "(delta), +2 -1 keys\")' status.json");
	{
		static char out[16384];

		assert_int_equal(ctl(out, sizeof(out), "crl status"), 0);
		if (!strstr(out, "conductor https://127.0.0.1:") ||
		    !strstr(out, "(r1)\n    state ok\n    epoch e1e1e1e1e1e1e1e1"
			    "e1e1e1e1e1e1e1e1, generation 6, 4 keys\n"))
			fail_msg("crl status:\n%s", out);
	}
}

/* Nothing new: 304s (the server holds 2 s now), the state as it was. */
static void test_not_modified(void **state)
{
	fx_save("srv/max-wait", "2", 1);
	wait_status(".conductor.last_result == \"not modified\" and "
		    ".conductor.generation == 6");
	master_has(4, kb, 2, true);
	assert_false(alarm_for("crl-unreachable"));
	assert_false(alarm_for("crl-invalid"));
}

/* Tampered, then a signer that may not speak for r1: rejected, kept,
 * alarmed, counted, audited; meanwhile the CRL url is fetched. */
static void test_tampered_and_untrusted(void **state)
{
	struct svrcert_gen_update u = { .kind = SVRCERT_GEN_DELTA, .base = 6,
		.gen = 7, .time = time(NULL) - 80, .added = &ka[3],
		.nadded = 1 };
	struct svrcert_conductor_signer bad = { .st = &r1st,
		.storage = TPM_KEY_STORAGE_FILE, .name = "r1" };
	long long fail0 = counter("crl-ingestion.failure");
	char err[300];
	uint8_t *doc;
	size_t len;

	memcpy(u.epoch, epoch1, sizeof(epoch1));
	delta(epoch1, 6, 7, u.time, &ka[3], 1, NULL, 0, "delta-6.der");
	/* one byte of the signed content changed */
	fx_run("python3 -c \"import sys; b=bytearray(open('srv/delta-6.der',"
	       "'rb').read()); i=b.find(bytes([0xa0]*30)); b[i]^=1; "
	       "open('srv/d.tmp','wb').write(b)\" && mv srv/d.tmp "
	       "srv/delta-6.der");
	set_current(epoch1, 7);
	wait_status(".conductor.state == \"invalid\" and "
		    ".conductor.generation == 6 and .conductor.fallback and "
		    ".sources[0].attempts >= 1");
	assert_true(alarm_for("crl-invalid"));
	assert_true(counter("crl-ingestion.failure") > fail0);
	fx_run("grep -q 'Rejected revocation update from conductor r1: the "
	       "signature does not verify' state/audit.log");
	assert_true(crl_hits() >= 1);
	/* the url's CRL joins the conductor's keys */
	wait_status(".sources[0].state == \"ok\"");
	master_has(4 + ca_crl.nkeys, ca_crl.keys, ca_crl.nkeys, true);

	/* CN=r1 from a CA this router does not trust, on r1's key */
	fx_run("cp '%s' r1/cert.pem", testpki_path("bad-untrusted.pem"));
	assert_int_equal(svrcert_conductor_sign(&bad, &u, &doc, &len, err,
						sizeof(err)), 0);
	fx_run("cp '%s' r1/cert.pem", testpki_path("r1.pem"));
	fx_save("srv/d.tmp", doc, len);
	free(doc);
	fx_run("mv srv/d.tmp srv/delta-6.der");
	wait_status(".conductor.last_result | test(\"may not speak for "
		    "conductor r1\")");
	fx_run("jq -e '.conductor.generation == 6' status.json");

	/* a good one: taken, the alarm cleared, the url stands by again */
	delta(epoch1, 6, 7, u.time, &ka[3], 1, NULL, 0, "delta-6.der");
	wait_status(".conductor.state == \"ok\" and .conductor.generation == 7"
		    " and .sources[0].standby");
	assert_false(alarm_for("crl-invalid"));
	master_has(5 + ca_crl.nkeys, &ka[3], 1, true);
}

/* A key both the conductor and the CA's CRL revoke: the conductor's delta
 * adding it leaves the master list as it was, its delta removing it
 * leaves the key there (the CRL still revokes it); a key only the
 * conductor held goes. Each change is master.delta and
 * conductor-held.delta: master.bin is not rewritten. */
static void test_delta_keeps_crl_keys(void **state)
{
	time_t now = time(NULL);
	struct stat b0, b1;
	char path[PATH_MAX];

	fx_path(path, sizeof(path), "state/master.bin");
	assert_int_equal(stat(path, &b0), 0);
	delta(epoch1, 7, 8, now - 70, &ca_crl.keys[0], 1, NULL, 0,
	      "delta-7.der");
	set_current(epoch1, 8);
	wait_status(".conductor.generation == 8 and .conductor.keys == 6");
	master_has(5 + ca_crl.nkeys, ca_crl.keys, ca_crl.nkeys, true);
	delta(epoch1, 8, 9, now - 60, NULL, 0, &ca_crl.keys[0], 1,
	      "delta-8.der");
	set_current(epoch1, 9);
	wait_status(".conductor.generation == 9 and .conductor.keys == 5");
	master_has(5 + ca_crl.nkeys, ca_crl.keys, ca_crl.nkeys, true);
	delta(epoch1, 9, 10, now - 50, NULL, 0, &ka[3], 1, "delta-9.der");
	set_current(epoch1, 10);
	wait_status(".conductor.generation == 10");
	master_has(4 + ca_crl.nkeys, &ka[3], 1, false);
	assert_int_equal(stat(path, &b1), 0);
	assert_true(b0.st_ino == b1.st_ino &&
		    b0.st_mtim.tv_nsec == b1.st_mtim.tv_nsec);
	fx_run("test -s state/master.delta && test -s state/conductor-held.delta");
}

/* Another epoch (the conductor lost its journal): its full set replaces
 * the held state. Then a delta that does not apply: a bare GET for the
 * full set, which is taken. */
static void test_other_epoch_and_resync(void **state)
{
	time_t now = time(NULL);

	full(epoch2, 1, now - 10, kb, 2);
	set_current(epoch2, 1);
	wait_status(".conductor.generation == 1 and .conductor.epoch == "
		    "\"e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2\" and .conductor.keys == 2");
	master_has(2 + ca_crl.nkeys, ka, 4, false);
	master_has(2 + ca_crl.nkeys, kb, 2, true);

	/* "delta-1.der" claims base 0: it does not apply to generation 1 */
	delta(epoch2, 0, 2, now - 5, ka, 1, NULL, 0, "delta-1.der");
	full(epoch2, 2, now - 5, ka, 1);
	set_current(epoch2, 2);
	wait_status(".conductor.generation == 2 and .conductor.keys == 1");
	/* the bare GET of the start, and the one of the resync */
	fx_run("grep -qx '/v1/revocation?epoch=e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"
	       "&since=1&wait=60 r2' srv/requests.log && "
	       "test $(grep -cx '/v1/revocation r2' srv/requests.log) = 2");
	/* the resync's full request names no ETag: the held set is the one
	 * in doubt */
	fx_run("test $(grep -cx '/v1/revocation -' srv/inm.log) = 2 && "
	       "! grep -q '^/v1/revocation \"' srv/inm.log");
	master_has(1 + ca_crl.nkeys, ka, 1, true);
}

/* 403 with the conductor's reason; then the conductor down: alarms, the
 * list kept, the url fetched; back: standby again. */
static void test_refused_and_down(void **state)
{
	int hits;

	fx_save("srv/refuse", "revoked: router r2 is revoked\n", 30);
	wait_status(".conductor.state == \"refused\"");
	assert_true(alarm_for("crl-unreachable"));
	fx_run("jq -e '.alarms[] | select(.source | startswith(\"https://\"))"
	       " | .message | test(\"refused this router: .*HTTP 403 .*: "
	       "revoked: router r2 is revoked\")' status.json");
	fx_run("rm srv/refuse");
	wait_status(".conductor.state == \"ok\"");
	assert_false(alarm_for("crl-unreachable"));

	hits = crl_hits();
	cond_stop();
	wait_status(".conductor.state == \"unreachable\" and "
		    ".conductor.failures >= 3 and .conductor.fallback");
	assert_true(alarm_for("crl-unreachable"));
	master_has(1 + ca_crl.nkeys, ka, 1, true);
	wait_status(".sources[0].attempts >= 2");
	assert_true(crl_hits() > hits);
	/* a server that is not conductor r1 (r3, of the same CA) */
	cond_start(cond_port, "r3.pem", "r3.key");
	wait_status(".conductor.last_result | test(\"certificate .*CN=r3.* is "
		    "not conductor r1: \")");
	fx_run("jq -e '.conductor.generation == 2' status.json");
	cond_stop();
	cond_start(cond_port, "r1-chain.pem", "r1.key");
	wait_status(".conductor.state == \"ok\" and .sources[0].standby");
	assert_false(alarm_for("crl-unreachable"));
}

/* A restart while the conductor is down: the held state is in force from
 * the start, and the long-poll resumes from it when the conductor is back. */
static void test_held_state_survives_restart(void **state)
{
	stop_daemon();
	cond_stop();
	start_daemon();
	wait_status(".conductor.generation == 2 and .conductor.keys == 1 and "
		    ".conductor.attempts >= 1");
	master_has(1 + ca_crl.nkeys, ka, 1, true);
	assert_true(alarm_for("crl-unreachable"));
	fx_run(": > srv/requests.log && : > srv/inm.log");
	/* Back, holding the first long-poll: reachable (and its alarm gone)
	 * while that request waits, not at its answer. */
	fx_save("srv/max-wait", "60", 2);
	cond_start(cond_port, "r1-chain.pem", "r1.key");
	wait_status(".conductor.state == \"ok\" and .conductor.in_flight and "
		    "(.conductor.last_result | startswith(\"connected, waiting\"))");
	fx_run("test $(wc -l < srv/requests.log) = 1");
	for (int i = 0; i < 50 && alarm_for("crl-unreachable"); i++)
		usleep(100000);
	assert_false(alarm_for("crl-unreachable"));
	fx_save("srv/max-wait", "2", 1);	/* the 304, and the next */
	wait_status(".conductor.state == \"ok\" and .conductor.in_flight and "
		    ".conductor.last_result == \"not modified\"");
	fx_run("grep -q '^/v1/revocation?epoch=e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"
	       "&since=2&wait=60 r2$' srv/requests.log");
	/* No ETag kept across the restart: the first request names none, the
	 * next the one of the 304 (the server holds 2 s) */
	fx_run("e='/v1/revocation?epoch=e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2&since=2"
	       "&wait=60'; for i in $(seq 100); do grep -qx \"$e \\\"e2e2e2e2e2"
	       "e2e2e2e2e2e2e2e2e2e2e2-2\\\"\" srv/inm.log && break; sleep 0.1; "
	       "done; head -1 srv/inm.log | grep -qx \"$e -\" && grep -qx \"$e "
	       "\\\"e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2-2\\\"\" srv/inm.log");
	stop_daemon();
}

/* Another conductor by a reload (conductor-name r9): what r1 said goes
 * (file and keys), and neither r1's server nor its documents pass as r9's;
 * r1 again: its full set. */
static void test_conductor_changed_by_reload(void **state)
{
	start_daemon();
	wait_status(".conductor.state == \"ok\" and .conductor.generation == 2");
	write_conf("r9");
	kill(daemon_pid, SIGHUP);
	wait_status(".conductor.name == \"r9\" and .conductor.keys == 0 and "
		    ".conductor.epoch == null and (.conductor.last_result // \"\" "
		    "| test(\"conductor r9: \"))");
	fx_run("test ! -e state/conductor-held.bin");
	master_has(ca_crl.nkeys, ka, 1, false);
	write_conf("r1");
	kill(daemon_pid, SIGHUP);
	wait_status(".conductor.name == \"r1\" and .conductor.state == \"ok\" "
		    "and .conductor.generation == 2 and .conductor.keys == 1");
	master_has(1 + ca_crl.nkeys, ka, 1, true);
	fx_run("test -s state/conductor-held.bin");
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_full_fetch),
		cmocka_unit_test(test_delta_pushed),
		cmocka_unit_test(test_not_modified),
		cmocka_unit_test(test_tampered_and_untrusted),
		cmocka_unit_test(test_delta_keeps_crl_keys),
		cmocka_unit_test(test_other_epoch_and_resync),
		cmocka_unit_test(test_refused_and_down),
		cmocka_unit_test(test_held_state_survives_restart),
		cmocka_unit_test(test_conductor_changed_by_reload),
	};

	(void)fx_load;
	(void)fx_trust;
	(void)serve_fetch;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
