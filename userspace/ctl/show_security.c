// SPDX-License-Identifier: GPL-2.0
/*
 * svrcertctl show stats security [GROUP [ITEM]] [-j]
 *
 * The seed's counters, e.g. "show stats security CSR success",
 * "... certificate import failure", "... CRL fetch", "... certificate
 * expired", "... peer certificate revoked" (peer authentication results,
 * counted by svrcertd), "... peer certificate data path revoked" (peers
 * first seen so on the data path, from svrcert.ko when loaded).
 * Import failures are also broken down by reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/counters.h"
#include "ctl.h"
#include "pki/import.h"
#include "pki/store_env.h"

static void put(json_t *groups, const char *group, const char *item,
		json_int_t v)
{
	json_t *g = json_object_get(groups, group);

	if (!g) {
		g = json_object();
		json_object_set_new(groups, group, g);
	}
	json_object_set_new(g, item, json_integer(v));
}

static void add_failure_reasons(json_t *groups, json_t *state)
{
	const char *prefix = counter_descs[CNT_IMPORT_FAILURE].key;
	size_t plen = strlen(prefix);
	const char *key;
	json_t *v, *r = json_object();

	json_object_foreach(state, key, v)
		if (!strncmp(key, prefix, plen) && key[plen] == '.')
			json_object_set(r, key + plen + 1, v);
	json_object_set_new(json_object_get(groups, "certificate import"),
			    "failure reasons", r);
}

/* Peer counters from the kernel; a note instead when it cannot answer. */
static void add_peer_counters(json_t *groups, json_t *notes)
{
	uint64_t v[3];
	char msg[256];

	if (kernel_peer_cert_counters(v, msg, sizeof(msg))) {
		json_array_append_new(notes, json_string(msg));
		return;
	}
	/* Peers first seen with such a certificate on the data path. */
	put(groups, "peer certificate data path", "expired", (json_int_t)v[0]);
	put(groups, "peer certificate data path", "invalid", (json_int_t)v[1]);
	put(groups, "peer certificate data path", "revoked", (json_int_t)v[2]);
}

static json_t *collect(const struct svrcert_store *st, json_t *notes)
{
	json_t *groups = json_object(), *state = NULL;
	int i;

	if (counters_load(st, &state)) {
		json_array_append_new(notes, json_string("counters file unreadable"));
		state = json_object();
	}
	for (i = 0; i < CNT__MAX; i++)
		put(groups, counter_descs[i].group, counter_descs[i].item,
		    (json_int_t)counters_get(state, counter_descs[i].key));
	add_failure_reasons(groups, state);
	json_decref(state);
	add_peer_counters(groups, notes);
	return groups;
}

/* "certificate import failure" -> group "certificate import", item. */
static int select_words(int argc, char **argv, json_t *groups,
			const char **group, const char **item)
{
	char words[256] = "";
	const char *key;
	json_t *v;
	int i;

	*group = *item = NULL;
	for (i = 0; i < argc; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words),
			 "%s%s", i ? " " : "", argv[i]);
	if (!*words)
		return 0;
	json_object_foreach(groups, key, v) {
		size_t n = strlen(key);

		if (strncasecmp(words, key, n) || (words[n] && words[n] != ' '))
			continue;
		if (*group && strlen(*group) > n)
			continue;	/* prefer the longest group name */
		*group = key;
		*item = words[n] ? words + n + 1 : NULL;
	}
	if (!*group || (*item && !json_object_get(json_object_get(groups, *group), *item)))
		return -EINVAL;
	*item = *item ? json_object_iter_key(json_object_iter_at(
			json_object_get(groups, *group), *item)) : NULL;
	return 0;
}

static void print_group(const char *name, json_t *g, const char *only)
{
	const char *item;
	json_t *v;

	json_object_foreach(g, item, v) {
		if (only && strcmp(item, only))
			continue;
		if (json_is_object(v)) {
			const char *r;
			json_t *n;

			json_object_foreach(v, r, n) {
				char label[160];

				snprintf(label, sizeof(label), "%s failure %s",
					 name, r);
				printf("%-41s %" JSON_INTEGER_FORMAT "\n", label,
				       json_integer_value(n));
			}
			continue;
		}
		printf("%s %-*s %" JSON_INTEGER_FORMAT "\n", name,
		       (int)(40 - strlen(name)), item, json_integer_value(v));
	}
}

static int words_start(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "security"))
			return i + 1;
	return argc;
}

static int print_selected(json_t *groups, json_t *notes, int argc,
			  char **argv, bool json)
{
	const char *group, *item, *key;
	json_t *it;
	size_t i;

	if (select_words(argc, argv, groups, &group, &item)) {
		fprintf(stderr, "usage: svrcertctl show stats security [CSR|"
			"certificate import|CRL fetch|CRL ingestion|certificate|"
			"peer certificate [data path]] [ITEM] [-j]\n");
		return CTL_USAGE;
	}
	if (json) {
		json_t *sel = group ? json_object_get(groups, group) : groups;

		if (item)
			sel = json_object_get(sel, item);
		it = json_pack("{s:O, s:O}", "counters", sel, "notes", notes);
		json_dumpf(it, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(it);
		return CTL_OK;
	}
	json_object_foreach(groups, key, it)
		if (!group || !strcmp(group, key))
			print_group(key, it, item);
	json_array_foreach(notes, i, it)
		fprintf(stderr, "note: %s\n", json_string_value(it));
	return CTL_OK;
}

int show_stats_security(int argc, char **argv)
{
	struct svrcert_env_args ea;
	struct svrcert_env env;
	json_t *notes, *groups;
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
	groups = collect(&env.st, notes);
	ret = print_selected(groups, notes, argc - start, argv + start, json);
	json_decref(groups);
	json_decref(notes);
	svrcert_env_close(&env);
	return ret;
}
