#include "tools/import/synthetic_world.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "recdb/splitmix64.h"

namespace recdb::tools {

namespace {

// --- Deterministic randomness: splitmix64 streams keyed by (seed, stream, index).

uint64_t StreamSeed(uint64_t seed, uint64_t stream, uint64_t index) {
  return SplitMix64(SplitMix64(seed ^ (stream * 0xD1B54A32D192ED03ull)) ^ index);
}

double Uniform(uint64_t* s) { return static_cast<double>(SplitMix64Next(s) >> 11) * 0x1.0p-53; }

int64_t UniformInt(uint64_t* s, int64_t n) {
  return n <= 1 ? 0 : static_cast<int64_t>(SplitMix64Next(s) % static_cast<uint64_t>(n));
}

double Normal(uint64_t* s) {
  double u1 = std::max(Uniform(s), 1e-12), u2 = Uniform(s);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

template <typename T>
const T& Pick(uint64_t* s, const std::vector<T>& v) {
  return v[static_cast<size_t>(UniformInt(s, static_cast<int64_t>(v.size())))];
}

enum Stream : uint64_t {
  kItemStream = 1,
  kUserStream,
  kEventStream,
  kPermutationStream,
  kActivityStream,
};

// --- Vocabulary per category.

struct CategoryWords {
  std::string name;
  std::vector<std::string> adjectives;
  std::vector<std::string> nouns;
  std::vector<std::string> uses;  // "... for <use>"
  std::vector<std::string> tags;
  double base_price;
};

const std::vector<CategoryWords>& Vocabulary() {
  static const std::vector<CategoryWords> kWords = {
      {"Electronics",
       {"Wireless", "Compact", "Smart", "Portable", "Noise-Cancelling", "Ultra-Slim"},
       {"Headphones", "Speaker", "Charger", "Smartwatch", "Tablet", "Camera", "Router",
        "Keyboard"},
       {"travel", "the home office", "gaming", "everyday carry"},
       {"bluetooth", "usb-c", "battery", "4k", "hd", "wifi"},
       79.0},
      {"Books",
       {"Illustrated", "Collected", "Definitive", "Pocket", "Annotated", "Modern"},
       {"Novel", "Cookbook", "Biography", "Guide", "Anthology", "Atlas", "Thriller",
        "Memoir"},
       {"curious readers", "long evenings", "students", "book clubs"},
       {"paperback", "hardcover", "fiction", "nonfiction", "bestseller", "classic"},
       18.0},
      {"Kitchen",
       {"Cast-Iron", "Nonstick", "Stainless", "Ceramic", "Electric", "Professional"},
       {"Skillet", "Knife Set", "Blender", "Kettle", "Dutch Oven", "Coffee Grinder",
        "Cutting Board", "Toaster"},
       {"weeknight dinners", "baking", "meal prep", "brunch"},
       {"dishwasher-safe", "induction", "bpa-free", "gift", "cookware", "espresso"},
       45.0},
      {"Sports",
       {"Lightweight", "Breathable", "Pro", "Adjustable", "Training", "Carbon"},
       {"Running Shoes", "Yoga Mat", "Dumbbells", "Tennis Racket", "Cycling Helmet",
        "Jump Rope", "Football", "Resistance Bands"},
       {"the gym", "marathon training", "home workouts", "weekend leagues"},
       {"fitness", "running", "cardio", "strength", "outdoor", "team"},
       55.0},
      {"Toys",
       {"Wooden", "Interactive", "Colorful", "Magnetic", "Plush", "Educational"},
       {"Building Blocks", "Puzzle", "Robot Kit", "Train Set", "Teddy Bear", "Dollhouse",
        "Race Car", "Board Game"},
       {"toddlers", "family game night", "curious kids", "rainy days"},
       {"kids", "stem", "ages-3+", "creative", "family", "gift"},
       30.0},
      {"Beauty",
       {"Hydrating", "Organic", "Gentle", "Brightening", "Matte", "Fragrance-Free"},
       {"Face Serum", "Moisturizer", "Lipstick", "Shampoo", "Sunscreen", "Face Mask",
        "Eye Cream", "Body Lotion"},
       {"sensitive skin", "daily routines", "dry climates", "evenings out"},
       {"skincare", "vegan", "cruelty-free", "spf", "haircare", "makeup"},
       24.0},
      {"Garden",
       {"Heirloom", "Raised", "Solar", "Weatherproof", "Self-Watering", "Ergonomic"},
       {"Seed Kit", "Planter", "Garden Hose", "Pruning Shears", "Compost Bin", "Lanterns",
        "Trowel", "Bird Feeder"},
       {"balcony gardens", "vegetable beds", "spring planting", "small yards"},
       {"outdoor", "plants", "organic", "tools", "patio", "seeds"},
       35.0},
      {"Music",
       {"Acoustic", "Vintage", "Live", "Remastered", "Studio", "Electric"},
       {"Guitar", "Vinyl Record", "Ukulele", "Keyboard Piano", "Drum Pad", "Microphone",
        "Songbook", "Violin"},
       {"beginners", "late-night sessions", "recording at home", "jam sessions"},
       {"instrument", "vinyl", "jazz", "rock", "classical", "audio"},
       120.0},
      {"Fashion",
       {"Slim-Fit", "Linen", "Vintage", "Waterproof", "Oversized", "Merino"},
       {"Jacket", "Sneakers", "Dress", "Jeans", "Scarf", "Backpack", "Sunglasses", "Sweater"},
       {"city life", "cold mornings", "summer trips", "the office"},
       {"apparel", "casual", "winter", "summer", "accessories", "streetwear"},
       60.0},
      {"Games",
       {"Open-World", "Co-op", "Retro", "Strategy", "Indie", "Competitive"},
       {"RPG", "Racing Game", "Puzzle Game", "Shooter", "Platformer", "Card Game",
        "Simulation", "Adventure"},
       {"solo nights", "playing with friends", "short breaks", "long campaigns"},
       {"console", "pc", "multiplayer", "singleplayer", "rpg", "arcade"},
       40.0},
      {"Outdoors",
       {"Ultralight", "Insulated", "Rugged", "Packable", "All-Season", "Waterproof"},
       {"Tent", "Sleeping Bag", "Hiking Boots", "Headlamp", "Trekking Poles", "Camp Stove",
        "Daypack", "Water Filter"},
       {"backcountry trips", "weekend camping", "alpine hikes", "festival season"},
       {"camping", "hiking", "trail", "survival", "climbing", "travel"},
       90.0},
      {"Pets",
       {"Orthopedic", "Chew-Proof", "Natural", "Reflective", "Washable", "Automatic"},
       {"Dog Bed", "Cat Tree", "Leash", "Pet Feeder", "Chew Toy", "Grooming Brush",
        "Aquarium", "Litter Box"},
       {"senior dogs", "playful kittens", "busy owners", "long walks"},
       {"dog", "cat", "pet-care", "treats", "toys", "grooming"},
       28.0},
  };
  return kWords;
}

const std::vector<std::string> kBrandPrefixes = {"North", "Blue", "Silver", "Red",   "Bright",
                                                 "Iron",  "Green", "Sun",   "Star", "Oak",
                                                 "Maple", "River", "Stone", "Nova", "Cedar"};
const std::vector<std::string> kBrandSuffixes = {"wind",  "field", "works", "craft", "line",
                                                 "stone", "wave",  "forge", "labs",  "house"};
const std::vector<std::string> kCountries = {"US", "US", "US", "GB", "DE", "FR",
                                             "IN", "BR", "JP", "CA", "ES", "AU"};
const std::vector<std::string> kAgeBands = {"18-24", "25-34", "25-34", "35-44", "45-54", "55+"};
const std::vector<std::string> kDevices = {"mobile", "desktop", "tv"};

// Departments that share customers, by index in Vocabulary(): Electronics-Games,
// Books-Music, Kitchen-Garden, Sports-Outdoors, Toys-Games, Beauty-Fashion, Pets-Garden.
int RelatedCategory(int c) {
  static const int kRelated[] = {9, 7, 6, 10, 9, 8, 2, 1, 5, 0, 3, 6};
  return kRelated[c];
}

int64_t NumCreators(const SyntheticWorldOptions& o) {
  return o.creators > 0 ? o.creators : std::max<int64_t>(1, o.items / 8);
}

// A session's starting hour by device: mobile peaks at the commute and late
// evening, desktop in working hours, tv in prime time.
double SessionHour(int device, uint64_t* rng) {
  double h;
  switch (device) {
    case 0:
      h = Uniform(rng) < 0.35 ? 8.0 + 1.5 * Normal(rng) : 21.0 + 2.0 * Normal(rng);
      break;
    case 1:
      h = 13.0 + 3.0 * Normal(rng);
      break;
    default:
      h = 21.0 + 1.5 * Normal(rng);
  }
  h = std::fmod(h, 24.0);
  return h < 0 ? h + 24.0 : h;
}

}  // namespace

const std::vector<std::string>& SyntheticWorld::Categories() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const auto& c : Vocabulary()) v.push_back(c.name);
    return v;
  }();
  return kNames;
}

