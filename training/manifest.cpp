// manifest.cpp: see manifest.h.
#include "training/manifest.h"

#include <fstream>
#include <sstream>

namespace sf::train {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

}  // namespace

std::vector<ManifestEntry> parse_manifest(const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::string line;
  size_t lineno = 0;
  int col_path = -1, col_label = -1, col_split = -1, col_source = -1;
  std::vector<ManifestEntry> out;
  auto fail = [&](const std::string& what) {
    throw ManifestError(origin + ":" + std::to_string(lineno) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto cols = split_tabs(line);
    if (col_path < 0) {
      for (size_t i = 0; i < cols.size(); ++i) {
        if (cols[i] == "path") col_path = static_cast<int>(i);
        if (cols[i] == "label") col_label = static_cast<int>(i);
        if (cols[i] == "split") col_split = static_cast<int>(i);
        if (cols[i] == "source") col_source = static_cast<int>(i);
      }
      if (col_path < 0 || col_label < 0)
        fail("header row must name at least the columns 'path' and 'label'");
      continue;
    }
    auto col = [&](int c) -> std::string {
      if (c < 0) return "";
      if (static_cast<size_t>(c) >= cols.size()) fail("too few columns");
      return cols[static_cast<size_t>(c)];
    };
    ManifestEntry e;
    e.path = col(col_path);
    if (e.path.empty()) fail("empty path");
    std::string label = col(col_label);
    if (label == "spam")
      e.spam = true;
    else if (label != "ham")
      fail("label '" + label + "' is neither 'spam' nor 'ham'");
    e.split = col(col_split);
    e.source = col(col_source);
    out.push_back(std::move(e));
  }
  if (col_path < 0) throw ManifestError(origin + ": empty manifest (no header row)");
  return out;
}

std::vector<ManifestEntry> read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ManifestError(path + ": cannot open manifest");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_manifest(s.str(), path);
}

}  // namespace sf::train
