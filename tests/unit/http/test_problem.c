/* problem+json rendering (RFC 9457) and the rs_status -> HTTP status table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/http_int.h"

static const struct {
	enum rs_status st;
	int http;
	const char *title;
} map[] = {
    {RS_OK, 200, "OK"},
    {RS_E_INVALID, 400, "Bad Request"},
    {RS_E_UNAUTHENTICATED, 401, "Unauthorized"},
    {RS_E_FORBIDDEN, 403, "Forbidden"},
    {RS_E_NOT_FOUND, 404, "Not Found"},
    {RS_E_CONFLICT, 409, "Conflict"},
    {RS_E_PRECONDITION, 412, "Precondition Failed"},
    {RS_E_TOO_LARGE, 413, "Content Too Large"},
    {RS_E_LIMIT, 429, "Too Many Requests"},
    {RS_E_UNAVAILABLE, 503, "Service Unavailable"},
    {RS_E_INTERNAL, 500, "Internal Server Error"},
};

static const char *header_of(const struct http_resp *resp, const char *name)
{
	for (int i = 0; i < resp->nheaders; i++) {
		if (strcmp(resp->hnames[i], name) == 0)
			return resp->hvalues[i];
	}
	return NULL;
}

static void test_status_map(void **state)
{
	(void)state;
	/* RS_E_INTERNAL is the last enumerator: the table covers every status. */
	assert_int_equal(sizeof(map) / sizeof(map[0]), RS_E_INTERNAL + 1);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		assert_int_equal(http_status_of(map[i].st), map[i].http);
		assert_string_equal(http_reason(map[i].http), map[i].title);
	}
	assert_string_equal(http_reason(405), "Method Not Allowed");
	assert_string_equal(http_reason(415), "Unsupported Media Type");
	assert_string_equal(http_reason(999), "Unknown");
}

static void test_render_every_status(void **state)
{
	(void)state;
	for (size_t i = 1; i < sizeof(map) / sizeof(map[0]); i++) {
		struct arena a;
		struct http_req req = {0};
		struct http_resp resp = {0};
		struct rs_err err;
		json_t *j;
		json_error_t je;

		arena_init(&a, 0);
		req.arena = &a;
		req.request_id = "rid-1";
		rs_fail(&err, map[i].st, "thing.broken", NULL, "it broke: %d", (int)i);
		http_problem(&req, &resp, &err);
		assert_int_equal(resp.status, map[i].http);
		assert_string_equal(resp.content_type, "application/problem+json");
		j = json_loadb(resp.body, resp.body_len, 0, &je);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "type")),
				    "urn:roster:problem:thing.broken");
		assert_string_equal(json_string_value(json_object_get(j, "title")), map[i].title);
		assert_int_equal(json_integer_value(json_object_get(j, "status")), map[i].http);
		assert_string_equal(json_string_value(json_object_get(j, "code")), "thing.broken");
		assert_non_null(
		    strstr(json_string_value(json_object_get(j, "detail")), "it broke"));
		assert_string_equal(json_string_value(json_object_get(j, "instance")), "rid-1");
		assert_null(json_object_get(j, "field"));
		if (map[i].st == RS_E_UNAVAILABLE)
			assert_string_equal(header_of(&resp, "Retry-After"), "1");
		else
			assert_null(header_of(&resp, "Retry-After"));
		if (map[i].st == RS_E_UNAUTHENTICATED)
			assert_string_equal(header_of(&resp, "WWW-Authenticate"), "Bearer");
		else
			assert_null(header_of(&resp, "WWW-Authenticate"));
		json_decref(j);
		arena_release(&a);
	}
}

static void test_render_field_and_escaping(void **state)
{
	struct arena a;
	struct http_req req = {0};
	struct http_resp resp = {0};
	struct rs_err err;
	json_t *j;

	(void)state;
	arena_init(&a, 0);
	req.arena = &a;
	req.request_id = "abc";
	rs_fail(&err, RS_E_CONFLICT, "user.username_taken", "username",
		"username 'a\"l\\ice' is already taken");
	http_problem(&req, &resp, &err);
	/* The documented shape, member order included. */
	assert_string_equal(
	    resp.body,
	    "{\"type\":\"urn:roster:problem:user.username_taken\",\"title\":\"Conflict\","
	    "\"status\":409,\"code\":\"user.username_taken\","
	    "\"detail\":\"username 'a\\\"l\\\\ice' is already taken\","
	    "\"instance\":\"abc\",\"field\":\"username\"}");
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "field")), "username");
	json_decref(j);
	arena_release(&a);
}

static void test_render_bad_utf8_and_explicit_status(void **state)
{
	struct arena a;
	struct http_req req = {0};
	struct http_resp resp = {0};
	struct rs_err err;
	json_t *j;

	(void)state;
	arena_init(&a, 0);
	req.arena = &a;
	req.request_id = "r";
	rs_fail(&err, RS_E_INVALID, "request.unsupported_media_type", NULL, "bad \xff byte");
	http_problem_status(&req, &resp, 415, &err);
	assert_int_equal(resp.status, 415);
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "title")),
			    "Unsupported Media Type");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 415);
	json_decref(j);
	arena_release(&a);
}

static void test_resp_helpers(void **state)
{
	struct arena a;
	struct http_req req = {0};
	struct http_resp resp = {0};

	(void)state;
	arena_init(&a, 0);
	req.arena = &a;
	http_resp_json(&resp, 201, "{}", 2);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.content_type, "application/json");
	assert_true(http_resp_header(&req, &resp, "Location", "/x"));
	assert_false(http_resp_header(&req, &resp, "X-Bad", "a\r\nSet-Cookie: x"));
	assert_false(http_resp_header(&req, &resp, "Bad Name", "v"));
	while (resp.nheaders < HTTP_RESP_HEADERS_MAX)
		assert_true(http_resp_header(&req, &resp, "X-Fill", "v"));
	assert_false(http_resp_header(&req, &resp, "X-One-Too-Many", "v"));
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_map),
	    cmocka_unit_test(test_render_every_status),
	    cmocka_unit_test(test_render_field_and_escaping),
	    cmocka_unit_test(test_render_bad_utf8_and_explicit_status),
	    cmocka_unit_test(test_resp_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
