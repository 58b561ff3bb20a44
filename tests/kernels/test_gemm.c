// test_gemm.c: every GEMM microkernel and driver form against a naive triple
// loop in double, SIMD against the scalar twin bit for bit, and the threaded
// driver bit-identical for 1, 2 and 3 threads.
#include "gb_test.h"
#include "../../engine/kernels/gemm.h"
#include "../../engine/threads/gb_pool.h"

static const int sizes[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33 };
#define NS (int)(sizeof sizes / sizeof sizes[0])

static const gb_gemm_config configs[] = {
    { gb_f32_gemm_4x8__scalar, 4, "4x8__scalar", NULL, NULL },
    { gb_f32_gemm_4x8__wasmsimd, 4, "4x8__wasmsimd", NULL, NULL },
    { gb_f32_gemm_6x8__wasmsimd, 6, "6x8__wasmsimd", NULL, NULL },
    { NULL, 5, "ppmm 5x8__scalar", gb_f32_ppmm_5x8__scalar, NULL },
    { NULL, 5, "ppmm 5x8__wasmsimd", gb_f32_ppmm_5x8__wasmsimd, NULL },
    // Panels of <= 4 columns by the 10x4 kernels (gemm.c's narrow_tile): the
    // same bits as the scalar 4x8 above, on every size's tail.
    { NULL, 5, "ppmm 5x8 + 10x4__scalar", gb_f32_ppmm_5x8__scalar, gb_f32_ppmm_10x4__scalar },
    { NULL, 5, "ppmm 5x8 + 10x4__wasmsimd", gb_f32_ppmm_5x8__wasmsimd, gb_f32_ppmm_10x4__wasmsimd },
};
#define NC (int)(sizeof configs / sizeof configs[0])

// ref = (acc ? C0 : 0) + bias + op(A).op(B) in double. ta/tb: A is K x M / B is N x K.
static void naive(int M, int N, int K, const float *A, int lda, int ta, const float *B, int ldb,
                  int tb, const float *C0, int ldc, const float *bias, int acc, double *ref) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = (acc ? C0[m * ldc + n] : 0.0) + (bias ? bias[n] : 0.0);
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
            ref[m * N + n] = s;
        }
}

// |got - ref| <= 1e-5 * K * max|term| style bound: inputs are in [-1, 1].
static int close_to(const float *C, int ldc, const double *ref, int M, int N, int K) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++)
            if (fabs(C[m * ldc + n] - ref[m * N + n]) > 1e-6 * (K + 4) * 4) return 0;
    return 1;
}

