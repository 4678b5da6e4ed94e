// SPDX-License-Identifier: GPL-2.0
/*
 * Peer keys after peer authentication ([daemon] peer-keys,
 * userspace/peer/peerauth_keys.c), two routers in one process, in a
 * network namespace of their own (unshare: root and xfrm_user needed):
 * the router with the lower certificate fingerprint calls, both judge each
 * other valid, the lower sends its offer, the higher reserves an inbound
 * SPI in the kernel, commits the key index and derives. Then its inbound
 * SA: a kernel with rfc4106(gcm(aes)) takes it and the agreement completes
 * (SPIs crosswise, index 0 on both); the development host's kernel has no
 * GCM and refuses it, which the higher records as the kernel said it and
 * the lower as the connection closing on its unanswered offer. The
 * whole agreement with ESP on the wire runs in the guest (86-peerkeys.sh).
 */
#include <sched.h>

#include "test_peerauth_fixture.h"
#include "lib/util.h"
#include "netlink/nl_util.h"
#include "peer/peerauth_int.h"
#include "peer/peerauth_keys_int.h"

static bool have_netns;

/* peer-keys = yes: [daemon] is the last section router_config writes. */
static json_t *keys_of(struct router *r)
{
	json_t *j = peerauth_status_json(r->pa);
	json_t *k = json_object_get(json_array_get(json_object_get(j, "peers"), 0), "keys");

	json_incref(k);
	json_decref(j);
	return k;
}

/* An agreement ended on R: keys established or a failure recorded. */
static bool ended(struct router *r)
{
	json_t *k = keys_of(r);
	bool done = !strcmp(json_string_value(json_object_get(k, "state")), "established") ||
		    json_integer_value(json_object_get(k, "failures")) > 0;

	json_decref(k);
	return done;
}

static bool both_ended(struct fx *f)
{
	return ended(&f->r1) && ended(&f->r2);
}

static bool never(struct fx *f)
{
	return false;
}

static void assert_floor(struct router *r, const char *peer, const char *want)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *fp;

	snprintf(path, sizeof(path), "%s/peer-keys/%s", r->dir, peer);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, want);
}

/* counters.json's KEY on R (svrcertd's loop persists the peer counts). */
static uint64_t counter_of(struct router *r, const char *key)
{
	json_t *state = NULL;
	uint64_t v;

	assert_int_equal(counters_load(&r->st, &state), 0);
	v = counters_get(state, key);
	json_decref(state);
	return v;
}

/* r1's certificate has the lower SHA-256 fingerprint: r1 is the router
 * that starts agreements (peerauth_keys.c). */
static bool r1_is_lower(void)
{
	uint8_t fp1[32], fp2[32];
	X509 *x1 = testpki_cert("r1.pem"), *x2 = testpki_cert("r2.pem");

	assert_int_equal(svrcert_fingerprint_sha256(x1, fp1), 0);
	assert_int_equal(svrcert_fingerprint_sha256(x2, fp2), 0);
	X509_free(x1);
	X509_free(x2);
	return memcmp(fp1, fp2, 32) < 0;
}

