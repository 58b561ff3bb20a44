# engine/kernels/kernels.cmake: sources and flags of engine/kernels and
# engine/threads, for the top-level CMakeLists.txt to include():
#   GB_KERNELS_SOURCES        what the engine calls: in every build, wasm included
#   GB_KERNELS_TEST_SOURCES   microkernels only tests/kernels and bench/kernels call
#                             (the strided GEMM tiles): never in the shipped wasm
#
#   include(engine/kernels/kernels.cmake)
#   add_library(gb_engine_simd_mt STATIC ${GB_KERNELS_SOURCES} ...)   # one library per variant
#   gb_kernels_options(gb_engine_simd_mt)
#   gb_kernels_add_tests(gb_engine_simd_mt simd_mt)                    # tests/kernels as ctest tests
#
# Variants are chosen by the flags of the target, not here: -msimd128 (SIMD
# kernels), -pthread (the pool gets threads: GB_THREADS is defined from
# __EMSCRIPTEN_PTHREADS__ / _REENTRANT), neither (scalar twins, inline pool).
# Compile the sources once per variant: those flags change code generation.

set(GB_KERNELS_DIR ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(GB_ENGINE_DIR ${GB_KERNELS_DIR} DIRECTORY)
get_filename_component(GB_REPO_DIR ${GB_ENGINE_DIR} DIRECTORY)

set(GB_KERNELS_SOURCES
    ${GB_KERNELS_DIR}/gemm.c
    ${GB_KERNELS_DIR}/conv2d.c
    ${GB_KERNELS_DIR}/conv2d_plan.c
    ${GB_KERNELS_DIR}/conv2d_weights.c
    ${GB_KERNELS_DIR}/conv2d_run.c
    ${GB_KERNELS_DIR}/conv2d_winograd_weights.c
    ${GB_KERNELS_DIR}/conv2d_winograd_input.c
    ${GB_KERNELS_DIR}/conv2d_winograd_output.c
    ${GB_KERNELS_DIR}/conv2d_winograd_forward.c
    ${GB_KERNELS_DIR}/conv2d_winograd_dw.c
    ${GB_KERNELS_DIR}/pool2d.c
    ${GB_KERNELS_DIR}/batchnorm.c
    ${GB_KERNELS_DIR}/resize.c
    ${GB_KERNELS_DIR}/f32-ppmm/gb_f32_ppmm_5x8__wasmsimd.c
    ${GB_KERNELS_DIR}/f32-ppmm/gb_f32_ppmm_5x8__scalar.c
    ${GB_KERNELS_DIR}/f32-ppmm/gb_f32_ppmm_10x4__wasmsimd.c
    ${GB_KERNELS_DIR}/f32-ppmm/gb_f32_ppmm_10x4__scalar.c
    ${GB_KERNELS_DIR}/f32-relu/gb_f32_relu__wasmsimd.c
    ${GB_KERNELS_DIR}/f32-relu/gb_f32_relu__scalar.c
    ${GB_ENGINE_DIR}/threads/gb_pool.c
)

# The GEMM driver reads A in place through these only when a test or bench
# sets them (gb_gemm_set_config); the engine's default is ppmm 5x8 (gemm.c).
set(GB_KERNELS_TEST_SOURCES
    ${GB_KERNELS_DIR}/f32-gemm/gb_f32_gemm_4x8__wasmsimd.c
    ${GB_KERNELS_DIR}/f32-gemm/gb_f32_gemm_4x8__scalar.c
    ${GB_KERNELS_DIR}/f32-gemm/gb_f32_gemm_6x8__wasmsimd.c
)

# SIMDe (Debian's libsimde-dev) for gb_simd128.h in every build but wasm with
# -msimd128: GB_SIMDE_INCLUDE_DIR is a directory to add with SYSTEM. Under
# Emscripten it is a directory of the build tree holding only a link to
# simde/: adding /usr/include itself would put glibc's headers before the
# Emscripten sysroot's.
find_path(GB_SIMDE_DIR simde/wasm/simd128.h PATHS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH)
if(NOT GB_SIMDE_DIR)
    message(FATAL_ERROR "simde/wasm/simd128.h not found: apt-get install libsimde-dev (scripts/setup.sh does)")
endif()
if(EMSCRIPTEN)
    set(GB_SIMDE_INCLUDE_DIR ${CMAKE_BINARY_DIR}/simde-include)
    file(MAKE_DIRECTORY ${GB_SIMDE_INCLUDE_DIR})
    file(CREATE_LINK ${GB_SIMDE_DIR}/simde ${GB_SIMDE_INCLUDE_DIR}/simde SYMBOLIC)
else()
    set(GB_SIMDE_INCLUDE_DIR ${GB_SIMDE_DIR})
endif()

# NOTE: -ffp-contract=off keeps gcc/clang from fusing a*b+c into an FMA on
# native targets that have one: the SIMD kernels and their scalar twins then
# round identically (wasm has no FMA, so the wasm builds agree anyway).
function(gb_kernels_options target)
    target_compile_options(${target} PRIVATE -ffp-contract=off)
    target_include_directories(${target} SYSTEM PUBLIC ${GB_SIMDE_INCLUDE_DIR})
    if(NOT EMSCRIPTEN)
        find_package(Threads)
        if(Threads_FOUND)
            target_link_libraries(${target} PUBLIC Threads::Threads)
        endif()
        target_link_libraries(${target} PUBLIC m)
    endif()
endfunction()

# One ctest test per tests/kernels/test_*.c, linked against `lib` (which
# must also contain engine/core/status.c) plus GB_KERNELS_TEST_SOURCES. Under
# Emscripten the tests run through CMAKE_CROSSCOMPILING_EMULATOR (see
# TOOLCHAIN.md for Node 20).
function(gb_kernels_add_tests lib suffix)
    file(GLOB _tests ${GB_REPO_DIR}/tests/kernels/test_*.c)
    foreach(_src ${_tests})
        get_filename_component(_name ${_src} NAME_WE)
        add_executable(${_name}_${suffix} ${_src} ${GB_KERNELS_TEST_SOURCES})
        target_link_libraries(${_name}_${suffix} PRIVATE ${lib})
        target_compile_options(${_name}_${suffix} PRIVATE -ffp-contract=off)
        add_test(NAME kernels_${_name}_${suffix} COMMAND ${_name}_${suffix})
    endforeach()
endfunction()
