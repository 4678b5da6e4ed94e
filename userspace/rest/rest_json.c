// SPDX-License-Identifier: GPL-2.0
/* JSON answers and field-by-field validation of JSON request bodies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "rest_int.h"

void rest_reply(struct rest_req *r, unsigned int status, json_t *obj)
{
	json_decref(r->out);
	r->out = obj;
	r->status = status;
}

void rest_error(struct rest_req *r, unsigned int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	svrcert_utf8_sanitize(msg);
	rest_reply(r, status, json_pack("{s:s}", "error", msg));
}

static bool content_type_json(struct rest_req *r)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return ct && !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

json_t *rest_body_object(struct rest_req *r, bool empty_ok)
{
	if (r->len && !content_type_json(r)) {
		rest_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type "
			   "must be application/json");
		return NULL;
	}
	return rest_body_parse(r, empty_ok);
}

json_t *rest_body_parse(struct rest_req *r, bool empty_ok)
{
	json_error_t je;
	json_t *o;

	if (!r->len && empty_ok)
		return json_object();
	if (!r->len) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "a JSON object is required "
			   "as the request body");
		return NULL;
	}
	o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "request body is not valid "
			   "JSON: %s at line %d column %d", je.text, je.line,
			   je.column);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		rest_error(r, MHD_HTTP_BAD_REQUEST, "request body must be a "
			   "JSON object");
		return NULL;
	}
	return o;
}

int rest_only_fields(struct rest_req *r, json_t *obj,
		     const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;

		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a) {
			rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%.64s\": "
				   "unknown field", key);
			return -EINVAL;
		}
	}
	return 0;
}

int rest_string_field(struct rest_req *r, json_t *obj, const char *field,
		      size_t max, bool required, const char **out)
{
	json_t *v = json_object_get(obj, field);
	size_t len;

	*out = NULL;
	if (!v && !required)
		return 0;
	if (!v) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": required",
			   field);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": must be a "
			   "string", field);
		return -EINVAL;
	}
	len = json_string_length(v);
	if (len == 0 || len > max || strlen(json_string_value(v)) != len) {
		rest_error(r, MHD_HTTP_BAD_REQUEST, "field \"%s\": must be 1 to "
			   "%zu characters without NUL", field, max);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

int rest_env_open(struct rest_req *r, struct svrcert_env *env)
{
	char err[512];
	int ret = svrcert_env_open(env, &r->srv->args, err, sizeof(err));

	if (ret)
		rest_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "configuration: %s",
			   err);
	return ret;
}
