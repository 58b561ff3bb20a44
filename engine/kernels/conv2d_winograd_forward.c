// conv2d_winograd_forward.c: the drivers of Winograd's forward and dx: the
// three stages (input transform, the GEMMs over the domain positions, output
// transform) image group by image group over the pool, or, fused, chunk by
// chunk on each thread (conv2d_plan.c decides which). dx is the same
// convolution of dy with the turned weights (dx_shape).
#include "conv2d_winograd_internal.h"
#include "conv2d_plan.h"

int gb_conv2d_winograd_ok(const gb_conv2d_shape *s) {
    return s->KH == 3 && s->KW == 3 && s->stride == 1;
}

// Fused (each thread runs the three stages on chunks of tiles that stay in
// its L2) or staged (each stage over the pool, image group by image group):
// gb_conv2d_plan_winograd_chunk decides, and says why (conv2d_plan.c).
// Either way every output sums the same products in the same order: same bits.

static void fused_strides(const gb_conv2d_shape *s, int chunk, size_t *sv, size_t *sm) {
    *sv = member_stride(gb_f32_packed_b_floats(s->C, chunk));
    *sm = member_stride((size_t)s->OC * chunk);
}

// Scratch: V (nm packed C x G*T) | M (nm x OC x G*T), G images per group;
// fused, one V | M of a chunk per thread the pool can have (a size that does
// not change with the thread count: ~4 MB).
size_t gb_conv2d_winograd_scratch_bytes(const gb_conv2d_shape *s, int tile) {
    const int m = checked_tile(tile), chunk = gb_conv2d_plan_winograd_chunk(s, m);
    if (chunk) {
        size_t sv, sm;
        fused_strides(s, chunk, &sv, &sm);
        return sizeof(float) * members(m) * (sv + sm) * GB_POOL_MAX_THREADS;
    }
    const int T = tiles_per_image(s, m) * images_per_group(s, m);
    return sizeof(float) * members(m) * (member_stride(gb_f32_packed_b_floats(s->C, T)) + member_stride((size_t)s->OC * T));
}

typedef struct fused_job {
    const gb_conv2d_shape *s;
    int m, chunk, accumulate;
    const gb_conv2d_epilogue *e;
    const float *u, *x;
    float *y, *scratch;
    gb_take_counter taken;
} fused_job;

static void fused_task(void *ctx, int ith, int nth) {
    fused_job *f = ctx;
    const gb_conv2d_shape *s = f->s;
    const int m = f->m, nm = members(m), TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m;
    const int T_all = TH * TW * s->N;
    size_t sv, sm;
    fused_strides(s, f->chunk, &sv, &sm);
    float *v = f->scratch + (size_t)ith * nm * (sv + sm), *mm = v + nm * sv;
    const int chunks = (T_all + f->chunk - 1) / f->chunk;
    int c0, c1;
    while (gb_pool_take(&f->taken, chunks, ith, nth, &c0, &c1))
        for (int c = c0; c < c1; c++) {
            const int t_lo = c * f->chunk, t_hi = t_lo + f->chunk < T_all ? t_lo + f->chunk : T_all, n = t_hi - t_lo;
            const wino_job in = { .s = s, .in = f->x, .out = v, .TH = TH, .TW = TW, .stride = sv, .images = s->N,
                                  .image = (size_t)s->C * s->H * s->W, .m = m, .t_first = t_lo };
            for (int t = t_lo; t < t_hi; t += INPUT_BLOCK_TILES)
                gb_wino_input_block(&in, t, t + INPUT_BLOCK_TILES < t_hi ? t + INPUT_BLOCK_TILES : t_hi, 0, s->C);
            // Nested in this parallel_for, the GEMM runs on this thread.
            gb_f32_gemm_ppacked_batched(nm, s->OC, n, s->C, f->u, u_plane(s->OC, s->C), v, sv, mm, n, sm, 0);
            const wino_job out = { .s = s, .in = mm, .out = f->y, .TH = TH, .TW = TW, .stride = sm,
                                   .accumulate = f->accumulate, .images = s->N, .image = (size_t)s->OC * s->OH * s->OW,
                                   .m = m, .t_first = t_lo, .m_cols = n, .epilogue = f->e };
            gb_wino_output_range(&out, 0, s->OC, t_lo, t_hi);
        }
}

