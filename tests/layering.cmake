# Checks the layering of ../shared/DESIGN.md by grep, run by ctest
# (Layering.*): include/runnel <- cdc/ <- db/ <- triggers/ <- tools/, and the
# public headers leak nothing of the implementation.
#   cmake -DROOT=<source dir> -P tests/layering.cmake
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -P layering.cmake")
endif()

set(violations "")

# forbid(<glob> <regex> <why>): every line of the matching files that matches
# the regex is a violation.
function(forbid glob regex why)
  file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/${glob})
  if(NOT files)
    message(FATAL_ERROR "no files match ${glob}: the check would pass by accident")
  endif()
  foreach(f ${files})
    file(STRINGS ${ROOT}/${f} lines REGEX "${regex}")
    foreach(l ${lines})
      string(APPEND violations "  ${f}: ${l}\n    (${why})\n")
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

forbid("include/runnel/*.h*" "leveldb::|<leveldb/"
       "no LevelDB type in the public API")
forbid("include/runnel/*.h*" "^[ \t]*friend "
       "no friend of internal classes in public headers")
forbid("include/runnel/*.h*" "#include \"(cdc|db|triggers|tools)/"
       "public headers include only public headers")
forbid("include/runnel/db.h" "#include \"runnel/triggers.h\""
       "db.h does not pull in the triggers API")
forbid("cdc/*" "#include \"(db|triggers|tools)/"
       "cdc/ is below db/, triggers/ and tools/")
forbid("db/*" "#include \"(triggers|tools)/"
       "db/ knows nothing of triggers/ (they attach through db/db_internal.h)")
forbid("triggers/*" "#include \"tools/"
       "triggers/ is below tools/")
forbid("triggers/*" "#include \"db/(db_impl|dir_lock|index_env|index_keys)\\.h\""
       "triggers/ reaches the DB only through db/db_internal.h")
forbid("tools/*" "#include \"(db|triggers)/"
       "tools/ uses the public API (and cdc/ to read log files), no private header of db/ or triggers/")

if(violations)
  message(FATAL_ERROR "layering violations:\n${violations}")
endif()
message(STATUS "layering: OK")
