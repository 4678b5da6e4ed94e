// SPDX-License-Identifier: GPL-2.0
#include <linux/string.h>

#include "stats.h"

int svrcert_stats_init(struct svrcert_stats *stats)
{
	struct svrcert_pcpu_stats *s;
	int cpu;

	memset(&stats->base, 0, sizeof(stats->base));
	stats->pcpu = alloc_percpu(struct svrcert_pcpu_stats);
	if (!stats->pcpu)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(stats->pcpu, cpu);
		u64_stats_init(&s->syncp);
	}
	return 0;
}

void svrcert_stats_exit(struct svrcert_stats *stats)
{
	free_percpu(stats->pcpu);
	stats->pcpu = NULL;
}

static void svrcert_stats_add_cpu(const struct svrcert_pcpu_stats *s,
				  struct svrcert_stats_sum *sum)
{
	struct svrcert_stats_sum one;
	unsigned int start, i;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		for (i = 0; i <= SVRCERT_REASON_MAX; i++) {
			one.accepted[i] = u64_stats_read(&s->accepted[i]);
			one.dropped[i] = u64_stats_read(&s->dropped[i]);
		}
		one.not_peer = u64_stats_read(&s->not_peer);
		for (i = 0; i < SVRCERT_SEEN_COUNT; i++)
			one.first_seen[i] = u64_stats_read(&s->first_seen[i]);
	} while (u64_stats_fetch_retry(&s->syncp, start));

	for (i = 0; i <= SVRCERT_REASON_MAX; i++) {
		sum->accepted[i] += one.accepted[i];
		sum->dropped[i] += one.dropped[i];
	}
	sum->not_peer += one.not_peer;
	for (i = 0; i < SVRCERT_SEEN_COUNT; i++)
		sum->first_seen[i] += one.first_seen[i];
}

static void svrcert_stats_raw(struct svrcert_stats *stats,
			      struct svrcert_stats_sum *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu)
		svrcert_stats_add_cpu(per_cpu_ptr(stats->pcpu, cpu), sum);
}

/* Caller holds the config mutex (it protects the baseline). */
void svrcert_stats_read(struct svrcert_stats *stats,
			struct svrcert_stats_sum *sum)
{
	unsigned int i;

	svrcert_stats_raw(stats, sum);
	for (i = 0; i <= SVRCERT_REASON_MAX; i++) {
		sum->accepted[i] -= stats->base.accepted[i];
		sum->dropped[i] -= stats->base.dropped[i];
	}
	sum->not_peer -= stats->base.not_peer;
	for (i = 0; i < SVRCERT_SEEN_COUNT; i++)
		sum->first_seen[i] -= stats->base.first_seen[i];
}

/* Caller holds the config mutex. */
void svrcert_stats_reset(struct svrcert_stats *stats)
{
	svrcert_stats_raw(stats, &stats->base);
}
