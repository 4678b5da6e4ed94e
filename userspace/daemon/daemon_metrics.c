// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertd's node_exporter textfile ([daemon] metrics-file): the text of
 * GET /api/v1/metrics (pki/metrics_collect.h), written atomically (temp,
 * fsync, rename, directory fsync: node_exporter never reads half a file)
 * every metrics-interval and soon after a change: after each own-
 * certificate check, which svrcertctl and the REST API ask for after
 * every change they make, and after a reload.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "lib/metrics.h"
#include "lib/store.h"
#include "pki/metrics_collect.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *metrics_path(const struct daemon *d)
{
	return d->env.have_cfg ? d->env.cfg.metrics_file : NULL;
}

void daemon_metrics_changed(struct daemon *d)
{
	d->metrics.due_ms = 0;	/* the next turn writes */
}

int daemon_metrics_timeout_ms(struct daemon *d)
{
	long left;

	if (!metrics_path(d))
		return -1;
	left = d->metrics.due_ms - now_ms();
	return left <= 0 ? 0 : left > 3600000L ? 3600000 : (int)left;
}

/* Write the file now; a failure is logged once until it works again. */
static void metrics_write(struct daemon *d, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	/* The last check's status: no second evaluation of the chain. */
	ret = svrcert_metrics_collect(&d->env, d->last_check ? &d->status :
				      NULL, &text, &len);
	if (!ret)
		ret = atomic_write_file(path, text, len, 0644);
	free(text);
	if (ret && !d->metrics.failing)
		syslog(LOG_ERR, "metrics-file %s: cannot be written: %s", path,
		       strerror(-ret));
	else if (!ret && d->metrics.failing)
		syslog(LOG_INFO, "metrics-file %s: written again", path);
	d->metrics.failing = ret != 0;
}

void daemon_metrics_process(struct daemon *d)
{
	const char *path = metrics_path(d);
	long now = now_ms();

	if (!path || now < d->metrics.due_ms)
		return;
	metrics_write(d, path);
	d->metrics.due_ms = now + (long)d->env.cfg.metrics_interval_s * 1000L;
}
