// SPDX-License-Identifier: GPL-2.0
/*
 * GET /api/v1/metrics: svrcert's metrics in the Prometheus text format
 * (pki/metrics_collect.h), the same text svrcertd writes to its
 * [daemon] metrics-file; authenticated and scoped like the other GETs.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/metrics.h"
#include "pki/metrics_collect.h"
#include "rest_int.h"

void rest_reply_text(struct rest_req *r, unsigned int status, char *text,
		     const char *content_type)
{
	json_decref(r->out);
	r->out = NULL;
	free(r->text);
	r->text = text;
	r->content_type = content_type;
	r->status = status;
}

void rest_metrics(struct rest_req *r)
{
	struct svrcert_env env;
	char *text = NULL;
	int ret;

	if (rest_env_open(r, &env))
		return;
	ret = svrcert_metrics_collect(&env, NULL, &text, NULL);
	if (ret)
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics: %s",
			   strerror(-ret));
	else
		rest_reply_text(r, MHD_HTTP_OK, text, METRICS_CONTENT_TYPE);
	svrcert_env_close(&env);
}
