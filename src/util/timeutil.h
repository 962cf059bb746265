/* Wall-clock helpers: milliseconds since the Unix epoch and RFC 3339 UTC text. */
#ifndef ROSTER_UTIL_TIMEUTIL_H
#define ROSTER_UTIL_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define TIME_STR_LEN 21 /* "2026-11-22T14:00:00Z" + NUL */

int64_t time_now_ms(void);
int64_t time_mono_ns(void);
/* Formats ms (seconds precision, UTC) as RFC 3339. Cannot fail. */
void time_format(int64_t ms, char out[TIME_STR_LEN]);
/* Parses RFC 3339 ("…Z" or "…+HH:MM", optional fraction) into ms. False when malformed. */
bool time_parse(const char *s, int64_t *ms);

#endif