static void test_lower_calls_higher_answers(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	bool r1_lower;
	json_t *k1, *k2;

	if (!have_netns)
		skip();
	r1_lower = r1_is_lower();
	print_message("# the lower fingerprint is %s's: it calls\n", r1_lower ? "r1" : "r2");
	/* Only the lower calls: one agreement, no REQUEST round. */
	install(&f->r1, "cert.pem", "r1.pem");
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", r1_lower ? f->r2.port : 0);
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", r1_lower ? 0 : f->r1.port);
	keys_on(&f->r1);
	keys_on(&f->r2);
	router_start(&f->r2);
	router_start(&f->r1);
	assert_true(drive(rs, 2, both_ended, f, 30000));
	drive(rs, 2, never, f, 1000);	/* nothing more may follow */

	k1 = keys_of(&f->r1);
	k2 = keys_of(&f->r2);
	{
		char *t1 = json_dumps(k1, JSON_COMPACT), *t2 = json_dumps(k2, JSON_COMPACT);

		print_message("# r1 %s\n# r2 %s\n", t1, t2);
		free(t1);
		free(t2);
	}
	if (!strcmp(json_string_value(json_object_get(k1, "state")), "established")) {
		/* Both committed index 0 before deriving: the floor is 1. */
		assert_floor(&f->r1, "r2", "1\n");
		assert_floor(&f->r2, "r1", "1\n");
		assert_string_equal(json_string_value(json_object_get(k2, "state")), "established");
		assert_int_equal(json_integer_value(json_object_get(k1, "spi_in")),
				 json_integer_value(json_object_get(k2, "spi_out")));
		assert_int_equal(json_integer_value(json_object_get(k1, "spi_out")),
				 json_integer_value(json_object_get(k2, "spi_in")));
		assert_int_equal(json_integer_value(json_object_get(k1, "index")), 0);
		/* A first agreement is no rekey, and nothing failed. */
		assert_int_equal(counter_of(&f->r1, "peer-rekey.success"), 0);
		assert_int_equal(counter_of(&f->r1, "peer-rekey.failure"), 0);
		assert_int_equal(counter_of(&f->r2, "peer-rekey.failure"), 0);
	} else {
		/*
		 * No GCM here. The higher router, answering, took the lower's
		 * offer, reserved its SPI, committed index 0 (floor 1), derived
		 * and had its inbound SA refused before its own offer went
		 * out; the lower saw the connection close with its offer
		 * unanswered, so it committed nothing. One agreement each.
		 */
		struct router *lo = r1_lower ? &f->r1 : &f->r2;
		struct router *hi = r1_lower ? &f->r2 : &f->r1;
		json_t *kl = r1_lower ? k1 : k2, *kh = r1_lower ? k2 : k1;
		char path[PATH_MAX];

		assert_floor(hi, r1_lower ? "r1" : "r2", "1\n");
		snprintf(path, sizeof(path), "%s/peer-keys/%s", lo->dir, r1_lower ? "r2" : "r1");
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(json_integer_value(json_object_get(kl, "failures")), 1);
		assert_int_equal(json_integer_value(json_object_get(kh, "failures")), 1);
		assert_string_equal(json_string_value(json_object_get(kh, "last_failure")),
				    "inbound SA: Requested AEAD algorithm not found");
		assert_string_equal(json_string_value(json_object_get(kl, "last_failure")),
				    "connection closed during key agreement");
		assert_string_equal(json_string_value(json_object_get(k1, "state")), "none");
		assert_string_equal(json_string_value(json_object_get(k2, "state")), "none");
		/* Each failed agreement is counted in counters.json too. */
		assert_int_equal(counter_of(lo, "peer-rekey.failure"), 1);
		assert_int_equal(counter_of(hi, "peer-rekey.failure"), 1);
		assert_int_equal(counter_of(lo, "peer-rekey.success"), 0);
		assert_int_equal(counter_of(hi, "peer-sa.deleted"), 0);
	}
	json_decref(k1);
	json_decref(k2);
}

/*
 * The higher router with no keys asks on its call (REQUEST) and hangs up;
 * the lower calls back. The rotation timer must not ask again at once: a
 * second REQUEST crossed the agreement the first one started and made a
 * second agreement (seen after a restart on the debug guest). Here only
 * the higher has an endpoint to call, so each of its calls is one valid
 * judgement at the lower; within 3 s there must be exactly one.
 */
static void test_higher_asks_once(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	struct router *hi, *lo;
	json_t *st;

	if (!have_netns)
		skip();
	hi = r1_is_lower() ? &f->r2 : &f->r1;
	lo = hi == &f->r1 ? &f->r2 : &f->r1;
	install(&f->r1, "cert.pem", "r1.pem");
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", hi == &f->r1 ? f->r2.port : 0);
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", hi == &f->r2 ? f->r1.port : 0);
	keys_on(&f->r1);
	keys_on(&f->r2);
	router_start(lo);
	router_start(hi);
	drive(rs, 2, never, f, 3000);
	st = peerauth_status_json(lo->pa);
	print_message("# the higher's calls judged at the lower: %lld\n",
		      json_integer_value(json_object_get(json_object_get(st, "counters"),
							 "valid")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "counters"),
							    "valid")), 1);
	json_decref(st);
}

