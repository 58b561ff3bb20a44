// pickle.c: the weights-only pickle interpreter.
//
// A pickle is a program for a stack machine: opcodes push values, MARK
// remembers a stack position, TUPLE/SETITEMS/APPENDS consume everything
// above the last mark, BINPUT/BINGET keep and fetch values in a memo, and
// GLOBAL + REDUCE would import and call a function -- the dangerous part,
// allowed here only for the handful of torch functions that build tensors,
// and then only *interpreted*. Every pop checks the mark boundary (as
// Python's unpickler does), and the stack, marks, memo and value count are
// capped so a hostile file fails cleanly instead of exhausting memory.
#include "gb_pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_io_internal.h"

#define MAX_STACK (1 << 20)
#define MAX_MARKS 1024
#define MAX_MEMO (1u << 22)
#define MAX_VALUES (1 << 21)
#define MAX_ITEMS (1 << 22)      // elements of all tuples, lists and dicts together

typedef struct {
    const uint8_t *b;
    size_t len, pos;
    const char *what;
    gb_pickle *pk;
    gb_pk_value **stack;
    int sp, stack_cap;
    int marks[MAX_MARKS];
    int n_marks;
    gb_pk_value **memo;
    uint32_t memo_cap;
    int64_t n_items;
} vm;

static gb_pk_value NONE_V = {.type = GB_PK_NONE}, FALSE_V = {.type = GB_PK_BOOL, .u.i = 0},
                   TRUE_V = {.type = GB_PK_BOOL, .u.i = 1}, EMPTY_TUPLE_V = {.type = GB_PK_TUPLE};

static const struct { const char *name; int which, dtype; } allowed[] = {
    {"collections.OrderedDict", GB_PKG_ORDERED_DICT, 0},
    {"torch._utils._rebuild_tensor", GB_PKG_REBUILD_TENSOR, 0},
    {"torch._utils._rebuild_tensor_v2", GB_PKG_REBUILD_TENSOR_V2, 0},
    {"torch._utils._rebuild_parameter", GB_PKG_REBUILD_PARAMETER, 0},
    {"torch.Size", GB_PKG_TORCH_SIZE, 0},
    {"torch.FloatStorage", GB_PKG_STORAGE, GB_DT_F32},
    {"torch.HalfStorage", GB_PKG_STORAGE, GB_DT_F16},
    {"torch.BFloat16Storage", GB_PKG_STORAGE, GB_DT_BF16},
    {"torch.DoubleStorage", GB_PKG_STORAGE, GB_DT_F64},
    {"torch.LongStorage", GB_PKG_STORAGE, GB_DT_I64},
    {"torch.IntStorage", GB_PKG_STORAGE, GB_DT_I32},
    {"torch.ShortStorage", GB_PKG_STORAGE, GB_DT_I16},
    {"torch.CharStorage", GB_PKG_STORAGE, GB_DT_I8},
    {"torch.ByteStorage", GB_PKG_STORAGE, GB_DT_U8},
    {"torch.BoolStorage", GB_PKG_STORAGE, GB_DT_BOOL},
};

const char *gb_pk_type_name(gb_pk_type type) {
    static const char *names[] = {"None", "bool", "int", "float", "str", "tuple", "list",
                                  "dict", "set", "global", "storage", "tensor"};
    return names[type];
}

static gb_status perr(vm *m, const char *fmt, const char *detail) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, detail);
    return gb_set_error(GB_ERR_FORMAT, "pth: %s: %s (at byte %zu)", m->what, msg, m->pos);
}

static gb_pk_value *alloc_value(vm *m, gb_pk_type type) {
    if (m->pk->n_values >= MAX_VALUES) return NULL;
    gb_pk_value *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->type = type;
    v->next_alloc = m->pk->all;
    m->pk->all = v;
    m->pk->n_values++;
    return v;
}

