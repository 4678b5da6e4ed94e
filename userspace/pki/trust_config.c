// SPDX-License-Identifier: GPL-2.0
/* The [trusted-ca] bundles of svrcert.conf, judged as trusted-ca add does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "trust_config.h"
#include "validate.h"

/* Append "; problem" texts of P to BUF (already holding the lead-in). */
static void append_problems(char *buf, size_t len,
			    const struct svrcert_problems *p)
{
	size_t used = strlen(buf);

	for (size_t i = 0; i < p->n && used + 1 < len; i++) {
		snprintf(buf + used, len - used, "%s%s", i ? "; " : "",
			 p->v[i].msg);
		used = strlen(buf);
	}
}

int trust_config_check_one(const struct svrcert_trusted_ca *ca, time_t now,
			   struct trust_ca_check *res, STACK_OF(X509) **certs)
{
	const char *mode = svrcert_validation_mode_name(ca->mode);
	STACK_OF(X509) *got = NULL;
	struct svrcert_problems p;
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", ca->name);
	res->verdict = TRUST_CA_REFUSED;
	if (certs)
		*certs = NULL;
	ret = svrcert_read_file(ca->file, TRUST_CONFIG_BUNDLE_MAX, &buf, &len);
	if (ret) {
		snprintf(res->message, sizeof(res->message),
			 "trusted CA '%s' (%s): cannot read: %s", ca->name,
			 ca->file, strerror(-ret));
		return ret;
	}
	svrcert_problems_init(&p);
	ret = svrcert_bundle_check(buf, len, ca->mode, now ? now : time(NULL),
				   &got, &p);
	free(buf);
	if (ret == -ENOMEM)
		goto out;
	if (ret)
		res->verdict = TRUST_CA_REFUSED;
	else
		res->verdict = p.n ? TRUST_CA_WARN : TRUST_CA_OK;
	snprintf(res->message, sizeof(res->message), "trusted CA '%s' (%s, validation-mode %s): %s",
		 ca->name, ca->file, mode, ret ? "refused: " :
		 p.n ? "used despite: " : "ok");
	append_problems(res->message, sizeof(res->message), &p);
	ret = 0;
	if (certs && res->verdict != TRUST_CA_REFUSED) {
		*certs = got;
		got = NULL;
	}
out:
	sk_X509_pop_free(got, X509_free);
	svrcert_problems_free(&p);
	return ret;
}

int trust_config_check(const struct svrcert_config *cfg, time_t now,
		       struct trust_ca_check **out)
{
	size_t n = cfg ? cfg->n_cas : 0;
	int ret = 0;

	*out = NULL;
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		ret = trust_config_check_one(&cfg->cas[i], now, &(*out)[i], NULL);
		if (ret != -ENOMEM)
			ret = 0;	/* unreadable: a REFUSED verdict */
	}
	if (ret) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

void trust_config_refused_text(const struct svrcert_config *cfg, time_t now,
			       char *buf, size_t len)
{
	struct trust_ca_check *v = NULL;
	size_t used = 0;

	buf[0] = '\0';
	if (trust_config_check(cfg, now, &v))
		return;
	for (size_t i = 0; v && i < cfg->n_cas && used + 1 < len; i++) {
		if (v[i].verdict != TRUST_CA_REFUSED)
			continue;
		snprintf(buf + used, len - used, "%s%s", used ? "\n" : "",
			 v[i].message);
		used = strlen(buf);
	}
	free(v);
}

int trust_config_add_to_store(const struct svrcert_config *cfg, time_t now,
			      X509_STORE *store, size_t *added, char *err,
			      size_t errlen)
{
	int ret = 0;

	*added = 0;
	for (size_t i = 0; !ret && cfg && i < cfg->n_cas; i++) {
		struct trust_ca_check res;
		STACK_OF(X509) *certs = NULL;

		ret = trust_config_check_one(&cfg->cas[i], now, &res, &certs);
		if (ret) {
			snprintf(err, errlen, "%s", res.message);
			break;
		}
		if (res.verdict == TRUST_CA_REFUSED)
			continue;	/* the alarm and the daemon's log say why */
		ret = svrcert_store_add_certs(store, certs);
		sk_X509_pop_free(certs, X509_free);
		*added += !ret;
	}
	return ret;
}
