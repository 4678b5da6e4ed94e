// SPDX-License-Identifier: GPL-2.0
/*
 * The alarm per failing peer: raised (critical) while the peer's last
 * judgement failed, cleared when one passes or the peer leaves the
 * configuration; and, with peer keys, "peer X key is invalid" (critical,
 * id peer-key) from the keys' expiry until a new agreement succeeds.
 * Persisted in STATE_DIR/peer-alarms.json (same fields as alarms.json,
 * plus "peer") so that a restart does not silently clear an alarm, and so
 * that "svrcertctl show alarms" can list them without the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pki/import.h"
#include "peerauth_int.h"
#include "peerauth_keys_int.h"
#include "lib/util.h"

/* PEER's "key is invalid" alarm, while peer keys are on. */
static json_t *key_alarm_json(const struct pa_peer *peer)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "peer %s key is invalid: no new key agreement "
		 "within peer-key-rekey-interval + peer-key-timeout; its SAs and "
		 "policies were deleted", peer->name);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", PEERAUTH_KEY_ALARM_ID,
			 "peer", peer->name, "severity", "critical", "state", "invalid",
			 "message", msg, "raised", svrcert_json_time(peer->keys.invalid_since));
}

json_t *peerauth_alarms_json(const struct peerauth *pa)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < pa->n_peers; i++) {
		const struct pa_peer *peer = &pa->peers[i];
		char msg[600];

		/* peer keys turned off: no agreement can clear it, none is due */
		if (peer->keys.invalid && pa->cfg->peer_keys)
			json_array_append_new(arr, key_alarm_json(peer));
		if (!peer->alarm)
			continue;
		snprintf(msg, sizeof(msg), "peer %s certificate %s: %s",
			 peer->name, cert_state_name(peer->state), peer->reason);
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:o}",
			"id", PEERAUTH_ALARM_ID, "peer", peer->name,
			"severity", "critical",
			"state", cert_state_name(peer->state), "message", msg,
			"raised", svrcert_json_time(peer->alarm_since)));
	}
	return arr;
}

void pa_alarms_save(struct peerauth *pa)
{
	json_t *arr = peerauth_alarms_json(pa);
	char *text = arr ? json_dumps(arr, JSON_INDENT(1)) : NULL;
	int ret = text ? store_write(pa->p.st, PEERAUTH_ALARMS_FILE, text,
				     strlen(text), STORE_MODE_PUBLIC) : -ENOMEM;

	if (ret)
		syslog(LOG_ERR, "peer auth: cannot write %s: %s",
		       PEERAUTH_ALARMS_FILE, strerror(-ret));
	free(text);
	json_decref(arr);
}

/* A persisted alarm A of PEER raised again: the certificate's or, by
 * its id, the keys'. */
static void restore_one(struct peerauth *pa, struct pa_peer *peer, json_t *a)
{
	const char *id = json_string_value(json_object_get(a, "id"));
	const char *msg = json_string_value(json_object_get(a, "message"));
	time_t since;

	/* "raised"; files before ISO-only times: "raised_epoch" */
	if (svrcert_time_parse_iso8601(json_string_value(json_object_get(a, "raised")),
				       &since))
		since = (time_t)json_integer_value(json_object_get(a, "raised_epoch"));
	if (id && !strcmp(id, PEERAUTH_KEY_ALARM_ID)) {
		/* keys are flushed at start: only a new agreement clears it */
		peer->keys.invalid = pa->cfg->peer_keys;
		peer->keys.invalid_since = since;
		return;
	}
	peer->alarm = true;
	peer->alarm_since = since;
	snprintf(peer->reason, sizeof(peer->reason), "before restart: %s", msg ? msg : "");
}

/* At start: alarms of configured peers stay raised until judged again
 * (a certificate's) or keys are agreed (a key's). */
void pa_alarms_restore(struct peerauth *pa)
{
	json_t *arr, *a;
	char *text = NULL;
	size_t i;

	if (store_read(pa->p.st, PEERAUTH_ALARMS_FILE, &text, NULL))
		return;
	arr = json_loads(text, 0, NULL);
	free(text);
	json_array_foreach(arr, i, a) {
		const char *name = json_string_value(json_object_get(a, "peer"));

		for (size_t k = 0; name && k < pa->n_peers; k++)
			if (!strcmp(pa->peers[k].name, name))
				restore_one(pa, &pa->peers[k], a);
	}
	json_decref(arr);
}

void pa_key_alarm_set(struct peerauth *pa, struct pa_peer *peer, bool raised)
{
	struct pa_keys *ks = &peer->keys;

	if (ks->invalid == raised)
		return;
	ks->invalid = raised;
	if (raised) {
		ks->invalid_since = pa_wall(pa);
		syslog(LOG_CRIT, "alarm raised: %s %s critical: peer %s key is invalid",
		       PEERAUTH_KEY_ALARM_ID, peer->name, peer->name);
	} else {
		syslog(LOG_NOTICE, "alarm cleared: %s %s: new keys agreed",
		       PEERAUTH_KEY_ALARM_ID, peer->name);
	}
	pa_alarms_save(pa);
}

void pa_alarm_update(struct peerauth *pa, struct pa_peer *peer)
{
	bool failing = peer->state != SVRCERT_STATE_VALID;

	if (failing && !peer->alarm) {
		peer->alarm = true;
		peer->alarm_since = pa_wall(pa);
		syslog(LOG_CRIT, "alarm raised: %s %s critical: peer %s "
		       "certificate %s: %s", PEERAUTH_ALARM_ID, peer->name,
		       peer->name, cert_state_name(peer->state), peer->reason);
	} else if (!failing && peer->alarm) {
		peer->alarm = false;
		syslog(LOG_NOTICE, "alarm cleared: %s %s: peer certificate "
		       "valid", PEERAUTH_ALARM_ID, peer->name);
	} else if (!failing) {
		return;		/* nothing raised, nothing to write */
	}
	pa_alarms_save(pa);	/* also a failing state's new message */
}
