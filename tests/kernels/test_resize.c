// test_resize.c: the bilinear resize kernel (engine/kernels/resize.h) on
// edge sizes, under the sanitizers natively: every read inside the input and
// the work memory, every write inside the output. Byte equality with Pillow
// on real pictures is tests/resnet/frozen.test.mjs's job ("preprocessing");
// here, what can be worked out by hand:
//   - the same size is a copy (RGBA: alpha dropped);
//   - a constant picture stays constant (the weights sum to 2²² up to rounding);
//   - [0, 255] in a row, enlarged to 4: centres 0.25, 0.75, 1.25, 1.75 fall
//     on pixel 0, 3/4·p0 + 1/4·p1, 1/4·p0 + 3/4·p1, pixel 1, so
//     0, (2²¹ + 255·2²⁰) >> 22 = 64, 191, 255 (Pillow 9.4 gives the same);
//   - RGB and RGBA input give the same bytes.
#include "gb_test.h"
#include "../../engine/kernels/resize.h"

static uint8_t *resize(const uint8_t *in, int w, int h, int ch, int ow, int oh) {
    void *work = malloc(gb_u8_resize_bilinear_work_bytes(w, h, ow, oh));
    uint8_t *out = malloc((size_t)ow * oh * 3);
    gb_u8_resize_bilinear__scalar(in, w, h, ch, out, ow, oh, work);
    free(work);
    return out;
}

static uint8_t *picture(int w, int h, int ch) {
    uint8_t *p = malloc((size_t)w * h * ch);
    for (size_t i = 0; i < (size_t)w * h * ch; i++) p[i] = (uint8_t)(rnd() * 127.5f + 127.5f);
    return p;
}

static void test_by_hand(void) {
    const uint8_t row[6] = { 0, 10, 255, 255, 20, 0 };   // two RGB pixels
    uint8_t *out = resize(row, 2, 1, 3, 4, 1);
    const uint8_t want[12] = { 0, 10, 255, 64, 13, 191, 191, 18, 64, 255, 20, 0 };
    CHECK(memcmp(out, want, 12) == 0, "%d %d %d %d", out[0], out[3], out[6], out[9]);
    free(out);
    out = resize(row, 1, 2, 3, 1, 4);   // the same as a column: the vertical pass
    CHECK(memcmp(out, want, 12) == 0, "%d %d %d %d", out[0], out[3], out[6], out[9]);
    free(out);
}

static void test_copy_and_constant(void) {
    uint8_t *rgba = picture(37, 23, 4);
    uint8_t *out = resize(rgba, 37, 23, 4, 37, 23);
    int same = 1;
    for (int i = 0; i < 37 * 23; i++) same &= memcmp(out + 3 * i, rgba + 4 * i, 3) == 0;
    CHECK(same, "same size is a copy of R, G, B");
    free(out);
    free(rgba);
    const int sizes[][4] = { { 640, 480, 341, 256 }, { 100, 80, 320, 256 }, { 1001, 333, 769, 256 }, { 3, 2000, 1, 7 } };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int w = sizes[k][0], h = sizes[k][1], ow = sizes[k][2], oh = sizes[k][3];
        uint8_t *in = malloc((size_t)w * h * 3);
        for (size_t i = 0; i < (size_t)w * h; i++) in[3 * i] = 0, in[3 * i + 1] = 137, in[3 * i + 2] = 255;
        out = resize(in, w, h, 3, ow, oh);
        int constant = 1;
        for (size_t i = 0; i < (size_t)ow * oh; i++) constant &= out[3 * i] == 0 && out[3 * i + 1] == 137 && out[3 * i + 2] == 255;
        CHECK(constant, "%dx%d -> %dx%d of a constant picture", w, h, ow, oh);
        free(in);
        free(out);
    }
}

// Edge sizes: 1-pixel sides, one direction only, big factors both ways.
static void test_edges_rgb_equals_rgba(void) {
    const int sizes[][4] = { { 1, 1, 256, 256 }, { 1001, 1, 3, 2 }, { 1, 333, 5, 256 }, { 2000, 3, 7, 1 },
                             { 257, 256, 257, 300 }, { 300, 200, 384, 200 }, { 5, 5, 4, 6 }, { 2, 2, 1, 1 } };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int w = sizes[k][0], h = sizes[k][1], ow = sizes[k][2], oh = sizes[k][3];
        uint8_t *rgba = picture(w, h, 4), *rgb = malloc((size_t)w * h * 3);
        for (size_t i = 0; i < (size_t)w * h; i++) memcpy(rgb + 3 * i, rgba + 4 * i, 3);
        uint8_t *a = resize(rgba, w, h, 4, ow, oh), *b = resize(rgb, w, h, 3, ow, oh);
        CHECK(memcmp(a, b, (size_t)ow * oh * 3) == 0, "%dx%d -> %dx%d: RGBA and RGB differ", w, h, ow, oh);
        free(a);
        free(b);
        free(rgb);
        free(rgba);
    }
}

int main(void) {
    test_by_hand();
    test_copy_and_constant();
    test_edges_rgb_equals_rgba();
    return test_summary("test_resize");
}
