/* Request accessors (query arguments and headers straight from libmicrohttpd) and the two
 * header checks the layer makes itself: X-Request-Id syntax and JSON media types. */
#include "http/http_int.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

const char *http_header(const struct http_req *req, const char *name)
{
	if (!req->conn) {
		for (int i = 0; i < req->nheaders; i++) {
			if (strcasecmp(req->headers[i].name, name) == 0)
				return req->headers[i].value;
		}
		return NULL;
	}
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(const struct http_req *req, const char *name)
{
	if (!req->conn)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct form_find {
	struct http_req *req;
	const char *name;
	char *value;
	size_t len;
	int count; /* values seen for name: a repeated parameter is an error (RFC 6749 3.2) */
};

static enum MHD_Result form_find_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *filename, const char *content_type,
				    const char *transfer_encoding, const char *data, uint64_t off,
				    size_t size)
{
	struct form_find *f = cls;
	char *grown;

	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
	if (!key || strcmp(key, f->name) != 0)
		return MHD_YES;
	if (off == 0)
		f->count++;
	if (f->count > 1)
		return MHD_YES;
	/* A value may come in pieces: each piece is appended. */
	grown = arena_alloc(f->req->arena, f->len + size + 1);
	if (!grown)
		return MHD_NO;
	if (f->len)
		memcpy(grown, f->value, f->len);
	memcpy(grown + f->len, data, size);
	f->len += size;
	grown[f->len] = '\0';
	f->value = grown;
	return MHD_YES;
}

int http_form(struct http_req *req, const char *name, const char **value)
{
	struct form_find f = {.req = req, .name = name, .value = NULL};
	struct MHD_PostProcessor *pp;

	*value = NULL;
	if (!req->conn || !req->body)
		return 0;
	/* libmicrohttpd's own parser, over the body already read (Content-Type decides). */
	pp = MHD_create_post_processor(req->conn, 4096, form_find_cb, &f);
	if (!pp)
		return -1;
	if (MHD_post_process(pp, req->body, req->body_len) != MHD_YES) {
		MHD_destroy_post_processor(pp);
		return -1;
	}
	MHD_destroy_post_processor(pp);
	*value = f.count == 1 ? (f.value ? f.value : "") : NULL;
	return f.count;
}

bool http_basic_auth(struct http_req *req, const char **user, const char **password)
{
	char *pw = NULL;
	char *u = req->conn ? MHD_basic_auth_get_username_password(req->conn, &pw) : NULL;

	*user = u ? arena_strdup(req->arena, u) : NULL;
	*password = pw ? arena_strdup(req->arena, pw) : NULL;
	if (pw) {
		memset(pw, 0, strlen(pw));
		MHD_free(pw);
	}
	if (u)
		MHD_free(u);
	return *user && *password;
}

struct query_find {
	const char *name;
	const char *value;
	bool found;
};

static enum MHD_Result query_find_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct query_find *q = cls;

	(void)kind;
	if (key && strcmp(key, q->name) == 0) {
		/* "?flag" has no value: report it as present and empty, not absent. */
		q->value = value ? value : "";
		q->found = true;
		return MHD_NO;
	}
	return MHD_YES;
}

const char *http_query(const struct http_req *req, const char *name)
{
	struct query_find q = {.name = name};

	if (!req->conn)
		return NULL;
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_find_cb, &q);
	return q.found ? q.value : NULL;
}

struct query_each {
	bool (*fn)(const char *key, const char *value, void *ctx);
	void *ctx;
};

static enum MHD_Result query_each_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct query_each *q = cls;

	(void)kind;
	return q->fn(key ? key : "", value ? value : "", q->ctx) ? MHD_YES : MHD_NO;
}

void http_query_each(const struct http_req *req,
		     bool (*fn)(const char *key, const char *value, void *ctx), void *ctx)
{
	struct query_each q = {.fn = fn, .ctx = ctx};

	if (!req->conn)
		return;
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_each_cb, &q);
}

bool http_request_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (n == RS_REQUEST_ID_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

static bool is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$&-^_.+", c) != NULL);
}

bool http_content_type_is_json(const char *ct)
{
	static const char prefix[] = "application/";
	const char *sub, *end;
	size_t n;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, prefix, sizeof(prefix) - 1) != 0)
		return false;
	sub = ct + sizeof(prefix) - 1;
	for (end = sub; is_token_char(*end); end++)
		;
	n = (size_t)(end - sub);
	/* After the subtype only whitespace or parameters may follow. */
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' && *end != ';')
		return false;
	if (n == 4 && strncasecmp(sub, "json", 4) == 0)
		return true;
	/* application/<x>+json (RFC 6839 structured syntax suffix), x non-empty. */
	return n > 5 && strncasecmp(sub + n - 5, "+json", 5) == 0;
}

int64_t http_if_match(const struct http_req *req)
{
	const char *h = http_header(req, "If-Match");
	long long v;
	char buf[32];
	size_t n;

	if (!h)
		return 0;
	while (*h == ' ')
		h++;
	if (strcmp(h, "*") == 0)
		return 0;
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	n = strlen(h);
	if (n < 3 || n > sizeof(buf) || h[0] != '"' || h[n - 1] != '"')
		return -1;
	memcpy(buf, h + 1, n - 2);
	buf[n - 2] = '\0';
	if (!str_to_ll(buf, 1, INT64_MAX, &v))
		return -1;
	return v;
}
