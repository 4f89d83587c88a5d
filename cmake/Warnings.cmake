# Warnings are errors in our own code (never in third-party headers, which are
# included as system headers by their imported targets).
function(dirledger_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

if(DIRLEDGER_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(DIRLEDGER_FUZZ)
  # Everything is instrumented for coverage and checked by ASan/UBSan; the
  # fuzz targets themselves link the libFuzzer driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
