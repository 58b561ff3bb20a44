// conv2d_winograd_input.c: Winograd's input transform, V = B^T d B for
// every tile and channel, written straight into the GEMM's packed B panels
// (for dw, V^T: the tiles are the GEMM's inner dimension).
#include "conv2d_winograd_internal.h"

// The rows x cols window of an H x W plane at (h0, w0), row-major into dst,
// zero where it lies outside the plane (the convolution's padding, or past
// the last row or column of dy). Row by row: the columns inside the plane,
// [qa, qb), are copied 4 at a time, the rest zeroed.
// NOTE: no_builtin keeps clang from turning these short loops (4 to 20
// floats) into calls to memcpy and memset, which cost more than the copy (a
// profile of the input transform: a third of its time in memcpy). One
// conditional copy per float, which avoided those calls before, cost 2.8 ms
// of a 75 ms batch-1 forward.
#if defined(__clang__)
__attribute__((no_builtin("memcpy", "memset")))
#endif
void gb_wino_read_window(const float *plane, int H, int W, int h0, int w0, int rows, int cols, float *dst) {
    for (int r = 0; r < rows; r++, dst += cols) {
        const int h = h0 + r;
        int qa = cols, qb = cols;   // a row outside the plane: all zero
        if (h >= 0 && h < H) {
            qa = w0 < 0 ? (-w0 < cols ? -w0 : cols) : 0;
            qb = W - w0 < cols ? W - w0 : cols;
            if (qb < qa) qb = qa;
        }
        int q = 0;
        for (; q < qa; q++) dst[q] = 0.0f;
        if (qb > qa) {
            const float *row = plane + (size_t)h * W;   // dst[q] = row[w0 + q] for q in [qa, qb)
            for (; q + 4 <= qb; q += 4) wasm_v128_store(dst + q, wasm_v128_load(row + w0 + q));
            for (; q < qb; q++) dst[q] = row[w0 + q];
        }
        for (; q < cols; q++) dst[q] = 0.0f;
    }
}

// B^T d, the 1-D transform of F(4x4, 3x3) used on columns and then on rows:
// 6 values in, 6 out (each line's expression in the comment beside it).
static inline void wino4_bt(const v128_t d[6], v128_t o[6]) {
    const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), five = wasm_f32x4_splat(5.0f);
    o[0] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d[0]), wasm_f32x4_mul(five, d[2])), d[4]);   // 4 d0 - 5 d2 + d4
    o[1] = wasm_f32x4_sub(wasm_f32x4_add(d[3], d[4]), wasm_f32x4_mul(four, wasm_f32x4_add(d[1], d[2])));   // (d3 + d4) - 4 (d1 + d2)
    o[2] = wasm_f32x4_add(wasm_f32x4_sub(d[4], d[3]), wasm_f32x4_mul(four, wasm_f32x4_sub(d[1], d[2])));   // (d4 - d3) + 4 (d1 - d2)
    o[3] = wasm_f32x4_add(wasm_f32x4_sub(d[4], d[2]), wasm_f32x4_mul(two, wasm_f32x4_sub(d[3], d[1])));    // (d4 - d2) + 2 (d3 - d1)
    o[4] = wasm_f32x4_sub(wasm_f32x4_sub(d[4], d[2]), wasm_f32x4_mul(two, wasm_f32x4_sub(d[3], d[1])));    // (d4 - d2) - 2 (d3 - d1)
    o[5] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d[1]), wasm_f32x4_mul(five, d[3])), d[5]);   // 4 d1 - 5 d3 + d5
}

// V[xi] = (B^T d B)[xi] for every tile and channel, into packed B panels
// (gemm.h: panel = 8 tiles, then C rows of 8), or, for dw, V^T into B
// panels of 8 channels (then the tiles). d is the tile's input window
// ((m+2)^2 floats from (m th - pad, m tw - pad), zero outside the image).
// Tiles go in aligned groups of 4 (a group never straddles a panel), lane i
// of a vector = tile i. When the 4 tiles sit in one tile row, their windows
// come straight from the input rows (at the border, from a copy of the patch
// with its zero padding) by shuffles; other groups (wrapping to the next
// tile row or image, or past the last tile: zero windows) gather tile by
// tile. Then the transform is 32 vector adds and 16 vector stores for 4
// tiles (F(2x2)).

