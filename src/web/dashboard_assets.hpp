#pragma once
// The dashboard's files (web/ui/), embedded in the binary at build time so an off-grid box
// needs no internet and no files beside the binary. With TRACERMON_WEB_DIR set, they are read
// from that folder on every request instead (front-end development without a rebuild).

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tracermon::web {

struct DashboardAsset {
  std::string_view path;  // URL path: "/", "/app.js", ...
  std::string_view file;  // below web/ui/
  std::string_view content_type;
};

// The asset served at `path`, or null.
const DashboardAsset* find_dashboard_asset(std::string_view path);
// Every asset, for the routes.
std::span<const DashboardAsset> dashboard_assets();

// The embedded text of `asset`; nullopt when this build has no dashboard (web/ui was missing).
std::optional<std::string_view> embedded_asset(const DashboardAsset& asset);
// The file from `web_dir`, or nullopt when it cannot be read.
std::optional<std::string> asset_from_dir(const std::filesystem::path& web_dir,
                                          const DashboardAsset& asset);

}  // namespace tracermon::web
