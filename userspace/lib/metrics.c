// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text exposition format writer (metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define METRICS_LABELS_MAX	8

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void metrics_free(struct metrics *m)
{
	free(m->buf);
	metrics_init(m);
}

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

static bool name_ok(const char *name, bool colon)
{
	size_t i;

	if (!name || !*name || strlen(name) >= METRICS_NAME_MAX)
		return false;
	for (i = 0; name[i]; i++)
		if (!name_char(name[i], i == 0, colon))
			return false;
	return true;
}

bool metrics_name_ok(const char *name)
{
	return name_ok(name, true);
}

bool metrics_label_name_ok(const char *name)
{
	/* "__" is reserved for Prometheus' own labels. */
	return name_ok(name, false) && strncmp(name, "__", 2);
}

static void fail(struct metrics *m, int err)
{
	if (!m->err)
		m->err = err;
}

static void put(struct metrics *m, const char *s, size_t n)
{
	char *nb;
	size_t cap;

	if (m->err)
		return;
	if (m->len + n + 1 > m->cap) {
		cap = m->cap ? m->cap : 4096;
		while (cap < m->len + n + 1)
			cap *= 2;
		nb = realloc(m->buf, cap);
		if (!nb) {
			fail(m, -ENOMEM);
			return;
		}
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

static void puts_(struct metrics *m, const char *s)
{
	put(m, s, strlen(s));
}

/* HELP escapes \ and newline; label values also ". */
static void put_escaped(struct metrics *m, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(m, "\\\\");
		else if (*s == '\n')
			puts_(m, "\\n");
		else if (*s == '"' && quote)
			puts_(m, "\\\"");
		else
			put(m, s, 1);
	}
}

void metrics_family(struct metrics *m, const char *name, const char *type,
		    const char *help)
{
	size_t i;

	if (!metrics_name_ok(name) ||
	    (strcmp(type, "counter") && strcmp(type, "gauge"))) {
		fail(m, -EINVAL);
		return;
	}
	for (i = 0; i < m->n_names; i++)
		if (!strcmp(m->names[i], name)) {
			fail(m, -EEXIST);	/* one family, one block */
			return;
		}
	if (m->n_names == METRICS_FAMILIES_MAX) {
		fail(m, -ENOSPC);
		return;
	}
	snprintf(m->names[m->n_names++], METRICS_NAME_MAX, "%s", name);
	puts_(m, "# HELP ");
	puts_(m, name);
	puts_(m, " ");
	put_escaped(m, help, false);
	puts_(m, "\n# TYPE ");
	puts_(m, name);
	puts_(m, " ");
	puts_(m, type);
	puts_(m, "\n");
}

static void sample(struct metrics *m, const char *value, va_list ap)
{
	const char *label, *v;
	int n = 0;

	if (!m->n_names) {
		fail(m, -EINVAL);
		return;
	}
	puts_(m, m->names[m->n_names - 1]);
	while ((label = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (!metrics_label_name_ok(label) || !v ||
		    ++n > METRICS_LABELS_MAX) {
			fail(m, -EINVAL);
			return;
		}
		puts_(m, n == 1 ? "{" : ",");
		puts_(m, label);
		puts_(m, "=\"");
		put_escaped(m, v, true);
		puts_(m, "\"");
	}
	if (n)
		puts_(m, "}");
	puts_(m, " ");
	puts_(m, value);
	puts_(m, "\n");
}

void metrics_u64(struct metrics *m, uint64_t value, ...)
{
	char v[24];
	va_list ap;

	snprintf(v, sizeof(v), "%" PRIu64, value);
	va_start(ap, value);
	sample(m, v, ap);
	va_end(ap);
}

void metrics_i64(struct metrics *m, int64_t value, ...)
{
	char v[24];
	va_list ap;

	snprintf(v, sizeof(v), "%" PRId64, value);
	va_start(ap, value);
	sample(m, v, ap);
	va_end(ap);
}

int metrics_finish(struct metrics *m, char **text, size_t *len)
{
	int ret = m->err;

	if (!ret && !m->buf)
		put(m, "", 0);
	ret = m->err;
	if (ret) {
		metrics_free(m);
		return ret;
	}
	*text = m->buf;
	if (len)
		*len = m->len;
	m->buf = NULL;
	metrics_free(m);
	return 0;
}