// The transform of 4 tiles' 4x4 windows d (lane i = tile i), stored for the
// first n.
static inline void input_d_simd(v128_t d[4][4], float *dst, size_t stride) {
    v128_t b[4][4];
    for (int q = 0; q < 4; q++) {                // b = B^T d
        b[0][q] = wasm_f32x4_sub(d[0][q], d[2][q]);
        b[1][q] = wasm_f32x4_add(d[1][q], d[2][q]);
        b[2][q] = wasm_f32x4_sub(d[2][q], d[1][q]);
        b[3][q] = wasm_f32x4_sub(d[1][q], d[3][q]);
    }
    for (int r = 0; r < 4; r++) {                // v = b B, scattered to the 16 V[xi]
        wasm_v128_store(dst + (r * 4 + 0) * stride, wasm_f32x4_sub(b[r][0], b[r][2]));
        wasm_v128_store(dst + (r * 4 + 1) * stride, wasm_f32x4_add(b[r][1], b[r][2]));
        wasm_v128_store(dst + (r * 4 + 2) * stride, wasm_f32x4_sub(b[r][2], b[r][1]));
        wasm_v128_store(dst + (r * 4 + 3) * stride, wasm_f32x4_sub(b[r][1], b[r][3]));
    }
}

// 4 tiles of one tile row. patch: the group's 4 input rows of 12 floats,
// `ld` apart; tile i's column q is float 2i + q.
static inline void input_group_simd(const float *patch, size_t ld, float *dst, size_t stride) {
    v128_t d[4][4];
    for (int r = 0; r < 4; r++) {
        const float *row = patch + r * ld;
        const v128_t v0 = wasm_v128_load(row), v1 = wasm_v128_load(row + 4), v2 = wasm_v128_load(row + 8);
        const v128_t even = wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6);
        const v128_t odd = wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7);
        d[r][0] = even;
        d[r][1] = odd;
        d[r][2] = wasm_i32x4_shuffle(even, v2, 1, 2, 3, 4);
        d[r][3] = wasm_i32x4_shuffle(odd, v2, 1, 2, 3, 5);
    }
    input_d_simd(d, dst, stride);
}

// F(4x4, 3x3): V = B^T d B of 6x6 windows, the 1-D transform down each
// column, then along each row.
static inline void input_d4_simd(v128_t d[6][6], float *dst, size_t stride) {
    v128_t b[6][6];
    for (int q = 0; q < 6; q++) {                // b = B^T d
        const v128_t col[6] = { d[0][q], d[1][q], d[2][q], d[3][q], d[4][q], d[5][q] };
        v128_t o[6];
        wino4_bt(col, o);
        for (int r = 0; r < 6; r++) b[r][q] = o[r];
    }
    for (int r = 0; r < 6; r++) {                // v = b B, scattered to the 36 V[xi]
        v128_t v[6];
        wino4_bt(b[r], v);
        for (int k = 0; k < 6; k++) wasm_v128_store(dst + (r * 6 + k) * stride, v[k]);
    }
}

// 4 tiles of one tile row at once, lane i = tile i. patch: the group's 6
// input rows of 20 floats, `ld` apart; tile i's column q is float 4i + q,
// so a 4x4 transpose of the first 16 floats gives columns 0-3 and a shift
// in of floats 16 and 17 gives columns 4 and 5.
static inline void input_group4_simd(const float *patch, size_t ld, float *dst, size_t stride) {
    v128_t d[6][6];
    for (int r = 0; r < 6; r++) {
        const float *row = patch + r * ld;
        const v128_t v[4] = { wasm_v128_load(row), wasm_v128_load(row + 4), wasm_v128_load(row + 8),
                              wasm_v128_load(row + 12) };
        const v128_t v4 = wasm_v128_load(row + 16);
        transpose4(v, d[r]);
        d[r][4] = wasm_i32x4_shuffle(d[r][0], v4, 1, 2, 3, 4);
        d[r][5] = wasm_i32x4_shuffle(d[r][1], v4, 1, 2, 3, 5);
    }
    input_d4_simd(d, dst, stride);
}

