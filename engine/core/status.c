// status.c: the last error, kept per thread (the engine's API is called from
// one thread at a time, but worker threads must never clobber it).
#include "gb_status.h"

#include <stdarg.h>
#include <string.h>

// Room for torch's longest messages here: a strict load of a resnet34
// state_dict into resnet18 lists 96 unexpected keys in 4.4 kB
// (tests/resnet/frozen.test.mjs compares it whole).
static _Thread_local char last_message[16384];
static _Thread_local int last_pos = -1;
static _Thread_local gb_status last_code = GB_OK;

static gb_status set_error_v(gb_status code, int pos, const char *fmt, va_list ap) {
    int n = vsnprintf(last_message, sizeof last_message, fmt, ap);
    if (n >= (int)sizeof last_message) memcpy(last_message + sizeof last_message - 4, "...", 4);   // cut: say so
    last_pos = pos;
    last_code = code;
    return code;
}

gb_status gb_set_error(gb_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error_v(code, -1, fmt, ap);
    va_end(ap);
    return code;
}

gb_status gb_set_error_at(gb_status code, int pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error_v(code, pos, fmt, ap);
    va_end(ap);
    return code;
}

const char *gb_last_error(void) { return last_message; }
gb_status gb_last_error_code(void) { return last_code; }
int gb_last_error_pos(void) { return last_pos; }
void gb_clear_error(void) { last_message[0] = '\0'; last_pos = -1; last_code = GB_OK; }

const char *gb_status_python_type(gb_status code) {
    switch (code) {
    case GB_OK: return "";
    case GB_ERR_SYNTAX: return "SyntaxError";
    case GB_ERR_NAME: return "NameError";
    case GB_ERR_ATTRIBUTE: return "AttributeError";
    case GB_ERR_INDEX: return "IndexError";
    case GB_ERR_TYPE: return "TypeError";
    case GB_ERR_ZERO_DIVISION: return "ZeroDivisionError";
    case GB_ERR_NOMEM: return "MemoryError";
    case GB_ERR_ARG: return "ValueError";
    default: return "RuntimeError";
    }
}
