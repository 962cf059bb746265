/* Request arena: a bump allocator whose blocks are freed together. Each HTTP request owns one;
 * everything a request parses or renders lives here and dies with it. Not thread-safe: one
 * arena belongs to one thread at a time. */
#ifndef ROSTER_UTIL_ARENA_H
#define ROSTER_UTIL_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used_total; /* bytes handed out, for the cap */
	size_t cap;	   /* 0 = RS_ARENA_MAX */
};

void arena_init(struct arena *a, size_t cap);
/* Frees every block; the arena can be reused afterwards. */
void arena_release(struct arena *a);

/* Returns zeroed memory aligned for any type, or NULL when the cap is reached or malloc fails. */
void *arena_alloc(struct arena *a, size_t n);
/* As arena_alloc(), not zeroed: for buffers the caller fills whole (a page of text). */
void *arena_alloc_uninit(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
