// SPDX-License-Identifier: GPL-2.0
/* svrcertctl clear stats: zero the kernel's data-path counters. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_nl.h"

int cmd_clear(int argc, char **argv)
{
	struct svrcert_nl *nl;
	int err, ret;

	if (argc != 2 || strcmp(argv[1], "stats")) {
		fprintf(stderr, "usage: svrcertctl clear stats\n");
		return CTL_USAGE;
	}
	nl = ctl_nl_open("clear stats");
	if (!nl)
		return CTL_FAIL;
	err = svrcert_nl_stats_reset(nl);
	ret = err ? ctl_nl_fail(nl, "clear stats", err) : CTL_OK;
	ctl_nl_close(nl);
	return ret;
}
