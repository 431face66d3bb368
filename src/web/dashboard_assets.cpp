#include "web/dashboard_assets.hpp"

#include <array>
#include <fstream>
#include <sstream>

namespace tracermon::web {

#if TRACERMON_HAS_DASHBOARD
namespace dashboard {
extern const std::string_view k_index_html;
extern const std::string_view k_app_js;
extern const std::string_view k_style_css;
extern const std::string_view k_uplot_js;
extern const std::string_view k_uplot_css;
}  // namespace dashboard
#endif

namespace {

constexpr std::array<DashboardAsset, 5> k_assets = {{
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    {"/uplot.js", "node_modules/uplot/dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
    {"/uplot.css", "node_modules/uplot/dist/uPlot.min.css", "text/css; charset=utf-8"},
}};

}  // namespace

const DashboardAsset* find_dashboard_asset(std::string_view path) {
  for (const auto& asset : k_assets) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

std::span<const DashboardAsset> dashboard_assets() {
  return k_assets;
}

std::optional<std::string_view> embedded_asset(const DashboardAsset& asset) {
#if TRACERMON_HAS_DASHBOARD
  const std::array<std::string_view, 5> texts = {dashboard::k_index_html, dashboard::k_app_js,
                                                 dashboard::k_style_css, dashboard::k_uplot_js,
                                                 dashboard::k_uplot_css};
  return texts.at(static_cast<std::size_t>(&asset - k_assets.data()));
#else
  (void)asset;
  return std::nullopt;
#endif
}

std::optional<std::string> asset_from_dir(const std::filesystem::path& web_dir,
                                          const DashboardAsset& asset) {
  std::ifstream in(web_dir / asset.file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tracermon::web
