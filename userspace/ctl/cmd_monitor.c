// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl monitor [-j]: print the kernel's data-path events, one line
 * each, until SIGINT or SIGTERM (exit 0).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_nl.h"
#include "lib/util.h"
#include "netlink/nl_util.h"

static volatile sig_atomic_t stopping;

/* Interrupts poll() in the library (-EINTR); the flag covers the rest. */
static void on_signal(int sig)
{
	stopping = 1;
}

/* No SA_RESTART, so the wait for events returns when we are told to stop. */
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int print_text(const struct svrcert_event *ev, void *arg)
{
	char when[40], hex[SVRCERT_KEY_HEX_LEN + 1];

	if (stopping)
		return 1;
	if (ev->lost) {
		printf("%s events-lost\n", ctl_time_format(time(NULL), when, sizeof(when)));
		return 0;
	}
	printf("%s %s", ctl_time_format(ev->time ? ev->time : time(NULL), when, sizeof(when)),
	       svrcert_nl_event_name(ev->type));
	if (ev->peer_name[0])
		printf(" peer=%s", ev->peer_name);
	if (ev->reason >= 0)
		printf(" reason=%s", svrcert_nl_reason_name(ev->reason));
	if (ev->has_fingerprint)
		printf(" fingerprint=%s", svrcert_nl_key_format(ev->fingerprint, hex));
	putchar('\n');
	return 0;
}

static int print_json(const struct svrcert_event *ev, void *arg)
{
	char hex[SVRCERT_KEY_HEX_LEN + 1];
	json_t *o;

	if (stopping)
		return 1;
	o = json_object();
	if (!o)
		return -ENOMEM;
	if (ev->lost) {
		json_object_set_new(o, "event", json_string("events-lost"));
	} else {
		json_object_set_new(o, "time", svrcert_json_time((time_t)ev->time));
		json_object_set_new(o, "event", json_string(svrcert_nl_event_name(ev->type)));
		if (ev->peer_name[0])
			json_object_set_new(o, "peer", json_string(ev->peer_name));
		if (ev->reason >= 0)
			json_object_set_new(o, "reason",
					    json_string(svrcert_nl_reason_name(ev->reason)));
		if (ev->has_fingerprint)
			json_object_set_new(o, "fingerprint",
					    json_string(svrcert_nl_key_format(ev->fingerprint, hex)));
	}
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	bool json = ctl_take_json_flag(&argc, argv);
	struct svrcert_nl *nl;
	int err, ret;

	if (argc != 1) {
		fprintf(stderr, "usage: svrcertctl monitor [-j]\n");
		return CTL_USAGE;
	}
	nl = ctl_nl_open_own("monitor");
	if (!nl)
		return CTL_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	catch_stop_signals();
	err = svrcert_nl_monitor(nl, json ? print_json : print_text, NULL);
	ret = err == -EINTR || err == 1 ? CTL_OK : ctl_nl_fail(nl, "monitor", err);
	svrcert_nl_close(nl);
	return ret;
}
