// SPDX-License-Identifier: GPL-2.0
/*
 * Delta CRLs (issue 15 item 7; RFC 5280 5.2.4, 5.2.6) with the real svrcertd
 * on the host, the real HTTP server tests/unit/crl_server.py and a real CA's
 * base and delta CRLs (build/tools/mkcrl). The configured URL serves base
 * CRL 10 whose freshestCRL names the delta URL:
 *
 *   delta 11 (+5 keys, removeFromCRL 2 of the base's) -> master = 8 - 2 + 5
 *   delta 12 (+1 key, the same 2 removed)             -> master = 8 - 2 + 1
 *   delta 11 again                                    -> refused, kept
 *   restart, delta URL gone (404)                     -> base + delta 12
 *                                                        still in force
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

static struct svrcert_crl d11, d12;

static void write_conf(void)
{
	char text[3 * PATH_MAX];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/ca.crl", fx_port);
	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"a\"]\nfile = %s/a.pem\n"
		 "[crl]\nurl = %s\n"
		 "polling-interval = 1h\nbackoff-interval = 1h\n"
		 "timeout = 5s\nconnect-timeout = 2s\n"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, url, fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

/* Wait up to 10 s until the published master list has N keys. */
static void wait_keys(size_t n)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	size_t have = 0;
	int t;

	fx_path(path, sizeof(path), "state/master.bin");
	for (t = 0; t < 100; t++) {
		if (!svrcert_master_load(path, &m, err, sizeof(err))) {
			have = m.n;
			svrcert_master_release(&m);
			if (have == n)
				return;
		}
		usleep(100000);
	}
	fail_msg("master list has %zu keys, want %zu", have, n);
}

static int group_setup(void **state)
{
	char www[PATH_MAX], opts[300];

	if (fx_setup_dir("dcrldelta"))
		return -1;
	fx_run("mkdir -p www state");
	fx_path(www, sizeof(www), "www");
	if (fx_start_server(www))
		return -1;
	fx_make_ca("a", "/O=svrcert test/CN=delta CA");
	snprintf(opts, sizeof(opts), "--number 10 --seed 21 --freshest "
		 "http://127.0.0.1:%d/crl/delta.crl", fx_port);
	fx_mkcrl("b10.der", "a", 8, opts);
	fx_mkcrl("d11.der", "a", 5, "--number 11 --delta 10 --seed 22 "
		 "--remove 2 --remove-seed 21");
	fx_mkcrl("d12.der", "a", 1, "--number 12 --delta 10 --seed 23 "
		 "--remove 2 --remove-seed 21");
	walk("d11.der", "a", &d11);
	walk("d12.der", "a", &d12);
	fx_run("cp b10.der www/ca.crl && cp d11.der www/delta.crl");
	write_conf();
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	svrcert_crl_release(&d11);
	svrcert_crl_release(&d12);
	return fx_teardown();
}

static void test_delta_combined_in_daemon(void **state)
{
	static char out[16384];
	char args[400];

	start_daemon();
	wait_keys(8 - 2 + 5);
	master_holds(&d11, true, 11);
	/* removeFromCRL: the base's keys the delta removes are gone */
	{
		struct svrcert_crl rm = { .keys = d11.removed,
					  .nkeys = d11.nremoved };

		master_holds(&rm, false, 11);
	}
	fx_run("jq -e '.crls[0].delta.crl_number == \"0B\" and "
	       ".crls[0].effective_keys == 11' state/index.json");
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].delta.held and "
	       ".sources[0].delta.crl_number == \"0B\"' status.json");

	/* the next delta (cumulative since base 10) */
	fx_run("cp d12.der www/delta.tmp && mv www/delta.tmp www/delta.crl");
	snprintf(args, sizeof(args), "crl fetch %s", url);
	assert_int_equal(ctl(out, sizeof(out), args), 0);
	wait_keys(8 - 2 + 1);
	master_holds(&d12, true, 7);
	master_holds(&d11, false, 7);

	/* a reload moves the sources with their base and delta CRLs */
	kill(daemon_pid, SIGHUP);
	usleep(500000);
	assert_int_equal(waitpid(daemon_pid, NULL, WNOHANG), 0);	/* alive */
	assert_int_equal(ctl(out, sizeof(out), "crl status -j"), 0);
	fx_save("status.json", out, strlen(out));
	fx_run("jq -e '.sources[0].delta.crl_number == \"0C\"' status.json");
	master_holds(&d12, true, 7);

	/* an older delta: refused, the state kept */
	fx_run("cp d11.der www/delta.tmp && mv www/delta.tmp www/delta.crl");
	assert_int_equal(ctl(out, sizeof(out), args), 0);
	for (int t = 0; t < 100 && !alarm_for("crl-invalid"); t++)
		usleep(100000);
	assert_true(alarm_for("crl-invalid"));
	fx_run("grep -q 'delta CRL 0B does not apply\\|delta CRL number 0B is "
	       "lower' state/audit.log");
	master_holds(&d12, true, 7);
	stop_daemon();

	/* restart with the delta URL gone: base + delta 12 still in force */
	fx_run("rm www/delta.crl");
	start_daemon();
	master_holds(&d12, true, 7);
	sleep(2);
	master_holds(&d12, true, 7);
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_combined_in_daemon),
	};

	(void)fx_load;
	(void)serve_fetch;
	(void)counter;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