// One shape, every config and every form; returns nothing, CHECKs inside.
static void test_shape(int M, int N, int K) {
    const int lda = K + 3, ldb = N + 1, ldc = N + 2, ldat = M + 1, ldbt = K + 2;
    float *A = alloc_f((size_t)M * lda), *B = alloc_f((size_t)K * ldb), *C0 = alloc_f((size_t)M * ldc);
    float *At = alloc_f((size_t)K * ldat), *Bt = alloc_f((size_t)N * ldbt), *bias = alloc_f(N);
    float *C = alloc_f((size_t)M * ldc), *Cs = alloc_f((size_t)M * ldc);
    float *scratch = alloc_f(gb_f32_gemm_scratch_floats(M, N, K, 1));
    double *ref = malloc(sizeof(double) * M * N);
    fill(A, (size_t)M * lda); fill(B, (size_t)K * ldb); fill(C0, (size_t)M * ldc);
    fill(At, (size_t)K * ldat); fill(Bt, (size_t)N * ldbt); fill(bias, N);

    for (int form = 0; form < 4; form++) {     // plain, plain+bias+acc, nt, tn
        const int acc = form != 0, use_bias = form == 1 || form == 2;
        const int ta = form == 3, tb = form == 2;
        naive(M, N, K, ta ? At : A, ta ? ldat : lda, ta, tb ? Bt : B, tb ? ldbt : ldb, tb, C0, ldc,
              use_bias ? bias : NULL, acc, ref);
        for (int c = 0; c < NC; c++) {
            gb_gemm_set_config(&configs[c]);
            memcpy(C, C0, sizeof(float) * M * ldc);
            if (ta) gb_f32_gemm_tn(M, N, K, At, ldat, B, ldb, C, ldc, acc, scratch);
            else if (tb) gb_f32_gemm_nt(M, N, K, A, lda, Bt, ldbt, C, ldc, bias, acc, scratch);
            else gb_f32_gemm(M, N, K, A, lda, B, ldb, C, ldc, use_bias ? bias : NULL, acc, scratch);
            CHECK(close_to(C, ldc, ref, M, N, K), "%s form %d M=%d N=%d K=%d", configs[c].name, form, M, N, K);
            if (c == 0) memcpy(Cs, C, sizeof(float) * M * ldc);
            else CHECK(memcmp(C, Cs, sizeof(float) * M * ldc) == 0,
                       "%s differs from scalar twin: form %d M=%d N=%d K=%d", configs[c].name, form, M, N, K);
            // padding columns between N and ldc are never written
            for (int m = 0; m < M; m++)
                for (int n = N; n < ldc; n++)
                    CHECK(C[m * ldc + n] == C0[m * ldc + n], "wrote past N at %d,%d", m, n);
        }
    }
    gb_gemm_set_config(NULL);
    free(A); free(B); free(C0); free(At); free(Bt); free(bias); free(C); free(Cs); free(scratch); free(ref);
}

// Large enough for several K blocks, both split directions and tails.
static void test_threads(int M, int N, int K) {
    float *A = alloc_f((size_t)M * K), *B = alloc_f((size_t)K * N), *bias = alloc_f(N);
    float *C1 = alloc_f((size_t)M * N), *C = alloc_f((size_t)M * N);
    float *scratch = alloc_f(gb_f32_gemm_scratch_floats(M, N, K, 1));
    fill(A, (size_t)M * K); fill(B, (size_t)K * N); fill(bias, N);
    for (int form = 0; form < 3; form++)
        for (int nt = 1; nt <= 3; nt++) {
            gb_pool_init(nt);
            float *dst = nt == 1 ? C1 : C;
            memset(dst, 0, sizeof(float) * M * N);
            if (form == 0) gb_f32_gemm(M, N, K, A, K, B, N, dst, N, bias, 0, scratch);
            else if (form == 1) gb_f32_gemm_tn(M, N, K, A, M, B, N, dst, N, 0, scratch);   // A read as K x M
            else gb_f32_gemm_nt(M, N, K, A, K, B, K, dst, N, NULL, 0, scratch);             // B read as N x K
            if (nt > 1) CHECK(memcmp(C1, C, sizeof(float) * M * N) == 0,
                              "%d threads differ from 1: form %d M=%d N=%d K=%d", nt, form, M, N, K);
        }
    gb_pool_init(1);
    free(A); free(B); free(bias); free(C1); free(C); free(scratch);
}

int main(void) {
    for (int i = 0; i < NS; i++)
        for (int j = 0; j < NS; j++)
            for (int k = 0; k < NS; k++) test_shape(sizes[i], sizes[j], sizes[k]);
    test_shape(67, 45, 700);          // several K blocks at small M
    test_shape(1000, 9, 150);         // K-blocked at large M
    test_threads(64, 200, 600);       // splits panels
    test_threads(515, 20, 300);       // splits row tiles, K blocks, tails
    test_threads(517, 4, 1100);       // the narrow kernel only: odd tile pairs, K blocks
    test_threads(3, 3, 3);
    printf("gemm default ukernel: %s, threads: %d\n", gb_gemm_get_config()->name, gb_pool_threads());
    gb_pool_shutdown();
    return test_summary("test_gemm");
}
