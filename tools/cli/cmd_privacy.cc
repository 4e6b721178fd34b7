// recdb privacy new-key | rotate-key DIR | audit DIR: pseudonym keys and the
// privacy audit log (engine/privacy/README.md).
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "recdb/privacy.h"
#include "tools/cli/admin_json.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

// The key chain of --FLAG FILE, else of RECDB_PSEUDONYM_KEY_FILE, else none.
StatusOr<std::vector<std::string>> KeyChain(const ArgParser& args, const std::string& flag) {
  std::string path;
  if (args.Has(flag)) {
    path = args.Get(flag);
  } else if (const char* env = std::getenv("RECDB_PSEUDONYM_KEY_FILE")) {
    path = env;
  }
  if (path.empty()) return std::vector<std::string>{};
  return ReadPseudonymKeyFile(path);
}

int RotateKey(const ArgParser& args) {
  if (!args.Has("new-key-file")) {
    std::cerr << "recdb privacy: error: rotate-key needs --new-key-file G\n" << args.Help();
    return kExitUsage;
  }
  auto old_keys = KeyChain(args, "old-key-file");
  if (!old_keys.ok()) return Fail("privacy", old_keys.status());
  auto new_keys = ReadPseudonymKeyFile(args.Get("new-key-file"));
  if (!new_keys.ok()) return Fail("privacy", new_keys.status());
  // G must be F's chain followed by the new key(s): the database then opens
  // with G alone.
  if (new_keys->size() <= old_keys->size() ||
      !std::equal(old_keys->begin(), old_keys->end(), new_keys->begin())) {
    return Fail("privacy",
                "the new key file must hold the old chain's keys followed by the new key(s), "
                "e.g. (cat OLD; recdb privacy new-key) > NEW");
  }
  std::vector<std::string> added(new_keys->begin() + static_cast<std::ptrdiff_t>(old_keys->size()),
                                 new_keys->end());
  auto base = CliOptions();  // the options file's other settings; keys from the flags
  if (!base.ok()) return Fail("privacy", base.status());
  Options options = std::move(base).value();
  options.create_if_missing = options.error_if_exists = options.read_only = false;
  options.background_threads = 0;
  options.pseudonyms.key_file.clear();
  options.pseudonyms.keys = *old_keys;
  auto db = DB::Open(options, args.Positional("DIR"));
  if (!db.ok()) return Fail("privacy", db.status());
  auto rewritten = (*db)->RotatePseudonymKeys(added);
  if (!rewritten.ok()) return Fail("privacy", rewritten.status());
  Status closed = (*db)->Close();
  if (!closed.ok()) return Fail("privacy", closed);
  if (args.Has("json")) {
    nlohmann::ordered_json j = {{"users_rewritten", *rewritten},
                                {"chain_length", new_keys->size()}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "rewrote " << *rewritten << " user ids under a chain of " << new_keys->size()
              << " key(s); the old ids are gone from every file.\n"
              << "Open the database with " << args.Get("new-key-file")
              << " from now on (RECDB_PSEUDONYM_KEY_FILE).\n";
  }
  return kExitOk;
}

int Audit(const ArgParser& args) {
  auto keys = KeyChain(args, "key-file");
  if (!keys.ok()) return Fail("privacy", keys.status());
  auto base = CliOptions();  // the options file's other settings; keys from the flags
  if (!base.ok()) return Fail("privacy", base.status());
  Options options = std::move(base).value();
  options.create_if_missing = options.error_if_exists = false;
  options.read_only = true;
  options.background_threads = 0;
  options.pseudonyms.key_file.clear();
  options.pseudonyms.keys = *keys;
  auto db = DB::Open(options, args.Positional("DIR"));
  if (!db.ok()) return Fail("privacy", db.status());
  auto log = (*db)->ReadAuditLog();
  if (!log.ok()) return Fail("privacy", log.status());
  if (args.Has("json")) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const AuditEntry& e : *log) {
      out.push_back(AuditEntryToJson(e));
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const AuditEntry& e : *log) {
      char when[32] = "";
      const std::time_t t = static_cast<std::time_t>(e.timestamp);
      std::tm tm{};
      if (gmtime_r(&t, &tm) != nullptr) std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
      std::cout << e.sequence << "  " << when << "  " << e.operation;
      if (!e.subject.empty()) std::cout << "  subject=" << e.subject.substr(0, 16) << "...";
      for (const auto& [name, v] : e.counts) std::cout << "  " << name << "=" << v;
      std::cout << "\n";
    }
  }
  Status closed = (*db)->Close();
  if (!closed.ok()) return Fail("privacy", closed);
  return kExitOk;
}

int PrivacyMain(int argc, char** argv) {
  ArgParser args(
      "privacy", "Pseudonym keys and the privacy audit log.",
      "new-key: print a fresh random key (64 hex digits) for a key file.\n"
      "rotate-key DIR --new-key-file G [--old-key-file F]: re-key every stored user id\n"
      "  under G's chain, which must be F's keys followed by new ones (without F,\n"
      "  RECDB_PSEUDONYM_KEY_FILE, else none: the database holds raw ids, which this\n"
      "  pseudonymises). One atomic write, then a sweep removes the old ids from every\n"
      "  file. A crash before the write leaves the database on F; after it, on G.\n"
      "audit DIR [--key-file F]: the log of privacy operations (forget, export,\n"
      "  consent changes, sweeps, key rotations); keyed hashes and counts only.");
  args.AddPositional("ACTION", "new-key | rotate-key | audit");
  args.AddPositional("DIR", "database directory", /*required=*/false);
  args.AddFlag("old-key-file", "F", "rotate-key: the current key chain");
  args.AddFlag("new-key-file", "G", "rotate-key: the new chain (F's keys + new ones)");
  args.AddFlag("key-file", "F", "audit: the database's key chain");
  args.AddSwitch("json", "print JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  const std::string action = args.Positional("ACTION");
  if (action == "new-key") {
    auto key = NewPseudonymKey();
    if (!key.ok()) return Fail("privacy", key.status());
    std::cout << *key << "\n";
    return kExitOk;
  }
  if (action != "rotate-key" && action != "audit") {
    std::cerr << "recdb privacy: error: ACTION must be new-key, rotate-key or audit, not \""
              << action << "\"\n";
    return kExitUsage;
  }
  if (args.Positional("DIR").empty()) {
    std::cerr << "recdb privacy: error: " << action << " needs DIR\n" << args.Help();
    return kExitUsage;
  }
  return action == "audit" ? Audit(args) : RotateKey(args);
}

}  // namespace
RECDB_REGISTER_COMMAND("privacy", PrivacyMain, 103,
                       "pseudonym key rotation and the privacy audit log");
}  // namespace recdb::cli
