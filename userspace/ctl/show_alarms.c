// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show alarms [--check] [-j]
 *
 * The raised alarms, as persisted in the state directory by svrcertd's
 * periodic check or by the last svrcertctl operation. --check judges the
 * installed certificate again first (and tells the kernel its state): by
 * asking svrcertd when it runs, else here.
 */
#include <stdio.h>
#include <string.h>

#include "alarm.h"
#include "ctl.h"
#include "store_env.h"
#include "util.h"

static void print_alarms(const struct alarm_set *set)
{
	char ts[32];
	size_t i;

	if (!set->n) {
		printf("no alarms\n");
		return;
	}
	printf("%-22s %-9s %-20s %s\n", "ALARM", "SEVERITY", "RAISED", "MESSAGE");
	for (i = 0; i < set->n; i++) {
		svrcert_time_iso8601(set->v[i].raised, ts, sizeof(ts));
		printf("%-22s %-9s %-20s %s\n", set->v[i].id,
		       alarm_severity_name(set->v[i].severity), ts,
		       set->v[i].message);
	}
}

static int alarms_run(struct svrcert_env *env, bool check, bool json)
{
	struct own_cert_status status;
	struct alarm_set set;
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
	ret = alarm_load(&env->st, &set);
	if (ret) {
		fprintf(stderr, "svrcertctl: cannot read alarms: %s\n",
			strerror(-ret));
		return CTL_FAIL;
	}
	if (json) {
		json_t *arr = alarm_set_json(&set);

		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else {
		print_alarms(&set);
	}
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
