/* Router and path decoding: literal versus parameter precedence, 404 versus 405 with Allow,
 * trailing slashes, percent-decoding and bad escapes, registration errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_int.h"

static void h_dummy(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)req;
	(void)resp;
	(void)app;
}

static const struct {
	const char *method, *pattern;
} routes[] = {
    {"GET", "/api/v1/tenants"},
    {"POST", "/api/v1/tenants"},
    {"GET", "/api/v1/tenants/{tenant}"},
    {"PATCH", "/api/v1/tenants/{tenant}"},
    {"DELETE", "/api/v1/tenants/{tenant}"},
    {"GET", "/api/v1/tenants/{tenant}/users"},
    {"GET", "/api/v1/tenants/{tenant}/users/{id}"},
    {"DELETE", "/api/v1/tenants/{tenant}/users/{id}"},
    {"GET", "/api/v1/tenants/{tenant}/users/me"},
    {"GET", "/api/v1/tenants/system/users/{id}"},
    {"PUT", "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}"},
    {"GET", "/api/v1/me"},
};

static struct http_router *build(void)
{
	struct http_router *r = http_router_new();
	struct rs_err err;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		assert_int_equal(
		    http_route_add(r, routes[i].method, routes[i].pattern, 0, h_dummy, NULL, &err),
		    RS_OK);
	return r;
}

static const struct {
	const char *method, *raw;
	enum http_match_result result;
	const char *route;  /* expected pattern (OK and METHOD) */
	const char *params; /* "name=value;name=value" for OK */
	const char *allow;  /* for METHOD */
} cases[] = {
    {"GET", "/api/v1/tenants", HTTP_MATCH_OK, "/api/v1/tenants", "", NULL},
    {"GET", "/api/v1/tenants/", HTTP_MATCH_OK, "/api/v1/tenants", "", NULL},
    {"POST", "/api/v1/tenants", HTTP_MATCH_OK, "/api/v1/tenants", "", NULL},
    {"HEAD", "/api/v1/tenants", HTTP_MATCH_OK, "/api/v1/tenants", "", NULL},
    {"PUT", "/api/v1/tenants", HTTP_MATCH_METHOD, "/api/v1/tenants", NULL, "GET, HEAD, POST"},
    {"GET", "/api/v1/tenants/acme", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}", "tenant=acme", NULL},
    {"GET", "/api/v1/tenants/acme/", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}", "tenant=acme",
     NULL},
    {"POST", "/api/v1/tenants/acme", HTTP_MATCH_METHOD, "/api/v1/tenants/{tenant}", NULL,
     "GET, HEAD, PATCH, DELETE"},
    /* literal segment wins over a parameter, wherever it is */
    {"GET", "/api/v1/tenants/acme/users/me", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}/users/me",
     "tenant=acme", NULL},
    {"GET", "/api/v1/tenants/acme/users/42", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}/users/{id}",
     "tenant=acme;id=42", NULL},
    {"GET", "/api/v1/tenants/system/users/42", HTTP_MATCH_OK, "/api/v1/tenants/system/users/{id}",
     "id=42", NULL},
    /* leftmost literal wins: system/users/me prefers .../system/users/{id} */
    {"GET", "/api/v1/tenants/system/users/me", HTTP_MATCH_OK, "/api/v1/tenants/system/users/{id}",
     "id=me", NULL},
    /* the literal path lacks DELETE; the parameter path has it */
    {"DELETE", "/api/v1/tenants/acme/users/me", HTTP_MATCH_OK,
     "/api/v1/tenants/{tenant}/users/{id}", "tenant=acme;id=me", NULL},
    {"POST", "/api/v1/tenants/acme/users/7", HTTP_MATCH_METHOD,
     "/api/v1/tenants/{tenant}/users/{id}", NULL, "GET, HEAD, DELETE"},
    /* percent-decoding per segment: %2F stays inside its segment */
    {"GET", "/api/v1/tenants/a%2Fb", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}", "tenant=a/b", NULL},
    {"GET", "/api/v1/tenants/%61cme", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}", "tenant=acme",
     NULL},
    {"GET", "/api/v1/%74enants", HTTP_MATCH_OK, "/api/v1/tenants", "", NULL},
    {"GET", "/api/v1/tenants/caf%C3%A9", HTTP_MATCH_OK, "/api/v1/tenants/{tenant}",
     "tenant=caf\xc3\xa9", NULL},
    {"PUT", "/api/v1/tenants/t/groups/g/members/u", HTTP_MATCH_OK,
     "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}", "tenant=t;id=g;user_id=u", NULL},
    /* not found */
    {"GET", "/", HTTP_MATCH_NOT_FOUND, NULL, NULL, NULL},
    {"GET", "/nope", HTTP_MATCH_NOT_FOUND, NULL, NULL, NULL},
    {"GET", "/api/v1/tenants/acme/nonsense", HTTP_MATCH_NOT_FOUND, NULL, NULL, NULL},
    {"GET", "/api/v1//users", HTTP_MATCH_NOT_FOUND, NULL, NULL, NULL},
    {"GET", "/API/v1/tenants", HTTP_MATCH_NOT_FOUND, NULL, NULL, NULL},
    {"GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n", HTTP_MATCH_NOT_FOUND, NULL, NULL, NULL},
    /* ops routes are registered by http_router_new() */
    {"GET", "/healthz", HTTP_MATCH_OK, "/healthz", "", NULL},
    {"POST", "/healthz", HTTP_MATCH_METHOD, "/healthz", NULL, "GET, HEAD"},
    {"GET", "/metrics/", HTTP_MATCH_OK, "/metrics", "", NULL},
    {"BREW", "/api/v1/me", HTTP_MATCH_METHOD, "/api/v1/me", NULL, "GET, HEAD"},
};

