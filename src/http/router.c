/* The router: patterns with {param} segments, method dispatch, 404 versus 405. Routes are
 * registered before the server starts and only read afterwards, so matching takes no lock.
 * A linear scan over a few dozen patterns costs less than one syscall; a trie would buy
 * nothing measurable here. */
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[HTTP_M_COUNT] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
};

enum http_method_idx http_method_index(const char *method)
{
	for (int i = 0; i < HTTP_M_OTHER; i++) {
		if (method && strcmp(method, method_names[i]) == 0)
			return (enum http_method_idx)i;
	}
	return HTTP_M_OTHER;
}

const char *http_method_name(enum http_method_idx m)
{
	return (unsigned)m < HTTP_M_COUNT ? method_names[m] : "other";
}

static void path_release(struct http_route_path *p)
{
	free(p->pattern);
	for (int i = 0; i < p->nsegs; i++)
		free(p->segs[i]);
	for (int i = 0; i < p->nmethods; i++)
		free(p->methods[i].method);
	free(p->metrics);
}

void http_router_free(struct http_router *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->npaths; i++)
		path_release(&r->paths[i]);
	free(r->paths);
	free(r->unmatched);
	free(r);
}

struct http_router *http_router_new(void)
{
	struct http_router *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->unmatched = calloc(1, sizeof(*r->unmatched));
	if (!r->unmatched || http_ops_register(r, NULL) != RS_OK) {
		http_router_free(r);
		return NULL;
	}
	return r;
}

static bool valid_method(const char *m)
{
	size_t n = 0;

	for (; m[n]; n++) {
		if (m[n] < 'A' || m[n] > 'Z')
			return false;
	}
	return n > 0 && n <= 16;
}

/* Splits pattern into p->segs (heap copies). */
static enum rs_status parse_pattern(const char *pattern, struct http_route_path *p,
				    struct rs_err *err)
{
	const char *s = pattern;
	size_t len = strlen(pattern);

	if (len == 0 || pattern[0] != '/' || (len > 1 && pattern[len - 1] == '/'))
		return rs_fail(err, RS_E_INVALID, "http.bad_pattern", NULL,
			       "pattern '%s' must start and not end with '/'", pattern);
	s++;
	while (*s) {
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		bool param = n >= 2 && s[0] == '{' && s[n - 1] == '}';
		const char *text = param ? s + 1 : s;
		size_t tn = param ? n - 2 : n;

		if (p->nsegs == RS_PATH_SEGMENTS_MAX)
			return rs_fail(err, RS_E_INVALID, "http.bad_pattern", NULL,
				       "pattern '%s' has too many segments", pattern);
		if (tn == 0 || memchr(text, '{', tn) || memchr(text, '}', tn) ||
		    memchr(text, '%', tn))
			return rs_fail(err, RS_E_INVALID, "http.bad_pattern", NULL,
				       "pattern '%s' has an empty or malformed segment", pattern);
		p->segs[p->nsegs] = strndup(text, tn);
		if (!p->segs[p->nsegs])
			return rs_fail(err, RS_E_INTERNAL, "http.out_of_memory", NULL,
				       "out of memory");
		p->is_param[p->nsegs] = param;
		for (int i = 0; param && i < p->nsegs; i++) {
			if (p->is_param[i] && strcmp(p->segs[i], p->segs[p->nsegs]) == 0) {
				p->nsegs++;
				return rs_fail(err, RS_E_INVALID, "http.bad_pattern", NULL,
					       "pattern '%s' repeats a parameter name", pattern);
			}
		}
		if (!param)
			p->score |= 1u << (RS_PATH_SEGMENTS_MAX - 1 - p->nsegs);
		p->nsegs++;
		s += n;
		if (*s == '/')
			s++;
	}
	return RS_OK;
}

/* Same shape: same length, literals equal, parameters in the same places. */
static bool same_shape(const struct http_route_path *a, const struct http_route_path *b)
{
	if (a->nsegs != b->nsegs)
		return false;
	for (int i = 0; i < a->nsegs; i++) {
		if (a->is_param[i] != b->is_param[i])
			return false;
		if (!a->is_param[i] && strcmp(a->segs[i], b->segs[i]) != 0)
			return false;
	}
	return true;
}

enum rs_status http_route_add(struct http_router *r, const char *method, const char *pattern,
			      unsigned flags, http_handler_fn fn, void *app, struct rs_err *err)
{
	return http_route_add_sized(r, method, pattern, flags, 0, fn, app, err);
}

enum rs_status http_route_add_sized(struct http_router *r, const char *method, const char *pattern,
				    unsigned flags, size_t body_max, http_handler_fn fn, void *app,
				    struct rs_err *err)
{
	struct http_route_path np = {0};
	struct http_route_path *p = NULL;
	struct http_route_method *m;
	enum rs_status st;

