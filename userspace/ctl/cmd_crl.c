// SPDX-License-Identifier: GPL-2.0
/* STUB: not implemented yet; its owner (engineer X) replaces this file. */
#include <stdio.h>

#include "ctl.h"

int cmd_crl(int argc, char **argv)
{
	fprintf(stderr, "svrcertctl: %s: not implemented yet\n", argv[0]);
	return CTL_FAIL;
}
