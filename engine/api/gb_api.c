// gb_api.c: everything JavaScript (and the native tools) may call.
// Validate, look up the handle, forward; no logic lives here.
// Protocol: docs/engine-protocol.md.
#include <stdio.h>
#include <stdlib.h>

#include "../threads/gb_pool.h"
#include "gb_api.h"
#include "gb_workspace.h"


static gb_ws *workspaces[GB_MAX_WORKSPACES + 1];   // handle h lives at [h]; 0 is never used

static gb_ws *lookup_ws(int h) {
    if (h <= 0 || h > GB_MAX_WORKSPACES || !workspaces[h]) {
        gb_set_error(GB_ERR_BAD_HANDLE, "no workspace %d", h);
        return NULL;
    }
    gb_clear_error();
    return workspaces[h];
}

GB_API int gb_ws_new(void) {
    for (int h = 1; h <= GB_MAX_WORKSPACES; h++) {
        if (workspaces[h]) continue;
        gb_ws *ws = malloc(sizeof *ws);
        if (!ws) return -gb_set_error(GB_ERR_NOMEM, "out of memory for a workspace");
        gb_ws_init(ws);
        workspaces[h] = ws;
        return h;
    }
    return -gb_set_error(GB_ERR_NOMEM, "too many workspaces (at most %d)", GB_MAX_WORKSPACES);
}

GB_API void gb_ws_free(int h) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return;
    gb_ws_destroy(ws);
    free(ws);
    workspaces[h] = NULL;
}

GB_API int gb_ws_clear(int h) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return GB_ERR_BAD_HANDLE;
    gb_ws_reset(ws);
    return GB_OK;
}

GB_API int gb_ws_set_tensor(int h, const char *name, const float *data, const int *shape, int ndim,
                            int requires_grad) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return GB_ERR_BAD_HANDLE;
    if (!name || (!data && ndim > 0) || (!shape && ndim > 0)) return gb_set_error(GB_ERR_ARG, "gb_ws_set_tensor: missing argument");
    return gb_ws_tensor(ws, name, data, shape, ndim, requires_grad);
}

GB_API int gb_ws_assign(int h, const char *name, const char *expr, int no_grad) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return GB_ERR_BAD_HANDLE;
    if (!name || !expr) return gb_set_error(GB_ERR_ARG, "gb_ws_assign: missing argument");
    return gb_ws_eval_assign(ws, name, expr, no_grad);
}

GB_API int gb_ws_backward(int h, const char *name, const float *gradient, int n, int retain_graph) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return GB_ERR_BAD_HANDLE;
    if (!name || n < 0) return gb_set_error(GB_ERR_ARG, "gb_ws_backward: bad argument");
    return gb_ws_run_backward(ws, name, n ? gradient : NULL, n, retain_graph);
}

GB_API int gb_ws_zero_grad(int h) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return GB_ERR_BAD_HANDLE;
    return gb_ws_zero_grads(ws);
}

GB_API int gb_ws_gradcheck(int h, const char *name, const float *gradient, int n, double eps) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return GB_ERR_BAD_HANDLE;
    if (!name || n < 0) return gb_set_error(GB_ERR_ARG, "gb_ws_gradcheck: bad argument");
    return gb_ws_run_gradcheck(ws, name, n ? gradient : NULL, n, eps);
}

GB_API const char *gb_ws_json(int h, const char *root) {
    gb_ws *ws = lookup_ws(h);
    if (!ws) return NULL;
    return gb_ws_to_json(ws, root);
}

GB_API const char *gb_build_info(void) {
    static char info[160];
    snprintf(info, sizeof info, "{\"simd\": %s, \"threads\": %d, \"version\": \"%s\"}",
#ifdef __wasm_simd128__
             "true",
#elif defined(__wasm__)
             "false",
#else
             "true",
#endif
             gb_pool_threads(), GB_VERSION);
    return info;
}

#ifdef GB_PROFILE_PASSES
// Pass by pass timing (gb_pool.h), in builds made for bench/passes.mjs.
GB_API void gb_passes_reset(void) { gb_pool_passes_reset(); }
GB_API const char *gb_passes_json(void) { return gb_pool_passes_json(); }
#endif

GB_API int gb_set_threads(int n) {
    if (gb_pool_init(n) != GB_OK) return -1;   // the message says why; the pool runs inline
    return gb_pool_threads();
}

GB_API const char *gb_error_message(void) { return gb_last_error(); }
GB_API int gb_error_pos(void) { return gb_last_error_pos(); }
GB_API const char *gb_error_type(void) { return gb_status_python_type(gb_last_error_code()); }