static gb_status push(vm *m, gb_pk_value *v) {
    if (!v) return perr(m, "%s", "too many values (or out of memory)");
    if (m->sp == m->stack_cap) {
        if (m->stack_cap >= MAX_STACK) return perr(m, "%s", "stack overflow");
        int cap = m->stack_cap ? 2 * m->stack_cap : 256;
        gb_pk_value **grown = realloc(m->stack, (size_t)cap * sizeof *grown);
        if (!grown) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
        m->stack = grown;
        m->stack_cap = cap;
    }
    m->stack[m->sp++] = v;
    return GB_OK;
}

// The stack above the innermost MARK is all an opcode may touch.
static int base(const vm *m) { return m->n_marks ? m->marks[m->n_marks - 1] : 0; }

static gb_status pop(vm *m, gb_pk_value **out) {
    if (m->sp <= base(m)) return perr(m, "%s", "stack underflow");
    *out = m->stack[--m->sp];
    return GB_OK;
}

static gb_status top(vm *m, gb_pk_value **out) {
    if (m->sp <= base(m)) return perr(m, "%s", "stack underflow");
    *out = m->stack[m->sp - 1];
    return GB_OK;
}

static gb_status need(vm *m, size_t n) {
    if (m->len - m->pos < n) return perr(m, "%s", "truncated");
    return GB_OK;
}

static gb_status seq_append(vm *m, gb_pk_value *seq, gb_pk_value *item) {
    if (++m->n_items > MAX_ITEMS) return perr(m, "%s", "too many items in tuples, lists and dicts");
    if (seq->u.seq.n == seq->u.seq.cap) {
        int cap = seq->u.seq.cap ? 2 * seq->u.seq.cap : 4;
        gb_pk_value **grown = realloc(seq->u.seq.items, (size_t)cap * sizeof *grown);
        if (!grown) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
        seq->u.seq.items = grown;
        seq->u.seq.cap = cap;
    }
    seq->u.seq.items[seq->u.seq.n++] = item;
    return GB_OK;
}

// A new tuple/list from stack[from, sp); they are removed from the stack.
static gb_status collect(vm *m, gb_pk_type type, int from, gb_pk_value **out) {
    gb_pk_value *v = alloc_value(m, type);
    if (!v) return perr(m, "%s", "too many values (or out of memory)");
    for (int i = from; i < m->sp; i++) GB_TRY(seq_append(m, v, m->stack[i]));
    m->sp = from;
    *out = v;
    return GB_OK;
}

static gb_status pop_mark(vm *m, int *from) {
    if (m->n_marks == 0) return perr(m, "%s", "no MARK to pop");
    *from = m->marks[--m->n_marks];
    return GB_OK;
}

static gb_status read_line(vm *m, char *out, size_t cap) {
    const uint8_t *nl = memchr(m->b + m->pos, '\n', m->len - m->pos);
    if (!nl) return perr(m, "%s", "GLOBAL without a newline");
    size_t n = (size_t)(nl - (m->b + m->pos));
    if (n + 1 >= cap) return perr(m, "%s", "GLOBAL name too long");
    memcpy(out, m->b + m->pos, n);
    out[n] = '\0';
    if (memchr(out, '\0', n)) return perr(m, "%s", "GLOBAL name holds a NUL");
    m->pos += n + 1;
    return GB_OK;
}