/* peer-keys off (the default): authentication only, no index written. */
static void test_keys_off(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	json_t *k;

	start_r2(f);
	start_r1(f, "r1.pem", "r2");
	run_until_judged(f, 1, 1);
	k = keys_of(&f->r1);
	assert_string_equal(json_string_value(json_object_get(k, "state")), "none");
	assert_int_equal(json_integer_value(json_object_get(k, "failures")), 0);
	json_decref(k);
	snprintf(path, sizeof(path), "%s/peer-keys/r2", f->r1.dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/peer-keys/r1", f->r2.dir);
	assert_int_equal(access(path, F_OK), -1);
}

/* R's "peer-key" alarm (a new reference), or NULL. */
static json_t *key_alarm(struct router *r)
{
	json_t *all = peerauth_alarms_json(r->pa), *a, *found = NULL;
	size_t i;

	json_array_foreach(all, i, a)
		if (!strcmp(json_string_value(json_object_get(a, "id")), PEERAUTH_KEY_ALARM_ID))
			found = json_incref(a);
	json_decref(all);
	return found;
}

static bool key_alarm_raised(struct fx *f)
{
	json_t *a = key_alarm(&f->r1);
	bool raised = a != NULL;

	json_decref(a);
	return raised;
}

/* STATE_DIR/peer-alarms.json: how many alarms with ID. */
static size_t alarms_in_file(struct router *r, const char *id)
{
	char *text = NULL;
	json_t *arr, *a;
	size_t i, n = 0;

	assert_int_equal(store_read(&r->st, PEERAUTH_ALARMS_FILE, &text, NULL), 0);
	arr = json_loads(text, 0, NULL);
	free(text);
	assert_true(json_is_array(arr));
	json_array_foreach(arr, i, a)
		n += !strcmp(json_string_value(json_object_get(a, "id")), id);
	json_decref(arr);
	return n;
}

static const char *keys_str(struct router *r, const char *member, char *buf, size_t len)
{
	json_t *k = keys_of(r);

	snprintf(buf, len, "%s", json_string_value(json_object_get(k, member)) ?: "");
	json_decref(k);
	return buf;
}

/*
 * A rekey keeps path and certificate, only the SPIs change, which the
 * kernel's binding does not hold: svrcert.ko is told once (pa_bind_peer
 * skips a binding equal to the one it took). A changed path is bound, and
 * a reloaded module gets every peer again (peerauth_rebind_all).
 */
static void test_rekey_binds_once(void **state)
{
	struct fx *f = *state;
	struct peerkey_keys k = { .index = 5, .spi_in = 0x1001, .spi_out = 0x1002 };
	struct peerkey_path path = { .reqid = SVRCERT_XFRM_REQID(7), .proto = 17,
				     .local_auth_port = 4430,
				     .remote_auth_port = 4431 };
	unsigned int calls;

	if (!have_netns)
		skip();
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &path.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.2", &path.remote), 0);
	install(&f->r1, "cert.pem", "r1.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", 0);
	keys_on(&f->r1);
	router_start(&f->r1);
	pa_keys_installed(f->r1.pa, &f->r1.pa->peers[0], &k, &path);
	assert_true(f->r1.bound.esp_required);
	calls = f->r1.bound.calls;
	assert_true(calls >= 1);
	k = (struct peerkey_keys){ .index = 6, .spi_in = 0x2001, .spi_out = 0x2002 };
	pa_keys_installed(f->r1.pa, &f->r1.pa->peers[0], &k, &path);
	assert_int_equal(f->r1.bound.calls, calls);		/* nothing new */
	assert_string_equal(f->r1.pa->peers[0].kernel, "bound: unknown");
	path.proto = 6;
	k = (struct peerkey_keys){ .index = 7, .spi_in = 0x3001, .spi_out = 0x3002 };
	pa_keys_installed(f->r1.pa, &f->r1.pa->peers[0], &k, &path);
	assert_int_equal(f->r1.bound.calls, calls + 1);	/* new path */
	assert_int_equal(f->r1.bound.esp_proto, 6);
	f->r1.pa->peers[0].results = 1;		/* rebind_all takes judged peers */
	assert_int_equal(peerauth_rebind_all(f->r1.pa), 1);
	assert_int_equal(f->r1.bound.calls, calls + 2);	/* a fresh module */
	assert_true(f->r1.bound.esp_required);
}

/*
 * Keys that reach rekey interval + peer-key-timeout without a new
 * agreement (the peer stopped answering): "peer r2 key is invalid", a
 * critical alarm in the set svrcertd shows (show alarms, peer-alarms.json),
 * kept across a restart, cleared by the next agreement. r1 alone, its peer
 * passive and never started, the wall clock faked (pa->p.now); keys are
 * recorded as a completed agreement records them (pa_keys_installed: this
 * host's kernel has no GCM for a real agreement; 86-peerkeys.sh has one).
 */
static void test_key_invalid_alarm(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1 };
	struct peerkey_keys k = { .index = 5, .spi_in = 0x1001, .spi_out = 0x1002 };
	struct peerkey_path path = { .reqid = SVRCERT_XFRM_REQID(7), .proto = 17,
				     .local_auth_port = 4430,
				     .remote_auth_port = 4431 };
	time_t t0 = time(NULL), expiry;
	char buf[300], ts[32];
	json_t *a;
	int to;

	if (!have_netns)
		skip();
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &path.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.2", &path.remote), 0);
	install(&f->r1, "cert.pem", "r1.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", 0);
	keys_on(&f->r1);
	router_start(&f->r1);
	expiry = t0 + f->r1.cfg.peer_key_rekey_s + f->r1.cfg.peer_key_timeout_s;
	f->r1.pa->p.now = t0;
	pa_keys_installed(f->r1.pa, &f->r1.pa->peers[0], &k, &path);
	assert_string_equal(keys_str(&f->r1, "state", buf, sizeof(buf)), "established");
	/* svrcert.ko told: ESP required, for what and but for which ports */
	assert_true(f->r1.bound.esp_required);
	assert_int_equal(f->r1.bound.esp_proto, 17);
	assert_int_equal(f->r1.bound.auth_port, 4430);
	assert_int_equal(f->r1.bound.peer_auth_port, 4431);
	assert_int_equal(f->r1.bound.esp_addr.family, AF_INET);	/* from the peer's end */
	assert_memory_equal(&f->r1.bound.esp_addr.v4, &path.remote.v4, 4);

	/* 5 s before: the loop is told to wake then, not at its hourly timers */
	f->r1.pa->p.now = expiry - 5;
	to = peerauth_timeout_ms(f->r1.pa);
	print_message("# 5 s before the expiry the loop sleeps %d ms\n", to);
	assert_true(to > 3000 && to <= 5000);
	assert_false(key_alarm_raised(f));

	f->r1.pa->p.now = expiry;
	assert_true(drive(rs, 1, key_alarm_raised, f, 5000));
	a = key_alarm(&f->r1);
	assert_string_equal(json_string_value(json_object_get(a, "severity")), "critical");
	assert_string_equal(json_string_value(json_object_get(a, "peer")), "r2");
	assert_non_null(strstr(json_string_value(json_object_get(a, "message")),
			       "peer r2 key is invalid"));
	svrcert_time_iso8601(expiry, ts, sizeof(ts));
	assert_string_equal(json_string_value(json_object_get(a, "raised")), ts);
	json_decref(a);
	assert_string_equal(keys_str(&f->r1, "state", buf, sizeof(buf)), "none");
	assert_false(f->r1.bound.esp_required);	/* keys cut: no longer */
	assert_string_equal(keys_str(&f->r1, "last_failure", buf, sizeof(buf)),
			    "key is invalid: no rekey within peer-key-timeout");
	assert_int_equal(alarms_in_file(&f->r1, PEERAUTH_KEY_ALARM_ID), 1);
	assert_int_equal(alarms_in_file(&f->r1, PEERAUTH_ALARM_ID), 0);
	drive(rs, 1, never, f, 300);	/* raised once, and it stays */
	assert_true(key_alarm_raised(f));

	/* a restart keeps it (its keys were flushed, none agreed yet) */
	peerauth_free(f->r1.pa);
	router_start(&f->r1);
	f->r1.pa->p.now = expiry + 60;
	a = key_alarm(&f->r1);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "raised")), ts);
	json_decref(a);
	assert_false(f->r1.pa->peers[0].alarm);	/* not the certificate's */

	/* new keys agreed: cleared, in the file too */
	k.index = 6;
	pa_keys_installed(f->r1.pa, &f->r1.pa->peers[0], &k, &path);
	assert_false(key_alarm_raised(f));
	assert_int_equal(alarms_in_file(&f->r1, PEERAUTH_KEY_ALARM_ID), 0);
	assert_string_equal(keys_str(&f->r1, "state", buf, sizeof(buf)), "established");
}

