# Our own targets get strict warnings; third-party headers are included as SYSTEM.
function(hotline_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()

if(HOTLINE_SANITIZE)
  # -O1 keeps the Beast TUs affordable under UBSan (DEPENDENCIES.md: 155 s at -O1 per TU).
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
