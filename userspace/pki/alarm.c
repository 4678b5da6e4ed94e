// SPDX-License-Identifier: GPL-2.0
/* Own-certificate alarms: decide, persist, log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "alarm.h"
#include "lib/counters.h"
#include "lib/store_json.h"
#include "lib/util.h"
#include "trust_config.h"

const char *alarm_severity_name(enum alarm_severity sev)
{
	switch (sev) {
	case ALARM_SEV_MINOR: return "minor";
	case ALARM_SEV_MAJOR: return "major";
	default: return "critical";
	}
}

static int severity_from_name(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "minor"))
		return ALARM_SEV_MINOR;
	if (!strcmp(s, "major"))
		return ALARM_SEV_MAJOR;
	return strcmp(s, "critical") ? -1 : ALARM_SEV_CRITICAL;
}

static struct alarm *add(struct alarm_set *set, const char *id,
			 enum alarm_severity sev,
			 enum svrcert_cert_state state, time_t now)
{
	struct alarm *a;

	if (set->n >= ALARM_SET_MAX)
		return NULL;
	a = &set->v[set->n++];
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->severity = sev;
	a->state = state;
	a->raised = now;
	return a;
}

void alarm_desired_own(const struct own_cert_status *s, bool peer_security,
		       time_t now, struct alarm_set *out)
{
	time_t left = s->not_after - now;
	char until[32];
	struct alarm *a;

	memset(out, 0, sizeof(*out));
	if (s->present && s->state != SVRCERT_STATE_VALID) {
		a = add(out, ALARM_INVALID, ALARM_SEV_CRITICAL, s->state, now);
		snprintf(a->message, sizeof(a->message), "own certificate is "
			 "%s: %s", cert_state_name(s->state),
			 s->message[0] ? s->message : "no details");
	}
	if (s->present && s->state == SVRCERT_STATE_VALID &&
	    left <= (time_t)ALARM_MINOR_DAYS * 86400) {
		bool major = left <= (time_t)ALARM_MAJOR_DAYS * 86400;

		svrcert_time_iso8601(s->not_after, until, sizeof(until));
		a = add(out, ALARM_EXPIRING, major ? ALARM_SEV_MAJOR :
			ALARM_SEV_MINOR, s->state, now);
		snprintf(a->message, sizeof(a->message), "own certificate "
			 "expires in %ld day(s) (%s)", (long)(left / 86400),
			 until);
	}
	if (peer_security && (!s->present || s->state != SVRCERT_STATE_VALID)) {
		a = add(out, ALARM_NO_CERT, ALARM_SEV_CRITICAL, s->state, now);
		snprintf(a->message, sizeof(a->message), "peer security is "
			 "enabled but this router has no valid certificate: "
			 "secure SVR communication is not possible");
	}
}

json_t *alarm_set_json(const struct alarm_set *set)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < set->n; i++) {
		const struct alarm *a = &set->v[i];

		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:s, s:o}", "id", a->id,
			"severity", alarm_severity_name(a->severity),
			"state", cert_state_name(a->state),
			"message", a->message,
			"raised", svrcert_json_time(a->raised)));
	}
	return arr;
}

/* "raised" (ISO 8601); a file written before it was the only time also
 * has "raised_epoch". */
static time_t raised_time(json_t *alarm)
{
	json_t *epoch = json_object_get(alarm, "raised_epoch");
	time_t t;

	if (!svrcert_time_parse_iso8601(json_string_value(
			json_object_get(alarm, "raised")), &t))
		return t;
	return json_is_integer(epoch) ? (time_t)json_integer_value(epoch) : 0;
}

static int state_from_name(const char *s)
{
	int i;

	for (i = 0; s && i <= SVRCERT_STATE_MAX; i++)
		if (!strcmp(s, cert_state_name((enum svrcert_cert_state)i)))
			return i;
	return SVRCERT_STATE_UNKNOWN;
}

int alarm_load(const struct svrcert_store *st, struct alarm_set *out)
{
	json_t *root, *it;
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = store_read_json(st, STORE_ALARMS, &root);
	if (ret || !root)
		return ret;
	if (!json_is_array(root)) {
		json_decref(root);
		return -EBADMSG;
	}
	json_array_foreach(root, i, it) {
		int sev = severity_from_name(json_string_value(json_object_get(it, "severity")));
		const char *id = json_string_value(json_object_get(it, "id"));
		struct alarm *a;

		if (sev < 0 || !id)
			continue;
		a = add(out, id, (enum alarm_severity)sev, (enum svrcert_cert_state)
			state_from_name(json_string_value(json_object_get(it, "state"))),
			raised_time(it));
		if (a)
			snprintf(a->message, sizeof(a->message), "%s",
				 json_string_value(json_object_get(it, "message")) ?: "");
	}
	json_decref(root);
	return 0;
}

