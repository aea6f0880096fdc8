// manifest.h: reads a labelled-mail manifest (TSV with a header row:
// path, label, split, source; extra columns are ignored), as in
// ../shared/corpus/manifest.tsv.
//
// Promises: every returned entry has a non-empty path, a label of "spam" or
// "ham", and split/source as written. Failure: ManifestError names the file
// and line (a missing column, an unknown label): the manifest's fault.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace sf::train {

struct ManifestError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ManifestEntry {
  std::string path;    // relative to the corpus root
  bool spam = false;
  std::string split;   // train / val / test
  std::string source;  // spamassassin / trec07 / ...
};

std::vector<ManifestEntry> read_manifest(const std::string& path);
std::vector<ManifestEntry> parse_manifest(const std::string& text, const std::string& origin);

}  // namespace sf::train