/* Agreements R's keys went through, completed or failed. */
static long long agreements(struct router *r)
{
	json_t *k = keys_of(r);
	long long n = json_integer_value(json_object_get(k, "rekeys")) +
		      json_integer_value(json_object_get(k, "failures"));

	json_decref(k);
	return n;
}

static long long base1, base2;

/* One agreement more on both routers than at base1/base2. */
static bool both_agreed_again(struct fx *f)
{
	return agreements(&f->r1) > base1 && agreements(&f->r2) > base2;
}

static bool no_keying(struct fx *f)
{
	return !pa_keys_conn_open(f->r1.pa, &f->r1.pa->peers[0]) &&
	       !pa_keys_conn_open(f->r2.pa, &f->r2.pa->peers[0]);
}

/* Both routers call each other (either may be the lower once r1's
 * certificate is replaced), judge each other and end the first agreement
 * (this host's kernel refuses the SA; one with GCM completes it); then
 * nothing keys for a moment. */
static void pair_up(struct fx *f)
{
	struct router *rs[] = { &f->r1, &f->r2 };

	install(&f->r1, "cert.pem", "r1.pem");
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", f->r2.port);
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", f->r1.port);
	keys_on(&f->r1);
	keys_on(&f->r2);
	router_start(&f->r2);
	router_start(&f->r1);
	assert_true(drive(rs, 2, both_ended, f, 30000));
	drive(rs, 2, never, f, 500);	/* what the first one set off */
	assert_true(drive(rs, 2, no_keying, f, 15000));
}

