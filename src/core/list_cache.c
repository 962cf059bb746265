/* The paging caches of users_list (docs/scim.md "Paging"): where a positional page starts
 * (the sort key of the row before it) and how many users a selection matches, each remembered
 * per selection fingerprint and tenant users generation. It never decides what is true: an
 * entry only answers for the generation it was made in, which the caller reads in the same
 * transaction as the page, so a hit gives exactly what OFFSET and count(*) would. Fixed size,
 * direct-mapped: a new entry replaces whatever its slot held. */
#include "core/core_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum lc_kind { LC_EMPTY, LC_POS, LC_TOTAL };

struct lc_entry {
	enum lc_kind kind;
	uint64_t hash;
	int64_t gen, pos, total;
	char *fp;	       /* malloc'd */
	char *val;	       /* LC_POS: the sort value of row pos - 1, malloc'd */
	char id[UUID_STR_LEN]; /* LC_POS: its id */
};

/* Totals have slots of their own: a walk of a large tenant stores a position per page, which
 * would otherwise push out the one total that costs the most to count again. */
struct list_cache {
	pthread_mutex_t mu;
	struct lc_entry slots[LIST_CACHE_SLOTS];
	struct lc_entry totals[LIST_CACHE_TOTALS];
};

struct list_cache *list_cache_new(void)
{
	struct list_cache *lc = calloc(1, sizeof(*lc));

	if (lc && pthread_mutex_init(&lc->mu, NULL) != 0) {
		free(lc);
		return NULL;
	}
	return lc;
}

static void lc_clear(struct lc_entry *e)
{
	free(e->fp);
	free(e->val);
	memset(e, 0, sizeof(*e));
}

void list_cache_free(struct list_cache *lc)
{
	if (!lc)
		return;
	for (int i = 0; i < LIST_CACHE_SLOTS; i++)
		lc_clear(&lc->slots[i]);
	for (int i = 0; i < LIST_CACHE_TOTALS; i++)
		lc_clear(&lc->totals[i]);
	pthread_mutex_destroy(&lc->mu);
	free(lc);
}

/* FNV-1a over the kind, the fingerprint and the position (not the generation: a newer
 * generation takes the older one's slot). */
static uint64_t lc_hash(enum lc_kind kind, const char *fp, int64_t pos)
{
	uint64_t h = 1469598103934665603ULL;
	unsigned char b[9];

	b[0] = (unsigned char)kind;
	for (int i = 0; i < 8; i++)
		b[i + 1] = (unsigned char)((uint64_t)pos >> (8 * i));
	for (size_t i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	for (const unsigned char *p = (const unsigned char *)fp; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

static struct lc_entry *lc_entry_of(struct list_cache *lc, enum lc_kind kind, uint64_t h)
{
	return kind == LC_TOTAL ? &lc->totals[h % LIST_CACHE_TOTALS]
				: &lc->slots[h % LIST_CACHE_SLOTS];
}

static struct lc_entry *lc_find(struct list_cache *lc, enum lc_kind kind, const char *fp,
				int64_t gen, int64_t pos)
{
	uint64_t h = lc_hash(kind, fp, pos);
	struct lc_entry *e = lc_entry_of(lc, kind, h);

	if (e->kind != kind || e->hash != h || e->gen != gen || e->pos != pos ||
	    strcmp(e->fp, fp) != 0)
		return NULL;
	return e;
}

static struct lc_entry *lc_slot(struct list_cache *lc, enum lc_kind kind, const char *fp,
				int64_t gen, int64_t pos)
{
	uint64_t h = lc_hash(kind, fp, pos);
	struct lc_entry *e = lc_entry_of(lc, kind, h);
	char *copy = strdup(fp);

	if (!copy)
		return NULL; /* nothing cached: the next request asks the store */
	lc_clear(e);
	e->kind = kind;
	e->hash = h;
	e->gen = gen;
	e->pos = pos;
	e->fp = copy;
	return e;
}

bool list_cache_pos_get(struct list_cache *lc, const char *fp, int64_t gen, int64_t pos,
			struct arena *a, const char **val, const char **id)
{
	struct lc_entry *e;
	bool hit = false;

	pthread_mutex_lock(&lc->mu);
	e = lc_find(lc, LC_POS, fp, gen, pos);
	if (e) {
		*val = arena_strdup(a, e->val);
		*id = arena_strdup(a, e->id);
		hit = *val && *id;
	}
	pthread_mutex_unlock(&lc->mu);
	return hit;
}

void list_cache_pos_put(struct list_cache *lc, const char *fp, int64_t gen, int64_t pos,
			const char *val, const char *id)
{
	struct lc_entry *e;

	if (strlen(id) >= UUID_STR_LEN || strlen(val) > LIST_CACHE_VAL_MAX)
		return;
	pthread_mutex_lock(&lc->mu);
	e = lc_slot(lc, LC_POS, fp, gen, pos);
	if (e) {
		e->val = strdup(val);
		strcpy(e->id, id);
		if (!e->val)
			lc_clear(e);
	}
	pthread_mutex_unlock(&lc->mu);
}

bool list_cache_total_get(struct list_cache *lc, const char *fp, int64_t gen, int64_t *total)
{
	struct lc_entry *e;

	pthread_mutex_lock(&lc->mu);
	e = lc_find(lc, LC_TOTAL, fp, gen, 0);
	if (e)
		*total = e->total;
	pthread_mutex_unlock(&lc->mu);
	return e != NULL;
}

void list_cache_total_put(struct list_cache *lc, const char *fp, int64_t gen, int64_t total)
{
	struct lc_entry *e;

	pthread_mutex_lock(&lc->mu);
	e = lc_slot(lc, LC_TOTAL, fp, gen, 0);
	if (e)
		e->total = total;
	pthread_mutex_unlock(&lc->mu);
}