const std::vector<std::string>& SyntheticWorld::EventTypes() {
  static const std::vector<std::string> kTypes = {"view", "click", "add_to_cart", "purchase",
                                                  "rating"};
  return kTypes;
}

SyntheticWorld::SyntheticWorld(const SyntheticWorldOptions& options) : options_(options) {
  options_.users = std::max<int64_t>(options_.users, 1);
  options_.items = std::max<int64_t>(options_.items, 1);
  options_.days = std::max<int64_t>(options_.days, 1);
  total_events_ = options_.events > 0 ? options_.events : 20 * options_.users;
  const int k = static_cast<int>(Categories().size());
  const int64_t n = options_.items;

  // Category sizes are uneven (a few big departments, a long tail).
  std::vector<double> category_weight(k);
  for (int c = 0; c < k; ++c) category_weight[c] = 1.0 / std::sqrt(c + 2.0);
  std::partial_sum(category_weight.begin(), category_weight.end(), category_weight.begin());
  item_category_.resize(n);
  item_second_category_.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t rng = StreamSeed(options_.seed, kItemStream, i);
    double x = Uniform(&rng) * category_weight.back();
    item_category_[i] = static_cast<int>(
        std::upper_bound(category_weight.begin(), category_weight.end(), x) -
        category_weight.begin());
    item_category_[i] = std::min(item_category_[i], k - 1);
    // A second category, when there is one, is a neighbouring department.
    item_second_category_[i] = Uniform(&rng) < 0.2 ? RelatedCategory(item_category_[i]) : -1;
  }

  // Popularity: Zipf over a seeded random permutation of the catalog.
  std::vector<int64_t> rank(n);
  std::iota(rank.begin(), rank.end(), 0);
  uint64_t perm_rng = StreamSeed(options_.seed, kPermutationStream, 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(rank[i], rank[UniformInt(&perm_rng, i + 1)]);
  category_items_.assign(k, {});
  category_cdf_.assign(k, {});
  for (int64_t i = 0; i < n; ++i) {
    double w = 1.0 / std::pow(static_cast<double>(rank[i] + 1), options_.popularity_exponent);
    for (int c : {item_category_[i], item_second_category_[i]}) {
      if (c < 0) continue;
      category_items_[c].push_back(i);
      double prev = category_cdf_[c].empty() ? 0.0 : category_cdf_[c].back();
      category_cdf_[c].push_back(prev + w);
    }
  }

  // Activity: heavy-tailed (Pareto) per user; quotas sum to total_events_.
  std::vector<double> activity(options_.users);
  for (int64_t u = 0; u < options_.users; ++u) {
    uint64_t rng = StreamSeed(options_.seed, kActivityStream, u);
    activity[u] = std::min(50.0, std::pow(1.0 - Uniform(&rng), -1.0 / 1.5));
  }
  double sum = std::accumulate(activity.begin(), activity.end(), 0.0);
  user_quota_.resize(options_.users);
  double cum = 0;
  int64_t assigned = 0;
  for (int64_t u = 0; u < options_.users; ++u) {
    cum += activity[u];
    int64_t upto = u + 1 == options_.users
                       ? total_events_
                       : static_cast<int64_t>(std::floor(total_events_ * (cum / sum)));
    upto = std::clamp(upto, assigned, total_events_);
    user_quota_[u] = upto - assigned;
    assigned = upto;
  }
}

