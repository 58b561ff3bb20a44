// gb_json.h: a strict JSON (RFC 8259) parser into a flat tree of nodes, for
// the safetensors header. Hostile input: nesting is capped, strings must be
// valid UTF-8 without raw control characters, numbers follow the grammar
// exactly, and nothing is read past `len`.
#ifndef GB_JSON_H
#define GB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/gb_status.h"

#define GB_JSON_MAX_DEPTH 32

typedef enum gb_json_type {
    GB_JSON_NULL,
    GB_JSON_FALSE,
    GB_JSON_TRUE,
    GB_JSON_NUMBER,
    GB_JSON_STRING,
    GB_JSON_ARRAY,
    GB_JSON_OBJECT,
} gb_json_type;

typedef struct gb_json_node {
    gb_json_type type;
    int first_child;      // index of the first element/member, -1 if none
    int next;             // next sibling, -1 at the end
    int n_children;
    const char *key;      // member name when the parent is an object (NUL-terminated)
    size_t key_len;       // may be less than strlen-visible length if it holds \u0000
    const char *str;      // GB_JSON_STRING: decoded UTF-8, NUL-terminated
    size_t str_len;
    double num;           // GB_JSON_NUMBER
    int is_uint;          // GB_JSON_NUMBER written as a non-negative integer that fits...
    uint64_t u;           // ...in uint64: its exact value
    size_t pos;           // byte offset in the text, for messages
} gb_json_node;

typedef struct gb_json_doc {
    gb_json_node *nodes;  // nodes[0] is the root
    int n, cap;
    char *pool;           // decoded strings
    size_t pool_len;
} gb_json_doc;

// `what` prefixes error messages ("safetensors header").
gb_status gb_json_parse(const char *text, size_t len, gb_json_doc *doc, const char *what);
void gb_json_free(gb_json_doc *doc);

#endif
