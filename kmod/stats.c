// SPDX-License-Identifier: GPL-2.0
#include <linux/string.h>

#include "stats.h"

void __percpu *__svrcert_pcpu_alloc(size_t size, size_t align,
				    size_t syncp_off)
{
	void __percpu *pcpu = __alloc_percpu_gfp(size, align,
						 GFP_KERNEL_ACCOUNT);
	int cpu;

	if (!pcpu)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init((struct u64_stats_sync *)
			       ((char *)per_cpu_ptr(pcpu, cpu) + syncp_off));
	return pcpu;
}

/* Each CPU's block read consistently (retry while its writer is in). */
void __svrcert_pcpu_sum(const void __percpu *pcpu, size_t syncp_off, u64 *sum)
{
	unsigned int n = syncp_off / sizeof(u64_stats_t), i, start;
	const struct u64_stats_sync *syncp;
	u64 one[SVRCERT_PCPU_COUNTERS_MAX];
	const u64_stats_t *c;
	int cpu;

	memset(sum, 0, n * sizeof(*sum));
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(pcpu, cpu);
		syncp = (const void *)((const char *)c + syncp_off);
		do {
			start = u64_stats_fetch_begin(syncp);
			for (i = 0; i < n; i++)
				one[i] = u64_stats_read(&c[i]);
		} while (u64_stats_fetch_retry(syncp, start));
		for (i = 0; i < n; i++)
			sum[i] += one[i];
	}
}

int svrcert_stats_init(struct svrcert_stats *stats)
{
	memset(&stats->base, 0, sizeof(stats->base));
	stats->pcpu = svrcert_pcpu_alloc(struct svrcert_pcpu_stats);
	return stats->pcpu ? 0 : -ENOMEM;
}

void svrcert_stats_exit(struct svrcert_stats *stats)
{
	free_percpu(stats->pcpu);
	stats->pcpu = NULL;
}

static void svrcert_stats_raw(struct svrcert_stats *stats,
			      struct svrcert_stats_sum *sum)
{
	/* The sum mirrors the per-CPU block field for field. */
	BUILD_BUG_ON(sizeof(*sum) !=
		     offsetof(struct svrcert_pcpu_stats, syncp));
	svrcert_pcpu_sum(stats->pcpu, struct svrcert_pcpu_stats, (u64 *)sum);
}

/* Caller holds the config mutex (it protects the baseline). */
void svrcert_stats_read(struct svrcert_stats *stats,
			struct svrcert_stats_sum *sum)
{
	const u64 *base = (const u64 *)&stats->base;
	u64 *v = (u64 *)sum;
	unsigned int i;

	/* The sum is nothing but u64 counters (see svrcert_stats_raw()). */
	svrcert_stats_raw(stats, sum);
	for (i = 0; i < sizeof(*sum) / sizeof(u64); i++)
		v[i] -= base[i];
}

/* Caller holds the config mutex. */
void svrcert_stats_reset(struct svrcert_stats *stats)
{
	svrcert_stats_raw(stats, &stats->base);
}