Item SyntheticWorld::ItemAt(int64_t i) const {
  const auto& vocab = Vocabulary();
  const CategoryWords& cat = vocab[item_category_[i]];
  uint64_t rng = StreamSeed(options_.seed, kItemStream, i);
  Uniform(&rng);  // the draws the constructor used for the category
  Uniform(&rng);
  uint64_t text_rng = SplitMix64(rng ^ 0xA5A5A5A5ull);
  Item item;
  item.id = ItemId(i);
  const std::string& adj = Pick(&text_rng, cat.adjectives);
  const std::string& noun = Pick(&text_rng, cat.nouns);
  int64_t creators = NumCreators(options_);
  // Creators specialise: pick among those whose index maps to this category.
  int64_t k = static_cast<int64_t>(vocab.size());
  int64_t slots = std::max<int64_t>(1, (creators - item_category_[i] + k - 1) / k);
  int64_t slot = static_cast<int64_t>(std::floor(std::pow(Uniform(&text_rng), 2.0) * slots));
  int64_t creator = std::min(creators - 1, item_category_[i] + slot * k);
  if (creator < 0) creator = 0;
  std::string brand = kBrandPrefixes[creator % kBrandPrefixes.size()] +
                      kBrandSuffixes[(creator / kBrandPrefixes.size()) % kBrandSuffixes.size()];
  item.title = brand + " " + adj + " " + noun;
  if (Uniform(&text_rng) < 0.3) item.title += " " + std::to_string(2 + UniformInt(&text_rng, 8));
  const std::string& use = Pick(&text_rng, cat.uses);
  const std::string& adj2 = Pick(&text_rng, cat.adjectives);
  std::string lower_noun = noun;
  std::transform(lower_noun.begin(), lower_noun.end(), lower_noun.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string lower_adj2 = adj2;
  std::transform(lower_adj2.begin(), lower_adj2.end(), lower_adj2.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool vowel = std::string("aeiou").find(lower_adj2[0]) != std::string::npos;
  item.description = (vowel ? "An " : "A ") + lower_adj2 + " " + lower_noun + " from " + brand + ", made for " +
                     use + ".";
  item.categories.push_back(cat.name);
  if (item_second_category_[i] >= 0) {
    item.categories.push_back(vocab[item_second_category_[i]].name);
  }
  item.creator = "c" + std::to_string(creator);
  item.created_at = options_.start_ts - UniformInt(&text_rng, 730 * 86400);
  item.available = Uniform(&text_rng) >= 0.03;
  double price = cat.base_price * std::exp(0.5 * Normal(&text_rng));
  item.attributes["price"] = std::max(0.99, std::round(price) - 0.01);
  std::vector<std::string> tags;
  for (int t = 0, nt = 2 + static_cast<int>(UniformInt(&text_rng, 2)); t < nt; ++t) {
    const std::string& tag = Pick(&text_rng, cat.tags);
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  item.attributes["tags"] = tags;
  item.attributes["brand"] = brand;
  item.attributes["new"] = item.created_at > options_.start_ts - 30 * 86400;
  return item;
}

SyntheticWorld::UserProfile SyntheticWorld::Profile(int64_t u) const {
  const int k = static_cast<int>(Categories().size());
  uint64_t rng = StreamSeed(options_.seed, kUserStream, u);
  UserProfile p;
  p.taste_start.assign(k, 0.02f);
  p.taste_end.assign(k, 0.02f);
  // Two or three favourite categories; over the period one favourite fades
  // and another category rises (drift), the main one stays.
  int main = static_cast<int>(UniformInt(&rng, k));
  int second = static_cast<int>((main + 1 + UniformInt(&rng, k - 1)) % k);
  int rising = static_cast<int>((main + 1 + UniformInt(&rng, k - 1)) % k);
  p.taste_start[main] += 0.55f;
  p.taste_end[main] += 0.45f;
  p.taste_start[second] += 0.3f;
  p.taste_end[rising] += 0.4f;
  if (Uniform(&rng) < 0.5) {
    int third = static_cast<int>(UniformInt(&rng, k));
    p.taste_start[third] += 0.1f;
    p.taste_end[third] += 0.1f;
  }
  for (auto* v : {&p.taste_start, &p.taste_end}) {
    float s = std::accumulate(v->begin(), v->end(), 0.0f);
    for (float& x : *v) x /= s;
  }
  return p;
}

std::vector<double> SyntheticWorld::UserTaste(int64_t u, int64_t ts) const {
  UserProfile p = Profile(u);
  double span = static_cast<double>(options_.days) * 86400.0;
  double f = std::clamp(static_cast<double>(ts - options_.start_ts) / span, 0.0, 1.0);
  std::vector<double> taste(p.taste_start.size());
  for (size_t c = 0; c < taste.size(); ++c) {
    taste[c] = (1.0 - f) * p.taste_start[c] + f * p.taste_end[c];
  }
  return taste;
}

User SyntheticWorld::UserAt(int64_t u) const {
  uint64_t rng = StreamSeed(options_.seed, kUserStream, u) ^ 0x5EEDull;
  User user;
  user.id = UserId(u);
  user.attributes["country"] = Pick(&rng, kCountries);
  user.attributes["age_band"] = Pick(&rng, kAgeBands);
  user.attributes["signup_ts"] =
      static_cast<double>(options_.start_ts - UniformInt(&rng, 1000 * 86400));
  user.consent.store_events = Uniform(&rng) >= options_.no_store_fraction;
  user.consent.training = Uniform(&rng) >= options_.no_training_fraction;
  return user;
}

int64_t SyntheticWorld::SampleItem(int category, uint64_t* rng) const {
  const auto& cdf = category_cdf_[category];
  if (cdf.empty()) return UniformInt(rng, options_.items);
  double x = Uniform(rng) * cdf.back();
  size_t pos = std::upper_bound(cdf.begin(), cdf.end(), x) - cdf.begin();
  return category_items_[category][std::min(pos, cdf.size() - 1)];
}

std::vector<Event> SyntheticWorld::UserEvents(int64_t u) const {
  std::vector<Event> events;
  const int64_t quota = user_quota_[u];
  if (quota == 0) return events;
  events.reserve(quota);
  uint64_t rng = StreamSeed(options_.seed, kEventStream, u);
  const UserProfile profile = Profile(u);
  const int k = static_cast<int>(Categories().size());
  const double span = static_cast<double>(options_.days) * 86400.0;
  const int primary_device = Uniform(&rng) < 0.55 ? 0 : (Uniform(&rng) < 0.67 ? 1 : 2);

  // Session starts: a day and an hour each, sorted, never overlapping.
  const int64_t sessions = std::max<int64_t>(1, (quota + 5) / 6);
  std::vector<std::pair<int64_t, int>> starts;  // (ts, device)
  starts.reserve(sessions);
  for (int64_t s = 0; s < sessions; ++s) {
    int device = Uniform(&rng) < 0.75 ? primary_device : static_cast<int>(UniformInt(&rng, 3));
    int64_t day = UniformInt(&rng, options_.days);
    double hour = SessionHour(device, &rng);
    starts.emplace_back(options_.start_ts + day * 86400 + static_cast<int64_t>(hour * 3600.0),
                        device);
  }
  std::sort(starts.begin(), starts.end());

  int64_t t = 0;
  const std::string uid = UserId(u);
  auto add = [&](int64_t item, const std::string& type, int64_t ts, double value, bool has_value,
                 const std::string& session, int device) {
    Event e;
    e.user = uid;
    e.item = ItemId(item);
    e.type = type;
    e.timestamp = ts;
    e.value = value;
    e.has_value = has_value;
    e.context["session"] = session;
    e.context["device"] = kDevices[device];
    events.push_back(std::move(e));
  };
  for (int64_t s = 0; s < sessions && static_cast<int64_t>(events.size()) < quota; ++s) {
    t = std::max(starts[s].first, t + 600);
    const int device = starts[s].second;
    const std::string session = "s" + std::to_string(u) + "-" + std::to_string(s);
    double f = std::clamp(static_cast<double>(t - options_.start_ts) / span, 0.0, 1.0);
    std::vector<double> taste(k);
    double max_taste = 0;
    for (int c = 0; c < k; ++c) {
      taste[c] = (1.0 - f) * profile.taste_start[c] + f * profile.taste_end[c];
      max_taste = std::max(max_taste, taste[c]);
    }
    // One intent category per session, drawn from the current taste.
    double x = Uniform(&rng), acc = 0;
    int intent = k - 1;
    for (int c = 0; c < k; ++c) {
      acc += taste[c];
      if (x < acc) {
        intent = c;
        break;
      }
    }
    const double affinity = taste[intent] / max_taste;
    const int64_t views = 1 + static_cast<int64_t>(-std::log(std::max(Uniform(&rng), 1e-9)) * 4.0);
    for (int64_t v = 0; v < views && static_cast<int64_t>(events.size()) < quota; ++v) {
      // Mostly the intent category, sometimes a detour to anything popular.
      int cat = Uniform(&rng) < 0.85 ? intent : static_cast<int>(UniformInt(&rng, k));
      int64_t item = SampleItem(cat, &rng);
      t += 10 + UniformInt(&rng, 110);
      add(item, "view", t, 0, false, session, device);
      double aff = cat == intent ? affinity : taste[cat] / max_taste;
      if (static_cast<int64_t>(events.size()) >= quota || Uniform(&rng) > 0.2 + 0.3 * aff) {
        if (Uniform(&rng) < 0.04 && static_cast<int64_t>(events.size()) < quota) {
          double r = std::clamp(std::round(1.0 + 4.0 * aff + 0.8 * Normal(&rng) - 0.5), 1.0, 5.0);
          add(item, "rating", t + 5, r, true, session, device);
        }
        continue;
      }
      t += 5 + UniformInt(&rng, 30);
      add(item, "click", t, 0, false, session, device);
      if (static_cast<int64_t>(events.size()) >= quota || Uniform(&rng) > 0.15 + 0.25 * aff) {
        continue;
      }
      t += 20 + UniformInt(&rng, 120);
      add(item, "add_to_cart", t, 0, false, session, device);
      if (static_cast<int64_t>(events.size()) >= quota || Uniform(&rng) > 0.55) continue;
      t += 60 + UniformInt(&rng, 300);
      add(item, "purchase", t, 0, false, session, device);
      if (static_cast<int64_t>(events.size()) < quota && Uniform(&rng) < 0.4) {
        double r = std::clamp(std::round(1.5 + 3.5 * aff + 0.7 * Normal(&rng)), 1.0, 5.0);
        add(item, "rating", t + 3 * 86400 + UniformInt(&rng, 86400), r, true, session, device);
      }
    }
  }
  // Pad with views in a final session if the sessions ran out (rare).
  while (static_cast<int64_t>(events.size()) < quota) {
    t += 30;
    int cat = static_cast<int>(UniformInt(&rng, k));
    add(SampleItem(cat, &rng), "view", t, 0, false,
        "s" + std::to_string(u) + "-" + std::to_string(sessions), primary_device);
  }
  // Delayed ratings may land after later events: keep history oldest first.
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
  return events;
}

Status SyntheticWorld::ForEachItem(const std::function<Status(const Item&)>& fn) const {
  for (int64_t i = 0; i < options_.items; ++i) RECDB_RETURN_IF_ERROR(fn(ItemAt(i)));
  return Status::OK();
}

Status SyntheticWorld::ForEachUser(const std::function<Status(const User&)>& fn) const {
  for (int64_t u = 0; u < options_.users; ++u) RECDB_RETURN_IF_ERROR(fn(UserAt(u)));
  return Status::OK();
}

Status SyntheticWorld::ForEachEvent(const std::function<Status(const Event&)>& fn) const {
  for (int64_t u = 0; u < options_.users; ++u) {
    for (const Event& e : UserEvents(u)) RECDB_RETURN_IF_ERROR(fn(e));
  }
  return Status::OK();
}

namespace {

Status WriteBatch(DB* db, const std::vector<Item>& b) { return db->UpsertItems({}, b); }
Status WriteBatch(DB* db, const std::vector<User>& b) { return db->UpsertUsers({}, b); }
Status WriteBatch(DB* db, const std::vector<Event>& b) { return db->RecordEvents({}, b); }

// Streams the records `for_each` visits into `db` in batches.
template <typename Record, typename ForEach>
Status LoadInBatches(DB* db, const char* kind, int64_t total, const LoadWorldOptions& o,
                     ForEach for_each) {
  const size_t size = std::max<size_t>(o.batch_size, 1);
  std::vector<Record> batch;
  batch.reserve(std::min<size_t>(size, static_cast<size_t>(std::max<int64_t>(total, 0))));
  int64_t done = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    RECDB_RETURN_IF_ERROR(WriteBatch(db, batch));
    done += static_cast<int64_t>(batch.size());
    batch.clear();
    if (o.on_batch) o.on_batch(kind, done, total);
    return Status::OK();
  };
  RECDB_RETURN_IF_ERROR(for_each([&](const Record& r) -> Status {
    batch.push_back(r);
    return batch.size() >= size ? flush() : Status::OK();
  }));
  return flush();
}

}  // namespace

Status LoadSyntheticWorld(DB* db, const SyntheticWorld& world, const LoadWorldOptions& options) {
  RECDB_RETURN_IF_ERROR(LoadInBatches<Item>(db, "items", world.num_items(), options,
                                            [&](const auto& fn) { return world.ForEachItem(fn); }));
  if (options.users) {
    RECDB_RETURN_IF_ERROR(LoadInBatches<User>(
        db, "users", world.num_users(), options,
        [&](const auto& fn) { return world.ForEachUser(fn); }));
  }
  return LoadInBatches<Event>(db, "events", world.num_events(), options,
                              [&](const auto& fn) { return world.ForEachEvent(fn); });
}

}  // namespace recdb::tools
