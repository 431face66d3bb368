#pragma once
// The USB serial adapters of this machine: their stable /dev/serial/by-id names, the ttys
// without one, and what sysfs says they are (vendor:product, driver), named from the table of
// known RS-485 adapters (data/usb-adapters.csv).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracermon::app {

// A row of data/usb-adapters.csv; ids are 4 lowercase hex digits.
struct KnownAdapter {
  std::string vendor_id;
  std::string product_id;
  std::string name;    // "EPEVER CC-USB-RS485-150U"
  std::string chip;    // "Exar XR21B1411"
  std::string driver;  // the Linux driver(s), informative
};

// Parses the table (header `vendor_id,product_id,name,chip,driver`). Throws std::runtime_error
// "usb-adapters.csv:LINE: ..." for a bad row.
std::vector<KnownAdapter> parse_adapter_table(std::string_view csv);
// The table built into the binary.
const std::vector<KnownAdapter>& known_adapters();
const KnownAdapter* find_known_adapter(const std::vector<KnownAdapter>& table,
                                       std::string_view vendor_id, std::string_view product_id);

// What sysfs tells about the USB device behind a tty.
struct UsbIdentity {
  std::string vendor_id;  // "04e2"
  std::string product_id;
  std::string manufacturer;  // the device's own strings, may be empty
  std::string product;
  std::string driver;  // the tty's driver: "xr_serial", "cdc_acm", "ch341-uart", ...
};

// The USB device of /sys/class/tty/<tty>, under `sys_root`. The tty's `device` link leads to
// the USB interface (cdc-acm) or to a port below it (usb-serial): the first folder above it
// with idVendor and idProduct is the USB device. Nothing for a tty that is not USB.
std::optional<UsbIdentity> usb_identity_of(const std::filesystem::path& sys_root,
                                           std::string_view tty);

struct SerialAdapter {
  std::string path;     // what a config names: the by-id link, else /dev/ttyUSB0 and the like
  std::string tty;      // "ttyUSB0"
  bool stable = false;  // a /dev/serial/by-id name, which survives replugging
  std::optional<UsbIdentity> usb;
};

// "04e2:1411 EPEVER CC-USB-RS485-150U (Exar XR21B1411), driver xr_serial",
// "unknown adapter 1234:abcd (Acme Serial), driver ftdi_sio", or "no USB information".
std::string describe_adapter(const SerialAdapter& adapter, const std::vector<KnownAdapter>& table);

struct DeviceRoots {
  std::filesystem::path dev = "/dev";
  std::filesystem::path sys = "/sys";
};

// The tty name patterns looked at besides /dev/serial/by-id.
inline constexpr std::string_view k_tty_prefixes[] = {"ttyUSB", "ttyACM", "ttyXRUSB",
                                                      "ttyCH343USB"};

// Every entry of <dev>/serial/by-id, then the ttys of k_tty_prefixes that no by-id entry
// points to, each sorted by name.
std::vector<SerialAdapter> find_serial_adapters(const DeviceRoots& roots);

}  // namespace tracermon::app