static const struct alarm *find(const struct alarm_set *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].id, id))
			return &set->v[i];
	return NULL;
}

static bool same(const struct alarm *a, const struct alarm *b)
{
	return a && b && a->severity == b->severity && a->state == b->state;
}

static int alarm_store(struct svrcert_store *st, const struct alarm_set *set)
{
	json_t *arr = alarm_set_json(set);
	char *text = arr ? json_dumps(arr, JSON_INDENT(1)) : NULL;
	int ret;

	json_decref(arr);
	if (!text)
		return -ENOMEM;
	ret = store_write(st, STORE_ALARMS, text, strlen(text),
			  STORE_MODE_PUBLIC);
	free(text);
	return ret;
}

int alarm_sync(struct svrcert_store *st, const struct alarm_set *want,
	       struct alarm_set *newly)
{
	struct alarm_set have, next = *want;
	bool changed = false;
	size_t i;
	int ret;

	if (newly)
		memset(newly, 0, sizeof(*newly));
	ret = store_lock(st);
	if (!ret)
		ret = alarm_load(st, &have);
	if (ret == -EBADMSG)
		memset(&have, 0, sizeof(have));	/* rewritten below */
	else if (ret)
		return ret;
	for (i = 0; i < next.n; i++) {
		const struct alarm *old = find(&have, next.v[i].id);

		if (same(old, &next.v[i])) {
			next.v[i].raised = old->raised;
			changed |= strcmp(old->message, next.v[i].message) != 0;
			continue;
		}
		changed = true;
		syslog(LOG_WARNING, "alarm raised: %s (%s): %s", next.v[i].id,
		       alarm_severity_name(next.v[i].severity), next.v[i].message);
		if (newly && newly->n < ALARM_SET_MAX)
			newly->v[newly->n++] = next.v[i];
	}
	for (i = 0; i < have.n; i++) {
		if (find(&next, have.v[i].id))
			continue;
		changed = true;
		syslog(LOG_NOTICE, "alarm cleared: %s (%s)", have.v[i].id,
		       alarm_severity_name(have.v[i].severity));
	}
	return changed || ret == -EBADMSG ? alarm_store(st, &next) : 0;
}

static void count_new_state(struct svrcert_store *st,
			    const struct alarm_set *newly)
{
	size_t i;

	for (i = 0; i < newly->n; i++) {
		if (strcmp(newly->v[i].id, ALARM_INVALID))
			continue;
		switch (newly->v[i].state) {
		case SVRCERT_STATE_EXPIRED:
		case SVRCERT_STATE_NOT_YET_VALID:
			counters_inc(st, CNT_CERT_EXPIRED, NULL);
			break;
		case SVRCERT_STATE_REVOKED:
			counters_inc(st, CNT_CERT_REVOKED, NULL);
			break;
		default:
			counters_inc(st, CNT_CERT_INVALID, NULL);
		}
	}
}

/* A strict [trusted-ca] of the configuration that fails trusted-ca add's
 * check is left out of the trust store: say so until the bundle is fixed. */
static void add_trusted_ca_alarm(const struct svrcert_config *cfg, time_t now,
				 struct alarm_set *want)
{
	char text[sizeof(want->v[0].message)];
	struct alarm *a;

	trust_config_refused_text(cfg, now, text, sizeof(text));
	if (!text[0])
		return;
	a = add(want, ALARM_TRUSTED_CA_REFUSED, ALARM_SEV_MAJOR,
		SVRCERT_STATE_INVALID, now);
	if (a)
		snprintf(a->message, sizeof(a->message), "%s", text);
}

int alarm_check_own(const struct import_params *ip, bool peer_security,
		    struct own_cert_status *status, char *kmsg, size_t kmsglen)
{
	struct alarm_set want, newly;
	time_t now = ip->now ? ip->now : time(NULL);
	int ret;

	ret = own_cert_evaluate(ip, status);
	if (ret)
		return ret;
	alarm_desired_own(status, peer_security, now, &want);
	add_trusted_ca_alarm(ip->cfg, now, &want);
	ret = alarm_sync(ip->st, &want, &newly);
	if (ret)
		return ret;
	count_new_state(ip->st, &newly);
	if (kmsg)
		kmsg[0] = '\0';
	/* The kernel decides by its failure mode: fail-hard stops SVR
	 * traffic on a non-valid self-state, fail-soft only counts. */
	if (ip->tell_kernel)
		kernel_push_self_state(status->present ? status->state :
				       SVRCERT_STATE_UNKNOWN, kmsg, kmsglen);
	return 0;
}
