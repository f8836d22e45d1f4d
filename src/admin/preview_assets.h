// The preview page's files (src/admin/preview/), built into the binary at build time by
// src/admin/preview/embed_assets.cmake, so that GET /admin/ needs no file on disk.
#pragma once

#include <span>
#include <string_view>

namespace tempo::admin {

// One file of the page: its name (as in src/admin/preview/, e.g. "preview.js"), the
// Content-Type it is served with, and its bytes.
struct PreviewAsset {
  std::string_view name;
  std::string_view content_type;
  std::string_view body;
};

// Every file of the page, in the order CMake lists them; the data lives as long as the
// process.
std::span<const PreviewAsset> PreviewAssets();

}  // namespace tempo::admin
