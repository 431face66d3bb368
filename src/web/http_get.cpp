#include "web/http_get.hpp"

#include <httplib.h>
#include <stdexcept>

namespace tracermon::web {

HttpAnswer http_get(const std::string& base_url, const std::string& path,
                    std::chrono::seconds timeout) {
  std::string rest = base_url.starts_with("http://") ? base_url.substr(7) : base_url;
  while (rest.ends_with('/'))
    rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size()) {
    throw std::invalid_argument("no port in '" + base_url + "'");
  }
  auto host = rest.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  httplib::Client client(host, std::stoi(rest.substr(colon + 1)));
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  auto answer = client.Get(path);
  if (!answer) return {0, {}, httplib::to_string(answer.error())};
  return {answer->status, answer->body, {}};
}

}  // namespace tracermon::web
