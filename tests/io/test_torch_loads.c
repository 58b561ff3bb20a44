// test_torch_loads.c: what we write, real PyTorch reads. Writes a state dict
// (float32, int64 num_batches_tracked, a 0-d tensor, an empty one, a non-ASCII
// name, values that are awkward in float32) as .pth and .safetensors, plus the
// values as JSON, and runs tests/io/check_written.py with /usr/bin/python3:
// torch.load(weights_only=True) + load_state_dict(strict=True), and the
// safetensors rules. Exit 77 (skip) where torch is not importable.
#include <math.h>
#include <sys/wait.h>

#include "io_test_util.h"

#ifndef GB_IO_SCRIPT_DIR
#define GB_IO_SCRIPT_DIR "tests/io"
#endif

static void make(gb_state_dict *sd) {
    *sd = (gb_state_dict){0};
    int64_t conv[4] = {4, 3, 3, 3}, vec[1] = {4}, fc[2] = {10, 4}, none[2] = {0, 7};
    gb_sd_add(sd, "conv1.weight", 4, conv, GB_DT_F32, NULL);
    gb_sd_add(sd, "bn1.running_var", 1, vec, GB_DT_F16, NULL);   // written back as float32
    gb_sd_add(sd, "bn1.num_batches_tracked", 0, NULL, GB_DT_I64, NULL);
    gb_sd_add(sd, "fc.weight", 2, fc, GB_DT_F32, NULL);
    gb_sd_add(sd, "caf\xc3\xa9.scale", 0, NULL, GB_DT_F32, NULL);
    gb_sd_add(sd, "empty", 2, none, GB_DT_F32, NULL);
    uint32_t seed = 12345;
    for (int i = 0; i < sd->n; i++)
        for (int64_t k = 0; k < sd->entries[i].numel; k++) {
            seed = seed * 1664525u + 1013904223u;
            sd->entries[i].data[k] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 3.0f;
        }
    sd->entries[0].data[0] = 1e-40f;                 // a subnormal
    sd->entries[0].data[1] = -0.0f;
    sd->entries[0].data[2] = 3.4028235e38f;
    gb_sd_find(sd, "bn1.num_batches_tracked")->data[0] = 16777216.0f;   // 2^24, exact
    gb_sd_find(sd, "caf\xc3\xa9.scale")->data[0] = 0.1f;
}

static void write_expected(const gb_state_dict *sd, const char *path) {
    FILE *f = fopen(path, "w");
    fprintf(f, "[");
    for (int i = 0; i < sd->n; i++) {
        const gb_sd_entry *e = &sd->entries[i];
        fprintf(f, "%s{\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": [", i ? ",\n " : "", e->name,
                e->dtype_src == GB_DT_I64 ? "int64" : "float32");
        for (int d = 0; d < e->ndim; d++) fprintf(f, d ? ", %lld" : "%lld", (long long)e->shape[d]);
        fprintf(f, "], \"values\": [");
        for (int64_t k = 0; k < e->numel; k++) fprintf(f, k ? ", %.9g" : "%.9g", (double)e->data[k]);
        fprintf(f, "]}");
    }
    fprintf(f, "]\n");
    fclose(f);
}

int main(void) {
    gb_state_dict sd;
    make(&sd);
    uint8_t *buf;
    size_t len;
    CHECK(gb_pth_write(&sd, &buf, &len) == GB_OK, "%s", gb_last_error());
    CHECK(write_file("gb_written.pth", buf, len));
    free(buf);
    CHECK(gb_safetensors_write(&sd, &buf, &len) == GB_OK, "%s", gb_last_error());
    CHECK(write_file("gb_written.safetensors", buf, len));
    free(buf);
    write_expected(&sd, "gb_written.json");
    gb_sd_free(&sd);
    int rc = system("/usr/bin/python3 " GB_IO_SCRIPT_DIR "/check_written.py gb_written.pth "
                    "gb_written.safetensors gb_written.json");
    if (rc != -1 && WEXITSTATUS(rc) == 77) {
        printf("test_torch_loads: skipped (no torch)\n");
        return 77;
    }
    CHECK(rc == 0, "check_written.py failed (status %d)", rc);
    return finish("test_torch_loads");
}