// Any 4 consecutive tiles t_all.. of channel c (a group that wraps to the
// next tile row or image, or ends the batch: n < 4 tiles), gathered window
// by window: w[i] is tile i's alpha x alpha window, and a 4x4 transpose of
// each 4 floats of the four windows makes 4 vectors of d. Then the same
// transform as above: the same bits as if each tile went alone.
static inline void input_gather_simd(const wino_job *j, int c, int t_all, int n, float *dst, size_t stride) {
    const gb_conv2d_shape *s = j->s;
    const int m = j->m, alpha = m + 2, T = j->TH * j->TW;
    float w[4][36] __attribute__((aligned(16)));
    for (int i = 0; i < 4; i++) {
        if (i >= n) { memset(w[i], 0, sizeof w[i]); continue; }
        const int ti = t_all + i, t = ti % T;
        const float *x = j->in + (size_t)(ti / T) * j->image + (size_t)c * s->H * s->W;
        gb_wino_read_window(x, s->H, s->W, (t / j->TW) * m - s->pad, (t % j->TW) * m - s->pad, alpha, alpha, w[i]);
    }
    v128_t d[36];
    for (int k = 0; k < alpha * alpha; k += 4) {
        const v128_t v[4] = { wasm_v128_load(w[0] + k), wasm_v128_load(w[1] + k), wasm_v128_load(w[2] + k),
                              wasm_v128_load(w[3] + k) };
        transpose4(v, d + k);
    }
    if (m == 2) input_d_simd((v128_t(*)[4])d, dst, stride);
    else input_d4_simd((v128_t(*)[6])d, dst, stride);
}

// The transform of the 4 tiles t_all.. (of T_all) of channel c, member xi
// at dst[xi * stride], tile i at dst[i]; tiles past T_all are zero.
static inline void input_group(const wino_job *j, int c, int t_all, int T_all, float *dst, size_t stride) {
    const gb_conv2d_shape *s = j->s;
    const int T = j->TH * j->TW;   // tile t of the batch: image t / T
    const int m = j->m, alpha = m + 2;
    const int span = 4 * m + 4;   // floats of input under a group of 4 tiles (12 or 20, loaded as vectors)
    const int t = t_all % T, th = t / j->TW, tw = t % j->TW;
    const int h0 = th * m - s->pad, w0 = tw * m - s->pad;
    if (t + 4 <= T && tw + 4 <= j->TW) {
        const float *x = j->in + (size_t)(t_all / T) * j->image + (size_t)c * s->H * s->W;
        float patch[6 * 20];
        const float *src = x + (size_t)h0 * s->W + w0;
        size_t ld = (size_t)s->W;
        if (!(h0 >= 0 && h0 + alpha <= s->H && w0 >= 0 && w0 + span <= s->W)) {
            // at the border: copy the patch with its zero padding first
            gb_wino_read_window(x, s->H, s->W, h0, w0, alpha, span, patch);
            src = patch;
            ld = (size_t)span;
        }
        if (m == 2) input_group_simd(src, ld, dst, stride);
        else input_group4_simd(src, ld, dst, stride);
    } else {
        input_gather_simd(j, c, t_all, T_all - t_all < 4 ? T_all - t_all : 4, dst, stride);
    }
}

// V for the tiles [t_blk, t_end) of channels [c0, c1), into B panels [tiles/8][C][8].
void gb_wino_input_block(const wino_job *j, int t_blk, int t_end, int c0, int c1) {
    const gb_conv2d_shape *s = j->s;
    const int T_all = j->TH * j->TW * j->images, nm = members(j->m);
    for (int c = c0; c < c1; c++) {
        for (int t_all = t_blk; t_all < t_end; t_all += 4) {
            const size_t panel = (size_t)(t_all - j->t_first) / GB_GEMM_NR * s->C * GB_GEMM_NR;
            input_group(j, c, t_all, T_all, j->out + panel + (size_t)c * GB_GEMM_NR + t_all % GB_GEMM_NR, j->stride);
        }
        // lanes past the last group in the last panel: never stored, zero anyway
        if (t_end == T_all && T_all % GB_GEMM_NR && T_all % GB_GEMM_NR <= 4) {
            const size_t panel = (size_t)(T_all - j->t_first) / GB_GEMM_NR * s->C * GB_GEMM_NR;
            for (int xi = 0; xi < nm; xi++)
                wasm_v128_store(j->out + xi * j->stride + panel + (size_t)c * GB_GEMM_NR + 4, wasm_f32x4_splat(0.0f));
        }
    }
}