	if (!r || !method || !pattern || !fn || !valid_method(method))
		return rs_fail(err, RS_E_INVALID, "http.bad_route", NULL,
			       "a route needs an upper-case method, a pattern and a handler");
	st = parse_pattern(pattern, &np, err);
	if (st != RS_OK)
		goto out;
	for (int i = 0; i < r->npaths; i++) {
		if (same_shape(&r->paths[i], &np)) {
			p = &r->paths[i];
			break;
		}
	}
	if (p) {
		/* One path, one set of parameter names: handlers look parameters up by name. */
		for (int i = 0; i < p->nsegs; i++) {
			if (p->is_param[i] && strcmp(p->segs[i], np.segs[i]) != 0) {
				st = rs_fail(err, RS_E_INVALID, "http.bad_pattern", NULL,
					     "pattern '%s' renames parameters of '%s'", pattern,
					     p->pattern);
				goto out;
			}
		}
		for (int i = 0; i < p->nmethods; i++) {
			if (strcmp(p->methods[i].method, method) == 0) {
				st = rs_fail(err, RS_E_INVALID, "http.duplicate_route", NULL,
					     "route %s '%s' is registered twice", method, pattern);
				goto out;
			}
		}
		if (p->nmethods == HTTP_ROUTE_METHODS_MAX) {
			st = rs_fail(err, RS_E_INVALID, "http.too_many_routes", NULL,
				     "too many methods on '%s'", pattern);
			goto out;
		}
	} else {
		if (r->npaths == r->cap) {
			int ncap = r->cap ? r->cap * 2 : 16;
			struct http_route_path *grown;

			if (ncap > 4096) {
				st = rs_fail(err, RS_E_INVALID, "http.too_many_routes", NULL,
					     "too many routes");
				goto out;
			}
			grown = realloc(r->paths, (size_t)ncap * sizeof(*grown));
			if (!grown) {
				st = rs_fail(err, RS_E_INTERNAL, "http.out_of_memory", NULL,
					     "out of memory");
				goto out;
			}
			r->paths = grown;
			r->cap = ncap;
		}
		/* Metrics are allocated now, at registration, so the request path never
		 * allocates or locks to count. */
		np.metrics = calloc(1, sizeof(*np.metrics));
		np.pattern = strdup(pattern);
		if (!np.metrics || !np.pattern) {
			st = rs_fail(err, RS_E_INTERNAL, "http.out_of_memory", NULL,
				     "out of memory");
			goto out;
		}
		p = &r->paths[r->npaths++];
		*p = np;
		memset(&np, 0, sizeof(np)); /* now owned by the router */
	}
	m = &p->methods[p->nmethods];
	m->method = strdup(method);
	if (!m->method) {
		st = rs_fail(err, RS_E_INTERNAL, "http.out_of_memory", NULL, "out of memory");
		goto out;
	}
	m->midx = http_method_index(method);
	m->flags = flags;
	m->body_max = body_max;
	m->fn = fn;
	m->app = app;
	p->nmethods++;
	st = RS_OK;
out:
	path_release(&np);
	return st;
}

static bool path_matches(const struct http_route_path *rp, const struct http_path *p)
{
	if (p->too_many || rp->nsegs != p->nsegs)
		return false;
	for (int i = 0; i < rp->nsegs; i++) {
		if (rp->is_param[i]) {
			if (p->segs[i][0] == '\0')
				return false;
		} else if (strcmp(rp->segs[i], p->segs[i]) != 0) {
			return false;
		}
	}
	return true;
}

static const struct http_route_method *find_method(const struct http_route_path *rp,
						   const char *method)
{
	const struct http_route_method *get = NULL;

	for (int i = 0; i < rp->nmethods; i++) {
		if (strcmp(rp->methods[i].method, method) == 0)
			return &rp->methods[i];
		if (rp->methods[i].midx == HTTP_M_GET)
			get = &rp->methods[i];
	}
	/* HEAD is GET without the body; libmicrohttpd drops the body for us. */
	return strcmp(method, "HEAD") == 0 ? get : NULL;
}

static void allow_add(char *allow, size_t cap, const char *m)
{
	size_t len = strlen(allow);
	size_t mlen = strlen(m);
	const char *s = allow;

	/* Already listed? Compare whole comma-separated items. */
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == mlen && memcmp(s, m, n) == 0)
			return;
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	if (len + (len ? 2 : 0) + mlen + 1 > cap)
		return;
	snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", m);
}

void http_router_match(const struct http_router *r, const char *method, const struct http_path *p,
		       struct http_req *req, struct http_match *out)
{
	const struct http_route_path *best = NULL, *best_any = NULL;
	const struct http_route_method *best_m = NULL;

	memset(out, 0, sizeof(*out));
	out->result = HTTP_MATCH_NOT_FOUND;
	for (int i = 0; i < r->npaths; i++) {
		const struct http_route_path *rp = &r->paths[i];
		const struct http_route_method *m;

		if (!path_matches(rp, p))
			continue;
		if (!best_any || rp->score > best_any->score)
			best_any = rp;
		m = find_method(rp, method);
		if (m && (!best || rp->score > best->score)) {
			best = rp;
			best_m = m;
		}
	}
	if (best) {
		out->result = HTTP_MATCH_OK;
		out->path = best;
		out->method = best_m;
	} else if (best_any) {
		/* The path exists under some pattern, the method under none of them: 405, and
		 * Allow lists what every matching pattern accepts. */
		out->result = HTTP_MATCH_METHOD;
		out->path = best_any;
		for (int i = 0; i < r->npaths; i++) {
			const struct http_route_path *rp = &r->paths[i];

			if (!path_matches(rp, p))
				continue;
			for (int j = 0; j < rp->nmethods; j++) {
				allow_add(out->allow, sizeof(out->allow), rp->methods[j].method);
				if (rp->methods[j].midx == HTTP_M_GET)
					allow_add(out->allow, sizeof(out->allow), "HEAD");
			}
		}
		return;
	} else {
		return;
	}
	if (req) {
		req->nparams = 0;
		for (int i = 0; i < best->nsegs; i++) {
			if (!best->is_param[i])
				continue;
			req->params[req->nparams].name = best->segs[i];
			req->params[req->nparams].value = p->segs[i];
			req->nparams++;
		}
		req->route = best->pattern;
	}
}

const char *http_param(const struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	}
	return NULL;
}
