// storage/FORMAT.md lists every column family and every fixed key of the
// `meta` and `models` families the code writes (docs/DESIGN.md decision 3).
// These tests read FORMAT.md at test time and fail when the code names a
// family or key the page does not list, or the page lists a family the code
// does not have: a new family or key must be documented in the same change.
//
// Families come from storage::ColumnFamily (every value below
// kNumColumnFamilies, by ColumnFamilyName). Keys come from the constants of
// storage/key_codec.h, and from every `kMeta*` string constant in the
// storage/ and engine/ sources (the privacy keys live in engine/privacy/),
// plus every `k*Key` / `k*Prefix` string constant in a source file that
// writes the `models` family.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "storage/key_codec.h"
#include "storage/store.h"

namespace recdb::storage {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string FormatDoc() { return ReadFile(fs::path(RECDB_SOURCE_DIR) / "storage" / "FORMAT.md"); }

// The text of FORMAT.md from the line starting with `heading` to the next
// heading of the same or a higher level; empty if there is none.
std::string Section(const std::string& doc, const std::string& heading) {
  const size_t start = doc.find("\n" + heading);
  if (start == std::string::npos) return "";
  const size_t level = heading.find(' ');
  size_t end = start + 1;
  while (true) {
    end = doc.find("\n#", end + 1);
    if (end == std::string::npos) return doc.substr(start);
    const size_t hashes = doc.find_first_not_of('#', end + 1) - (end + 1);
    if (hashes <= level) return doc.substr(start, end - start);
  }
}

// The first-column names of the "Column families" table: rows "| `name` |".
std::set<std::string> DocumentedFamilies(const std::string& doc) {
  std::set<std::string> out;
  std::string table = Section(doc, "## Column families");
  table = table.substr(0, table.find("\n#", 1));  // the table, not the subsections
  std::istringstream lines(table);
  const std::regex row(R"(^\| `([a-z_]+)` \|)");
  std::smatch m;
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_search(line, m, row)) out.insert(m[1]);
  }
  return out;
}

struct KeyConstant {
  std::string file;
  std::string name;
  std::string value;
};

// String constants `constexpr std::string_view NAME = "..."` and
// `constexpr char NAME[] = "..."` in every .h/.cc under the given folders.
std::vector<KeyConstant> StringConstants(const std::vector<std::string>& folders) {
  const std::regex def(
      R"(constexpr\s+(?:std::string_view\s+(k\w+)|char\s+(k\w+)\[\])\s*=\s*"([^"]*)\")");
  std::vector<KeyConstant> out;
  for (const std::string& folder : folders) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(RECDB_SOURCE_DIR) / folder)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
      const std::string text = ReadFile(e.path());
      for (auto it = std::sregex_iterator(text.begin(), text.end(), def);
           it != std::sregex_iterator(); ++it) {
        const std::string name = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
        out.push_back({e.path().string(), name, (*it)[3].str()});
      }
    }
  }
  return out;
}

bool Lists(const std::string& section, std::string_view key) {
  return section.find("`" + std::string(key) + "`") != std::string::npos;
}

TEST(FormatDocTest, EveryColumnFamilyIsListed) {
  const std::set<std::string> documented = DocumentedFamilies(FormatDoc());
  ASSERT_FALSE(documented.empty()) << "no \"## Column families\" table in storage/FORMAT.md";
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    const std::string name(ColumnFamilyName(static_cast<ColumnFamily>(i)));
    EXPECT_TRUE(documented.count(name))
        << "column family \"" << name << "\" (storage::ColumnFamily " << i
        << ") is missing from the table in storage/FORMAT.md";
  }
}

TEST(FormatDocTest, EveryListedFamilyExistsInTheCode) {
  std::set<std::string> code;
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    code.insert(std::string(ColumnFamilyName(static_cast<ColumnFamily>(i))));
  }
  for (const std::string& name : DocumentedFamilies(FormatDoc())) {
    EXPECT_TRUE(code.count(name)) << "storage/FORMAT.md lists \"" << name
                                  << "\", which storage::ColumnFamily does not have";
  }
}

// Every family recdb stores something in has its own "### " section (the
// `models` family was once described as "reserved, created empty" while the
// engine wrote to it); the table row alone is not a layout.
TEST(FormatDocTest, EveryFamilyInUseHasASection) {
  const std::string doc = FormatDoc();
  std::vector<std::string> headings;
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("### ", 0) == 0) headings.push_back(line);
  }
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    const auto cf = static_cast<ColumnFamily>(i);
    if (cf == ColumnFamily::kDefault) continue;  // RocksDB's, unused
    const std::string quoted = "`" + std::string(ColumnFamilyName(cf)) + "`";
    bool found = false;
    for (const std::string& h : headings) found = found || h.find(quoted) != std::string::npos;
    EXPECT_TRUE(found) << "storage/FORMAT.md has no \"### \" section naming " << quoted;
  }
  EXPECT_EQ(doc.find("reserved, created empty"), std::string::npos);
}

TEST(FormatDocTest, KeyCodecMetaKeysAreListed) {
  const std::string meta = Section(FormatDoc(), "### `meta`");
  ASSERT_FALSE(meta.empty()) << "no \"### `meta`\" section in storage/FORMAT.md";
  for (std::string_view key : {kMetaFormatVersion, kMetaNextItemId, kMetaNextUserId,
                               kMetaNextEventSeq, kMetaItemCount, kMetaUserCount,
                               kMetaEventCount, kMetaEventTypePrefix}) {
    EXPECT_TRUE(Lists(meta, key)) << "meta key \"" << key
                                  << "\" (storage/key_codec.h) is not listed in storage/FORMAT.md";
  }
}

TEST(FormatDocTest, EveryMetaKeyConstantInTheSourcesIsListed) {
  const std::string meta = Section(FormatDoc(), "### `meta`");
  ASSERT_FALSE(meta.empty());
  int checked = 0;
  for (const KeyConstant& c : StringConstants({"storage", "engine"})) {
    if (c.name.rfind("kMeta", 0) != 0) continue;
    ++checked;
    EXPECT_TRUE(Lists(meta, c.value)) << c.name << " = \"" << c.value << "\" (" << c.file
                                      << ") is not listed in storage/FORMAT.md, section `meta`";
  }
  // key_codec.h's 8 and the privacy keys (engine/privacy/): a scan that
  // finds fewer is broken, not passing.
  EXPECT_GE(checked, 14);
}

TEST(FormatDocTest, EveryModelsKeyConstantIsListed) {
  const std::string models = Section(FormatDoc(), "### `models`");
  ASSERT_FALSE(models.empty()) << "no \"### `models`\" section in storage/FORMAT.md";
  std::set<std::string> writers;  // files that use the models family
  for (const char* folder : {"storage", "engine"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(RECDB_SOURCE_DIR) / folder)) {
      if (e.is_regular_file() &&
          ReadFile(e.path()).find("ColumnFamily::kModels") != std::string::npos) {
        writers.insert(e.path().string());
      }
    }
  }
  ASSERT_FALSE(writers.empty());
  int checked = 0;
  const std::regex key_name(R"(k\w*(Key|Prefix))");
  for (const KeyConstant& c : StringConstants({"storage", "engine"})) {
    if (!writers.count(c.file) || !std::regex_match(c.name, key_name)) continue;
    ++checked;
    EXPECT_TRUE(Lists(models, c.value)) << c.name << " = \"" << c.value << "\" (" << c.file
                                        << ") is not listed in storage/FORMAT.md, section `models`";
  }
  EXPECT_GE(checked, 1) << "no key constant found in " << *writers.begin();
}

}  // namespace
}  // namespace recdb::storage
