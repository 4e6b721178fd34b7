// Vector file parsers: JSONL, CSV, fvecs; errors name the line/row; random
// bytes never crash.
#include "tools/import/vector_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "test_util.h"

namespace recdb::tools {
namespace {

StatusOr<std::vector<VectorRecord>> Parse(std::string_view bytes, VectorFileFormat format,
                                          int dim = 0,
                                          const std::vector<std::string>* ids = nullptr) {
  VectorReadOptions o;
  o.format = format;
  o.expected_dimension = dim;
  std::vector<VectorRecord> out;
  Status s = ParseVectorBytes(bytes, "f", o, ids, [&](VectorRecord&& r) {
    out.push_back(std::move(r));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

std::string Fvecs(const std::vector<std::vector<float>>& rows) {
  std::string out;
  for (const auto& r : rows) {
    const int32_t n = static_cast<int32_t>(r.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out.append(reinterpret_cast<const char*>(r.data()), r.size() * 4);
  }
  return out;
}

TEST(VectorReaderTest, Jsonl) {
  auto r = Parse("{\"id\": \"a\", \"vector\": [1, 2.5, -3]}\n\n{\"id\": 7, \"vector\": [0,0,1e-3]}\r\n",
                 VectorFileFormat::kJsonl);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "a");
  EXPECT_EQ((*r)[0].values, (std::vector<float>{1, 2.5f, -3}));
  EXPECT_EQ((*r)[1].id, "7");
  EXPECT_FLOAT_EQ((*r)[1].values[2], 1e-3f);
}

TEST(VectorReaderTest, JsonlErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* needle;
  };
  const Case cases[] = {
      {"{\"id\":\"a\",\"vector\":[1,2]}\n{\"id\":\"b\",\"vector\":[1]}\n", "f:2: 1 values, expected 2"},
      {"{\"id\":\"a\",\"vector\":[1,2]}\nnot json\n", "f:2: not valid JSON"},
      {"[1,2]\n", "f:1: not a JSON object"},
      {"{\"vector\":[1]}\n", "missing \"id\""},
      {"{\"id\":\"\",\"vector\":[1]}\n", "empty \"id\""},
      {"{\"id\":true,\"vector\":[1]}\n", "\"id\" must be"},
      {"{\"id\":\"a\"}\n", "missing \"vector\""},
      {"{\"id\":\"a\",\"vector\":\"x\"}\n", "array of numbers"},
      {"{\"id\":\"a\",\"vector\":[1,\"2\"]}\n", "\"vector\"[1] is not a number"},
      {"{\"id\":\"a\",\"vector\":[1e300]}\n", "not a finite float"},
      {"{\"id\":\"a\",\"vector\":[]}\n", "empty vector"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.text, VectorFileFormat::kJsonl);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status().ToString() << " for " << c.text;
  }
  // The space's dimension is enforced from the first row.
  auto r = Parse("{\"id\":\"a\",\"vector\":[1,2,3]}\n", VectorFileFormat::kJsonl, 2);
  EXPECT_NE(r.status().message().find("3 values, expected 2"), std::string::npos);
}

TEST(VectorReaderTest, Csv) {
  auto r = Parse("id,v1,v2\nx,1,2\n\"y,z\",3, 4\n\"q\"\"\",5,6\n", VectorFileFormat::kCsv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, "x");
  EXPECT_EQ((*r)[1].id, "y,z");
  EXPECT_EQ((*r)[1].values, (std::vector<float>{3, 4}));
  EXPECT_EQ((*r)[2].id, "q\"");
  // No header.
  r = Parse("1,0.5,0.25\n", VectorFileFormat::kCsv);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].id, "1");
}

TEST(VectorReaderTest, CsvErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* needle;
  };
  const Case cases[] = {
      {"a,1,2\nb,1\n", "f:2: 1 values, expected 2"},
      {"a,1,2\nb,1,x\n", "f:2: field 3 is not a finite number"},
      {"a,1,nan\n", "field 3"},
      {"a,1,inf\n", "field 3"},
      {"a,1,1e99\n", "field 3"},
      {"a\n", "no values"},
      {",1,2\n", "empty id"},
      {"\"abc,1\n", "unterminated"},
      {"\"a\"x,1\n", "expected ','"},
      {"a,1,,2\n", "field 3"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.text, VectorFileFormat::kCsv);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status().ToString() << " for " << c.text;
  }
}

TEST(VectorReaderTest, Fvecs) {
  const std::string bytes = Fvecs({{1, 2, 3}, {4, 5, 6}});
  auto r = Parse(bytes, VectorFileFormat::kFvecs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].id, "1");
  EXPECT_EQ((*r)[1].values, (std::vector<float>{4, 5, 6}));
  const std::vector<std::string> ids = {"a", "b"};
  r = Parse(bytes, VectorFileFormat::kFvecs, 0, &ids);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].id, "a");
  EXPECT_EQ((*r)[1].id, "b");
}

