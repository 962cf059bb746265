/* The one mapping table of the HTTP surface (rs_status -> HTTP status) and RFC 9457
 * problem+json rendering. Detail text comes from rs_err.msg, which is safe to show by
 * contract; nothing else of the request goes into a problem. */
#include "http/http_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int http_status_of(enum rs_status s)
{
	/* No default: -Wswitch flags a new status that has no HTTP meaning yet. */
	switch (s) {
	case RS_OK:
		return 200;
	case RS_E_INVALID:
		return 400;
	case RS_E_UNAUTHENTICATED:
		return 401;
	case RS_E_FORBIDDEN:
		return 403;
	case RS_E_NOT_FOUND:
		return 404;
	case RS_E_CONFLICT:
		return 409;
	case RS_E_PRECONDITION:
		return 412;
	case RS_E_TOO_LARGE:
		return 413;
	case RS_E_LIMIT:
		return 429;
	case RS_E_UNAVAILABLE:
		return 503;
	case RS_E_INTERNAL:
		return 500;
	}
	return 500;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* The last resort when jansson or the arena fails: still a valid problem, still JSON. */
static const char fallback_problem[] =
    "{\"type\":\"urn:roster:problem:internal\",\"title\":\"Internal Server Error\","
    "\"status\":500,\"code\":\"internal\",\"detail\":\"the error could not be rendered\"}";

/* A new string reference; text that is not UTF-8 (json_string() refuses it) is replaced
 * rather than losing the whole answer. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);

	return j ? j : json_string("(not UTF-8)");
}

void http_problem_status(struct http_req *req, struct http_resp *resp, int status,
			 const struct rs_err *err)
{
	const char *code = err->code[0] ? err->code : rs_status_name(err->status);
	json_t *o = json_object();
	char *type = NULL, *text = NULL;
	bool ok;

	resp->status = status;
	resp->content_type = "application/problem+json";
	type = arena_printf(req->arena, "urn:roster:problem:%s", code);
	/* json_*_new take ownership of the new references; a NULL value makes set_new fail. */
	ok = o && type && json_object_set_new(o, "type", jstr(type)) == 0 &&
	     json_object_set_new(o, "title", json_string(http_reason(status))) == 0 &&
	     json_object_set_new(o, "status", json_integer(status)) == 0 &&
	     json_object_set_new(o, "code", jstr(code)) == 0 &&
	     json_object_set_new(o, "detail", jstr(err->msg)) == 0 &&
	     (!req->request_id || json_object_set_new(o, "instance", jstr(req->request_id)) == 0) &&
	     (!err->field[0] || json_object_set_new(o, "field", jstr(err->field)) == 0);
	if (ok)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text)
		resp->body = arena_strdup(req->arena, text);
	if (!text || !resp->body) {
		resp->status = 500;
		resp->body = fallback_problem;
	}
	resp->body_len = strlen(resp->body);
	free(text);
	json_decref(o);
	/* A full header table only loses the hint header, never the answer. */
	if (resp->status == 401)
		(void)http_resp_header(req, resp, "WWW-Authenticate", "Bearer");
	if (resp->status == 503)
		(void)http_resp_header(req, resp, "Retry-After", "1");
}

void http_problem(struct http_req *req, struct http_resp *resp, const struct rs_err *err)
{
	http_problem_status(req, resp, http_status_of(err->status), err);
}
