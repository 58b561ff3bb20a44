// parse.c: tokens and a recursive-descent parser with Python's precedence,
// lowest first:
//   compare  := arith ['==' arith]
//   arith    := term (('+' | '-') term)*
//   term     := factor (('*' | '/' | '@') factor)*
//   factor   := ('+' | '-') factor | power
//   power    := primary ['**' factor]          (right-associative; -a**2 is -(a**2))
//   primary  := atom ('.' NAME | '(' args ')')*
//   atom     := NUMBER | NAME | '(' compare ')'
//   args     := [arg (',' arg)*]   arg := [NAME '='] compare
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_lang.h"

enum tok_kind { T_END, T_NUM, T_NAME, T_OP };

typedef struct parser {
    const char *src;
    int pos;                  // next unread byte
    enum tok_kind kind;       // current token
    int tok_start, tok_len;
    double num;
    char op[3];               // "+", "**", "==", "(", ...
    gb_arena *arena;
    gb_status status;
} parser;

static gb_status fail(parser *p, int pos, const char *msg) {
    if (p->status == GB_OK) p->status = gb_set_error_at(GB_ERR_SYNTAX, pos, "%s", msg);
    return p->status;
}

static void next(parser *p) {
    const char *s = p->src;
    while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r') p->pos++;
    p->tok_start = p->pos;
    char c = s[p->pos];
    if (c == '\0') { p->kind = T_END; p->tok_len = 0; return; }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[p->pos + 1]))) {
        // A Python number: digits, a dot, an exponent. (strtod alone would also
        // take hex floats such as 0x1p3, which Python does not.)
        int len = 0, dots = 0;
        while (isdigit((unsigned char)s[p->pos + len]) || (s[p->pos + len] == '.' && !dots++)) len++;
        if ((s[p->pos + len] == 'e' || s[p->pos + len] == 'E') &&
            (isdigit((unsigned char)s[p->pos + len + 1]) ||
             (strchr("+-", s[p->pos + len + 1]) && isdigit((unsigned char)s[p->pos + len + 2])))) {
            len += 2;
            while (isdigit((unsigned char)s[p->pos + len])) len++;
        }
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", len < 63 ? len : 63, s + p->pos);
        p->num = strtod(buf, NULL);
        p->kind = T_NUM;
        p->tok_len = len;
        p->pos += len;
        if (isalpha((unsigned char)s[p->pos]) || s[p->pos] == '_') fail(p, p->pos, "invalid decimal literal");
        return;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        int len = 0;
        while (isalnum((unsigned char)s[p->pos + len]) || s[p->pos + len] == '_') len++;
        p->kind = T_NAME;
        p->tok_len = len;
        p->pos += len;
        return;
    }
    static const char *const ops[] = { "**", "==", "+", "-", "*", "/", "@", "(", ")", ",", ".", "=" };
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        size_t n = strlen(ops[i]);
        if (strncmp(s + p->pos, ops[i], n) == 0) {
            p->kind = T_OP;
            memcpy(p->op, ops[i], n + 1);
            p->tok_len = (int)n;
            p->pos += (int)n;
            return;
        }
    }
    p->kind = T_END;
    if ((unsigned char)c >= 0x80) fail(p, p->pos, "invalid character in expression");
    else if (strchr("%<>!&|^~[]{}:;'\"", c)) {
        char msg[64];
        snprintf(msg, sizeof msg, "'%c' is not supported in these expressions", c);
        fail(p, p->pos, msg);
    } else fail(p, p->pos, "invalid syntax");
}

static int is_op(const parser *p, const char *op) { return p->kind == T_OP && strcmp(p->op, op) == 0; }

static gb_ast *node(parser *p, enum gb_ast_kind kind, int start) {
    gb_ast *n = gb_arena_alloc(p->arena, sizeof *n);
    if (!n) { if (p->status == GB_OK) p->status = gb_set_error(GB_ERR_NOMEM, "out of memory while parsing"); return NULL; }
    n->kind = kind;
    n->start = n->op_pos = start;
    return n;
}

static gb_ast *parse_compare(parser *p);
static gb_ast *parse_factor(parser *p);

// What to say when a token cannot start an operand.
static gb_ast *expected_operand(parser *p) {
    if (p->kind == T_END) fail(p, p->tok_start, "invalid syntax: the expression ends too early");
    else fail(p, p->tok_start, "invalid syntax");
    return NULL;
}

static gb_ast *parse_atom(parser *p) {
    int start = p->tok_start;
    if (p->kind == T_NUM) {
        gb_ast *n = node(p, GB_AST_NUM, start);
        if (!n) return NULL;
        n->num = p->num;
        n->end = p->pos;
        next(p);
        return n;
    }
    if (p->kind == T_NAME) {
        gb_ast *n = node(p, GB_AST_NAME, start);
        if (!n) return NULL;
        n->name = p->src + start;
        n->name_len = p->tok_len;
        n->end = p->pos;
        next(p);
        return n;
    }
    if (is_op(p, "(")) {
        next(p);
        gb_ast *inner = parse_compare(p);
        if (!inner) return NULL;
        if (!is_op(p, ")")) { fail(p, p->tok_start, "'(' was never closed"); return NULL; }
        inner->start = start;          // the span includes the parentheses
        inner->end = p->pos;
        next(p);
        return inner;
    }
    return expected_operand(p);
}

