// fuzz_pth.c: libFuzzer target for gb_pth_read (zip, weights-only pickle,
// storages) and, on what it accepts, a write -> read round trip.
// Build and run: tests/fuzz/run.sh
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_one(data, size, gb_pth_read, gb_pth_write);
    return 0;
}
