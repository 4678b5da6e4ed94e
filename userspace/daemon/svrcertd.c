// SPDX-License-Identifier: GPL-2.0
/* STUB: svrcertd main; replaced by its owner. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "svrcertd: not implemented yet\n");
	return 1;
}
