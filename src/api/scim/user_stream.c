/* SCIM Users written straight to a YAJL generator (user_stream.h): the ListResponse of a
 * thousand users without a jansson tree per user. jansson builds and frees some thirty values
 * per user, which costs six to seven times what generating the same text costs
 * (docs/bench.md, "SCIM at 1,000,000 users"); a provisioning client paging a whole tenant
 * pays that per user. The text is the same resource scim_user_render() builds:
 * fuzz/fuzz_scim_request holds the two to json_equal(). */
#include "api/scim/user_stream.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "api/scim/scim_int.h"
#include "api/scim/user_map.h"
#include "util/str.h"
#include "util/timeutil.h"

#define STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static void key_str(yajl_gen g, const char *k, const char *v)
{
	STR(g, k);
	STR(g, v);
}

void scim_json_stream(yajl_gen g, const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		yajl_gen_map_open(g);
		json_object_foreach((json_t *)v, k, e)
		{
			STR(g, k);
			scim_json_stream(g, e);
		}
		yajl_gen_map_close(g);
		break;
	case JSON_ARRAY:
		yajl_gen_array_open(g);
		json_array_foreach(v, i, e) scim_json_stream(g, e);
		yajl_gen_array_close(g);
		break;
	case JSON_STRING:
		yajl_gen_string(g, (const unsigned char *)json_string_value(v),
				json_string_length(v));
		break;
	case JSON_INTEGER:
		yajl_gen_integer(g, (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		yajl_gen_double(g, json_real_value(v));
		break;
	case JSON_TRUE:
		yajl_gen_bool(g, 1);
		break;
	case JSON_FALSE:
		yajl_gen_bool(g, 0);
		break;
	case JSON_NULL:
		yajl_gen_null(g);
		break;
	}
}

static void stream_name(yajl_gen g, struct arena *a, const struct user *u)
{
	if (!u->first_name && !u->last_name)
		return;
	STR(g, "name");
	yajl_gen_map_open(g);
	if (u->first_name)
		key_str(g, "givenName", u->first_name);
	if (u->last_name)
		key_str(g, "familyName", u->last_name);
	key_str(g, "formatted", scim_formatted_name(a, u->first_name, u->last_name));
	yajl_gen_map_close(g);
}

static void stream_lists(yajl_gen g, const struct user *u)
{
	if (u->email) {
		STR(g, "emails");
		yajl_gen_array_open(g);
		yajl_gen_map_open(g);
		key_str(g, "value", u->email);
		key_str(g, "type", "work");
		STR(g, "primary");
		yajl_gen_bool(g, 1);
		yajl_gen_map_close(g);
		yajl_gen_array_close(g);
	}
	if (u->ngroups > 0) {
		STR(g, "groups");
		yajl_gen_array_open(g);
		for (int i = 0; i < u->ngroups; i++) {
			yajl_gen_map_open(g);
			key_str(g, "value", u->groups[i].id);
			key_str(g, "display", u->groups[i].name);
			key_str(g, "type", "direct");
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	if (!u->system_role.name && u->nroles == 0)
		return;
	STR(g, "roles");
	yajl_gen_array_open(g);
	if (u->system_role.name) {
		yajl_gen_map_open(g);
		key_str(g, "value", u->system_role.name);
		key_str(g, "display", u->system_role.name);
		key_str(g, "type", "system");
		STR(g, "primary");
		yajl_gen_bool(g, 1);
		yajl_gen_map_close(g);
	}
	for (int i = 0; i < u->nroles; i++) {
		yajl_gen_map_open(g);
		key_str(g, "value", u->roles[i].name);
		key_str(g, "display", u->roles[i].name);
		key_str(g, "type", "tenant");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void stream_enterprise(yajl_gen g, struct arena *a, const struct user *u)
{
	STR(g, SCIM_URN_ENTERPRISE);
	yajl_gen_map_open(g);
	if (u->department_name)
		key_str(g, "department", u->department_name);
	if (u->manager_id) {
		STR(g, "manager");
		yajl_gen_map_open(g);
		key_str(g, "value", u->manager_id);
		key_str(g, "$ref", scim_user_location(a, u->manager_id));
		if (u->manager_name)
			key_str(g, "displayName", u->manager_name);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

void scim_user_stream(yajl_gen g, struct arena *a, const struct user *u)
{
	bool ent = u->department_name || u->manager_id;
	char when[TIME_STR_LEN];

	/* What a provider kept (custom attributes) merges into the resource: rare, so such a
	 * user takes the jansson path and is only written here. */
	if (u->custom_attributes && strcmp(u->custom_attributes, "{}") != 0) {
		json_t *o = scim_user_render(a, u);

		scim_json_stream(g, o);
		json_decref(o);
		return;
	}
	yajl_gen_map_open(g);
	STR(g, "schemas");
	yajl_gen_array_open(g);
	STR(g, SCIM_URN_USER);
	if (ent)
		STR(g, SCIM_URN_ENTERPRISE);
	yajl_gen_array_close(g);
	key_str(g, "id", u->id);
	if (u->external_id)
		key_str(g, "externalId", u->external_id);
	key_str(g, "userName", u->username);
	stream_name(g, a, u);
	key_str(g, "displayName",
		u->first_name || u->last_name ? scim_formatted_name(a, u->first_name, u->last_name)
					      : u->username);
	STR(g, "active");
	yajl_gen_bool(g, strcmp(u->status, "active") == 0);
	if (u->locale)
		key_str(g, "locale", u->locale);
	if (u->timezone)
		key_str(g, "timezone", u->timezone);
	stream_lists(g, u);
	if (ent)
		stream_enterprise(g, a, u);
	STR(g, "meta");
	yajl_gen_map_open(g);
	key_str(g, "resourceType", "User");
	time_format(u->created_at, when);
	key_str(g, "created", when);
	time_format(u->updated_at, when);
	key_str(g, "lastModified", when);
	key_str(g, "location", scim_user_location(a, u->id));
	key_str(g, "version", str_weak_etag(a, u->version));
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

/* ---- A ListResponse written while its users are read ---------------------------------- */

/* A growing text in an arena, fed by YAJL's print callback (no copy through yajl_buf). */
struct obuf {
	struct arena *a;
	char *p;
	size_t len, cap;
	bool oom;
};

static void obuf_print(void *ctx, const char *s, size_t n)
{
	struct obuf *o = ctx;

	/* Most calls are one byte: a quote, colon, comma or bracket. */
	if (n == 1 && o->len < o->cap) {
		o->p[o->len++] = *s;
		return;
	}
	if (o->oom)
		return;
	if (o->cap - o->len < n) {
		size_t cap = o->cap * 2 > o->len + n ? o->cap * 2 : o->len + n;
		char *p = arena_alloc_uninit(o->a, cap);

		if (!p) {
			o->oom = true;
			return;
		}
		if (o->len)
			memcpy(p, o->p, o->len);
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* Users [from, to) of a page, written by whichever thread took them. */
struct chunk {
	int from, to;
	enum { CHUNK_READY, CHUNK_TAKEN, CHUNK_WRITTEN } state;
	const char *text; /* the users, comma-separated, without brackets */
	size_t len;
	bool ok;
};

#define WRITER_CHUNKS 64

struct scim_page_writer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct user *items;
	struct chunk chunks[WRITER_CHUNKS];
	int nchunks;
	bool closed; /* finish() was called: no chunk will be added */
	bool broken; /* chunks that do not line up (the store ran the read again, or too many):
			the page is written whole in finish() */
	bool helper; /* the helper thread runs */
	pthread_t thread;
	struct arena ha; /* the helper's strings and texts */
};

/* Bytes a user takes, about: the first allocation of a chunk's text rarely grows. */
#define USER_TEXT_GUESS 768

static void chunk_write(struct chunk *c, const struct user *items, struct arena *a)
{
	struct obuf o = {.a = a};
	yajl_gen g = yajl_gen_alloc(NULL);

	c->ok = false;
	o.cap = (size_t)(c->to - c->from) * USER_TEXT_GUESS + 16;
	if (!g || !(o.p = arena_alloc_uninit(a, o.cap)) ||
	    !yajl_gen_config(g, yajl_gen_print_callback, obuf_print, &o)) {
		if (g)
			yajl_gen_free(g);
		return;
	}
	yajl_gen_array_open(g);
	for (int i = c->from; i < c->to; i++)
		scim_user_stream(g, a, &items[i]);
	yajl_gen_array_close(g);
	yajl_gen_free(g);
	if (o.oom || o.len < 2)
		return;
	c->text = o.p + 1; /* without "[" and "]" */
	c->len = o.len - 2;
	c->ok = true;
}

/* The first chunk nobody took, or NULL; called with mu held. */
static struct chunk *chunk_next(struct scim_page_writer *w)
{
	for (int i = 0; !w->broken && i < w->nchunks; i++)
		if (w->chunks[i].state == CHUNK_READY)
			return &w->chunks[i];
	return NULL;
}

/* Takes and writes chunks until none is left; with wait, also waits for chunks to come until
 * the writer is closed. Called with mu held; returns with it held. */
static void chunks_work(struct scim_page_writer *w, struct arena *a, bool wait)
{
	for (;;) {
		struct chunk *c = chunk_next(w);

		if (c) {
			c->state = CHUNK_TAKEN;
			pthread_mutex_unlock(&w->mu);
			chunk_write(c, w->items, a);
			pthread_mutex_lock(&w->mu);
			c->state = CHUNK_WRITTEN;
			pthread_cond_broadcast(&w->cv);
			continue;
		}
		if (!wait || w->closed || w->broken)
			return;
		pthread_cond_wait(&w->cv, &w->mu);
	}
}

static void *helper_main(void *arg)
{
	struct scim_page_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	chunks_work(w, &w->ha, true);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct scim_page_writer *scim_page_writer_new(struct arena *a, bool helper)
{
	struct scim_page_writer *w = arena_alloc(a, sizeof(*w));

	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	arena_init(&w->ha, 0);
	w->helper = helper && pthread_create(&w->thread, NULL, helper_main, w) == 0;
	return w;
}

void scim_page_writer_users(void *ctx, const struct user *items, int from, int to)
{
	struct scim_page_writer *w = ctx;

	pthread_mutex_lock(&w->mu);
	if (w->nchunks == WRITER_CHUNKS || items != (w->nchunks ? w->items : items) ||
	    from != (w->nchunks ? w->chunks[w->nchunks - 1].to : 0)) {
		w->broken = true;
	} else if (!w->broken) {
		w->items = items;
		w->chunks[w->nchunks++] = (struct chunk){.from = from, .to = to};
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Closes w and waits for its helper. With a, the chunks nobody took are written by the caller
 * into a; without, they are dropped. */
static void writer_close(struct scim_page_writer *w, struct arena *a)
{
	pthread_mutex_lock(&w->mu);
	w->closed = true;
	if (!a)
		w->broken = true;
	pthread_cond_broadcast(&w->cv);
	if (a)
		chunks_work(w, a, false);
	pthread_mutex_unlock(&w->mu);
	if (w->helper)
		pthread_join(w->thread, NULL);
	w->helper = false;
}

/* Whether the chunks are exactly items[0..n), each written. */
static bool chunks_cover(const struct scim_page_writer *w, const struct user *items, int n)
{
	int at = 0;

	if (w->broken || (w->nchunks && w->items != items))
		return false;
	for (int i = 0; i < w->nchunks; i++) {
		if (w->chunks[i].from != at || !w->chunks[i].ok)
			return false;
		at = w->chunks[i].to;
	}
	return at == n;
}

char *scim_page_writer_finish(struct scim_page_writer *w, struct arena *a, const char *head,
			      size_t headlen, const struct user *items, int n, size_t *len)
{
	size_t total = headlen + 2 + 1;
	char *out;

	writer_close(w, a);
	if (!chunks_cover(w, items, n)) {
		/* Nothing came in chunks (a small page) or they do not line up: the page whole. */
		w->nchunks = 1;
		w->chunks[0] = (struct chunk){.from = 0, .to = n};
		w->items = items;
		chunk_write(&w->chunks[0], items, a);
		if (!w->chunks[0].ok) {
			scim_page_writer_free(w);
			return NULL;
		}
	}
	for (int i = 0; i < w->nchunks; i++)
		total += w->chunks[i].len + 1;
	out = arena_alloc_uninit(a, total);
	if (out) {
		memcpy(out, head, headlen);
		*len = headlen;
		for (int i = 0; i < w->nchunks; i++) {
			if (!w->chunks[i].len)
				continue;
			if (*len > headlen)
				out[(*len)++] = ',';
			memcpy(out + *len, w->chunks[i].text, w->chunks[i].len);
			*len += w->chunks[i].len;
		}
		memcpy(out + *len, "]}", 3);
		*len += 2;
	}
	scim_page_writer_free(w);
	return out;
}

void scim_page_writer_free(struct scim_page_writer *w)
{
	if (!w)
		return;
	if (w->helper)
		writer_close(w, NULL);
	arena_release(&w->ha);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}
