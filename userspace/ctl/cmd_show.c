// SPDX-License-Identifier: GPL-2.0
/* svrcertctl show TOPIC: a second dispatcher table, one file per topic. */
#include <stdio.h>

#include "ctl.h"

static const struct ctl_cmd topics[] = {
	{ "policy", show_policy, "[-j]", "the kernel's policy",
	  NULL, NULL, CTL_JSON },
	{ "peers", show_peers, "[NAME] [-j]\nsecurity [NAME] [-j]",
	  "peers: kernel binding, verdict, counters, svrcertd's view",
	  NULL, NULL, CTL_JSON },
	{ "revoked", show_revoked, "[-j]", "the kernel's live revocation set",
	  NULL, NULL, CTL_JSON },
	{ "stats", show_stats, "[-j]\nsecurity [GROUP [ITEM]] [-j]",
	  "the kernel's data path counters; 'security': the certificate "
	  "counters", "GROUP: CSR, certificate import, CRL fetch, CRL "
	  "ingestion, certificate,\n  peer certificate, peer certificate "
	  "data path, peer rekey, peer SA; ITEM: e.g. success, failure", NULL, CTL_JSON },
	{ "certificate", show_certificate, "[detail|crl] [-j]",
	  "this router's certificate; 'crl': the CRLs held and fetched",
	  NULL, NULL, CTL_JSON },
	{ "alarms", show_alarms, "[--check] [-j]",
	  "active alarms; --check judges the certificate again first",
	  NULL, NULL, CTL_JSON },
	{ "conductor", show_conductor, "[-j]",
	  "the conductor served here, or the router's [crl] conductor",
	  "Counts since svrcertd started: answers, "
	  "bytes, refusals by reason, signatures;\n  on a router full sets, "
	  "deltas, 304s, resyncs, last success and failure.", NULL,
	  CTL_JSON },
	{ "events", show_events, "[--type TYPE] [--since TIME] [-j]",
	  "the audit log, in the seed's layout",
	  "TYPE: e.g. system.crl_update; TIME: 2025-03-19T20:50:35Z, "
	  "2025-03-19, or an age: 90s, 30m, 12h, 7d", NULL, CTL_JSON },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};

const struct ctl_cmd *ctl_show_topics(void)
{
	return topics;
}

int cmd_show(int argc, char **argv)
{
	const struct ctl_cmd *topic;

	if (argc < 2) {
		fprintf(stderr, "svrcertctl show: which topic?\n");
		ctl_help_usage(stderr, &(struct ctl_cmd){ .name = "show",
			       .topics = ctl_show_topics }, "usage: ");
		return CTL_USAGE;
	}
	topic = ctl_find(topics, argv[1]);
	if (!topic) {
		fprintf(stderr, "svrcertctl show: unknown topic '%s'\n", argv[1]);
		ctl_help_usage(stderr, &(struct ctl_cmd){ .name = "show",
			       .topics = ctl_show_topics }, "usage: ");
		return CTL_USAGE;
	}
	return topic->run(argc - 1, argv + 1);
}
