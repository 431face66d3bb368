#pragma once
// A small RFC 4180 reader for the register tables in data/ (quoted fields may hold commas).

#include <string>
#include <string_view>
#include <vector>

namespace tracermon::protocol {

struct CsvRow {
  std::size_t line;  // 1-based line number in the text, for error messages
  std::vector<std::string> cells;
};

// Parses all rows, the header included. Throws std::runtime_error naming the line on an
// unterminated quote.
std::vector<CsvRow> parse_csv(std::string_view text);

}  // namespace tracermon::protocol
