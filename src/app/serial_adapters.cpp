#include "app/serial_adapters.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "protocol/csv.hpp"

namespace tracermon::app {

extern const std::string_view k_usb_adapters_csv;  // data/usb-adapters.csv, embedded

namespace fs = std::filesystem;

namespace {

bool is_usb_id(std::string_view id) {
  return id.size() == 4 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The first line of a sysfs attribute, without the newline; empty when missing.
std::string read_attribute(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<std::string> sorted_entries(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The same device file, however it is reached (by-id link, /dev/ttyUSB0).
std::string device_identity(const fs::path& path) {
  std::error_code ec;
  auto real = fs::canonical(path, ec);
  return ec ? path.string() : real.string();
}

}  // namespace

std::vector<KnownAdapter> parse_adapter_table(std::string_view csv) {
  auto rows = protocol::parse_csv(csv);
  const std::vector<std::string> header = {"vendor_id", "product_id", "name", "chip", "driver"};
  if (rows.empty() || rows.front().cells != header) {
    throw std::runtime_error(
        "usb-adapters.csv:1: the header is not vendor_id,product_id,name,chip,driver");
  }
  std::vector<KnownAdapter> table;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.cells.size() == 1 && row.cells.front().empty()) continue;  // blank line
    if (row.cells.size() != header.size()) {
      throw std::runtime_error(fmt::format("usb-adapters.csv:{}: {} cells, not {}", row.line,
                                           row.cells.size(), header.size()));
    }
    if (!is_usb_id(row.cells[0]) || !is_usb_id(row.cells[1])) {
      throw std::runtime_error(
          fmt::format("usb-adapters.csv:{}: '{}:{}' is not two ids of 4 lowercase hex digits",
                      row.line, row.cells[0], row.cells[1]));
    }
    if (row.cells[2].empty()) {
      throw std::runtime_error(fmt::format("usb-adapters.csv:{}: the name is empty", row.line));
    }
    if (find_known_adapter(table, row.cells[0], row.cells[1]) != nullptr) {
      throw std::runtime_error(fmt::format("usb-adapters.csv:{}: {}:{} is listed twice", row.line,
                                           row.cells[0], row.cells[1]));
    }
    table.push_back({row.cells[0], row.cells[1], row.cells[2], row.cells[3], row.cells[4]});
  }
  return table;
}

const std::vector<KnownAdapter>& known_adapters() {
  static const std::vector<KnownAdapter> table = parse_adapter_table(k_usb_adapters_csv);
  return table;
}

const KnownAdapter* find_known_adapter(const std::vector<KnownAdapter>& table,
                                       std::string_view vendor_id, std::string_view product_id) {
  for (const auto& known : table) {
    if (known.vendor_id == vendor_id && known.product_id == product_id) return &known;
  }
  return nullptr;
}

std::optional<UsbIdentity> usb_identity_of(const fs::path& sys_root, std::string_view tty) {
  auto tty_device = sys_root / "class" / "tty" / std::string(tty) / "device";
  std::error_code ec;
  auto folder = fs::canonical(tty_device, ec);
  if (ec) return std::nullopt;
  UsbIdentity usb;
  usb.driver = fs::read_symlink(tty_device / "driver", ec).filename().string();
  // usb-serial: port -> interface -> device; cdc-acm: interface -> device. A few levels more
  // would already be the hub or the host controller.
  for (int level = 0; level < 4 && folder.has_relative_path(); ++level) {
    folder = folder.parent_path();
    if (!fs::exists(folder / "idVendor", ec) || !fs::exists(folder / "idProduct", ec)) continue;
    usb.vendor_id = read_attribute(folder / "idVendor");
    usb.product_id = read_attribute(folder / "idProduct");
    usb.manufacturer = read_attribute(folder / "manufacturer");
    usb.product = read_attribute(folder / "product");
    return usb;
  }
  return std::nullopt;
}

std::string describe_adapter(const SerialAdapter& adapter, const std::vector<KnownAdapter>& table) {
  if (!adapter.usb) return "no USB information";
  const auto& usb = *adapter.usb;
  std::string text;
  if (const auto* known = find_known_adapter(table, usb.vendor_id, usb.product_id)) {
    text = fmt::format("{}:{} {}", usb.vendor_id, usb.product_id, known->name);
    if (!known->chip.empty() && known->name.find(known->chip) == std::string::npos) {
      text += fmt::format(" ({})", known->chip);
    }
  } else {
    text = fmt::format("unknown adapter {}:{}", usb.vendor_id, usb.product_id);
    std::string own = usb.manufacturer;
    if (!usb.product.empty()) own += (own.empty() ? "" : " ") + usb.product;
    if (!own.empty()) text += fmt::format(" ({})", own);
  }
  if (!usb.driver.empty()) text += ", driver " + usb.driver;
  return text;
}

std::vector<SerialAdapter> find_serial_adapters(const DeviceRoots& roots) {
  std::vector<SerialAdapter> found;
  std::vector<std::string> claimed;  // the devices that have a by-id name
  auto by_id = roots.dev / "serial" / "by-id";
  for (const auto& name : sorted_entries(by_id)) {
    auto link = by_id / name;
    std::error_code ec;
    // udev's links are "../../ttyUSB0": the tty's name is the target's last part.
    auto target = fs::read_symlink(link, ec);
    SerialAdapter adapter;
    adapter.path = link.string();
    adapter.tty = ec ? name : target.filename().string();
    adapter.stable = true;
    adapter.usb = usb_identity_of(roots.sys, adapter.tty);
    claimed.push_back(device_identity(link));
    found.push_back(std::move(adapter));
  }
  for (const auto& name : sorted_entries(roots.dev)) {
    bool wanted = std::any_of(std::begin(k_tty_prefixes), std::end(k_tty_prefixes),
                              [&](std::string_view prefix) { return name.starts_with(prefix); });
    if (!wanted) continue;
    auto path = roots.dev / name;
    if (std::find(claimed.begin(), claimed.end(), device_identity(path)) != claimed.end()) continue;
    found.push_back({path.string(), name, false, usb_identity_of(roots.sys, name)});
  }
  return found;
}

}  // namespace tracermon::app
