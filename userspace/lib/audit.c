// SPDX-License-Identifier: GPL-2.0
/* Audit events as JSON lines + syslog. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

static void iso8601_now(char *out, size_t outlen)
{
	struct timeval tv;
	struct tm tm;
	char base[24];
	int ms;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	ms = (int)(tv.tv_usec / 1000) % 1000;
	snprintf(out, outlen, "%.20s.%03dZ", base, ms);
}

static const struct {
	const char *type;
	const char *title;
} audit_titles[] = {
	{ AUDIT_GENERATE_CSR, "Generated certificate signing request." },
	{ AUDIT_INGEST_CERT, "Ingested a certificate." },
	{ "system.crl_update", "Updated certificate revocation list files." },
	{ "system.peer_authentication", "Peer authentication." },
	{ "system.rest_request", "REST API request." },
};

const char *audit_type_title(const char *type)
{
	size_t i;

	for (i = 0; type && i < sizeof(audit_titles) / sizeof(audit_titles[0]); i++)
		if (!strcmp(type, audit_titles[i].type))
			return audit_titles[i].title;
	return NULL;
}

json_t *audit_event_json(const char *type, const char *description,
			 json_t *detail, bool permitted)
{
	char ts[48], node[256];

	iso8601_now(ts, sizeof(ts));
	if (gethostname(node, sizeof(node)))
		snprintf(node, sizeof(node), "unknown");
	node[sizeof(node) - 1] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}",
			 "timestamp", ts, "type", type, "node", node,
			 "description", description,
			 "detail", detail ? detail : json_object(),
			 "permitted", permitted);
}

static int append_to_path(const char *path, const char *line)
{
	size_t len = strlen(line);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	ret = store_give_to_dir_owner(fd, path);
	/* One write per line: O_APPEND keeps concurrent writers' lines whole. */
	if (!ret && (write(fd, line, len) != (ssize_t)len || fsync(fd)))
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

int audit_event(const struct audit_sink *sink, const char *type,
		const char *description, json_t *detail, bool permitted)
{
	json_t *ev = audit_event_json(type, description, detail, permitted);
	char *text, *line;
	int ret;

	if (!ev)
		return -ENOMEM;
	text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!text)
		return -ENOMEM;
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "audit: %s", text);
	if (asprintf(&line, "%s\n", text) < 0) {
		free(text);
		return -ENOMEM;
	}
	if (sink->path)
		ret = append_to_path(sink->path, line);
	else
		ret = store_append_line(sink->st, STORE_AUDIT_LOG, text, 0640);
	free(line);
	free(text);
	return ret;
}
