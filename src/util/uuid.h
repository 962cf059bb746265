/* UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Time-ordered, so b-tree
 * indexes on ids stay compact. */
#ifndef ROSTER_UTIL_UUID_H
#define ROSTER_UTIL_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define UUID_STR_LEN 37 /* 36 chars + NUL */

/* Writes a new UUIDv7 for the time ms into out. Returns false only if the kernel's random
 * source fails. Within one process ids from the same millisecond still sort in creation order. */
bool uuid7_new(int64_t ms, char out[UUID_STR_LEN]);
/* True if s is a canonical lower- or upper-case UUID string. */
bool uuid_valid(const char *s);

#endif