static void check_params(const struct http_req *req, const char *want)
{
	char buf[256] = "";
	size_t o = 0;

	for (int i = 0; i < req->nparams; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s=%s", i ? ";" : "",
				      req->params[i].name, req->params[i].value);
	assert_string_equal(buf, want);
}

static void test_match_table(void **state)
{
	struct http_router *r = build();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arena a;
		struct http_path p;
		struct http_req req = {0};
		struct http_match m;
		struct rs_err err;

		arena_init(&a, 0);
		print_message("case %zu: %s %s\n", i, cases[i].method, cases[i].raw);
		assert_int_equal(http_path_decode(&a, cases[i].raw, strlen(cases[i].raw), &p, &err),
				 RS_OK);
		http_router_match(r, cases[i].method, &p, &req, &m);
		assert_int_equal(m.result, cases[i].result);
		if (cases[i].route) {
			assert_non_null(m.path);
			assert_string_equal(m.path->pattern, cases[i].route);
		}
		if (cases[i].result == HTTP_MATCH_OK) {
			assert_string_equal(req.route, cases[i].route);
			check_params(&req, cases[i].params);
		}
		if (cases[i].allow)
			assert_string_equal(m.allow, cases[i].allow);
		arena_release(&a);
	}
	http_router_free(r);
}

static void test_http_param(void **state)
{
	struct http_router *r = build();
	struct arena a;
	struct http_path p;
	struct http_req req = {0};
	struct http_match m;
	const char *raw = "/api/v1/tenants/acme/users/u1";

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(http_path_decode(&a, raw, strlen(raw), &p, NULL), RS_OK);
	http_router_match(r, "GET", &p, &req, &m);
	assert_string_equal(http_param(&req, "tenant"), "acme");
	assert_string_equal(http_param(&req, "id"), "u1");
	assert_null(http_param(&req, "nope"));
	arena_release(&a);
	http_router_free(r);
}

