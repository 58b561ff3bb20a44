// gb_api.h: the engine's public C interface (what the wasm module exports).
// Every int-returning call returns 0 on success or a gb_status; then
// gb_error_message() says why and gb_error_pos() where (in an expression).
#ifndef GB_API_H
#define GB_API_H

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define GB_API EMSCRIPTEN_KEEPALIVE
#else
#define GB_API
#endif

#define GB_VERSION "0.1.0"

GB_API int gb_ws_new(void);
GB_API void gb_ws_free(int ws);
GB_API int gb_ws_clear(int ws);
GB_API int gb_ws_set_tensor(int ws, const char *name, const float *data, const int *shape, int ndim,
                            int requires_grad);
GB_API int gb_ws_assign(int ws, const char *name, const char *expr, int no_grad);
GB_API int gb_ws_backward(int ws, const char *name, const float *gradient, int n, int retain_graph);
GB_API int gb_ws_zero_grad(int ws);
GB_API int gb_ws_gradcheck(int ws, const char *name, const float *gradient, int n, double eps);
GB_API const char *gb_ws_json(int ws, const char *root);
GB_API const char *gb_build_info(void);
GB_API const char *gb_error_message(void);
GB_API int gb_error_pos(void);
// The Python exception class of the last error: "RuntimeError", "SyntaxError"...
GB_API const char *gb_error_type(void);

// Starts the engine's thread pool with n threads (the caller included) and
// returns how many it runs; 1 in builds without threads.
GB_API int gb_set_threads(int n);

#endif