TEST(VectorReaderTest, FvecsErrorsNameTheRow) {
  const std::string good = Fvecs({{1, 2}, {3, 4}});
  auto r = Parse(good.substr(0, good.size() - 3), VectorFileFormat::kFvecs);
  EXPECT_NE(r.status().message().find("row 1 (byte offset 12): truncated"), std::string::npos)
      << r.status().ToString();
  r = Parse(good.substr(0, 14), VectorFileFormat::kFvecs);
  EXPECT_NE(r.status().message().find("truncated dimension"), std::string::npos);
  r = Parse(Fvecs({{1, 2}, {3}}), VectorFileFormat::kFvecs);
  EXPECT_NE(r.status().message().find("row 1"), std::string::npos);
  std::string neg(4, '\xff');
  r = Parse(neg, VectorFileFormat::kFvecs);
  EXPECT_NE(r.status().message().find("dimension -1"), std::string::npos);
  std::string huge(4, '\0');
  const int32_t big = 1 << 30;
  std::memcpy(huge.data(), &big, 4);
  r = Parse(huge, VectorFileFormat::kFvecs);  // must not allocate 4 GiB
  EXPECT_TRUE(r.status().IsInvalidArgument());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  r = Parse(Fvecs({{1, nan}}), VectorFileFormat::kFvecs);
  EXPECT_NE(r.status().message().find("not finite"), std::string::npos);
  const std::vector<std::string> one = {"a"};
  r = Parse(good, VectorFileFormat::kFvecs, 0, &one);
  EXPECT_NE(r.status().message().find("more vectors than ids"), std::string::npos);
  const std::vector<std::string> three = {"a", "b", "c"};
  r = Parse(good, VectorFileFormat::kFvecs, 0, &three);
  EXPECT_NE(r.status().message().find("2 vectors but 3 ids"), std::string::npos);
}

TEST(VectorReaderTest, FilesAndFormatsFromExtensions) {
  test::TempDir dir;
  EXPECT_EQ(*VectorFileFormatFromPath("a.jsonl"), VectorFileFormat::kJsonl);
  EXPECT_EQ(*VectorFileFormatFromPath("a.csv"), VectorFileFormat::kCsv);
  EXPECT_EQ(*VectorFileFormatFromPath("a.fvecs"), VectorFileFormat::kFvecs);
  EXPECT_TRUE(VectorFileFormatFromPath("a.bin").status().IsInvalidArgument());
  EXPECT_TRUE(ParseVectorFileFormat("xml").status().IsInvalidArgument());

  const std::string fv = dir.Sub("v.fvecs"), idp = dir.Sub("ids.txt");
  std::ofstream(fv, std::ios::binary) << Fvecs({{1, 2}, {3, 4}});
  std::ofstream(idp) << "x\ny\n";
  VectorReadOptions o;
  o.format = VectorFileFormat::kFvecs;
  o.ids_path = idp;
  std::vector<VectorRecord> got;
  auto sink = [&](VectorRecord&& r) {
    got.push_back(std::move(r));
    return Status::OK();
  };
  ASSERT_TRUE(ReadVectorFile(fv, o, sink).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].id, "y");

  const std::string csv = dir.Sub("v.csv");
  std::ofstream(csv) << "a,1,2\nb,3\n";
  o = VectorReadOptions{};
  o.format = VectorFileFormat::kCsv;
  Status s = ReadVectorFile(csv, o, sink);
  EXPECT_NE(s.message().find(csv + ":2:"), std::string::npos) << s.ToString();
  EXPECT_TRUE(ReadVectorFile(dir.Sub("missing.csv"), o, sink).IsIOError());
  // A sink error stops the read.
  s = ReadVectorFile(fv, VectorReadOptions{VectorFileFormat::kFvecs, 0, ""},
                     [](VectorRecord&&) { return Status::Aborted("stop"); });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
}

TEST(VectorReaderTest, RandomBytesNeverCrash) {
  std::mt19937 rng(3);
  const std::string seeds[] = {"{\"id\":\"a\",\"vector\":[1,2]}\n", "a,1,2\n",
                               Fvecs({{1, 2}, {3, 4}})};
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = seeds[round % 3];
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (bytes.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (at < bytes.size()) bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.insert(at, 1, static_cast<char>(rng()));
          break;
        case 2:
          bytes.resize(at);
          break;
      }
    }
    for (VectorFileFormat f :
         {VectorFileFormat::kJsonl, VectorFileFormat::kCsv, VectorFileFormat::kFvecs}) {
      auto r = Parse(bytes, f);
      if (r.ok()) {
        for (const VectorRecord& v : *r) {
          EXPECT_FALSE(v.id.empty());
          EXPECT_FALSE(v.values.empty());
        }
      }
    }
  }
}

}  // namespace
}  // namespace recdb::tools
