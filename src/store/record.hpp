#pragma once
// What the store is given: the values of one source (a device such as "bus1-1", or a site) at
// one time. Values are stored at a resolution of 0.01 (every register of the map has scale 1 or
// 100), so 123456.78 comes back exactly and 1.234 comes back as 1.23.

#include <cstdint>
#include <string>
#include <vector>

namespace tracermon::store {

struct RecordValue {
  std::string field;
  double value = 0;
};

struct Record {
  std::string source;
  std::int64_t time_ms = 0;  // ms since the epoch, UTC; a second record at the same time replaces
  std::vector<RecordValue> values;
};

}  // namespace tracermon::store
