// SPDX-License-Identifier: GPL-2.0
/*
 * CRL discovery (issue 15 item 5) with the real svrcertd on the host, the
 * real HTTP server tests/unit/crl_server.py and a real OpenSSL CA whose
 * certificate names its CRL in cRLDistributionPoints (an http URL on the
 * server, and an ldap one that must be ignored). No [crl] url is configured:
 *
 *   start                          -> the CA's URL is a discovered source,
 *                                     fetched; its CRL (openssl ca -gencrl)
 *                                     revokes the peer certificate r2: the
 *                                     master list holds r2's key
 *   the same URL configured        -> one source (configured), one request
 *   discover = no                  -> no source, the CRL and key dropped
 *   discover = yes, own cert with  -> a second discovered source ("own"),
 *   another CDP installed             gone again when cert.pem is removed
 *   restart, a configured peer's   -> followed before the peer is heard
 *   URL in crl-discovered.json        from; dropped when the peer is deleted
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
#include "pki/pki.h"

static char own_url[256];
static uint8_t r2_key[32];

/* [crl] CRL_EXTRA; PEERS: [peer] sections. */
static void write_conf_peers(const char *crl_extra, const char *peers)
{
	char text[3 * PATH_MAX];

	snprintf(text, sizeof(text),
		 "[router]\nname = r1\n"
		 "[trusted-ca \"a\"]\nfile = %s/a.pem\n"
		 "[crl]\n%s"
		 "polling-interval = 1h\nbackoff-interval = 1s\n"
		 "timeout = 5s\nconnect-timeout = 2s\n%s"
		 "[daemon]\nstate-dir = %s/state\ncontrol-socket = %s/ctl.sock\n"
		 "audit-log = %s/state/audit.log\n",
		 fx_dir, crl_extra, peers, fx_dir, fx_dir, fx_dir);
	fx_save("svrcert.conf", text, strlen(text));
}

static void write_conf(const char *crl_extra)
{
	write_conf_peers(crl_extra, "");
}

/* The published master list holds r2's key (WANT) within 60 s. */
static void wait_r2(bool want)
{
	struct svrcert_master m = { 0 };
	char path[PATH_MAX], err[256];
	bool has = !want;
	int t;

	fx_path(path, sizeof(path), "state/master.bin");
	for (t = 0; t < 600; t++) {
		if (!svrcert_master_load(path, &m, err, sizeof(err))) {
			has = svrcert_revkeys_contains(m.keys, m.n, r2_key);
			svrcert_master_release(&m);
			if (has == want)
				return;
		}
		usleep(100000);
	}
	fail_msg("master list %s r2's key", has ? "still holds" : "lacks");
}

static long hits(void)
{
	char path[PATH_MAX];
	long n = -1;
	FILE *f;

	fx_run("curl -sf http://127.0.0.1:%d/hits > hits.txt", fx_port);
	fx_path(path, sizeof(path), "hits.txt");
	f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &n) != 1)
		n = -1;
	if (f)
		fclose(f);
	return n;
}

/* CA a (its CDP: URL and an ldap URI), r2 issued and revoked by it, the
 * CRL served; own.pem, issued by a, names another URL serving the same. */
