// SPDX-License-Identifier: GPL-2.0
/*
 * One vocabulary and svrcertctl set as a runtime override (issue 16 item
 * 3): the override record (lib/policy_override.c), svrcertd keeping it
 * across a reload and saying so in its log, a restart ending it (and
 * saying so), svrcert.conf's words in svrcert.conf and in svrcertctl set
 * alike (failure-mode / invalid-certificate-behavior, true/false/on/off).
 * svrcert.ko is not needed: what the kernel receives is the guest
 * tests' business; here it is what the daemon decides and says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_daemon_fixture.h"

#include "lib/config.h"
#include "lib/policy_override.h"
#include "lib/util.h"

static void test_record_roundtrip(void **state)
{
	struct policy_override o = { .has_fm = true, .fm = SVRCERT_FAIL_HARD,
				     .has_ports = true, .port_min = 4000,
				     .port_max = 4999 }, back;
	struct svrcert_config cfg;
	struct svrcert_store st;
	char dir[64], err[256], what[512];
	enum svrcert_failure_mode fm;
	int pmin, pmax;
	bool pv;

	assert_int_equal(fixture_tempdir(dir, "povr"), 0);
	assert_int_equal(store_open(&st, dir), 0);
	assert_int_equal(policy_override_load(&st, &back), 0);	/* none */
	assert_false(policy_override_any(&back));
	assert_int_equal(policy_override_save(&st, &o), 0);
	assert_int_equal(policy_override_load(&st, &back), 0);
	assert_true(back.has_fm && back.fm == SVRCERT_FAIL_HARD);
	assert_true(back.has_ports && back.port_min == 4000 && back.port_max == 4999);
	assert_false(back.has_pv);

	assert_int_equal(svrcert_config_load_string("[router]\nname = r\n"
		"peer-validation = on\nsvr-ports = 80-81\n", "t.conf", &cfg,
		err, sizeof(err)), 0);
	policy_override_apply(&back, &cfg, &pv, &fm, &pmin, &pmax);
	assert_true(pv);			/* svrcert.conf's */
	assert_int_equal(fm, SVRCERT_FAIL_HARD);	/* the override's */
	assert_int_equal(pmin, 4000);
	policy_override_describe(&back, &cfg, what, sizeof(what));
	assert_string_equal(what, "failure-mode fail-hard (svrcert.conf: "
			    "fail-soft), svr-ports 4000-4999 (svrcert.conf: 80-81)");
	svrcert_config_free(&cfg);

	/* nothing overridden: no record at all */
	memset(&o, 0, sizeof(o));
	assert_int_equal(policy_override_save(&st, &o), 0);
	assert_false(store_exists(&st, STORE_POLICY_OVERRIDE));
	/* a damaged record is refused, not half-read */
	assert_int_equal(store_write(&st, STORE_POLICY_OVERRIDE,
				     "{\"failure-mode\":\"fail-loud\"}", 29, 0644), 0);
	assert_int_equal(policy_override_load(&st, &back), -EBADMSG);
	assert_false(policy_override_any(&back));
	store_close(&st);
	fixture_rm_rf(dir);
}

/* svrcert.conf says failure-mode and peer-validation as svrcertctl set
 * does; the older key name is the same key. */
