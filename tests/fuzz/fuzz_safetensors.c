// fuzz_safetensors.c: libFuzzer target for gb_safetensors_read (and, on
// what it accepts, a write -> read round trip). Build and run: tests/fuzz/run.sh
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_one(data, size, gb_safetensors_read, gb_safetensors_write, gb_safetensors_read);
    return 0;
}