static gb_status op_global(vm *m) {
    char module[128], name[128], full[260];
    GB_TRY(read_line(m, module, sizeof module));
    GB_TRY(read_line(m, name, sizeof name));
    snprintf(full, sizeof full, "%s.%s", module, name);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strcmp(full, allowed[i].name) != 0) continue;
        gb_pk_value *v = alloc_value(m, GB_PK_GLOBAL);
        if (v) v->u.global.which = allowed[i].which, v->u.global.dtype = allowed[i].dtype;
        return push(m, v);
    }
    if (strncmp(full, "torch.cuda.", 11) == 0) {  // torch.cuda.FloatStorage: same bytes
        char cpu[260];
        snprintf(cpu, sizeof cpu, "torch.%s", full + 11);
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            if (allowed[i].which == GB_PKG_STORAGE && strcmp(cpu, allowed[i].name) == 0) {
                gb_pk_value *v = alloc_value(m, GB_PK_GLOBAL);
                if (v) v->u.global.which = GB_PKG_STORAGE, v->u.global.dtype = allowed[i].dtype;
                return push(m, v);
            }
    }
    if (strncmp(full, "torch.", 6) == 0)
        return perr(m, "global '%s' is not supported by this loader", full);
    return perr(m, "forbidden global '%s': a weights file may only name torch tensor types "
                   "(torch.load(weights_only=True) refuses it too)", full);
}

// ---- the torch part: persistent storages and the rebuild functions --------

static int is_str(const gb_pk_value *v, const char *s) {
    return v->type == GB_PK_STR && v->u.str.len == strlen(s) && memcmp(v->u.str.s, s, v->u.str.len) == 0;
}

// BINPERSID: pid = ('storage', <storage class>, key, location, numel) names
// the zip record data/<key>; the record is read later, when tensors are built.
static gb_status op_binpersid(vm *m) {
    gb_pk_value *pid;
    GB_TRY(pop(m, &pid));
    if (pid->type != GB_PK_TUPLE || pid->u.seq.n != 5 || !is_str(pid->u.seq.items[0], "storage"))
        return perr(m, "%s", "persistent id is not ('storage', type, key, location, numel)");
    gb_pk_value **f = pid->u.seq.items;
    if (f[1]->type != GB_PK_GLOBAL || f[1]->u.global.which != GB_PKG_STORAGE)
        return perr(m, "%s", "persistent id does not name a storage class");
    if (f[2]->type != GB_PK_STR || f[3]->type != GB_PK_STR || f[4]->type != GB_PK_INT || f[4]->u.i < 0)
        return perr(m, "%s", "persistent id has a bad key, location or size");
    gb_pk_value *s = alloc_value(m, GB_PK_STORAGE);
    if (s) {
        s->u.storage.dtype = f[1]->u.global.dtype;
        s->u.storage.key = f[2]->u.str.s;
        s->u.storage.key_len = f[2]->u.str.len;
        s->u.storage.numel = f[4]->u.i;
    }
    return push(m, s);
}

static gb_status read_dims(vm *m, const gb_pk_value *t, int64_t *dims, int *ndim, const char *what) {
    if (t->type != GB_PK_TUPLE) return perr(m, "tensor %s is not a tuple", what);
    if (t->u.seq.n > GB_SD_MAX_NDIM) return perr(m, "tensor %s has more than 8 dimensions", what);
    for (int d = 0; d < t->u.seq.n; d++) {
        const gb_pk_value *x = t->u.seq.items[d];
        if (x->type != GB_PK_INT || x->u.i < 0) return perr(m, "tensor %s holds a bad value", what);
        dims[d] = x->u.i;
    }
    *ndim = t->u.seq.n;
    return GB_OK;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]) and the older _rebuild_tensor (first four).
static gb_status rebuild_tensor(vm *m, const gb_pk_value *args, gb_pk_value **out) {
    if (args->u.seq.n < 4) return perr(m, "%s", "_rebuild_tensor needs 4 or more arguments");
    gb_pk_value **a = args->u.seq.items;
    if (a[0]->type != GB_PK_STORAGE) return perr(m, "%s", "tensor storage is not a storage");
    if (a[1]->type != GB_PK_INT || a[1]->u.i < 0) return perr(m, "%s", "tensor storage_offset is bad");
    gb_pk_tensor t = {.storage = a[0], .offset = a[1]->u.i};
    int n_stride;
    GB_TRY(read_dims(m, a[2], t.shape, &t.ndim, "size"));
    GB_TRY(read_dims(m, a[3], t.stride, &n_stride, "stride"));
    if (n_stride != t.ndim) return perr(m, "%s", "tensor size and stride differ in length");
    gb_pk_value *v = alloc_value(m, GB_PK_TENSOR);
    if (!v) return perr(m, "%s", "too many values (or out of memory)");
    v->u.tensor = malloc(sizeof t);
    if (!v->u.tensor) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
    *v->u.tensor = t;
    *out = v;
    return GB_OK;
}

