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

/* One half of a page, written on its own thread with its own arena and generator. */
struct half {
	const struct user *items;
	int n;
	struct arena a;
	yajl_gen g;
	const unsigned char *buf; /* "[…]" */
	size_t len;
	bool ok;
};

static void *write_half(void *arg)
{
	struct half *h = arg;

	h->ok = false;
	if (!(h->g = yajl_gen_alloc(NULL)))
		return NULL;
	yajl_gen_array_open(h->g);
	for (int i = 0; i < h->n; i++)
		scim_user_stream(h->g, &h->a, &h->items[i]);
	yajl_gen_array_close(h->g);
	h->ok = yajl_gen_get_buf(h->g, &h->buf, &h->len) == yajl_gen_status_ok && h->len >= 2;
	return NULL;
}

char *scim_users_stream_items(struct arena *a, const struct user *items, int n, size_t *len)
{
	struct half h[2] = {{.items = items, .n = n / 2}, {.items = items + n / 2, .n = n - n / 2}};
	bool threaded = n >= SCIM_STREAM_SPLIT_MIN;
	pthread_t t;
	char *out = NULL;
	size_t na, nb;

	if (!threaded) {
		h[0].n = 0;
		h[1].items = items;
		h[1].n = n;
	}
	arena_init(&h[0].a, 0);
	arena_init(&h[1].a, 0);
	/* The second half on a thread of its own; the first here. Without a thread, both here. */
	if (threaded && pthread_create(&t, NULL, write_half, &h[1]) != 0)
		threaded = false;
	write_half(&h[0]);
	if (threaded)
		pthread_join(t, NULL);
	else
		write_half(&h[1]);
	if (h[0].ok && h[1].ok) {
		na = h[0].len - 2; /* without "[" and "]" */
		nb = h[1].len - 2;
		out = arena_alloc(a, na + nb + 2);
	}
	if (out) {
		memcpy(out, h[0].buf + 1, na);
		*len = na;
		if (na && nb)
			out[(*len)++] = ',';
		memcpy(out + *len, h[1].buf + 1, nb);
		*len += nb;
		out[*len] = '\0';
	}
	for (int i = 0; i < 2; i++) {
		if (h[i].g)
			yajl_gen_free(h[i].g);
		arena_release(&h[i].a);
	}
	return out;
}
