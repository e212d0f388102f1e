# Writes OUT, a C++ file holding every file under WEB_DIR as a web_asset.
# Run as: cmake -DWEB_DIR=... -DOUT=... -P embed_web.cmake
file(GLOB_RECURSE files RELATIVE "${WEB_DIR}" "${WEB_DIR}/*")
list(SORT files)
set(arrays "")
set(entries "")
set(i 0)
foreach(f IN LISTS files)
  file(READ "${WEB_DIR}/${f}" hex HEX)
  file(SIZE "${WEB_DIR}/${f}" size)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND arrays "const unsigned char asset_${i}[] = {${bytes}0};\n")
  string(APPEND entries "    {\"/${f}\", {reinterpret_cast<const char*>(asset_${i}), ${size}}},\n")
  math(EXPR i "${i} + 1")
endforeach()
if(i EQUAL 0)
  set(entries "    {\"\", {}},\n")
endif()
file(WRITE "${OUT}.tmp" "// Generated from web/ by cmake/embed_web.cmake: do not edit.
#include \"gateway/transport/web_assets.hpp\"

namespace chatgate {
namespace {
${arrays}}  // namespace

const web_asset web_assets[] = {
${entries}};
const std::size_t web_asset_count = ${i};

}  // namespace chatgate
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
