// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show stats security [GROUP [ITEM]] [-j]
 *
 * The seed's counters, e.g. "show stats security CSR success",
 * "... certificate import failure", "... CRL fetch", "... certificate
 * expired", "... peer certificate revoked" (peer authentication results,
 * counted by svrcertd), "... peer rekey success|failure" and "... peer SA
 * deleted" (peer keys, svrcertd), "... peer certificate data path revoked" (peers
 * first seen so on the data path, from svrcert.ko when loaded).
 * Import failures are also broken down by reason. Text: aligned columns
 * (GROUP ITEM VALUE); -j: the records of GET /api/v1/stats ("security")
 * and their "counters", or one record alone when one counter is asked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/counters.h"
#include "ctl.h"
#include "pki/import.h"
#include "pki/store_env.h"

/*
 * Every counter as one record, the shape of GET /api/v1/stats' "security"
 * array: {"counter": "csr.success", "group": "CSR", "item": "success",
 * "value": 0}. JSON names have no spaces; "group" and "item" are the
 * seed's words that select them on the command line.
 */
static void put(json_t *recs, const char *counter, const char *group,
		const char *item, uint64_t v)
{
	json_array_append_new(recs, json_pack("{s:s, s:s, s:s, s:I}",
		"counter", counter, "group", group, "item", item, "value",
		(json_int_t)v));
}

/* "certificate-import.failure.private-key": item "failure private-key". */
static void add_failure_reasons(json_t *recs, json_t *state)
{
	const struct counter_desc *d = &counter_descs[CNT_IMPORT_FAILURE];
	size_t plen = strlen(d->key);
	char item[160];
	const char *key;
	json_t *v;

	json_object_foreach(state, key, v)
		if (!strncmp(key, d->key, plen) && key[plen] == '.') {
			snprintf(item, sizeof(item), "%s %s", d->item, key + plen + 1);
			put(recs, key, d->group, item, counters_get(state, key));
		}
}

/* Peer counters from the kernel; without the module a note, and no
 * zeros for counters that do not exist. */
static void add_peer_counters(json_t *recs, json_t *notes)
{
	static const char *const items[KPC__MAX] = {
		[KPC_CERT_EXPIRED] = "expired", [KPC_CERT_INVALID] = "invalid",
		[KPC_CERT_REVOKED] = "revoked",
		[KPC_RX_ACCEPTED] = "received accepted",
		[KPC_RX_DROPPED] = "received dropped",
		[KPC_TX_ACCEPTED] = "sent accepted",
		[KPC_TX_DROPPED] = "sent dropped",
	};
	char counter[64], *sp;
	uint64_t v[KPC__MAX];
	char msg[256];
	int i;

	if (kernel_peer_cert_counters(v, msg, sizeof(msg))) {
		json_array_append_new(notes, json_string(msg));
		return;
	}
	/* Peers first seen with such a certificate on the data path. */
	for (i = KPC_CERT_EXPIRED; i <= KPC_CERT_REVOKED; i++) {
		snprintf(counter, sizeof(counter),
			 "peer-certificate-data-path.%s", items[i]);
		put(recs, counter, "peer certificate data path", items[i], v[i]);
	}
	/* Packets from and to peers (fail-hard drops both ways). */
	for (i = KPC_RX_ACCEPTED; i < KPC__MAX; i++) {
		snprintf(counter, sizeof(counter), "peer-packets.%s", items[i]);
		sp = strchr(counter, ' ');
		if (sp)
			*sp = '.';
		put(recs, counter, "peer packets", items[i], v[i]);
	}
}

static json_t *collect(const struct svrcert_store *st, json_t *notes)
{
	json_t *recs = json_array(), *state = NULL;
	int i;

	if (counters_load(st, &state)) {
		json_array_append_new(notes, json_string("counters file unreadable"));
		state = json_object();
	}
	for (i = 0; i < CNT__MAX; i++) {
		put(recs, counter_descs[i].key, counter_descs[i].group,
		    counter_descs[i].item, counters_get(state, counter_descs[i].key));
		if (i == CNT_IMPORT_FAILURE)
			add_failure_reasons(recs, state);
	}
	json_decref(state);
	add_peer_counters(recs, notes);
	return recs;
}

static const char *rec_str(json_t *r, const char *k)
{
	return json_string_value(json_object_get(r, k));
}