static void winograd_run(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                         void *scratch, int accumulate, const gb_conv2d_epilogue *e) {
    GB_ASSERT(gb_conv2d_winograd_ok(s), "winograd needs a 3x3 stride-1 conv");
    GB_ASSERT(!(accumulate && e), "winograd: an epilogue on a sum");
    const int m = checked_tile(tile), nm = members(m), chunk = gb_conv2d_plan_winograd_chunk(s, m);
    if (chunk) {
        fused_job f = { .s = s, .m = m, .chunk = chunk, .accumulate = accumulate, .e = e, .u = u, .x = x, .y = y,
                        .scratch = scratch };
        gb_parallel_for(fused_task, &f);
        return;
    }
    const int TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m, G = images_per_group(s, m);
    const size_t T_max = (size_t)TH * TW * G;
    const size_t sv = member_stride(gb_f32_packed_b_floats(s->C, (int)T_max)), sm = member_stride((size_t)s->OC * T_max);
    const size_t x_image = (size_t)s->C * s->H * s->W, y_image = (size_t)s->OC * s->OH * s->OW;
    float *v = scratch, *mm = v + nm * sv;
    for (int n = 0; n < s->N; n += G) {
        const int images = s->N - n < G ? s->N - n : G, T = TH * TW * images;
        wino_job in = { .s = s, .in = x + (size_t)n * x_image, .out = v, .TH = TH, .TW = TW, .stride = sv,
                        .images = images, .image = x_image, .m = m };
        gb_parallel_for(gb_wino_input_task, &in);
        gb_f32_gemm_ppacked_batched(nm, s->OC, T, s->C, u, u_plane(s->OC, s->C), v, sv, mm, T, sm, 0);
        wino_job out = { .s = s, .in = mm, .out = y + (size_t)n * y_image, .TH = TH, .TW = TW, .stride = sm,
                         .accumulate = accumulate, .images = images, .image = y_image, .m = m, .m_cols = T,
                         .epilogue = e };
        gb_parallel_for(gb_wino_output_task, &out);
    }
}

void gb_conv2d_winograd_forward(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                                void *scratch) {
    winograd_run(s, tile, u, x, y, scratch, 0, NULL);
}

void gb_conv2d_winograd_forward_epilogue(const gb_conv2d_shape *s, int tile, const float *u, const float *x, float *y,
                                         void *scratch, const gb_conv2d_epilogue *e) {
    winograd_run(s, tile, u, x, y, scratch, 0, e);
}

// --- U made per call, a chunk of output channels at a time -------------------
// Staged, with U | V | M in the scratch, U and M only `rows` output channels
// deep: per image group, V once, then per chunk of output channels its U
// (from w: ws is w's conv, flip for dx's turned weights), its GEMMs and its
// outputs. Every output sums the same products in the same order as with
// the whole U: same bits. U is made again for each group (one group at a
// time holds up to WINO_GROUP_TILES tiles: the deep layers' large U come
// with small images, one group at batch 16 and up to 128 for layer4).

static void rows_strides(const gb_conv2d_shape *t, int m, int rows, size_t *su, size_t *sv, size_t *sm) {
    const size_t T_max = (size_t)tiles_per_image(t, m) * images_per_group(t, m);
    *su = u_plane(rows, t->C);
    *sv = member_stride(gb_f32_packed_b_floats(t->C, (int)T_max));
    *sm = member_stride((size_t)rows * T_max);
}

size_t gb_conv2d_winograd_rows_scratch_bytes(const gb_conv2d_shape *s, int tile, int rows) {
    size_t su, sv, sm;
    rows_strides(s, checked_tile(tile), rows, &su, &sv, &sm);
    return sizeof(float) * members(tile) * (su + sv + sm);
}

