// json.c: strict recursive-descent JSON. Recursion depth is bounded by
// GB_JSON_MAX_DEPTH, so hostile nesting ("[[[[...") cannot blow the stack.
#include "gb_json.h"
#include "gb_io_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    gb_json_doc *doc;
    const char *what;
} parser;

static gb_status fail(parser *p, const char *msg) {
    return gb_set_error(GB_ERR_FORMAT, "%s: bad JSON at byte %zu: %s", p->what, p->pos, msg);
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int new_node(parser *p, gb_json_type type) {
    gb_json_doc *d = p->doc;
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 64;
        gb_json_node *grown = realloc(d->nodes, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        d->nodes = grown;
        d->cap = cap;
    }
    d->nodes[d->n] = (gb_json_node){.type = type, .first_child = -1, .next = -1, .pos = p->pos};
    return d->n++;
}

static int hex4(const char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

// A string starting at the opening quote; decoded into the pool.
static gb_status parse_string(parser *p, const char **out, size_t *out_len) {
    char *o = p->doc->pool + p->doc->pool_len, *start = o;
    p->pos++;  // the opening quote
    for (;;) {
        if (p->pos >= p->len) return fail(p, "unterminated string");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c < 0x20) return fail(p, "control character in string");
        if (c != '\\') {
            size_t n = gb_utf8_len((const uint8_t *)p->s + p->pos, p->len - p->pos);
            if (!n) return fail(p, "invalid UTF-8 in string");
            memcpy(o, p->s + p->pos, n);
            o += n;
            p->pos += n;
            continue;
        }
        if (p->len - p->pos < 2) return fail(p, "unterminated escape");
        char e = p->s[p->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            p->pos += 2;
            continue;
        }
        uint32_t cp, lo;
        if (e != 'u' || p->len - p->pos < 6 || !hex4(p->s + p->pos + 2, &cp))
            return fail(p, "bad escape in string");
        p->pos += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) return fail(p, "lone low surrogate in string");
        if (cp >= 0xd800 && cp <= 0xdbff) {  // a high surrogate needs its low half
            if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                !hex4(p->s + p->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                return fail(p, "unpaired surrogate in string");
            p->pos += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        o += put_utf8(o, cp);
    }
    *o = '\0';
    *out = start;
    *out_len = (size_t)(o - start);
    p->doc->pool_len += *out_len + 1;  // decoded + NUL never exceeds the quoted source
    return GB_OK;
}

static gb_status parse_number(parser *p, gb_json_node *n) {
    size_t start = p->pos;
    const char *s = p->s;
#define DIGIT(i) ((i) < p->len && s[i] >= '0' && s[i] <= '9')
    int integral = 1;
    if (p->pos < p->len && s[p->pos] == '-') { p->pos++; integral = 0; }
    if (!DIGIT(p->pos)) return fail(p, "bad number");
    if (s[p->pos] == '0') p->pos++;
    else while (DIGIT(p->pos)) p->pos++;
    if (p->pos < p->len && s[p->pos] == '.') {
        p->pos++;
        integral = 0;
        if (!DIGIT(p->pos)) return fail(p, "bad fraction");
        while (DIGIT(p->pos)) p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        integral = 0;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
        if (!DIGIT(p->pos)) return fail(p, "bad exponent");
        while (DIGIT(p->pos)) p->pos++;
    }
#undef DIGIT
    char text[64];
    size_t n_chars = p->pos - start;
    if (n_chars >= sizeof text) return fail(p, "number too long");
    memcpy(text, s + start, n_chars);
    text[n_chars] = '\0';
    n->num = strtod(text, NULL);
    if (integral) {
        uint64_t u = 0;
        n->is_uint = 1;
        for (size_t i = 0; i < n_chars; i++) {
            uint64_t d = (uint64_t)(text[i] - '0');
            if (u > (UINT64_MAX - d) / 10) { n->is_uint = 0; break; }
            u = u * 10 + d;
        }
        n->u = u;
    }
    return GB_OK;
}

static gb_status parse_value(parser *p, int depth, int *out);

// Members or elements up to `close`; `object` says whether each has a key.
static gb_status parse_children(parser *p, int depth, int self, int object, char close) {
    int last = -1;
    p->pos++;  // '[' or '{'
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return GB_OK; }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected a member name");
            GB_TRY(parse_string(p, &key, &key_len));
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, "expected ':'");
            p->pos++;
        }
        int child;
        GB_TRY(parse_value(p, depth + 1, &child));
        gb_json_node *nodes = p->doc->nodes;  // parse_value may have moved them
        nodes[child].key = key;
        nodes[child].key_len = key_len;
        if (last < 0) nodes[self].first_child = child;
        else nodes[last].next = child;
        last = child;
        nodes[self].n_children++;
        skip_ws(p);
        if (p->pos >= p->len) return fail(p, "unterminated array or object");
        char c = p->s[p->pos++];
        if (c == close) return GB_OK;
        if (c != ',') { p->pos--; return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'"); }
    }
}

static gb_status parse_value(parser *p, int depth, int *out) {
    if (depth > GB_JSON_MAX_DEPTH) return fail(p, "nested too deeply");
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "expected a value");
    char c = p->s[p->pos];
    static const struct { const char *word; gb_json_type type; } words[] = {
        {"null", GB_JSON_NULL}, {"false", GB_JSON_FALSE}, {"true", GB_JSON_TRUE}};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if (c != words[i].word[0]) continue;
        if (p->len - p->pos < n || memcmp(p->s + p->pos, words[i].word, n) != 0)
            return fail(p, "bad literal");
        if ((*out = new_node(p, words[i].type)) < 0) return gb_set_error(GB_ERR_NOMEM, "%s: out of memory", p->what);
        p->pos += n;
        return GB_OK;
    }
    gb_json_type type = c == '{' ? GB_JSON_OBJECT : c == '[' ? GB_JSON_ARRAY
                      : c == '"' ? GB_JSON_STRING : GB_JSON_NUMBER;
    int self = new_node(p, type);
    if (self < 0) return gb_set_error(GB_ERR_NOMEM, "%s: out of memory", p->what);
    *out = self;
    if (type == GB_JSON_OBJECT || type == GB_JSON_ARRAY)
        return parse_children(p, depth, self, type == GB_JSON_OBJECT, type == GB_JSON_OBJECT ? '}' : ']');
    if (type == GB_JSON_STRING) {
        const char *str;
        size_t str_len;
        GB_TRY(parse_string(p, &str, &str_len));
        p->doc->nodes[self].str = str;
        p->doc->nodes[self].str_len = str_len;
        return GB_OK;
    }
    if (c != '-' && (c < '0' || c > '9')) return fail(p, "unexpected character");
    return parse_number(p, &p->doc->nodes[self]);
}

gb_status gb_json_parse(const char *text, size_t len, gb_json_doc *doc, const char *what) {
    *doc = (gb_json_doc){0};
    doc->pool = malloc(len + 1);
    if (!doc->pool) return gb_set_error(GB_ERR_NOMEM, "%s: out of memory", what);
    parser p = {text, len, 0, doc, what};
    int root;
    gb_status st = parse_value(&p, 0, &root);
    if (st == GB_OK) {
        skip_ws(&p);
        if (p.pos != len) st = fail(&p, "trailing characters after the value");
    }
    if (st != GB_OK) gb_json_free(doc);
    return st;
}

void gb_json_free(gb_json_doc *doc) {
    free(doc->nodes);
    free(doc->pool);
    *doc = (gb_json_doc){0};
}
