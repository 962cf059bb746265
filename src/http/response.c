/* Response helpers for handlers. The response is plain data (struct http_resp); server.c
 * turns it into a libmicrohttpd response and adds the headers every answer carries. */
#include "http/http_int.h"

#include <string.h>

static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == ':')
			return false;
	}
	return true;
}

static bool header_value_ok(const char *s)
{
	/* CR or LF would let a value start a header of its own (response splitting). */
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

bool http_resp_header(struct http_req *req, struct http_resp *resp, const char *name,
		      const char *value)
{
	char *n, *v;

	if (resp->nheaders >= HTTP_RESP_HEADERS_MAX || !header_name_ok(name) ||
	    !header_value_ok(value))
		return false;
	n = arena_strdup(req->arena, name);
	v = arena_strdup(req->arena, value);
	if (!n || !v)
		return false;
	resp->hnames[resp->nheaders] = n;
	resp->hvalues[resp->nheaders] = v;
	resp->nheaders++;
	return true;
}

void http_resp_json(struct http_resp *resp, int status, const char *body, size_t len)
{
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = body;
	resp->body_len = body ? len : 0;
}