static void make_pki(void)
{
	char path[PATH_MAX];
	X509 *x;
	FILE *f;

	fx_run("openssl req -x509 -newkey rsa:2048 -nodes -keyout a.key "
	       "-out a.pem -days 30 -subj '/O=svrcert test/CN=discover CA' "
	       "-addext basicConstraints=critical,CA:TRUE "
	       "-addext keyUsage=critical,keyCertSign,cRLSign "
	       "-addext 'crlDistributionPoints=URI:%s,"
	       "URI:ldap://ldap.example/cn=discover'", url);
	fx_run("printf '[ca]\\ndefault_ca = d\\n[d]\\ndatabase = index.txt\\n"
	       "new_certs_dir = .\\ncertificate = a.pem\\nprivate_key = a.key\\n"
	       "serial = serial\\ncrlnumber = crlnumber\\ndefault_md = sha256\\n"
	       "default_crl_days = 30\\ndefault_days = 2\\npolicy = p\\n"
	       "[p]\\ncommonName = supplied\\n[own]\\n"
	       "crlDistributionPoints = URI:%s\\n' > ca.cnf && : > index.txt && "
	       "echo 1000 > serial && echo 01 > crlnumber", own_url);
	fx_run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	       "-nodes -keyout r2.key -subj /CN=r2 -out r2.csr && "
	       "openssl ca -batch -config ca.cnf -in r2.csr -out r2.pem && "
	       "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	       "-nodes -keyout own.key -subj /CN=r1 -out own.csr && "
	       "openssl ca -batch -config ca.cnf -extensions own -in own.csr "
	       "-out own.pem && openssl ca -config ca.cnf -revoke r2.pem && "
	       "openssl ca -config ca.cnf -gencrl -out www/a.crl && "
	       "cp www/a.crl www/own.crl");
	fx_path(path, sizeof(path), "r2.pem");
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	assert_int_equal(svrcert_revkey_from_cert(x, r2_key), 0);
	X509_free(x);
}

static int group_setup(void **state)
{
	char www[PATH_MAX];

	if (fx_setup_dir("dcrldisc"))
		return -1;
	fx_run("mkdir -p www state");
	fx_path(www, sizeof(www), "www");
	if (fx_start_server(www))
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/crl/a.crl", fx_port);
	snprintf(own_url, sizeof(own_url), "http://127.0.0.1:%d/crl/own.crl",
		 fx_port);
	make_pki();
	write_conf("");
	return 0;
}

static int group_teardown(void **state)
{
	stop_daemon();
	return fx_teardown();
}

static void test_discovered_source_revokes_peer(void **state)
{
	static char out[16384];
	char expr[800];

	start_daemon();
	wait_r2(true);
	snprintf(expr, sizeof(expr), ".sources | length == 1 and "
		 ".[0].url == \"%s\" and .[0].discovered and .[0].state == \"ok\" "
		 "and .[0].referenced_by == [\"ca /O=svrcert test/CN=discover "
		 "CA\"]", url);
	wait_status(expr);
	fx_run("jq -e '.discovery.enabled and .discovery.max == 16 and "
	       ".discovery.sources == 1 and .discovery.ignored == "
	       "\"ldap://ldap.example/cn=discover\"' status.json");
	fx_run("jq -e '.sources[0].url == \"%s\"' state/crl-discovered.json",
	       url);
	/* published and audited like a configured source's CRL */
	fx_run("jq -e '.crls | length == 1 and .[0].url == \"%s\"' "
	       "state/index.json", url);
	fx_run("grep 'system.crl_update' state/audit.log | grep -q '%s'", url);
	assert_true(counter("crl-ingestion.success") >= 1);
	assert_int_equal(ctl(out, sizeof(out), "show certificate crl"), 0);
	if (!strstr(out, "(discovered: ca /O=svrcert test/CN=discover CA)"))
		fail_msg("show certificate crl:\n%s", out);
	assert_int_equal(ctl(out, sizeof(out), "show certificate crl -j"), 0);
	fx_save("show.json", out, strlen(out));
	fx_run("jq -e '.sources.discover and .manager.sources[0].discovered' "
	       "show.json");
}

/* A configured URL that a certificate names too is one source, fetched
 * once per poll. */
static void test_configured_duplicate_fetched_once(void **state)
{
	static char out[16384];
	char extra[400], expr[400];
	long before;

	snprintf(extra, sizeof(extra), "url = %s\n", url);
	write_conf(extra);
	kill(daemon_pid, SIGHUP);
	snprintf(expr, sizeof(expr), ".sources | length == 1 and "
		 ".[0].url == \"%s\" and (.[0].discovered | not) and "
		 ".[0].in_flight == false", url);
	wait_status(expr);
	before = hits();
	assert_int_equal(ctl(out, sizeof(out), "crl fetch"), 0);
	assert_int_equal(hits(), before + 1);
	wait_r2(true);
}

