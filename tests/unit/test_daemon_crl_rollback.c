// SPDX-License-Identifier: GPL-2.0
/*
 * No rollback (issue 15 item 8), with the real svrcertd on the host, the
 * real HTTP server tests/unit/crl_server.py and CRLs of two real CAs
 * (build/tools/mkcrl). Revocation state is held per issuer: a key revoked
 * by issuer A disappears only when A itself publishes a newer CRL without
 * it. On one URL:
 *
 *   A's CRL 5 revoking K                 -> K held
 *   A's CRL 4 without K                  -> refused (crl-invalid, counted,
 *                                           audited), K stays
 *   B's CRL 1 (another trusted issuer)   -> accepted, K stays, alarm
 *                                           crl-issuer-changed
 *   daemon restart; A's CRL 4 again      -> refused: A's number 5 survived
 *   A's CRL 6 without K                  -> K goes (B's keys stay)
 *   daemon restart; A's CRL 5 again      -> refused: number 6 survived
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
#include "test_daemon_crl_fixture.h"

static struct svrcert_crl a5, b1;	/* A's CRL 5 (K) and B's CRL 1 */

static void write_conf(void)
{
	char text[3 * PATH_MAX];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/ca.crl", fx_port);
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"a\"]\nfile = %s/a.pem\n"
		 "[trusted-ca \"b\"]\nfile = %s/b.pem\n"
		 "[crl]\nurl = %s\n"
		 "polling-interval = 1h\nbackoff-interval = 1h\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, fx_dir, url, fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (fx_setup_dir("dcrlrb"))
		return -1;
	fx_run("mkdir -p www state");
	fx_make_ca("a", "/O=svrcert test/CN=issuer A");
	fx_make_ca("b", "/O=svrcert test/CN=issuer B");
	fx_mkcrl("a5.der", "a", 3, "--number 5 --seed 7 --this -7200");
	fx_mkcrl("a4.der", "a", 0, "--number 4 --this -9000");
	fx_mkcrl("b1.der", "b", 2, "--number 1 --seed 9");
	fx_mkcrl("a6.der", "a", 0, "--number 6 --this -60");
	walk("a5.der", "a", &a5);
	walk("b1.der", "b", &b1);
	assert_int_equal(a5.nkeys, 3);
	fx_path(www, sizeof(www), "www");
	fx_run("cp a5.der www/ca.crl");
	if (fx_start_server(www))
		return -1;
	write_conf();
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	svrcert_crl_release(&a5);
	svrcert_crl_release(&b1);
	return fx_teardown();
}

static void test_rollback_sequence(void **state)
{
	static char out[8192];
	long long fail0;

	start_daemon();
	assert_int_equal(serve_fetch("a5.der", out, sizeof(out)), 0);
	master_holds(&a5, true, 3);

	/* An older CRL of A: refused, alarmed, counted, audited; K stays. */
	fail0 = counter("crl-ingestion.failure");
	assert_int_equal(serve_fetch("a4.der", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "CRL number 04 is lower than the held CRL "
			       "number 05"));
	assert_true(alarm_for("crl-invalid"));
	assert_true(counter("crl-ingestion.failure") > fail0);
	fx_run("grep -q 'Rejected CRL from %s: CRL number 04 is lower' "
	       "state/audit.log", url);
	master_holds(&a5, true, 3);

	/* Another issuer's genuine CRL on A's URL: A's revocations stay. */
	assert_int_equal(serve_fetch("b1.der", out, sizeof(out)), 0);
	master_holds(&a5, true, 5);
	master_holds(&b1, true, 5);
	assert_true(alarm_for("crl-issuer-changed"));
	assert_false(alarm_for("crl-invalid"));
	fx_run("grep -q 'the URL served /O=svrcert test/CN=issuer A before' "
	       "state/audit.log");
	fx_run("jq -e '[.crls[] | select(.previous_issuer)] | length == 1 and "
	       ".[0].crl_number == \"05\"' state/index.json");
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].previous_issuers == [{\"issuer\": "
	       "\"/O=svrcert test/CN=issuer A\", \"crl_number\": \"05\", "
	       "\"keys\": 3}]' status.json");
	/* a reload moves the source with both issuers' CRLs */
	kill(daemon_pid, SIGHUP);
	usleep(500000);
	assert_int_equal(waitpid(daemon_pid, NULL, WNOHANG), 0);	/* alive */
	master_holds(&a5, true, 5);
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].previous_issuers | length == 1' status.json");
	stop_daemon();

	/* Across a restart A's held CRL number 5 still counts. */
	start_daemon();
	master_holds(&a5, true, 5);
	assert_int_equal(serve_fetch("a4.der", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "lower than the held CRL number 05"));
	master_holds(&a5, true, 5);

	/* A itself publishes a newer CRL without K: now K goes. */
	assert_int_equal(serve_fetch("a6.der", out, sizeof(out)), 0);
	master_holds(&a5, false, 2);
	master_holds(&b1, true, 2);
	stop_daemon();

	start_daemon();
	master_holds(&b1, true, 2);
	assert_int_equal(serve_fetch("a5.der", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "lower than the held CRL number 06"));
	master_holds(&a5, false, 2);
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollback_sequence),
	};

	(void)fx_load;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