/* Keys recorded on R as a completed agreement records them (mirrored on
 * the two routers), under the certificates in use now. */
static void keys_recorded(struct router *r, bool first)
{
	struct peerkey_keys k = { .index = 7, .spi_in = first ? 0x2001 : 0x2002,
				  .spi_out = first ? 0x2002 : 0x2001 };
	struct peerkey_path path = { .reqid = SVRCERT_XFRM_REQID(9), .proto = 0 };
	char buf[32];

	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &path.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &path.remote), 0);
	pa_keys_installed(r->pa, &r->pa->peers[0], &k, &path);
	assert_string_equal(keys_str(r, "state", buf, sizeof(buf)), "established");
}

/*
 * This router's certificate replaced (same key, new certificate): the
 * keys agreed under the old one stay in force, and the pair agrees new
 * ones under the new one on its own, whichever router is the lower now.
 * Before, a new certificate only re-authenticated: the keys exported from
 * a TLS session the old certificate authenticated lived on until the
 * rekey interval. On this host the agreement fails at the SA (no GCM),
 * which is enough: it was started, and the old keys survive its failure.
 */
static void test_own_cert_rekeys(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	char buf[32];

	if (!have_netns)
		skip();
	pair_up(f);
	keys_recorded(&f->r1, true);
	keys_recorded(&f->r2, false);
	base1 = agreements(&f->r1);
	base2 = agreements(&f->r2);
	drive(rs, 2, never, f, 1500);
	assert_int_equal(agreements(&f->r1), base1);	/* nothing due */
	assert_int_equal(agreements(&f->r2), base2);

	install(&f->r1, "cert.pem", "exp-40d.pem");	/* same key, new cert */
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	assert_string_equal(keys_str(&f->r1, "state", buf, sizeof(buf)), "established");
	assert_true(drive(rs, 2, both_agreed_again, f, 20000));
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "exp-40d.pem");
	/* completed (a GCM kernel) or failed: keys in force either way */
	assert_string_equal(keys_str(&f->r1, "state", buf, sizeof(buf)), "established");
	assert_string_equal(keys_str(&f->r2, "state", buf, sizeof(buf)), "established");
}

/*
 * The router that did not change sees the peer's new certificate at its
 * judgement and finds its keys due too: here r1's own record is made
 * after its change (so r1 alone would not rekey), r2's before.
 */
