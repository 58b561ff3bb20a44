// test_corrupt.c: corrupted variants of every fixture, and of what we write,
// through both readers (run under ASan + UBSan). Each variant is in a buffer
// of exactly its size, so a read past the end is caught. A reader may accept
// a variant (a flipped padding byte changes nothing) but must otherwise
// refuse it with GB_ERR_FORMAT and a message; a truncated file must always
// be refused.
//   truncate   at every length
//   flip       every byte: xor 0xff, xor 0x01, set to 0
//   lie        every 2-, 4- and 8-byte window set to 0, all ones, the high bit,
//              and the old value +1, -1, *2 (lengths, offsets, counts, sizes)
#include "io_test_util.h"
#include "gb_io_internal.h"

static long variants, accepted;

static void run(const uint8_t *src, size_t len, int must_refuse, const char *what, size_t at) {
    uint8_t *buf = malloc(len ? len : 1);
    memcpy(buf, src, len);
    for (int reader = 0; reader < 2; reader++) {
        gb_state_dict sd;
        gb_clear_error();
        gb_status st = reader ? gb_pth_read(buf, len, &sd) : gb_safetensors_read(buf, len, &sd);
        variants++;
        if (st == GB_OK) {
            accepted++;
            CHECK(!must_refuse, "%s at %zu accepted by reader %d", what, at, reader);
            gb_sd_free(&sd);
            continue;
        }
        CHECK(st == GB_ERR_FORMAT, "%s at %zu: status %d: %s", what, at, st, gb_last_error());
        CHECK(sd.n == 0 && sd.entries == NULL);
        const char *msg = gb_last_error();
        CHECK(strncmp(msg, reader ? "pth: " : "safetensors: ", reader ? 5 : 13) == 0, "%s: '%s'", what, msg);
    }
    free(buf);
}

static void corrupt(const uint8_t *file, size_t len, int lie) {
    uint8_t *v = malloc(len);
    for (size_t n = 0; n < len; n++) run(file, n, 1, "truncated", n);
    for (size_t i = 0; i < len; i++) {
        static const uint8_t xors[3] = {0xff, 0x01, 0};
        for (int k = 0; k < 3; k++) {
            memcpy(v, file, len);
            v[i] = k < 2 ? v[i] ^ xors[k] : 0;
            if (v[i] != file[i]) run(v, len, 0, "flipped", i);
        }
    }
    for (int width = 2; lie && width <= 8; width *= 2) {
        for (size_t i = 0; i + (size_t)width <= len; i++) {
            memcpy(v, file, len);
            uint64_t old = width == 2 ? gb_rd16(file + i) : width == 4 ? gb_rd32(file + i) : gb_rd64(file + i);
            uint64_t lies[6] = {0, ~(uint64_t)0, (uint64_t)1 << (8 * width - 1), old + 1, old - 1, old * 2};
            for (int k = 0; k < 6; k++) {
                if (width == 2) gb_wr16(v + i, (uint32_t)lies[k]);
                else if (width == 4) gb_wr32(v + i, (uint32_t)lies[k]);
                else gb_wr64(v + i, lies[k]);
                run(v, len, 0, "lied", i);
            }
        }
    }
    free(v);
}

int main(void) {
    static const struct { const char *file; int is_pth, rewrite; } seeds[] = {
        {"mixed.pth", 1, 1}, {"tiny-resnet-f37072fd.pth", 1, 1}, {"wrapped.pth", 1, 1},
        {"mixed.safetensors", 0, 1}, {"rezipped.pth", 1, 0}, {"forbidden.pth", 1, 0},
        {"deflated.pth", 1, 0}};
    for (size_t f = 0; f < sizeof seeds / sizeof seeds[0]; f++) {
        size_t len;
        uint8_t *buf = read_fixture(seeds[f].file, &len);
        corrupt(buf, len, 1);
        if (seeds[f].rewrite) {   // and what we write from it
            int pth = seeds[f].is_pth;
            gb_state_dict sd;
            gb_status st = pth ? gb_pth_read(buf, len, &sd) : gb_safetensors_read(buf, len, &sd);
            CHECK(st == GB_OK, "%s: %s", seeds[f].file, gb_last_error());
            uint8_t *out;
            size_t out_len;
            CHECK((pth ? gb_pth_write(&sd, &out, &out_len) : gb_safetensors_write(&sd, &out, &out_len)) == GB_OK);
            corrupt(out, out_len, 0);   // same structure as the fixture: no lies
            free(out);
            gb_sd_free(&sd);
        }
        free(buf);
    }
    printf("test_corrupt: %ld reads of corrupted files, %ld accepted\n", variants, accepted);
    return finish("test_corrupt");
}
