/* Small string helpers shared by every layer. */
#ifndef ROSTER_UTIL_STR_H
#define ROSTER_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "util/arena.h"

/* Lower-cases ASCII letters; other bytes (UTF-8 included) are kept. This is the
 * case-insensitivity roster promises for usernames, e-mails and names. Returns NULL for NULL. */
char *str_lower(struct arena *a, const char *s);
/* The weak entity tag of a version, W/"version", in a (REST and SCIM answer it as ETag and
 * meta.version; http_if_match() reads it back). */
const char *str_weak_etag(struct arena *a, int64_t version);
/* FNV-1a of s: a cheap spread for fixed-size tables, not for anything an attacker must not
 * predict. */
unsigned str_hash(const char *s);
/* True when s is valid UTF-8 without control characters (< 0x20, 0x7f). */
bool str_valid_text(const char *s);
/* Copies at most cap-1 bytes and NUL-terminates; returns false when truncated. */
bool str_copy(char *dst, size_t cap, const char *src);
/* Parses a whole decimal integer in [min, max]; false on junk, overflow or range. */
bool str_to_ll(const char *s, long long min, long long max, long long *out);

#endif