static void winograd_run_rows(const gb_conv2d_shape *t, const gb_conv2d_shape *ws, int flip, int tile, int rows,
                              const float *w, const float *x, float *y, void *scratch, int accumulate,
                              const gb_conv2d_epilogue *e) {
    GB_ASSERT(gb_conv2d_winograd_ok(t) && rows >= 1, "winograd rows: %d", rows);
    GB_ASSERT(!(accumulate && e), "winograd: an epilogue on a sum");
    const int m = checked_tile(tile), nm = members(m);
    const int TH = (t->OH + m - 1) / m, TW = (t->OW + m - 1) / m, G = images_per_group(t, m);
    size_t su, sv, sm;
    rows_strides(t, m, rows, &su, &sv, &sm);
    const size_t x_image = (size_t)t->C * t->H * t->W, y_image = (size_t)t->OC * t->OH * t->OW;
    float *u = scratch, *v = u + nm * su, *mm = v + nm * sv;
    for (int n = 0; n < t->N; n += G) {
        const int images = t->N - n < G ? t->N - n : G, T = TH * TW * images;
        wino_job in = { .s = t, .in = x + (size_t)n * x_image, .out = v, .TH = TH, .TW = TW, .stride = sv,
                        .images = images, .image = x_image, .m = m };
        gb_parallel_for(gb_wino_input_task, &in);
        for (int o0 = 0; o0 < t->OC; o0 += rows) {
            const int o_n = t->OC - o0 < rows ? t->OC - o0 : rows;
            gb_wino_transform_weights_rows(ws, m, flip, w, o0, o_n, u);
            gb_f32_gemm_ppacked_batched(nm, o_n, T, t->C, u, u_plane(o_n, t->C), v, sv, mm, T, sm, 0);
            wino_job out = { .s = t, .in = mm, .out = y + (size_t)n * y_image, .TH = TH, .TW = TW, .stride = sm,
                             .accumulate = accumulate, .images = images, .image = y_image, .m = m, .m_cols = T,
                             .o_first = o0, .o_count = o_n, .epilogue = e };
            gb_parallel_for(gb_wino_output_task, &out);
        }
    }
}

void gb_conv2d_winograd_forward_rows(const gb_conv2d_shape *s, int tile, int rows, const float *w, const float *x,
                                     float *y, void *scratch, const gb_conv2d_epilogue *e) {
    winograd_run_rows(s, s, 0, tile, rows, w, x, y, scratch, 0, e);
}

// --- backward for the input --------------------------------------------------
// dx is the forward's machinery on dx_shape (conv2d_winograd_internal.h).

size_t gb_conv2d_winograd_backward_dx_scratch_bytes(const gb_conv2d_shape *s, int tile) {
    const gb_conv2d_shape t = dx_shape(s);
    return gb_conv2d_winograd_scratch_bytes(&t, tile);
}

void gb_conv2d_winograd_backward_dx(const gb_conv2d_shape *s, int tile, const float *u_dx, const float *dy,
                                    float *dx, int store, void *scratch) {
    const gb_conv2d_shape t = dx_shape(s);
    winograd_run(&t, tile, u_dx, dy, dx, scratch, !store, NULL);
}

size_t gb_conv2d_winograd_backward_dx_rows_scratch_bytes(const gb_conv2d_shape *s, int tile, int rows) {
    const gb_conv2d_shape t = dx_shape(s);
    return gb_conv2d_winograd_rows_scratch_bytes(&t, tile, rows);
}

void gb_conv2d_winograd_backward_dx_rows(const gb_conv2d_shape *s, int tile, int rows, const float *w,
                                         const float *dy, float *dx, int store, void *scratch) {
    const gb_conv2d_shape t = dx_shape(s);
    winograd_run_rows(&t, s, 1, tile, rows, w, dy, dx, scratch, !store, NULL);
}
