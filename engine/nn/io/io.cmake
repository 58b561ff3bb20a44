# engine/nn/io/io.cmake: weights I/O (state dict, safetensors, PyTorch .pth).
# For the top-level CMakeLists.txt:
#     include(engine/nn/io/io.cmake)
#     target_link_libraries(<engine target> PRIVATE gb_io)      # or add ${GB_IO_SOURCES}
# Defines: GB_IO_SOURCES, library gb_io; when BUILD_TESTING and not EMSCRIPTEN,
# the ctest tests io_* (add sanitizers through CMAKE_C_FLAGS as for the rest);
# with GB_FUZZ=ON and clang, the libFuzzer targets fuzz_safetensors, fuzz_pth.
# Needs engine/core/status.c from the core library (gb_set_error), linked here
# via GB_IO_CORE_TARGET if the lead names one, else compiled in directly.

set(GB_IO_DIR ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(GB_IO_ROOT "${GB_IO_DIR}/../../.." ABSOLUTE)

set(GB_IO_SOURCES
    ${GB_IO_DIR}/state-dict.c
    ${GB_IO_DIR}/io-util.c
    ${GB_IO_DIR}/json.c
    ${GB_IO_DIR}/safetensors.c
    ${GB_IO_DIR}/zip.c
    ${GB_IO_DIR}/pickle.c
    ${GB_IO_DIR}/pth.c
    ${GB_IO_DIR}/format.c)

add_library(gb_io STATIC ${GB_IO_SOURCES})
target_include_directories(gb_io PUBLIC ${GB_IO_DIR})
set_target_properties(gb_io PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
if(GB_IO_CORE_TARGET)
    target_link_libraries(gb_io PUBLIC ${GB_IO_CORE_TARGET})
else()
    target_sources(gb_io PRIVATE ${GB_IO_ROOT}/engine/core/status.c)
endif()
if(NOT MSVC)
    target_link_libraries(gb_io PUBLIC m)
endif()

if(BUILD_TESTING AND NOT EMSCRIPTEN)
    foreach(t test_state_dict test_safetensors test_pth test_format test_corrupt test_torch_loads)
        add_executable(io_${t} ${GB_IO_ROOT}/tests/io/${t}.c)
        target_link_libraries(io_${t} PRIVATE gb_io)
        target_compile_definitions(io_${t} PRIVATE _GNU_SOURCE
            GB_IO_FIXTURE_DIR="${GB_IO_ROOT}/tests/fixtures/io"
            GB_IO_SCRIPT_DIR="${GB_IO_ROOT}/tests/io")
        add_test(NAME io_${t} COMMAND io_${t} WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    endforeach()
    # Needs Debian's python3-torch at /usr/bin/python3; exits 77 (skipped) without it.
    set_tests_properties(io_test_torch_loads PROPERTIES SKIP_RETURN_CODE 77)
endif()

option(GB_FUZZ "Build the libFuzzer targets (clang only)" OFF)
if(GB_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    foreach(f fuzz_safetensors fuzz_pth)
        add_executable(${f} ${GB_IO_ROOT}/tests/fuzz/${f}.c ${GB_IO_SOURCES} ${GB_IO_ROOT}/engine/core/status.c)
        target_include_directories(${f} PRIVATE ${GB_IO_DIR})
        # A small element cap keeps each input's allocations in libFuzzer's budget.
        target_compile_definitions(${f} PRIVATE "GB_SD_MAX_TOTAL_NUMEL=((int64_t)1 << 22)"
            FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)   # skips zip CRC checks
        target_compile_options(${f} PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined)
        target_link_options(${f} PRIVATE -fsanitize=fuzzer,address,undefined)
        target_link_libraries(${f} PRIVATE m)
    endforeach()
endif()
