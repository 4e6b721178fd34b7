#include "engine/models/model_io.h"

namespace recdb::models {

void ModelWriter::PutStrings(const std::vector<std::string>& v) {
  Put<uint64_t>(v.size());
  for (const std::string& s : v) PutString(s);
}

void ModelWriter::PutNested(const std::vector<std::vector<uint32_t>>& v) {
  Put<uint64_t>(v.size());
  for (const auto& row : v) PutVector(row);
}

void ModelWriter::PutNested(const std::vector<std::vector<float>>& v) {
  Put<uint64_t>(v.size());
  for (const auto& row : v) PutVector(row);
}

bool ModelReader::Need(size_t n) {
  if (!status_.ok()) return false;
  if (n > in_.size() - pos_) return Fail("truncated");
  return true;
}

bool ModelReader::Fail(const std::string& why) {
  if (status_.ok()) {
    status_ = Status::Corruption(what_ + ": " + why + " at byte " + std::to_string(pos_));
  }
  return false;
}

bool ModelReader::GetString(std::string* s) {
  uint64_t n = 0;
  if (!Get(&n)) return false;
  if (n > in_.size() - pos_) return Fail("string longer than the input");
  s->assign(in_.data() + pos_, n);
  pos_ += n;
  return true;
}

namespace {

// Each element takes at least 8 bytes (its count), which bounds a count
// before anything is allocated.
template <typename Row>
bool GetRows(ModelReader* r, std::vector<Row>* v, size_t left,
             bool (*get)(ModelReader*, Row*)) {
  uint64_t n = 0;
  if (!r->Get(&n)) return false;
  if (n > left / 8) return r->Fail("more rows than the input holds");
  v->assign(n, Row());
  for (auto& row : *v) {
    if (!get(r, &row)) return false;
  }
  return true;
}

}  // namespace

bool ModelReader::GetStrings(std::vector<std::string>* v) {
  return GetRows<std::string>(this, v, in_.size() - pos_,
                              [](ModelReader* r, std::string* s) { return r->GetString(s); });
}

bool ModelReader::GetNested(std::vector<std::vector<uint32_t>>* v) {
  return GetRows<std::vector<uint32_t>>(
      this, v, in_.size() - pos_,
      [](ModelReader* r, std::vector<uint32_t>* row) { return r->GetVector(row); });
}

bool ModelReader::GetNested(std::vector<std::vector<float>>* v) {
  return GetRows<std::vector<float>>(
      this, v, in_.size() - pos_,
      [](ModelReader* r, std::vector<float>* row) { return r->GetVector(row); });
}

bool ModelReader::SkipPadding() {
  const size_t pad = (8 - pos_ % 8) % 8;
  if (!Need(pad)) return false;
  pos_ += pad;
  return true;
}

bool ModelReader::GetBlock(ModelReader* inner, std::string what) {
  uint64_t n = 0;
  if (!Get(&n) || !SkipPadding()) return false;
  if (n > in_.size() - pos_) return Fail("block longer than the input");
  *inner = ModelReader(in_.substr(pos_, n), std::move(what));
  inner->keep_alive_ = keep_alive_;
  inner->shared_ = shared_;
  pos_ += n;
  return true;
}

Status ModelReader::Finish() const {
  if (!status_.ok()) return status_;
  if (!AtEnd()) {
    return Status::Corruption(what_ + ": " + std::to_string(in_.size() - pos_) +
                              " bytes left over after byte " + std::to_string(pos_));
  }
  return Status::OK();
}

}  // namespace recdb::models
