/* Bump allocator over a list of malloc'd blocks. Large requests get a block of their own so
 * that small allocations keep filling the current one. */
#include "util/arena.h"
#include "util/limits.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

/* One standard block kept per thread: every request needs at least one, and handing the same
 * block back and forth spares malloc a large allocation and its consolidation on each request.
 * A thread-specific key (not _Thread_local) so that an exiting thread frees its block. */
static pthread_key_t arena_key;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static bool arena_key_ok;

static void arena_key_init(void)
{
	arena_key_ok = pthread_key_create(&arena_key, free) == 0;
}

static struct arena_block *block_get(size_t size)
{
	struct arena_block *b;

	pthread_once(&arena_once, arena_key_init);
	if (size == ARENA_BLOCK && arena_key_ok && (b = pthread_getspecific(arena_key))) {
		(void)pthread_setspecific(arena_key, NULL);
		return b;
	}
	b = malloc(sizeof(*b) + size);
	if (b)
		b->size = size;
	return b;
}

static void block_put(struct arena_block *b)
{
	if (b->size == ARENA_BLOCK && arena_key_ok && !pthread_getspecific(arena_key) &&
	    pthread_setspecific(arena_key, b) == 0)
		return;
	free(b);
}

void arena_init(struct arena *a, size_t cap)
{
	a->head = NULL;
	a->used_total = 0;
	a->cap = cap ? cap : RS_ARENA_MAX;
}

void arena_release(struct arena *a)
{
	struct arena_block *b = a->head;

	while (b) {
		struct arena_block *next = b->next;
		block_put(b);
		b = next;
	}
	a->head = NULL;
	a->used_total = 0;
}

/* Uninitialised memory; arena_alloc() zeroes it. */
static void *arena_alloc_raw(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < n || need > a->cap - a->used_total)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK / 2 ? need : ARENA_BLOCK;
		struct arena_block *nb = block_get(size);

		if (!nb)
			return NULL;
		nb->used = 0;
		if (b && size == need) {
			/* A big one-off: link it behind the current block, which keeps its room. */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	p = b->data + b->used;
	b->used += need;
	a->used_total += need;
	return p;
}

void *arena_alloc_uninit(struct arena *a, size_t n)
{
	return arena_alloc_raw(a, n);
}

void *arena_alloc(struct arena *a, size_t n)
{
	void *p = arena_alloc_raw(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc_raw(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	p = arena_alloc_raw(a, (size_t)n + 1);
	if (!p)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}