/* discover = no: nothing discovered; the CRL and its keys go with it. */
static void test_discover_no(void **state)
{
	write_conf("discover = no\n");
	kill(daemon_pid, SIGHUP);
	wait_status(".sources == [] and .discovery.enabled == false");
	wait_r2(false);
	fx_run("jq -e '.crls == []' state/index.json");
	fx_run("jq -e '.sources == []' state/crl-discovered.json");
}

/* Back on; then this router's certificate names another URL: followed
 * while cert.pem refers to it, dropped when nothing does. */
static void test_unreferenced_removed(void **state)
{
	char expr[1000];

	write_conf("discover = yes\n");
	kill(daemon_pid, SIGHUP);
	wait_r2(true);
	fx_run("cp own.pem state/cert.pem");
	/* the own certificate's URLs come first (the bound favours them) */
	snprintf(expr, sizeof(expr), ".sources | length == 2 and "
		 ".[0].url == \"%s\" and .[0].referenced_by == [\"own\"] and "
		 ".[0].state == \"ok\" and .[1].url == \"%s\"", own_url, url);
	wait_status(expr);
	fx_run("jq -e '.crls | length == 2' state/index.json");
	fx_run("rm state/cert.pem");
	snprintf(expr, sizeof(expr), ".sources | length == 1 and "
		 ".[0].url == \"%s\"", url);
	wait_status(expr);
	fx_run("jq -e '.crls | length == 1 and .[0].url == \"%s\"' "
	       "state/index.json", url);
	wait_r2(true);
	stop_daemon();
}

/*
 * Across a restart: a configured peer that has not authenticated yet keeps
 * the URLs its last certificate named (crl-discovered.json), so their CRLs
 * are held and fetched before it is heard from; deleting the peer drops
 * them. The CA's source is held from its published copy before any fetch.
 */
static void test_peer_url_until_peer_deleted(void **state)
{
	char text[1200], expr[1000];

	snprintf(text, sizeof(text), "{\"version\": 1, \"sources\": [{\"url\": "
		 "\"%s\", \"refs\": [\"peer rx\"]}, {\"url\": \"%s\", "
		 "\"refs\": [\"peer gone\"]}]}", own_url,
		 "http://127.0.0.1:1/gone.crl");
	fx_save("state/crl-discovered.json", text, strlen(text));
	fx_run("mv www/a.crl www/a.crl.off");	/* restart: nothing to fetch */
	write_conf_peers("", "[peer \"rx\"]\naddress = 192.0.2.9\n");
	start_daemon();
	wait_r2(true);
	snprintf(expr, sizeof(expr), ".sources | length == 2 and "
		 ".[0].url == \"%s\" and .[0].referenced_by == "
		 "[\"ca /O=svrcert test/CN=discover CA\"] and "
		 ".[1].url == \"%s\" and .[1].referenced_by == [\"peer rx\"] "
		 "and .[1].state == \"ok\"", url, own_url);
	wait_status(expr);
	wait_r2(true);		/* the CA's CRL, held though unreachable */
	fx_run("mv www/a.crl.off www/a.crl");
	write_conf("");
	kill(daemon_pid, SIGHUP);
	snprintf(expr, sizeof(expr), ".sources | length == 1 and "
		 ".[0].url == \"%s\"", url);
	wait_status(expr);
	fx_run("jq -e '.crls | length == 1' state/index.json");
	fx_run("jq -e '.sources | length == 1' state/crl-discovered.json");
	stop_daemon();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovered_source_revokes_peer),
		cmocka_unit_test(test_configured_duplicate_fetched_once),
		cmocka_unit_test(test_discover_no),
		cmocka_unit_test(test_unreferenced_removed),
		cmocka_unit_test(test_peer_url_until_peer_deleted),
	};

	(void)fx_load;
	(void)fx_trust;
	(void)fx_mkcrl;
	(void)fx_make_ca;
	(void)serve_fetch;
	(void)alarm_for;
	(void)master_holds;
	(void)walk;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