// REDUCE: func(*args) for the allowed funcs, by building what they return.
static gb_status op_reduce(vm *m) {
    gb_pk_value *args, *func;
    GB_TRY(pop(m, &args));
    GB_TRY(top(m, &func));
    if (func->type != GB_PK_GLOBAL) return perr(m, "REDUCE calls a %s", gb_pk_type_name(func->type));
    if (args->type != GB_PK_TUPLE) return perr(m, "REDUCE arguments are a %s", gb_pk_type_name(args->type));
    gb_pk_value *result = NULL;
    switch (func->u.global.which) {
    case GB_PKG_ORDERED_DICT:
        if (args->u.seq.n != 0) return perr(m, "%s", "OrderedDict(...) with arguments is not supported");
        result = alloc_value(m, GB_PK_DICT);
        if (!result) return perr(m, "%s", "too many values (or out of memory)");
        break;
    case GB_PKG_REBUILD_TENSOR:
    case GB_PKG_REBUILD_TENSOR_V2:
        GB_TRY(rebuild_tensor(m, args, &result));
        break;
    case GB_PKG_REBUILD_PARAMETER:  // (data, requires_grad, backward_hooks): the data is the tensor
        if (args->u.seq.n < 1 || args->u.seq.items[0]->type != GB_PK_TENSOR)
            return perr(m, "%s", "_rebuild_parameter of something that is not a tensor");
        result = args->u.seq.items[0];
        break;
    case GB_PKG_TORCH_SIZE:
        if (args->u.seq.n != 1 || args->u.seq.items[0]->type != GB_PK_TUPLE)
            return perr(m, "%s", "torch.Size(...) needs one tuple");
        result = args->u.seq.items[0];
        break;
    default:
        return perr(m, "%s", "REDUCE calls a storage class");
    }
    m->stack[m->sp - 1] = result;
    return GB_OK;
}

static gb_status op_setitems(vm *m) {
    int from;
    gb_pk_value *dict;
    GB_TRY(pop_mark(m, &from));
    int n = m->sp - from;
    if (n % 2) return perr(m, "%s", "SETITEMS with an odd number of items");
    if (from <= base(m)) return perr(m, "%s", "SETITEMS without a dict");
    dict = m->stack[from - 1];
    if (dict->type != GB_PK_DICT) return perr(m, "SETITEMS on a %s", gb_pk_type_name(dict->type));
    for (int i = from; i < m->sp; i++) GB_TRY(seq_append(m, dict, m->stack[i]));
    m->sp = from;
    return GB_OK;
}

static gb_status op_appends(vm *m) {
    int from;
    GB_TRY(pop_mark(m, &from));
    if (from <= base(m)) return perr(m, "%s", "APPENDS without a list");
    gb_pk_value *list = m->stack[from - 1];
    if (list->type != GB_PK_LIST) return perr(m, "APPENDS to a %s", gb_pk_type_name(list->type));
    for (int i = from; i < m->sp; i++) GB_TRY(seq_append(m, list, m->stack[i]));
    m->sp = from;
    return GB_OK;
}

static gb_status op_small_tuple(vm *m, int n) {
    if (m->sp - base(m) < n) return perr(m, "%s", "stack underflow");
    gb_pk_value *t;
    GB_TRY(collect(m, GB_PK_TUPLE, m->sp - n, &t));
    return push(m, t);
}