// dw's V^T for the tiles [t_blk, t_end), into B panels [C/8][tiles][8]: the
// GEMM sums over tiles, so a tile's 8 channels sit side by side. Each
// channel's transform runs as above (4 tiles in a vector) into `tmp`, and
// store_by_tile puts the channels side by side.
// Channels past C (the last panel's padding) are zero.
static void input_block_dw(const wino_job *j, int t_blk, int t_end) {
    const gb_conv2d_shape *s = j->s;
    const int T_all = j->TH * j->TW * j->images, nm = members(j->m);
    float tmp[GB_GEMM_NR][36 * 4] __attribute__((aligned(16)));   // [channel][xi][tile]
    for (int c0 = 0; c0 < s->C; c0 += GB_GEMM_NR)
        for (int t_all = t_blk; t_all < t_end; t_all += 4) {
            for (int k = 0; k < GB_GEMM_NR; k++) {
                if (c0 + k < s->C) input_group(j, c0 + k, t_all, T_all, tmp[k], 4);
                else memset(tmp[k], 0, sizeof tmp[k]);
            }
            const int n = t_end - t_all < 4 ? t_end - t_all : 4;
            float *dst = j->out + ((size_t)(c0 / GB_GEMM_NR) * T_all + t_all) * GB_GEMM_NR;
            store_by_tile((const float(*)[36 * 4])tmp, GB_GEMM_NR, nm, n, dst, j->stride);
        }
}

// Split over blocks of 8 tiles (one whole B panel), all channels inside a
// block: every stretch of V is written completely while it is in cache. (Done
// channel by channel over all the tiles, a cache line of V got its floats in
// visits far apart.) A block writes 16 streams, one per member; two panels
// per block (32 streams) measured slower in alternated runs. Threads take
// the blocks a few at a time (gb_pool_take): border blocks cost more.
// One image (batch 1: layer3 and layer4 have 2 blocks, layer2 7) is cut by
// channels too, INPUT_BLOCK_CHANNELS at a time, channels outermost: with 2
// blocks each thread got one, however much slower its core ran (on this VM
// one core at times streams at half the other's speed: bench/machine), and
// 7 split 4 to 3. Alternated in one process: 0.991 of the 2-thread forward at
// batch 1 (noise level; kept for the balance).
#define INPUT_BLOCK_CHANNELS 16
void gb_wino_input_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const int T_all = j->TH * j->TW * j->images, C = j->s->C;
    const int blocks = (T_all + INPUT_BLOCK_TILES - 1) / INPUT_BLOCK_TILES;
    const int by_channels = j->images == 1 && !j->dw_layout;
    const int channel_parts = by_channels ? (C + INPUT_BLOCK_CHANNELS - 1) / INPUT_BLOCK_CHANNELS : 1;
    int i0, i1;
    while (gb_pool_take(&j->taken, blocks * channel_parts, ith, nth, &i0, &i1))
        for (int i = i0; i < i1; i++) {
            const int b = i % blocks, part = i / blocks;
            const int t_blk = b * INPUT_BLOCK_TILES;
            const int t_end = t_blk + INPUT_BLOCK_TILES < T_all ? t_blk + INPUT_BLOCK_TILES : T_all;
            if (j->dw_layout) { input_block_dw(j, t_blk, t_end); continue; }
            const int c0 = part * INPUT_BLOCK_CHANNELS, c1 = by_channels && c0 + INPUT_BLOCK_CHANNELS < C ? c0 + INPUT_BLOCK_CHANNELS : C;
            gb_wino_input_block(j, t_blk, t_end, c0, c1);
        }
}
