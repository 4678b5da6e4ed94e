// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd: this router's certificate lifecycle daemon. See svrcertd(8).
 *
 * Model: svrcertctl performs key generation, CSR, import and trusted-CA
 * changes itself, directly on the state directory (under its lock), so
 * they work whether or not svrcertd runs. svrcertd owns what needs time:
 * the periodic own-certificate check (alarms, counters, the kernel's
 * self-state and policy), configuration reloads, and the control socket
 * through which svrcertctl tells it that something changed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "lib/version.h"

static const struct option opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "control-socket", required_argument, NULL, 'C' },
	{ "check-interval", required_argument, NULL, 'i' },
	{ "stderr", no_argument, NULL, 'e' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: svrcertd [-c CONFIG] [--state-dir DIR] "
		"[--control-socket PATH]\n"
		"                [--check-interval SECONDS] [--stderr] [--version]\n");
}

static int parse_args(struct daemon *d, int argc, char **argv, int *logopt)
{
	char *end;
	long v;
	int c;

	d->args.config = getenv("SVRCERT_CONFIG");
	d->args.state_dir = getenv("SVRCERT_STATE_DIR");
	d->check_interval_s = 0;	/* [daemon] check-interval unless given */
	while ((c = getopt_long(argc, argv, "c:ehV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->args.config = optarg; break;
		case 'S': d->args.state_dir = optarg; break;
		case 'C': setenv("SVRCERT_CONTROL_SOCKET", optarg, 1); break;
		case 'e': *logopt |= LOG_PERROR; break;
		case 'i':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 7 * 86400)
				return -1;
			d->check_interval_s = (unsigned int)v;
			break;
		case 'V':
			printf("svrcertd %s\n", svrcert_version);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	int logopt = LOG_PID, ret;

	/* The revocation list's arrays (32 MB per million keys, several at
	 * each update) come from mmap and go back to the system when freed:
	 * glibc's moving threshold would keep them in the heap, and the
	 * daemon's resident size at its largest list ever. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (parse_args(&d, argc, argv, &logopt)) {
		usage(stderr);
		return 2;
	}
	openlog("svrcertd", logopt, LOG_DAEMON);
	ret = daemon_setup(&d);
	if (!ret)
		ret = daemon_run(&d);
	daemon_teardown(&d);
	syslog(LOG_INFO, "stopped");
	closelog();
	return ret ? 1 : 0;
}