static void test_peer_cert_rekeys(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };

	if (!have_netns)
		skip();
	pair_up(f);
	keys_recorded(&f->r2, false);
	install(&f->r1, "cert.pem", "exp-40d.pem");
	assert_int_equal(peerauth_check_own_cert(f->r1.pa), 1);
	keys_recorded(&f->r1, true);
	base1 = agreements(&f->r1);
	base2 = agreements(&f->r2);
	assert_true(drive(rs, 2, both_agreed_again, f, 20000));
	assert_peer(&f->r2, "r1", SVRCERT_STATE_VALID, SVRCERT_P_NONE, "exp-40d.pem");
}

/* R's lower router has its offer out: the agreement is past its start. */
static struct router *offering;

static bool offered(struct fx *f)
{
	const struct pa_conn *c = offering->pa->peers[0].conn;

	return c && pa_keys_conn_busy(c);
}

/*
 * An agreement under way when this router's certificate is replaced runs
 * to its end (its keys are stale at once and the next agreement replaces
 * them): cut short, the higher router's inbound SA, which the lower one
 * may already send on, would go with it. The lower router has sent its
 * offer when it gets a new certificate (its key, the test CA); its call
 * stays open, and ends as the agreement ends (here: the higher's kernel
 * refuses the SA). Before, the change closed it at once.
 */
static void test_agreement_outlives_cert_change(void **state)
{
	struct fx *f = *state;
	struct router *rs[] = { &f->r1, &f->r2 };
	struct router *lo, *hi;
	const char *lo_name;

	if (!have_netns)
		skip();
	lo = r1_is_lower() ? &f->r1 : &f->r2;
	hi = lo == &f->r1 ? &f->r2 : &f->r1;
	lo_name = lo == &f->r1 ? "r1" : "r2";
	install(&f->r1, "cert.pem", "r1.pem");
	install(&f->r2, "cert.pem", "r2.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", lo == &f->r1 ? f->r2.port : 0);
	router_config(&f->r2, "r2", file_key("r2.key"), "r1", lo == &f->r2 ? f->r1.port : 0);
	keys_on(&f->r1);
	keys_on(&f->r2);
	assert_int_equal(fixture_sh("openssl req -new -key %s/%s.key -subj '/O=svrcert test/CN=%s' "
				    "-out %s/new.csr 2>/dev/null && tests/pki/mkpki.sh sign %s "
				    "%s/new.csr %s/new.pem >/dev/null 2>&1", testpki_dir, lo_name,
				    lo_name, lo->dir, testpki_dir, lo->dir, lo->dir), 0);
	router_start(hi);
	router_start(lo);
	offering = lo;
	assert_true(drive(rs, 2, offered, f, 30000));

	assert_int_equal(fixture_sh("cp %s/new.pem %s/cert.pem", lo->dir, lo->dir), 0);
	assert_int_equal(peerauth_check_own_cert(lo->pa), 1);
	assert_non_null(lo->pa->peers[0].conn);		/* kept */
	assert_true(pa_keys_conn_busy(lo->pa->peers[0].conn));
	assert_true(drive(rs, 2, both_ended, f, 30000));
}

/* Router R's kernel holds the inbound SA SPI (to 127.0.0.1). */
static bool sa_exists(struct router *r, uint32_t spi)
{
	struct svrcert_nl_addr dst;
	struct svrcert_xfrm_sa_info info;
	int ret;

	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &dst), 0);
	ret = svrcert_xfrm_sa_get(r->pa->xfrm, &dst, spi, &info);
	assert_true(ret == 0 || ret == -ENOENT || ret == -ESRCH);
	return ret == 0;
}

/*
 * Make-before-break when an agreement fails half-way (the peer timed out
 * before it read our READY, 86-peerkeys.sh's lost packets under load):
 * neither side learns that the other switched. The replaced inbound SA
 * stays past the grace period while no newer inbound SA counted a packet
 * (the peer may still send on it), so does the inbound SA of an agreement
 * that failed after our READY (the peer may send on it already), and the
 * higher router asks for the next agreement. At most PA_HELD_MAX, the
 * oldest going first; all go when the keys are cut, with keys or
 * without. Real SAs: larval ones from ALLOCSPI (no GCM here for keyed
 * ones), read back with GETSA; they count no packet, so none is ever seen
 * left here: that path (old SAs gone after the grace under traffic) is
 * 86-peerkeys.sh's.
 */