/* "certificate import failure" -> the records of group "certificate
 * import" (the longest group the words start with) and item "failure". */
static json_t *select_words(int argc, char **argv, json_t *recs, bool *one)
{
	const char *group = NULL, *g, *item = NULL;
	json_t *sel = json_array(), *r;
	char words[256] = "";
	size_t i, n;
	int a;

	*one = false;
	for (a = 0; a < argc; a++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words),
			 "%s%s", a ? " " : "", argv[a]);
	json_array_foreach(recs, i, r) {
		g = rec_str(r, "group");
		n = strlen(g);
		if (!*words || strncasecmp(words, g, n) ||
		    (words[n] && words[n] != ' ') || (group && strlen(group) >= n))
			continue;
		group = g;
		item = words[n] ? words + n + 1 : NULL;
	}
	json_array_foreach(recs, i, r)
		if (!*words || (group && !strcmp(group, rec_str(r, "group")) &&
				(!item || !strcasecmp(item, rec_str(r, "item")))))
			json_array_append(sel, r);
	if (!json_array_size(sel)) {
		json_decref(sel);
		return NULL;
	}
	*one = item != NULL;
	return sel;
}

/* Aligned columns, the value right-aligned: fits 80 columns. */
static void print_table(json_t *sel)
{
	int gw = 5, iw = 4;
	size_t i;
	json_t *r;

	json_array_foreach(sel, i, r) {
		if ((int)strlen(rec_str(r, "group")) > gw)
			gw = (int)strlen(rec_str(r, "group"));
		if ((int)strlen(rec_str(r, "item")) > iw)
			iw = (int)strlen(rec_str(r, "item"));
	}
	printf("%-*s  %-*s  %12s\n", gw, "GROUP", iw, "ITEM", "VALUE");
	json_array_foreach(sel, i, r)
		printf("%-*s  %-*s  %12" JSON_INTEGER_FORMAT "\n", gw,
		       rec_str(r, "group"), iw, rec_str(r, "item"),
		       json_integer_value(json_object_get(r, "value")));
}

static int words_start(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "security"))
			return i + 1;
	return argc;
}

static void print_json(json_t *sel, bool one, json_t *notes)
{
	json_t *o, *counters, *r;
	size_t i;

	if (one && json_array_size(sel) == 1) {
		o = json_incref(json_array_get(sel, 0));
	} else {
		counters = json_object();
		json_array_foreach(sel, i, r)
			json_object_set(counters, rec_str(r, "counter"),
					json_object_get(r, "value"));
		o = json_pack("{s:O, s:o}", "security", sel, "counters", counters);
	}
	if (json_array_size(notes))
		json_object_set(o, "notes", notes);
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
}

static int print_selected(json_t *recs, json_t *notes, int argc,
			  char **argv, bool json)
{
	json_t *sel, *it;
	bool one;
	size_t i;

	sel = select_words(argc, argv, recs, &one);
	if (!sel) {
		fprintf(stderr, "usage: svrcertctl show stats security [CSR|"
			"certificate import|CRL fetch|CRL ingestion|certificate|"
			"peer certificate [data path]|peer packets] [ITEM] "
			"[-j]\n");
		return CTL_USAGE;
	}
	/* the kernel's note only where its counters would be */
	if (argc && strncasecmp(argv[0], "peer", 4))
		json_array_clear(notes);
	if (json)
		print_json(sel, one, notes);
	else
		print_table(sel);
	json_decref(sel);
	if (!json)
		json_array_foreach(notes, i, it)
			fprintf(stderr, "note: %s\n", json_string_value(it));
	return CTL_OK;
}

int show_stats_security(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	json_t *notes, *recs;
	char err[512];
	bool json;
	int start, ret;

	json = ctl_take_json_flag(&argc, argv);
	if (svrcert_env_take_args(&argc, argv, &ea))
		return CTL_USAGE;
	if (svrcert_env_open(&env, &ea, err, sizeof(err))) {
		fprintf(stderr, "svrcertctl: %s\n", err);
		return CTL_FAIL;
	}
	start = words_start(argc, argv);
	notes = json_array();
	recs = collect(&env.st, notes);
	ret = print_selected(recs, notes, argc - start, argv + start, json);
	json_decref(recs);
	json_decref(notes);
	svrcert_env_close(&env);
	return ret;
}
