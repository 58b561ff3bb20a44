// fuzz_pth.c: libFuzzer target for gb_pth_read (zip, weights-only pickle,
// storages) and, on what it accepts, a write -> read round trip.
// Build and run: tests/fuzz/run.sh
//
// Two kinds of input. One starting with the pickle PROTO opcode (0x80) is a
// data.pkl: it is wrapped in an archive with storages archive/data/0..4 of
// 1, 4, 16, 64 and 4 floats (as corpus_pth/views.pkl expects), so the mutator works on the pickle directly
// rather than through zip sizes and CRCs. Anything else is a whole .pth.
#include "fuzz_common.h"
#include "gb_zip.h"

static gb_status read_wrapped(const uint8_t *pkl, size_t size, gb_state_dict *sd) {
    static const float v[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const int n[5] = {1, 4, 16, 64, 4};
    gb_zip_writer w = {0};
    gb_zip_add(&w, "archive/data.pkl", pkl, size);
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "archive/data/%d", i);
        gb_zip_add(&w, name, v, (size_t)n[i] * sizeof(float));
    }
    uint8_t *zip;
    size_t len;
    FUZZ_ASSERT(gb_zip_finish(&w, &zip, &len) == GB_OK);
    gb_status st = gb_pth_read(zip, len, sd);
    free(zip);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_one(data, size, size && data[0] == 0x80 ? read_wrapped : gb_pth_read, gb_pth_write, gb_pth_read);
    return 0;
}
