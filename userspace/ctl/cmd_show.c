// SPDX-License-Identifier: GPL-2.0
/* svrcertctl show TOPIC: a second dispatcher table, one file per topic. */
#include <stdio.h>

#include "ctl.h"

static const struct ctl_cmd topics[] = {
	{ "policy", show_policy, "[-j]", "the kernel's policy" },
	{ "peers", show_peers, "[NAME] [-j]", "peers: kernel binding, verdict, counters" },
	{ "revoked", show_revoked, "[-j]", "the kernel's live revocation set" },
	{ "stats", show_stats, "[security ...] [-j]", "data path counters; 'security' for the seed's counters" },
	{ "certificate", show_certificate, "[detail|crl] [-j]", "this router's certificate" },
	{ "alarms", show_alarms, "[-j]", "active alarms" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_show(int argc, char **argv)
{
	const struct ctl_cmd *topic;

	if (argc < 2) {
		fprintf(stderr, "usage: svrcertctl show TOPIC\n\ntopics:\n");
		ctl_print_usage(topics, "show ");
		return CTL_USAGE;
	}
	topic = ctl_find(topics, argv[1]);
	if (!topic) {
		fprintf(stderr, "svrcertctl show: unknown topic '%s'\n", argv[1]);
		ctl_print_usage(topics, "show ");
		return CTL_USAGE;
	}
	return topic->run(argc - 1, argv + 1);
}