static int parse_args(parser *p, gb_ast *call) {
    next(p);   // '('
    while (!is_op(p, ")")) {
        if (p->kind == T_END) { fail(p, p->tok_start, "'(' was never closed"); return 0; }
        if (call->n_args == GB_MAX_ARGS) { fail(p, p->tok_start, "too many arguments"); return 0; }
        const char *kw = NULL;
        if (p->kind == T_NAME && p->src[p->pos] == '=' && p->src[p->pos + 1] != '=') {
            kw = p->src + p->tok_start;          // keyword argument: dim=1
            int len = p->tok_len;
            next(p);
            next(p);
            char *copy = gb_arena_alloc(p->arena, (size_t)len + 1);
            if (!copy) return 0;
            memcpy(copy, kw, (size_t)len);
            kw = copy;
        }
        gb_ast *arg = parse_compare(p);
        if (!arg) return 0;
        call->kw[call->n_args] = kw;
        call->args[call->n_args++] = arg;
        if (is_op(p, ",")) next(p);
        else if (!is_op(p, ")")) {
            fail(p, p->tok_start, p->kind == T_END ? "'(' was never closed" : "invalid syntax: expected ',' or ')'");
            return 0;
        }
    }
    call->end = p->pos;
    next(p);   // ')'
    return 1;
}

static gb_ast *parse_primary(parser *p) {
    gb_ast *n = parse_atom(p);
    while (n && p->kind == T_OP && (is_op(p, ".") || is_op(p, "("))) {
        if (is_op(p, ".")) {
            next(p);
            if (p->kind != T_NAME) { fail(p, p->tok_start, "invalid syntax: expected a name after '.'"); return NULL; }
            gb_ast *attr = node(p, GB_AST_ATTR, n->start);
            if (!attr) return NULL;
            attr->lhs = n;
            attr->op_pos = p->tok_start;
            attr->name = p->src + p->tok_start;
            attr->name_len = p->tok_len;
            attr->end = p->pos;
            next(p);
            n = attr;
        } else {
            gb_ast *call = node(p, GB_AST_CALL, n->start);
            if (!call) return NULL;
            call->lhs = n;
            call->op_pos = n->kind == GB_AST_ATTR ? n->op_pos : n->start;
            if (!parse_args(p, call)) return NULL;
            n = call;
        }
    }
    return n;
}

static gb_ast *parse_power(parser *p) {
    gb_ast *base = parse_primary(p);
    if (!base || !is_op(p, "**")) return base;
    int op_pos = p->tok_start;
    next(p);
    gb_ast *exponent = parse_factor(p);   // 2 ** -1 is allowed, as in Python
    if (!exponent) return NULL;
    gb_ast *n = node(p, GB_AST_BINARY, base->start);
    if (!n) return NULL;
    n->op = '^';
    n->op_pos = op_pos;
    n->lhs = base;
    n->rhs = exponent;
    n->end = exponent->end;
    return n;
}

static gb_ast *parse_factor(parser *p) {
    if (is_op(p, "-") || is_op(p, "+")) {
        int start = p->tok_start;
        char op = p->op[0];
        next(p);
        gb_ast *operand = parse_factor(p);
        if (!operand) return NULL;
        gb_ast *n = node(p, GB_AST_UNARY, start);
        if (!n) return NULL;
        n->op = op;
        n->lhs = operand;
        n->end = operand->end;
        return n;
    }
    return parse_power(p);
}

static gb_ast *binary(parser *p, gb_ast *lhs, gb_ast *(*operand)(parser *), char op) {
    int op_pos = p->tok_start;
    next(p);
    gb_ast *rhs = operand(p);
    if (!rhs) return NULL;
    gb_ast *n = node(p, GB_AST_BINARY, lhs->start);
    if (!n) return NULL;
    n->op = op;
    n->op_pos = op_pos;
    n->lhs = lhs;
    n->rhs = rhs;
    n->end = rhs->end;
    return n;
}

static gb_ast *parse_term(parser *p) {
    gb_ast *n = parse_factor(p);
    while (n && (is_op(p, "*") || is_op(p, "/") || is_op(p, "@"))) n = binary(p, n, parse_factor, p->op[0]);
    return n;
}

static gb_ast *parse_arith(parser *p) {
    gb_ast *n = parse_term(p);
    while (n && (is_op(p, "+") || is_op(p, "-"))) n = binary(p, n, parse_term, p->op[0]);
    return n;
}

static gb_ast *parse_compare(parser *p) {
    gb_ast *n = parse_arith(p);
    if (n && is_op(p, "==")) n = binary(p, n, parse_arith, '=');
    return n;
}

gb_status gb_parse(const char *src, gb_arena *arena, gb_ast **out) {
    parser p = { .src = src, .arena = arena, .status = GB_OK };
    next(&p);
    if (p.status != GB_OK) return p.status;
    if (p.kind == T_END) return gb_set_error_at(GB_ERR_SYNTAX, 0, "the expression is empty");
    gb_ast *root = parse_compare(&p);
    if (p.status != GB_OK) return p.status;
    if (p.kind != T_END) {
        if (is_op(&p, ")")) return gb_set_error_at(GB_ERR_SYNTAX, p.tok_start, "unmatched ')'");
        if (is_op(&p, "=")) return gb_set_error_at(GB_ERR_SYNTAX, p.tok_start,
                                                   "invalid syntax: '=' assigns; use '==' to compare");
        return gb_set_error_at(GB_ERR_SYNTAX, p.tok_start, "invalid syntax");
    }
    *out = root;
    return GB_OK;
}
