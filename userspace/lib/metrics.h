/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus text exposition format (version 0.0.4), written one
 * family at a time: HELP and TYPE first, then the family's samples. It is
 * the one writer of svrcert's metrics, for svrcertd's node_exporter
 * textfile and for GET /api/v1/metrics alike (pki/metrics_collect.h says
 * which metrics there are).
 *
 * The writer refuses what would make the output invalid rather than
 * print it: a metric or label name outside the allowed characters, a
 * family name used twice, a sample before any family. The first such
 * error sticks (metrics_finish() returns it) so callers need not check
 * every call. Label values are escaped (\\, \", \n).
 */
#ifndef SVRCERT_METRICS_H
#define SVRCERT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_FAMILIES_MAX	128
#define METRICS_NAME_MAX	96

struct metrics {
	char *buf;
	size_t len, cap;
	int err;			/* first error, sticky */
	char names[METRICS_FAMILIES_MAX][METRICS_NAME_MAX];
	size_t n_names;			/* families begun; the last is current */
};

void metrics_init(struct metrics *m);
/* Begin family NAME of TYPE ("counter" or "gauge") with its HELP text. */
void metrics_family(struct metrics *m, const char *name, const char *type,
		    const char *help);
/*
 * One sample of the current family: its labels as name/value pairs ending
 * with NULL ("peer", "r2", "verdict", "accepted", NULL), or just NULL.
 */
void metrics_u64(struct metrics *m, uint64_t value, ...);
void metrics_i64(struct metrics *m, int64_t value, ...);
/* The text (caller frees), or -errno (the first error); M is reset. */
int metrics_finish(struct metrics *m, char **text, size_t *len);
void metrics_free(struct metrics *m);

/* [a-zA-Z_:][a-zA-Z0-9_:]* / [a-zA-Z_][a-zA-Z0-9_]* (no "__" prefix). */
bool metrics_name_ok(const char *name);
bool metrics_label_name_ok(const char *name);

#endif