static void test_held_inbound(void **state)
{
	struct fx *f = *state;
	struct peerkey_path path = { .reqid = SVRCERT_XFRM_REQID(7), .proto = 17 };
	struct peerkey_keys k;
	struct svrcert_xfrm *x;
	struct pa_peer *peer;
	uint32_t spi[8];
	int64_t now, next;

	if (!have_netns)
		skip();
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.1", &path.local), 0);
	assert_int_equal(svrcert_nl_addr_parse("127.0.0.2", &path.remote), 0);
	install(&f->r1, "cert.pem", "r1.pem");
	router_config(&f->r1, "r1", file_key("r1.key"), "r2", 0);
	keys_on(&f->r1);
	router_start(&f->r1);
	peer = &f->r1.pa->peers[0];
	assert_int_equal(pa_keys_xfrm(f->r1.pa, &x), 0);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(svrcert_xfrm_allocspi(x, &path.remote, &path.local, path.reqid,
						       0, 0, &spi[i]), 0);

	/* A rekey: the replaced inbound SA outlives its grace period. */
	k = (struct peerkey_keys){ .index = 5, .spi_in = spi[0], .spi_out = 0x1002 };
	pa_keys_installed(f->r1.pa, peer, &k, &path);
	k = (struct peerkey_keys){ .index = 6, .spi_in = spi[1], .spi_out = 0x2002 };
	pa_keys_installed(f->r1.pa, peer, &k, &path);
	now = pa_now_ms();
	next = pa_keys_timers(f->r1.pa, now + 31000);
	assert_true(sa_exists(&f->r1, spi[0]));
	assert_true(sa_exists(&f->r1, spi[1]));
	assert_true(next <= now + 61000);	/* looked at again a grace later */

	/* An agreement of index 7 failed after our READY (fail() holds its
	 * SA and wants the next): the higher router asks at once. */
	pa_keys_hold(f->r1.pa, peer, spi[2], 7, &path);
	peer->keys.wanted = true;
	peer->keys.role_known = true;
	peer->keys.lower = false;
	peer->keys.next_try_ms = 0;
	peer->state = SVRCERT_STATE_VALID;
	pa_keys_timers(f->r1.pa, now);
	assert_int_equal(peer->keys.next_try_ms, now + PEERAUTH_KEY_RETRY_S * 1000);
	/* The next agreement completes: nothing was seen left, all stay. */
	k = (struct peerkey_keys){ .index = 8, .spi_in = spi[3], .spi_out = 0x3002 };
	pa_keys_installed(f->r1.pa, peer, &k, &path);
	pa_keys_timers(f->r1.pa, now + 61000);
	for (size_t i = 0; i < 4; i++)
		assert_true(sa_exists(&f->r1, spi[i]));
	assert_int_equal(peer->keys.n_held, 3);

	/* Bounded: a fifth held SA takes the place of the oldest. */
	pa_keys_hold(f->r1.pa, peer, spi[4], 9, &path);
	pa_keys_hold(f->r1.pa, peer, spi[5], 10, &path);
	assert_int_equal(peer->keys.n_held, PA_HELD_MAX);
	assert_false(sa_exists(&f->r1, spi[0]));
	for (size_t i = 1; i < 6; i++)
		assert_true(sa_exists(&f->r1, spi[i]));

	/* Cut: every SA goes, held ones too, and those held without keys. */
	pa_keys_cut(f->r1.pa, peer, "test");
	for (size_t i = 0; i < 6; i++)
		assert_false(sa_exists(&f->r1, spi[i]));
	assert_int_equal(peer->keys.n_held, 0);
	pa_keys_hold(f->r1.pa, peer, spi[6], 11, &path);
	pa_keys_cut(f->r1.pa, peer, "test");
	assert_false(sa_exists(&f->r1, spi[6]));
	assert_true(sa_exists(&f->r1, spi[7]));		/* not ours to cut */
}

static int keys_group_setup(void **state)
{
	have_netns = unshare(CLONE_NEWNET) == 0 && !system("ip link set lo up");
	if (!have_netns)
		print_message("# no network namespace: the agreement test is skipped\n");
	return group_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lower_calls_higher_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_higher_asks_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_invalid_alarm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_binds_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_cert_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_cert_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agreement_outlives_cert_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_inbound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, keys_group_setup, group_teardown);
}
