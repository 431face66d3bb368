#pragma once
// Text from a file (a key, a value, a line) may contain control characters: a NUL cuts a C
// string (an exception's what(), a log line), an escape sequence rewrites the terminal. Errors
// that quote such text escape them.

#include <string>
#include <string_view>

namespace tracermon::core {

// `text` with every control character (U+0000-U+001F, U+007F) as \u00XX ("\u0000", "\u001b");
// everything else, UTF-8 included, unchanged.
std::string printable(std::string_view text);

}  // namespace tracermon::core