static void test_config_words(void **state)
{
	struct svrcert_config cfg;
	char err[256];

	assert_int_equal(svrcert_config_load_string("[router]\nname = r\n"
		"failure-mode = fail-hard\npeer-validation = on\n", "t.conf",
		&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.failure_mode, SVRCERT_FAIL_HARD);
	assert_true(cfg.peer_validation);
	svrcert_config_free(&cfg);
	assert_int_equal(svrcert_config_load_string("[router]\nname = r\n"
		"invalid-certificate-behavior = fail-hard\npeer-validation = "
		"false\n", "t.conf", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.failure_mode, SVRCERT_FAIL_HARD);
	svrcert_config_free(&cfg);
	assert_int_not_equal(svrcert_config_load_string("[router]\nname = r\n"
		"failure-mode = fail-hard\ninvalid-certificate-behavior = "
		"fail-soft\n", "t.conf", &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "set twice"));
}

/* svrcertctl set's words and their errors (before any netlink). */
static void test_set_words(void **state)
{
	const char *src = getenv("SVRCERT_SRCDIR");
	char cmd[4400], out[4096];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "c=%s/build/svrcertctl; $c set peer-validation "
		 "maybe 2>&1; echo \"exit $?\"; $c set bogus 1 2>&1",
		 src ? src : ".");
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	assert_non_null(strstr(out, "peer-validation: bad value 'maybe' "
			       "(expected true|false (on|off)|config)"));
	assert_non_null(strstr(out, "set failure-mode fail-soft|fail-hard|config"));
	assert_non_null(strstr(out, "set svr-ports MIN-MAX"));
	assert_non_null(strstr(out, "exit 2"));
}

static char *slurp(const char *path)
{
	uint8_t *buf = NULL;
	size_t len;

	return svrcert_read_file(path, 1 << 20, &buf, &len) ? strdup("") :
	       (char *)buf;
}

/* Wait up to 5 s for NEEDLE in the log at PATH. */
static bool log_says(const char *path, const char *needle)
{
	char *text;
	bool found = false;
	int i;

	for (i = 0; i < 100 && !found; i++) {
		text = slurp(path);
		found = strstr(text, needle) != NULL;
		free(text);
		if (!found)
			usleep(50 * 1000);
	}
	return found;
}

static void reload(const char *sock)
{
	json_t *req = json_pack("{s:s}", "command", "reload"), *resp = NULL;

	assert_int_equal(ctlsock_request(sock, req, &resp), 0);
	assert_true(json_is_true(json_object_get(resp, "ok")));
	json_decref(req);
	json_decref(resp);
}

/* The override recorded while svrcertd runs survives its reload, and the
 * reload says so; a restart ends it, and says so too. */
static struct dfx f;

/* Also after a failed assertion: no daemon is left behind. */
static int daemon_teardown(void **state)
{
	dfx_teardown(&f);
	return 0;
}

static void test_daemon_reload_keeps(void **state)
{
	struct policy_override o = { .has_pv = true, .pv = true,
				     .has_fm = true, .fm = SVRCERT_FAIL_HARD };
	struct svrcert_store st;
	char log[160], log2[160];
	int status;

	dfx_setup(&f, "povr-d");
	snprintf(log, sizeof(log), "%s/daemon-a.log", f.dir);
	assert_int_equal(store_open(&st, f.state), 0);
	assert_int_equal(policy_override_save(&st, &o), 0);
	reload(f.sock);
	assert_true(log_says(log, "svrcertctl set's runtime override stays in "
		"force: peer-validation true (svrcert.conf: false), failure-mode "
		"fail-hard (svrcert.conf: fail-soft)"));
	assert_true(store_exists(&st, STORE_POLICY_OVERRIDE));

	kill(f.pid, SIGTERM);
	assert_int_equal(dfx_wait_exit(f.pid, 10000, &status), 0);
	snprintf(log2, sizeof(log2), "%s/daemon-b.log", f.dir);
	f.pid = dfx_spawn(f.conf, NULL, NULL, log2);
	assert_int_equal(dfx_wait_answer(f.sock), 0);
	assert_true(log_says(log2, "runtime override ended by the restart, "
		"svrcert.conf's policy applies: was peer-validation true"));
	assert_false(store_exists(&st, STORE_POLICY_OVERRIDE));
	reload(f.sock);
	usleep(300 * 1000);
	{
		char *text = slurp(log2);

		assert_null(strstr(text, "stays in force"));
		free(text);
	}
	store_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_config_words),
		cmocka_unit_test(test_set_words),
		cmocka_unit_test_teardown(test_daemon_reload_keeps,
					  daemon_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
