// SPDX-License-Identifier: GPL-2.0
/* Persistent event counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "store_json.h"

const struct counter_desc counter_descs[CNT__MAX] = {
	[CNT_CSR_SUCCESS] = { "csr.success", "CSR", "success" },
	[CNT_CSR_FAILURE] = { "csr.failure", "CSR", "failure" },
	[CNT_IMPORT_SUCCESS] = { "certificate-import.success", "certificate import", "success" },
	[CNT_IMPORT_FAILURE] = { "certificate-import.failure", "certificate import", "failure" },
	[CNT_CRL_FETCH_SUCCESS] = { "crl-fetch.success", "CRL fetch", "success" },
	[CNT_CRL_FETCH_FAILURE] = { "crl-fetch.failure", "CRL fetch", "failure" },
	[CNT_CRL_INGEST_SUCCESS] = { "crl-ingestion.success", "CRL ingestion", "success" },
	[CNT_CRL_INGEST_FAILURE] = { "crl-ingestion.failure", "CRL ingestion", "failure" },
	[CNT_CERT_EXPIRED] = { "certificate.expired", "certificate", "expired" },
	[CNT_CERT_INVALID] = { "certificate.invalid", "certificate", "invalid" },
	[CNT_CERT_REVOKED] = { "certificate.revoked", "certificate", "revoked" },
	[CNT_PEER_CERT_EXPIRED] = { "peer-certificate.expired", "peer certificate", "expired" },
	[CNT_PEER_CERT_INVALID] = { "peer-certificate.invalid", "peer certificate", "invalid" },
	[CNT_PEER_CERT_REVOKED] = { "peer-certificate.revoked", "peer certificate", "revoked" },
	[CNT_PEER_REKEY_SUCCESS] = { "peer-rekey.success", "peer rekey", "success" },
	[CNT_PEER_REKEY_FAILURE] = { "peer-rekey.failure", "peer rekey", "failure" },
	[CNT_PEER_SA_DELETED] = { "peer-sa.deleted", "peer SA", "deleted" },
};

int counters_load(const struct svrcert_store *st, json_t **out)
{
	json_t *root;
	int ret;

	ret = store_read_json(st, STORE_COUNTERS, &root);
	if (ret)
		return ret;
	if (!root) {
		*out = json_object();
		return *out ? 0 : -ENOMEM;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return -EBADMSG;
	}
	*out = root;
	return 0;
}

uint64_t counters_get(json_t *state, const char *key)
{
	json_t *v = json_object_get(state, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ?
	       (uint64_t)json_integer_value(v) : 0;
}

static int bump(json_t *state, const char *key)
{
	return json_object_set_new(state, key,
		json_integer((json_int_t)(counters_get(state, key) + 1))) ?
		-ENOMEM : 0;
}

int counters_inc(struct svrcert_store *st, enum svrcert_counter c,
		 const char *reason)
{
	json_t *state = NULL;
	char key[128], *text;
	int ret;

	if (c < 0 || c >= CNT__MAX)
		return -EINVAL;
	ret = store_lock(st);
	if (!ret)
		ret = counters_load(st, &state);
	/* A corrupt file must not stop counting: start again from zero. */
	if (ret == -EBADMSG)
		ret = (state = json_object()) ? 0 : -ENOMEM;
	if (ret)
		return ret;
	ret = bump(state, counter_descs[c].key);
	if (!ret && reason) {
		snprintf(key, sizeof(key), "%s.%s", counter_descs[c].key, reason);
		ret = bump(state, key);
	}
	text = ret ? NULL : json_dumps(state, JSON_SORT_KEYS | JSON_INDENT(1));
	if (!ret && !text)
		ret = -ENOMEM;
	if (!ret)
		ret = store_write(st, STORE_COUNTERS, text, strlen(text),
				  STORE_MODE_PUBLIC);
	free(text);
	json_decref(state);
	return ret;
}
