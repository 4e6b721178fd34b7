// SpaceManager's embedding providers: the built-in text model and an
// OpenAI-compatible endpoint. Both read items through DBImpl::ForEachItem and
// store vectors through PutVectors, so they get its validation and atomicity
// per batch.
#include <exception>
#include <new>

#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/embed/text_embedder.h"
#include "engine/spaces/space.h"
#include "engine/spaces/space_manager.h"
#include "storage/store.h"

namespace recdb {
namespace {

constexpr size_t kTextModelBatch = 1024;

void AppendField(std::string* text, const std::string& value) {
  if (value.empty()) return;
  if (!text->empty()) text->push_back('\n');
  text->append(value);
}

// The text of `item` made of `fields` (validated by the caller).
std::string ItemText(const Item& item, const std::vector<std::string>& fields) {
  std::string text;
  for (const std::string& f : fields) {
    if (f == "title") {
      AppendField(&text, item.title);
    } else if (f == "description") {
      AppendField(&text, item.description);
    } else if (f == "categories") {
      std::string joined;
      for (const std::string& c : item.categories) {
        if (!joined.empty()) joined += ", ";
        joined += c;
      }
      AppendField(&text, joined);
    } else if (f == "creator") {
      AppendField(&text, item.creator);
    }
  }
  return text;
}

Status CheckFields(const std::vector<std::string>& fields) {
  if (fields.empty()) return Status::InvalidArgument("no item fields to embed");
  for (const std::string& f : fields) {
    if (f != "title" && f != "description" && f != "categories" && f != "creator") {
      return Status::InvalidArgument("unknown item field \"" + f +
                                     "\" (use title, description, categories, creator)");
    }
  }
  return Status::OK();
}

struct ItemTexts {
  std::vector<std::string> ids;
  std::vector<std::string> texts;
  int64_t skipped = 0;
};

StatusOr<ItemTexts> CollectTexts(DBImpl* db, const std::vector<std::string>& fields) {
  ItemTexts out;
  RECDB_RETURN_IF_ERROR(db->ForEachItem([&](const Item& item) -> Status {
    std::string text = ItemText(item, fields);
    if (text.empty()) {
      ++out.skipped;
      return Status::OK();
    }
    out.ids.push_back(item.id);
    out.texts.push_back(std::move(text));
    return Status::OK();
  }));
  return out;
}

}  // namespace

StatusOr<EmbedReport> SpaceManager::EmbedItemsWithTextModel(const std::string& space,
                                                            const EmbedProgressFn& progress) {
  return NoThrow([&]() -> StatusOr<EmbedReport> {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    const int dim = s->def.options.dimension;
    if (dim < 8 || dim > 4096) {
      return Status::InvalidArgument("the built-in text model needs a dimension in 8..4096, space \"" +
                                     space + "\" has " + std::to_string(dim));
    }
    RECDB_ASSIGN_OR_RETURN(ItemTexts items,
                           CollectTexts(db_, {"title", "description", "categories"}));
    TextEmbedder embedder(dim);
    embedder.Fit(items.texts);
    // The model first: vectors without their model could not be extended
    // to new items consistently.
    {
      rocksdb::WriteBatch batch;
      batch.Put(db_->store()->Handle(storage::ColumnFamily::kVectors),
                spaces::TextModelKey(s->def.id), embedder.Serialize());
      RECDB_RETURN_IF_ERROR(db_->store()->Write(&batch, /*sync=*/false));
    }
    EmbedReport report;
    report.items = static_cast<int64_t>(items.ids.size()) + items.skipped;
    report.skipped_empty = items.skipped;
    const int64_t total = static_cast<int64_t>(items.ids.size());
    std::vector<VectorRecord> batch;
    for (size_t i = 0; i < items.ids.size(); ++i) {
      std::vector<float> v = embedder.Embed(items.texts[i]);
      bool nonzero = false;
      for (float f : v) nonzero = nonzero || f != 0.0f;
      if (!nonzero) {  // text with no features (e.g. only punctuation)
        ++report.skipped_empty;
        continue;
      }
      batch.push_back(VectorRecord{items.ids[i], std::move(v)});
      if (batch.size() == kTextModelBatch || i + 1 == items.ids.size()) {
        RECDB_RETURN_IF_ERROR(PutVectors(WriteOptions{}, space, EntityKind::kItem, batch));
        report.embedded += static_cast<int64_t>(batch.size());
        batch.clear();
        if (progress) progress(static_cast<int64_t>(i + 1), total);
      }
    }
    if (!batch.empty()) {
      RECDB_RETURN_IF_ERROR(PutVectors(WriteOptions{}, space, EntityKind::kItem, batch));
      report.embedded += static_cast<int64_t>(batch.size());
      if (progress) progress(total, total);
    }
    return report;
  });
}

StatusOr<EmbedReport> SpaceManager::EmbedItemsWithEndpoint(const std::string& space,
                                                           const EndpointEmbedOptions& options,
                                                           const EmbedProgressFn& progress) {
  return NoThrow([&]() -> StatusOr<EmbedReport> {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    RECDB_RETURN_IF_ERROR(CheckFields(options.fields));
    if (options.batch_size < 1 || options.batch_size > 2048) {
      return Status::InvalidArgument("batch size " + std::to_string(options.batch_size) +
                                     " outside 1..2048");
    }
    RECDB_ASSIGN_OR_RETURN(EmbeddingsClient client, EmbeddingsClient::Create(options.endpoint));
    RECDB_ASSIGN_OR_RETURN(ItemTexts items, CollectTexts(db_, options.fields));
    EmbedReport report;
    report.items = static_cast<int64_t>(items.ids.size()) + items.skipped;
    report.skipped_empty = items.skipped;
    const int64_t total = static_cast<int64_t>(items.ids.size());
    const auto dim = static_cast<size_t>(s->def.options.dimension);
    for (size_t begin = 0; begin < items.ids.size(); begin += options.batch_size) {
      const size_t end = std::min(items.ids.size(), begin + options.batch_size);
      std::vector<std::string> inputs(items.texts.begin() + static_cast<ptrdiff_t>(begin),
                                      items.texts.begin() + static_cast<ptrdiff_t>(end));
      auto vectors = client.Embed(inputs);
      if (!vectors.ok()) {
        return vectors.status().WithContext("items " + std::to_string(begin + 1) + "-" +
                                            std::to_string(end) + " of " + std::to_string(total) +
                                            " (" + std::to_string(report.embedded) +
                                            " already stored)");
      }
      std::vector<VectorRecord> batch;
      batch.reserve(end - begin);
      for (size_t i = begin; i < end; ++i) {
        std::vector<float>& v = (*vectors)[i - begin];
        if (v.size() != dim) {
          return Status::InvalidArgument(
              "the model returned " + std::to_string(v.size()) + "-dimensional vectors; space \"" +
              space + "\" has dimension " + std::to_string(dim));
        }
        batch.push_back(VectorRecord{items.ids[i], std::move(v)});
      }
      RECDB_RETURN_IF_ERROR(PutVectors(WriteOptions{}, space, EntityKind::kItem, batch));
      report.embedded += static_cast<int64_t>(batch.size());
      if (progress) progress(static_cast<int64_t>(end), total);
    }
    return report;
  });
}

}  // namespace recdb