static gb_status op_memo(vm *m, uint8_t op) {
    int wide = op == 'j' || op == 'r';
    GB_TRY(need(m, wide ? 4 : 1));
    uint32_t idx = wide ? gb_rd32(m->b + m->pos) : m->b[m->pos];
    m->pos += wide ? 4 : 1;
    if (op == 'h' || op == 'j') {
        if (idx >= m->memo_cap || !m->memo[idx]) {
            char detail[32];
            snprintf(detail, sizeof detail, "%u", idx);
            return perr(m, "memo index %s was never stored", detail);
        }
        return push(m, m->memo[idx]);
    }
    if (idx >= MAX_MEMO) return perr(m, "%s", "memo index too large");
    if (idx >= m->memo_cap) {
        uint32_t cap = m->memo_cap ? m->memo_cap : 256;
        while (cap <= idx) cap *= 2;
        gb_pk_value **grown = realloc(m->memo, cap * sizeof *grown);
        if (!grown) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
        memset(grown + m->memo_cap, 0, (cap - m->memo_cap) * sizeof *grown);
        m->memo = grown;
        m->memo_cap = cap;
    }
    return top(m, &m->memo[idx]);
}

static gb_status op_int(vm *m, uint8_t op) {
    int64_t v;
    if (op == 'K') { GB_TRY(need(m, 1)); v = m->b[m->pos]; m->pos += 1; }
    else if (op == 'M') { GB_TRY(need(m, 2)); v = gb_rd16(m->b + m->pos); m->pos += 2; }
    else if (op == 'J') { GB_TRY(need(m, 4)); v = (int32_t)gb_rd32(m->b + m->pos); m->pos += 4; }
    else {  // LONG1: n bytes of little-endian two's complement
        GB_TRY(need(m, 1));
        size_t n = m->b[m->pos++];
        if (n > 8) return perr(m, "%s", "integer wider than 64 bits");
        GB_TRY(need(m, n));
        uint64_t u = 0;
        for (size_t i = 0; i < n; i++) u |= (uint64_t)m->b[m->pos + i] << (8 * i);
        if (n > 0 && n < 8 && (m->b[m->pos + n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        v = (int64_t)u;
        m->pos += n;
    }
    gb_pk_value *x = alloc_value(m, GB_PK_INT);
    if (x) x->u.i = v;
    return push(m, x);
}

static gb_status op_string(vm *m, uint8_t op) {
    int wide = op == 'X';
    GB_TRY(need(m, wide ? 4 : 1));
    size_t n = wide ? gb_rd32(m->b + m->pos) : m->b[m->pos];
    m->pos += wide ? 4 : 1;
    GB_TRY(need(m, n));
    if (!gb_utf8_valid(m->b + m->pos, n)) return perr(m, "%s", "string is not valid UTF-8");
    gb_pk_value *s = alloc_value(m, GB_PK_STR);
    if (s) s->u.str.s = (const char *)m->b + m->pos, s->u.str.len = n;
    m->pos += n;
    return push(m, s);
}

static gb_status op_binfloat(vm *m) {
    GB_TRY(need(m, 8));
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = bits << 8 | m->b[m->pos + i];  // big-endian
    m->pos += 8;
    gb_pk_value *x = alloc_value(m, GB_PK_FLOAT);
    if (x) memcpy(&x->u.f, &bits, sizeof x->u.f);
    return push(m, x);
}

// SETITEM, APPEND, BUILD: the pops and the target checks.
static gb_status op_mutate(vm *m, uint8_t op) {
    gb_pk_value *a, *b = NULL, *target;
    GB_TRY(pop(m, &a));
    if (op == 's') GB_TRY(pop(m, &b));
    GB_TRY(top(m, &target));
    if (op == 's') {
        if (target->type != GB_PK_DICT) return perr(m, "SETITEM on a %s", gb_pk_type_name(target->type));
        GB_TRY(seq_append(m, target, b));
        return seq_append(m, target, a);
    }
    if (op == 'a') {
        if (target->type != GB_PK_LIST) return perr(m, "APPEND to a %s", gb_pk_type_name(target->type));
        return seq_append(m, target, a);
    }
    // BUILD: sets attributes (an OrderedDict's _metadata, a tensor's state); not needed here.
    if (target->type != GB_PK_DICT && target->type != GB_PK_TENSOR)
        return perr(m, "BUILD on a %s", gb_pk_type_name(target->type));
    return GB_OK;
}

static gb_status op_container(vm *m, uint8_t op) {
    int from;
    gb_pk_value *v;
    switch (op) {
    case '(':
        if (m->n_marks == MAX_MARKS) return perr(m, "%s", "MARKs nested too deeply");
        m->marks[m->n_marks++] = m->sp;
        return GB_OK;
    case 't': GB_TRY(pop_mark(m, &from)); GB_TRY(collect(m, GB_PK_TUPLE, from, &v)); return push(m, v);
    case 0x85: return op_small_tuple(m, 1);
    case 0x86: return op_small_tuple(m, 2);
    case 0x87: return op_small_tuple(m, 3);
    case ']': return push(m, alloc_value(m, GB_PK_LIST));
    case '}': return push(m, alloc_value(m, GB_PK_DICT));
    case 0x8f: return push(m, alloc_value(m, GB_PK_SET));
    case 'u': return op_setitems(m);
    case 'e': return op_appends(m);
    }
    return op_mutate(m, op);
}

static gb_status step(vm *m, int *done) {
    GB_TRY(need(m, 1));
    uint8_t op = m->b[m->pos++];
    switch (op) {
    case 0x80: GB_TRY(need(m, 1)); if (m->b[m->pos++] > 5) return perr(m, "%s", "unknown protocol"); return GB_OK;
    case '.': GB_TRY(pop(m, &m->pk->result)); *done = 1; return GB_OK;
    case 'N': return push(m, &NONE_V);
    case 0x88: return push(m, &TRUE_V);
    case 0x89: return push(m, &FALSE_V);
    case ')': return push(m, &EMPTY_TUPLE_V);
    case 'K': case 'M': case 'J': case 0x8a: return op_int(m, op);
    case 'X': case 0x8c: case 'U': return op_string(m, op);
    case 'G': return op_binfloat(m);
    case 'h': case 'j': case 'q': case 'r': return op_memo(m, op);
    case 'c': return op_global(m);
    case 'R': return op_reduce(m);
    case 'Q': return op_binpersid(m);
    case '(': case 't': case 0x85: case 0x86: case 0x87: case ']': case '}': case 0x8f:
    case 'u': case 'e': case 's': case 'a': case 'b':
        return op_container(m, op);
    }
    char name[8];
    snprintf(name, sizeof name, "0x%02x", op);
    m->pos--;
    return perr(m, "opcode %s is not allowed in a weights file", name);
}

gb_status gb_pickle_load(const uint8_t *bytes, size_t len, const char *what, gb_pickle *out) {
    *out = (gb_pickle){0};
    vm *m = calloc(1, sizeof *m);
    if (!m) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
    m->b = bytes;
    m->len = len;
    m->what = what;
    m->pk = out;
    int done = 0;
    gb_status st = GB_OK;
    while (st == GB_OK && !done) st = step(m, &done);
    free(m->stack);
    free(m->memo);
    free(m);
    if (st != GB_OK) gb_pickle_free(out);
    return st;
}

void gb_pickle_free(gb_pickle *pk) {
    for (gb_pk_value *v = pk->all, *next; v; v = next) {
        next = v->next_alloc;
        if (v->type == GB_PK_TUPLE || v->type == GB_PK_LIST || v->type == GB_PK_DICT) free(v->u.seq.items);
        if (v->type == GB_PK_TENSOR) free(v->u.tensor);
        free(v);
    }
    *pk = (gb_pickle){0};
}
