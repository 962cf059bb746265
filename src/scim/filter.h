/* SCIM filter expressions (RFC 7644 section 3.4.2.2): the parser, from text to an AST in a
 * request arena, and a printer back to canonical text. Knows nothing of schemas: names are
 * checked against the grammar only (eval.h and patch.h resolve them). */
#ifndef ROSTER_SCIM_FILTER_H
#define ROSTER_SCIM_FILTER_H

#include <stddef.h>

#include "scim/scim.h"
#include "util/arena.h"

/* attrPath = [URI ":"] ATTRNAME *1subAttr. Each part is kept as written and lower-cased (the
 * _lc twin) for case-insensitive matching (RFC 7644 section 3.4.2.2, "attribute names ... are
 * case insensitive"). urn and sub are NULL when absent. */
struct scim_attr_path {
	const char *urn, *urn_lc;
	const char *name, *name_lc;
	const char *sub, *sub_lc;
};

enum scim_cmp {
	SCIM_EQ,
	SCIM_NE,
	SCIM_CO,
	SCIM_SW,
	SCIM_EW,
	SCIM_GT,
	SCIM_GE,
	SCIM_LT,
	SCIM_LE,
};

enum scim_value_kind {
	SCIM_V_STRING,
	SCIM_V_INTEGER,
	SCIM_V_DECIMAL,
	SCIM_V_TRUE,
	SCIM_V_FALSE,
	SCIM_V_NULL,
};

/* compValue. str is the decoded string (UTF-8, NUL-terminated, never contains NUL) for
 * SCIM_V_STRING; for numbers, text is the number as written (JSON number syntax) and i or d
 * its value. */
struct scim_value {
	enum scim_value_kind kind;
	const char *str;
	const char *text;
	long long i;
	double d;
};

enum scim_filter_kind {
	SCIM_F_AND,	   /* left and right */
	SCIM_F_OR,	   /* left or right */
	SCIM_F_NOT,	   /* not (left) */
	SCIM_F_COMPARE,	   /* attr cmp value */
	SCIM_F_PRESENT,	   /* attr pr */
	SCIM_F_VALUE_PATH, /* attr[left]: left's names are sub-attributes of attr */
};

struct scim_filter {
	enum scim_filter_kind kind;
	struct scim_filter *left, *right;
	struct scim_attr_path attr; /* COMPARE, PRESENT, VALUE_PATH */
	enum scim_cmp cmp;	    /* COMPARE */
	struct scim_value value;    /* COMPARE */
};

/* Parses the whole of s[0..len) as a FILTER. On success *out is the root, allocated in a (as
 * are all its strings). Precedence: not > and > or; and/or associate to the left. Limits:
 * RS_SCIM_FILTER_MAX bytes and RS_SCIM_FILTER_DEPTH_MAX nested parentheses, nots and value
 * paths (util/limits.h). Errors: RS_E_INVALID with scim_type "invalidFilter" and the offset of
 * the first byte that could not be parsed; RS_E_INTERNAL when a runs out. */
enum rs_status scim_filter_parse(struct arena *a, const char *s, size_t len,
				 struct scim_filter **out, struct scim_err *err);

/* The canonical text of f: keywords and operators in lower case, names as written, one space
 * between tokens, parentheses only where precedence needs them (and around a right operand of
 * the same operator, so that parsing the text gives back the same tree), strings as JSON,
 * numbers as written. NULL only when a runs out. */
char *scim_filter_print(struct arena *a, const struct scim_filter *f);

/* The canonical text of an attribute path ("urn:...:User:name.givenName"). NULL when a runs
 * out. */
char *scim_attr_path_print(struct arena *a, const struct scim_attr_path *p);

/* "eq", "ne", ... Cannot fail. */
const char *scim_cmp_name(enum scim_cmp c);

#endif
