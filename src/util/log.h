/* JSON-lines logging on stderr. Callers must never pass a secret. One line per call, written
 * with a single write(2) so lines from several threads never interleave. */
#ifndef ROSTER_UTIL_LOG_H
#define ROSTER_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level l);
/* Parses "debug|info|warn|error"; returns false on anything else. */
bool log_level_parse(const char *s, enum log_level *out);
bool log_enabled(enum log_level l);

/* log_kv(LOG_INFO, "request", "method", "GET", "status", "200", NULL): pairs of key and value
 * strings, NULL-terminated. A value of NULL is written as JSON null. Values starting with the
 * byte '\x01' are written raw (already JSON: numbers), without the marker. */
void log_kv(enum log_level l, const char *msg, ...) __attribute__((sentinel));

/* Marks a value as a raw JSON number for log_kv; buf must hold 32 bytes. */
const char *log_num(char *buf, long long v);

#endif
