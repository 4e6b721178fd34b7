// RECDB_EXPORT marks what librecdb.so (and librecdb_c.so) export: the public
// classes and functions of api/include/recdb/ and the C API. Everything else
// in the libraries is compiled with -fvisibility=hidden
// (-fvisibility-inlines-hidden) and stays internal, as LevelDB's
// include/leveldb/export.h does it. tests/abi/exported_symbols_test.sh fails
// when librecdb.so exports a symbol its allow-list does not name.
//
// An internal-but-exported entry point (e.g. a registration function a
// dlopen'd plugin calls back into) is declared with RECDB_EXPORT in a header
// under api/include/recdb/, documented there as such, and added to the
// allow-list (tests/abi/public_symbols.txt) with a comment.
#ifndef RECDB_EXPORT_H_
#define RECDB_EXPORT_H_

#if !defined(RECDB_EXPORT)
#if defined(__cplusplus)
// The C++11 attribute spelling: it may follow `class [[nodiscard]]`, where a
// GNU __attribute__ may not.
#define RECDB_EXPORT [[gnu::visibility("default")]]
#else
#define RECDB_EXPORT __attribute__((visibility("default")))
#endif
#endif  // !defined(RECDB_EXPORT)

#endif  // RECDB_EXPORT_H_
