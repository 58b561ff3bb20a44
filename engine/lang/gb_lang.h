// gb_lang.h: the expression language, a small part of Python:
//   numbers, names, + - * / ** @ ==, unary - +, parentheses,
//   methods       a.exp()  (a*b).sum()  W.sum(1)  a.pow(2)  a.grad
//   functions     torch.exp(a)  torch.matmul(W, x)  torch.sum(W, dim=0)
// Parsing builds a tree first, so a syntax error is reported (with its
// position) before any op runs; evaluation then calls the ops, which record
// themselves on the tape.
#ifndef GB_LANG_H
#define GB_LANG_H

#include "../core/gb_tensor.h"

typedef struct gb_ast gb_ast;

enum gb_ast_kind { GB_AST_NUM, GB_AST_NAME, GB_AST_BINARY, GB_AST_UNARY, GB_AST_ATTR, GB_AST_CALL };

#define GB_MAX_ARGS 3

struct gb_ast {
    enum gb_ast_kind kind;
    int start, end;           // byte span in the source, for errors and labels
    int op_pos;               // where the operator or name is (errors point there)
    char op;                  // '+', '-', '*', '/', '^' (for **), '@', '=' (for ==)
    double num;
    const char *name;         // NAME, ATTR (the attribute), keyword of an argument
    int name_len;
    gb_ast *lhs, *rhs;        // BINARY; UNARY and ATTR use lhs; CALL: lhs is the callee
    gb_ast *args[GB_MAX_ARGS];
    const char *kw[GB_MAX_ARGS];   // keyword name of each argument, or NULL
    int n_args;
};

// Parses `src` into a tree allocated from `arena`. On error returns
// GB_ERR_SYNTAX with the message and position set (gb_last_error_pos).
gb_status gb_parse(const char *src, gb_arena *arena, gb_ast **out);

// Looks a name up; returns NULL when it is not defined.
typedef gb_tensor *(*gb_lookup_fn)(void *ctx, const char *name, int len);

typedef struct gb_eval_ctx {
    gb_graph *graph;          // where ops record and allocate
    const char *src;          // the source the tree came from (for node labels)
    gb_lookup_fn lookup;
    void *lookup_ctx;
} gb_eval_ctx;

// Evaluates the tree; the result is a tensor (a bare number becomes a 0-d one).
// Errors carry the position of the operator or name that caused them.
gb_status gb_eval(gb_eval_ctx *ctx, const gb_ast *ast, gb_tensor **out);

// Parse + eval in one call.
gb_status gb_eval_source(gb_eval_ctx *ctx, const char *src, gb_tensor **out);

#endif
