// steps_runner.c: runs a steps program (docs/engine-protocol.md, section 3)
// given as simple lines on stdin, and prints one JSON result per line.
// The node tests drive this native build and the wasm builds with the same
// programs and expect the same answers.
//   tensor NAME REQUIRES_GRAD NDIM D0 .. | V0 V1 ...
//   assign NAME NO_GRAD EXPR...
//   backward NAME RETAIN N | V0 V1 ...        (N = 0: no gradient)
//   zero_grad
//   gradcheck NAME EPS N | V0 ...
//   snapshot ROOT
// Output per line: {"ok":true} | {"ok":true,"state":{...}} | {"ok":false,"error":"...","pos":N}
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/gb_api.h"
#include "core/gb_sb.h"

static float *parse_floats(char *s, int *n) {
    static float buf[1 << 20];
    *n = 0;
    char *end;
    for (float v = strtof(s, &end); end != s && *n < (1 << 20); v = strtof(s, &end)) {
        buf[(*n)++] = v;
        s = end;
    }
    return buf;
}

static void reply(int status, int ws, const char *root) {
    struct gb_sb sb;
    gb_sb_init(&sb);
    if (status != 0) {
        gb_sb_puts(&sb, "{\"ok\": false, \"error\": ");
        gb_sb_json_string(&sb, gb_error_message());
        gb_sb_printf(&sb, ", \"type\": \"%s\", \"pos\": %d}", gb_error_type(), gb_error_pos());
    } else if (root) {
        gb_sb_printf(&sb, "{\"ok\": true, \"state\": %s}", gb_ws_json(ws, root));
    } else {
        gb_sb_puts(&sb, "{\"ok\": true}");
    }
    puts(gb_sb_str(&sb));
    fflush(stdout);
    gb_sb_free(&sb);
}

int main(void) {
    static char line[1 << 24];
    int ws = gb_ws_new();
    char last_root[64] = "";
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *bar = strchr(line, '|');
        if (bar) *bar++ = '\0';
        char cmd[32] = "", name[64] = "";
        int a = 0, b = 0, off = 0, n = 0;
        sscanf(line, "%31s %63s%n", cmd, name, &off);
        if (strcmp(cmd, "reset") == 0) {
            gb_ws_clear(ws);
            last_root[0] = '\0';
            puts("{\"ok\": true}");
            fflush(stdout);
        } else if (strcmp(cmd, "tensor") == 0) {
            int shape[4] = { 0 }, k = 0;
            char *p = line + off;
            sscanf(p, "%d %d%n", &a, &b, &k);
            p += k;
            for (int d = 0; d < b && d < 4; d++) { sscanf(p, "%d%n", &shape[d], &k); p += k; }
            float *v = parse_floats(bar ? bar : (char *)"", &n);
            reply(gb_ws_set_tensor(ws, name, v, shape, b, a), ws, NULL);
        } else if (strcmp(cmd, "assign") == 0) {
            int k = 0;
            sscanf(line + off, "%d %n", &a, &k);
            reply(gb_ws_assign(ws, name, line + off + k, a), ws, NULL);
        } else if (strcmp(cmd, "backward") == 0) {
            sscanf(line + off, "%d %d", &a, &b);
            float *v = parse_floats(bar ? bar : (char *)"", &n);
            snprintf(last_root, sizeof last_root, "%s", name);
            reply(gb_ws_backward(ws, name, b ? v : NULL, b ? n : 0, a), ws, last_root);
        } else if (strcmp(cmd, "zero_grad") == 0) {
            reply(gb_ws_zero_grad(ws), ws, NULL);
        } else if (strcmp(cmd, "gradcheck") == 0) {
            double eps = 0;
            sscanf(line + off, "%lf %d", &eps, &b);
            float *v = parse_floats(bar ? bar : (char *)"", &n);
            reply(gb_ws_gradcheck(ws, name, b ? v : NULL, b ? n : 0, eps), ws, name);
        } else if (strcmp(cmd, "snapshot") == 0) {
            reply(0, ws, name);
        } else {
            printf("{\"ok\": false, \"error\": \"unknown command '%s'\", \"pos\": -1}\n", cmd);
            fflush(stdout);
        }
    }
    gb_ws_free(ws);
    return 0;
}
