#pragma once
// The web page of `nmt serve` (src/serve/web/index.html, embedded at build time: no CDN, works
// offline).
#include <string>

namespace nmt::serve {
const std::string& page_html();
}
