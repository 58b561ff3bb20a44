// gb_status.h: the two kinds of error.
//   A bug aborts with file and line (GB_ASSERT, on in every build).
//   Anything a user can cause returns a gb_status with a message that
//   gb_last_error() gives back (and, for expressions, a position).
#ifndef GB_STATUS_H
#define GB_STATUS_H

#include <stdio.h>
#include <stdlib.h>

typedef enum gb_status {
    GB_OK = 0,
    GB_ERR_SYNTAX = 1,      // the expression does not parse
    GB_ERR_NAME = 2,        // unknown variable, function or attribute
    GB_ERR_SHAPE = 3,       // shapes that do not broadcast or multiply
    GB_ERR_ARG = 4,         // a bad argument (wrong count, type or value)
    GB_ERR_AUTOGRAD = 5,    // backward misuse (second backward, non-scalar, no grad_fn)
    GB_ERR_BAD_HANDLE = 6,  // a handle that names nothing
    GB_ERR_NOMEM = 7,       // an allocation failed
    GB_ERR_FORMAT = 8,      // a file that is not what it claims to be
    GB_ERR_MISMATCH = 9,    // state_dict keys or shapes that do not fit the model
    GB_ERR_ATTRIBUTE = 10,  // no such method or attribute
    GB_ERR_INDEX = 11,      // a dimension out of range
    GB_ERR_TYPE = 12,       // a call with the wrong kind or number of arguments
    GB_ERR_ZERO_DIVISION = 13,
} gb_status;

// The Python exception class PyTorch would raise for an error of this kind
// ("RuntimeError", "NameError", ...), for messages shown as Python shows them.
const char *gb_status_python_type(gb_status code);

// Records the message (printf-style) and returns `code`, so callers can
// `return gb_set_error(GB_ERR_SHAPE, "...", ...);`.
gb_status gb_set_error(gb_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
// The same, with a byte offset into the expression being evaluated.
gb_status gb_set_error_at(gb_status code, int pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *gb_last_error(void);
gb_status gb_last_error_code(void);
int gb_last_error_pos(void);      // -1 when the error has no position
void gb_clear_error(void);

#define GB_ASSERT(cond, ...)                                                    \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: assertion failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                     \
            fprintf(stderr, " " __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                              \
            abort();                                                            \
        }                                                                       \
    } while (0)

// Propagates a failure: `GB_TRY(step());`
#define GB_TRY(expr)                        \
    do {                                    \
        gb_status gb_try_status_ = (expr);  \
        if (gb_try_status_ != GB_OK) return gb_try_status_; \
    } while (0)

#endif
