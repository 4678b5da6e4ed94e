// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show alarms [--check] [-j]
 *
 * The raised alarms: when svrcertd runs, all it holds (own certificate,
 * one per failing peer, CRL sources); otherwise those persisted in the
 * state directory (own certificate, peers). --check judges the installed
 * certificate again first (and tells the kernel its state): by asking
 * svrcertd when it runs, else here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pki/alarm.h"
#include "ctl.h"
#include "lib/ctlsock.h"
#include "peer/peerauth.h"
#include "pki/store_env.h"
#include "lib/util.h"

static const char *member(json_t *alarm, const char *key)
{
	const char *v = json_string_value(json_object_get(alarm, key));

	return v ? v : "";
}

static void print_alarms(json_t *alarms)
{
	char id[64];
	json_t *a;
	size_t i;

	if (!json_array_size(alarms)) {
		printf("no alarms\n");
		return;
	}
	printf("%-22s %-9s %-20s %s\n", "ALARM", "SEVERITY", "RAISED", "MESSAGE");
	json_array_foreach(alarms, i, a) {
		/* A peer's or a CRL source's alarm names its subject. */
		if (*member(a, "peer"))
			snprintf(id, sizeof(id), "%s %s", member(a, "id"), member(a, "peer"));
		else
			snprintf(id, sizeof(id), "%s", member(a, "id"));
		printf("%-22s %-9s %-20s %s\n", id, member(a, "severity"),
		       member(a, "raised"), member(a, "message"));
	}
}

/* svrcertd's "alarms" reply, or NULL when it does not run. */
static json_t *daemon_alarms(struct svrcert_env *env)
{
	json_t *req = json_pack("{s:s}", "command", "alarms"), *resp = NULL, *alarms = NULL;

	if (req && !ctlsock_request(svrcert_env_control_socket(env), req, &resp) &&
	    json_is_true(json_object_get(resp, "ok")))
		alarms = json_incref(json_object_get(resp, "alarms"));
	json_decref(req);
	json_decref(resp);
	return json_is_array(alarms) ? alarms : (json_decref(alarms), NULL);
}

/* Without svrcertd: the own certificate's alarms and the peers'. */
static int stored_alarms(struct svrcert_env *env, json_t **out)
{
	struct alarm_set set;
	char path[4096];
	json_t *peers;
	int ret;

	ret = alarm_load(&env->st, &set);
	if (ret)
		return ret;
	*out = alarm_set_json(&set);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", env->st.dir,
			     PEERAUTH_ALARMS_FILE) >= sizeof(path)) {
		json_decref(*out);
		return -ENAMETOOLONG;
	}
	peers = json_load_file(path, 0, NULL);
	if (json_is_array(peers))
		json_array_extend(*out, peers);
	json_decref(peers);
	return *out ? 0 : -ENOMEM;
}

static int alarms_run(struct svrcert_env *env, bool check, bool json)
{
	struct own_cert_status status;
	json_t *alarms;
	char kmsg[256];
	int ret;

	/* A running daemon does the check (it owns the kernel's state);
	 * without one, svrcertctl does it itself. */
	if (check && !svrcert_env_notify_daemon(env)) {
		check = false;
		if (!json)
			fprintf(stderr, "checked by svrcertd\n");
	}
	if (check) {
		ret = alarm_check_own(&env->ip, env->have_cfg &&
				      env->cfg.peer_validation, &status, kmsg,
				      sizeof(kmsg));
		if (ret) {
			fprintf(stderr, "svrcertctl: check failed: %s\n",
				strerror(-ret));
			return CTL_FAIL;
		}
		if (!json && kmsg[0])
			fprintf(stderr, "%s\n", kmsg);
	}
	alarms = daemon_alarms(env);
	ret = alarms ? 0 : stored_alarms(env, &alarms);
	if (ret) {
		fprintf(stderr, "svrcertctl: cannot read alarms: %s\n",
			strerror(-ret));
		return CTL_FAIL;
	}
	if (json) {
		json_dumpf(alarms, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_alarms(alarms);
	}
	json_decref(alarms);
	return CTL_OK;
}

int show_alarms(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	bool json, check = false;
	char err[512];
	int ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea))
		goto usage;
	if (argc == 2 && !strcmp(argv[1], "--check"))
		check = true;
	else if (argc != 1)
		goto usage;
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	ret = alarms_run(&env, check, json);
	svrcert_env_close(&env);
	return ret;
usage:
	fprintf(stderr, "usage: svrcertctl show alarms [--check] [-j]\n");
	return CTL_USAGE;
}
