#pragma once
// Payloads "item-0", "item-1", ... for the output tests: their order is visible in the text.

#include <string>
#include <vector>

namespace tracermon::sinks::test {

inline std::string item(int i) {
  return "item-" + std::to_string(i);
}

// item(from) .. item(to - 1)
inline std::vector<std::string> items(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back(item(i));
  return out;
}

}  // namespace tracermon::sinks::test