static void test_path_decode(void **state)
{
	static const struct {
		const char *raw;
		enum rs_status st;
		const char *joined;
		int nsegs;
	} t[] = {
	    {"/", RS_OK, "/", 0},
	    {"/a", RS_OK, "/a", 1},
	    {"/a/", RS_OK, "/a", 1},
	    {"/a//b", RS_OK, "/a//b", 3},
	    {"/a%20b", RS_OK, "/a b", 1},
	    {"/%41%42", RS_OK, "/AB", 1},
	    {"/%7e", RS_OK, "/~", 1},
	    {"/%2F", RS_OK, "//", 1},
	    {"/a%00b", RS_E_INVALID, NULL, 0},
	    {"/%0", RS_E_INVALID, NULL, 0},
	    {"/%", RS_E_INVALID, NULL, 0},
	    {"/%zz", RS_E_INVALID, NULL, 0},
	    {"/%g1", RS_E_INVALID, NULL, 0},
	    {"/a%0a", RS_OK, "/a\n", 1}, /* decoded controls are data; raw ones are not */
	    {"/a\x01", RS_E_INVALID, NULL, 0},
	    {"", RS_E_INVALID, NULL, 0},
	    {"a/b", RS_E_INVALID, NULL, 0},
	    {"*", RS_E_INVALID, NULL, 0},
	    /* bad escapes beyond the segment cap are still found */
	    {"/1/2/3/4/5/6/7/8/9/10/11/12/13/%zz", RS_E_INVALID, NULL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct arena a;
		struct http_path p;
		struct rs_err err = {0};
		enum rs_status st;

		arena_init(&a, 0);
		print_message("case %zu: %s\n", i, t[i].raw);
		st = http_path_decode(&a, t[i].raw, strlen(t[i].raw), &p, &err);
		assert_int_equal(st, t[i].st);
		if (st == RS_OK) {
			assert_string_equal(p.joined, t[i].joined);
			assert_int_equal(p.nsegs, t[i].nsegs);
		} else {
			assert_string_equal(err.code, "request.invalid_path");
		}
		arena_release(&a);
	}
}

static void test_path_too_many_segments(void **state)
{
	struct arena a;
	struct http_path p;
	const char *raw = "/1/2/3/4/5/6/7/8/9/10/11/12/13";

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(http_path_decode(&a, raw, strlen(raw), &p, NULL), RS_OK);
	assert_true(p.too_many);
	assert_int_equal(p.nsegs, RS_PATH_SEGMENTS_MAX);
	arena_release(&a);
}

static void test_route_add_errors(void **state)
{
	static const struct {
		const char *method, *pattern;
		const char *code;
	} bad[] = {
	    {"GET", "", "http.bad_pattern"},
	    {"GET", "api", "http.bad_pattern"},
	    {"GET", "/api/", "http.bad_pattern"},
	    {"GET", "/api//x", "http.bad_pattern"},
	    {"GET", "/api/{}", "http.bad_pattern"},
	    {"GET", "/api/{a", "http.bad_pattern"},
	    {"GET", "/api/a}", "http.bad_pattern"},
	    {"GET", "/api/{a}/{a}", "http.bad_pattern"},
	    {"GET", "/x/%41", "http.bad_pattern"},
	    {"GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13", "http.bad_pattern"},
	    {"get", "/x", "http.bad_route"},
	    {"", "/x", "http.bad_route"},
	    {"GET", "/healthz", "http.duplicate_route"},
	    {"GET", "/t/{tenant}", "http.duplicate_route"},
	    {"POST", "/t/{other}", "http.bad_pattern"}, /* renames a parameter */
	};
	struct http_router *r = http_router_new();
	struct rs_err err;

	(void)state;
	assert_int_equal(http_route_add(r, "GET", "/t/{tenant}", 0, h_dummy, NULL, &err), RS_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("case %zu: %s %s\n", i, bad[i].method, bad[i].pattern);
		memset(&err, 0, sizeof(err));
		assert_int_equal(
		    http_route_add(r, bad[i].method, bad[i].pattern, 0, h_dummy, NULL, &err),
		    RS_E_INVALID);
		assert_string_equal(err.code, bad[i].code);
	}
	assert_int_equal(http_route_add(r, "GET", "/", 0, h_dummy, NULL, &err), RS_OK);
	assert_int_equal(http_route_add(r, "GET", "/x", 0, NULL, NULL, &err), RS_E_INVALID);
	http_router_free(r);
	http_router_free(NULL);
}

static void test_root_route(void **state)
{
	struct http_router *r = http_router_new();
	struct arena a;
	struct http_path p;
	struct http_req req = {0};
	struct http_match m;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(http_route_add(r, "GET", "/", 0, h_dummy, NULL, NULL), RS_OK);
	assert_int_equal(http_path_decode(&a, "/", 1, &p, NULL), RS_OK);
	http_router_match(r, "GET", &p, &req, &m);
	assert_int_equal(m.result, HTTP_MATCH_OK);
	assert_string_equal(req.route, "/");
	arena_release(&a);
	http_router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_table),	     cmocka_unit_test(test_http_param),
	    cmocka_unit_test(test_path_decode),	     cmocka_unit_test(test_path_too_many_segments),
	    cmocka_unit_test(test_route_add_errors), cmocka_unit_test(test_root_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
