// The N-API surface of the native backend; the only file that uses N-API. lib/native.ts
// wraps it in a Core (lib/core.ts).
//
// Handles: an open artifact is a slot in a per-environment registry. JS holds two things
// for it: the slot's id (a small integer, passed to every call; a number cannot be
// confused with anything else, and a stale id finds an empty slot or a newer generation)
// and a token (an External whose finalizer releases the slot and the mapping once the
// artifact is unreachable, if close() did not already).
//
// Speed: single lookups allocate nothing in JS and convert no JS values: they read their
// arguments from `scratch`, a Uint32Array created here at load and shared with JS (memory
// this addon owns), return a boolean and write their results back into it. Batch lookups
// fill the caller's preallocated Uint32Arrays.
//
// Errors: a thrown value with a `code` ("E_CLOSED", ...) and a message. When JS has
// registered an error factory (setErrorFactory), the thrown value is what it returns (a
// FunckeyError); otherwise a plain Error with a `code` property.
//
// Bytes handed in by the caller (openBytes) are copied once into memory owned by the
// artifact: the caller's ArrayBuffer may later be detached, resized or changed, and a
// mapping-like lifetime (freed by close()) needs memory of our own.
#include <napi.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "mapped_file.h"
#include "reader.h"

namespace funckey {
namespace {

// 2: describe() reports the bitmap blocks and the offset index (format 2); lookups that meet a
// damaged sparse bitmap throw E_CORRUPT, batch forms included.
// 3: describe() reports the bucket words and, per namespace, its encoding and bucket run and
// shifts (format 3); lookups that meet a damaged bucket run throw E_CORRUPT as for a bitmap.
// 4: moduleCount(id).
constexpr uint32_t kBindingAbi = 4;
constexpr uint32_t kSlotBits = 22;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint32_t kGenMask = 0x1FF;  // id = gen << 22 | slot stays below 2^31

struct Registry;

struct OpenArtifact {
  std::shared_ptr<Registry> registry;  // keeps the registry alive until the token is finalized
  uint32_t id = 0;
  MappedFile map;
  std::unique_ptr<uint64_t[]> copy;  // the caller's bytes, for openBytes
  Reader reader;
  bool open = false;

  void Close() {
    open = false;
    map.Unmap();
    copy.reset();
  }
};

struct Registry : std::enable_shared_from_this<Registry> {
  std::vector<OpenArtifact*> slots;
  std::vector<uint32_t> gens;
  std::vector<uint32_t> free_slots;
  uint32_t live = 0;   // artifacts not yet finalized
  uint32_t mapped = 0;  // artifacts open (not closed)
  uint32_t scratch[4] = {0, 0, 0, 0};
  napi_ref error_factory = nullptr;
  napi_ref array_push = nullptr;  // Array.prototype.push as it was when the addon loaded

  uint32_t Add(OpenArtifact* a) {
    uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots.size());
      if (slot > kSlotMask) return kNone;
      slots.push_back(nullptr);
      gens.push_back(0);
    }
    slots[slot] = a;
    live++;
    return (gens[slot] << kSlotBits) | slot;
  }
  OpenArtifact* Find(uint32_t id) const {
    const uint32_t slot = id & kSlotMask;
    if (slot >= slots.size() || (id >> kSlotBits) != gens[slot]) return nullptr;
    return slots[slot];
  }
  void Remove(uint32_t id) {
    const uint32_t slot = id & kSlotMask;
    if (slot >= slots.size() || slots[slot] == nullptr) return;
    slots[slot] = nullptr;
    gens[slot] = (gens[slot] + 1) & kGenMask;
    free_slots.push_back(slot);
    live--;
  }
};

Registry* GetRegistry(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  void* data = nullptr;
  napi_get_cb_info(env, info, argc, argv, nullptr, &data);
  return static_cast<Registry*>(data);
}

napi_value Undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

napi_value Bool(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

// Throws the error (code, message) and returns nullptr for the callback to return.
napi_value Throw(napi_env env, Registry* reg, Code code, const std::string& message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return nullptr;
  const char* name = CodeName(code);
  if (reg != nullptr && reg->error_factory != nullptr) {
    napi_value factory, args[2], result;
    if (napi_get_reference_value(env, reg->error_factory, &factory) == napi_ok && factory != nullptr &&
        napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &args[0]) == napi_ok &&
        napi_create_string_utf8(env, message.data(), message.size(), &args[1]) == napi_ok &&
        napi_call_function(env, Undefined(env), factory, 2, args, &result) == napi_ok) {
      napi_throw(env, result);
      return nullptr;
    }
    napi_is_exception_pending(env, &pending);
    if (pending) return nullptr;
  }
  napi_throw_error(env, name, message.c_str());
  return nullptr;
}

bool GetU32(napi_env env, napi_value v, uint32_t* out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

// The open artifact named by argv[0], or nullptr after throwing E_CLOSED / E_ARG.
OpenArtifact* Live(napi_env env, Registry* reg, napi_value id_value) {
  uint32_t id;
  if (!GetU32(env, id_value, &id)) {
    Throw(env, reg, Code::kArg, "the artifact handle must be a number");
    return nullptr;
  }
  OpenArtifact* a = reg->Find(id);
  if (a == nullptr || !a->open) {
    Throw(env, reg, Code::kClosed, "the artifact is closed");
    return nullptr;
  }
  return a;
}

// A JS string from name bytes, decoded as lib/reader.ts decodes them (invalid UTF-8
// becomes U+FFFD); ASCII takes the Latin-1 path, which builds a one-byte string directly.
napi_value MakeString(napi_env env, const uint8_t* p, uint32_t n) {
  uint8_t any = 0;
  for (uint32_t i = 0; i < n; i++) any |= p[i];
  napi_value s;
  if (any < 0x80)
    napi_create_string_latin1(env, reinterpret_cast<const char*>(p), n, &s);
  else
    napi_create_string_utf8(env, reinterpret_cast<const char*>(p), n, &s);
  return s;
}

// Uint32Array argument: its elements and length; false after throwing E_ARG.
bool GetU32Array(napi_env env, Registry* reg, napi_value v, const char* what, uint32_t** data, size_t* length) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  napi_typedarray_type type;
  void* p = nullptr;
  if (is_ta && napi_get_typedarray_info(env, v, &type, length, &p, nullptr, nullptr) == napi_ok && type == napi_uint32_array) {
    *data = static_cast<uint32_t*>(p);
    return true;
  }
  Throw(env, reg, Code::kArg, std::string(what) + " must be a Uint32Array");
  return false;
}

void FinalizeToken(napi_env /*env*/, void* data, void* /*hint*/) {
  OpenArtifact* a = static_cast<OpenArtifact*>(data);
  if (a->open) a->registry->mapped--;
  a->Close();
  a->registry->Remove(a->id);
  delete a;
}

// Opens an artifact already placed in `a` (mapping or copy) and returns [id, token].
napi_value Register(napi_env env, Registry* reg, std::unique_ptr<OpenArtifact> a, const uint8_t* data, size_t size) {
  a->registry = reg->shared_from_this();
  Status st = a->reader.Open(data, size);
  if (!st.ok()) return Throw(env, reg, st.code, st.message);
  const uint32_t id = reg->Add(a.get());
  if (id == kNone) return Throw(env, reg, Code::kIo, "too many artifacts open");
  a->id = id;
  a->open = true;
  reg->mapped++;
  napi_value token, id_value, pair;
  OpenArtifact* raw = a.release();
  if (napi_create_external(env, raw, FinalizeToken, nullptr, &token) != napi_ok) {
    raw->Close();
    reg->mapped--;
    reg->Remove(id);
    delete raw;
    return Throw(env, reg, Code::kIo, "cannot create the artifact handle");
  }
  napi_create_uint32(env, id, &id_value);
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, id_value);
  napi_set_element(env, pair, 1, token);
  return pair;
}

// openPath(path: string) -> [id, token]
napi_value OpenPath(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  size_t len = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_string || napi_get_value_string_utf8(env, argv[0], nullptr, 0, &len) != napi_ok)
    return Throw(env, reg, Code::kArg, "path must be a string");
  std::string path(len + 1, '\0');
  napi_get_value_string_utf8(env, argv[0], &path[0], len + 1, &len);
  path.resize(len);
  auto a = std::make_unique<OpenArtifact>();
  std::string error;
  if (!a->map.Open(path, &error)) return Throw(env, reg, Code::kIo, "cannot map " + path + ": " + error);
  const uint8_t* data = a->map.data();
  const size_t size = a->map.size();
  return Register(env, reg, std::move(a), data, size);
}

// openBytes(bytes: Uint8Array) -> [id, token]; the bytes are copied (see the top of the file).
napi_value OpenBytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  bool is_ta = false;
  if (argc >= 1) napi_is_typedarray(env, argv[0], &is_ta);
  napi_typedarray_type type;
  size_t length = 0;
  void* p = nullptr;
  if (!is_ta || napi_get_typedarray_info(env, argv[0], &type, &length, &p, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array)
    return Throw(env, reg, Code::kArg, "bytes must be a Uint8Array");
  auto a = std::make_unique<OpenArtifact>();
  if (length > 0) {
    a->copy.reset(new (std::nothrow) uint64_t[(length + 7) / 8]);
    if (!a->copy) return Throw(env, reg, Code::kIo, "cannot allocate " + std::to_string(length) + " bytes for the artifact");
    std::memcpy(a->copy.get(), p, length);
  }
  const uint8_t* data = reinterpret_cast<const uint8_t*>(a->copy.get());
  return Register(env, reg, std::move(a), data, length);
}

// close(id): unmaps (or frees the copy) now. Closing a closed artifact does nothing.
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  uint32_t id;
  if (argc < 1 || !GetU32(env, argv[0], &id)) return Throw(env, reg, Code::kArg, "the artifact handle must be a number");
  OpenArtifact* a = reg->Find(id);
  if (a != nullptr && a->open) {
    a->Close();
    reg->mapped--;
  }
  return Undefined(env);
}

// The single lookups take no arguments: JS writes the artifact id and the query into
// scratch[0..2] and calls; the answer comes back in scratch. Converting no JS values saves
// about a third of the cost of a call (measured: 53 ns with three arguments, 39 ns without).
OpenArtifact* LiveFromScratch(napi_env env, napi_callback_info info, Registry** reg_out) {
  size_t argc = 0;
  Registry* reg = GetRegistry(env, info, &argc, nullptr);
  *reg_out = reg;
  OpenArtifact* a = reg->Find(reg->scratch[0]);
  if (a == nullptr || !a->open) {
    Throw(env, reg, Code::kClosed, "the artifact is closed");
    return nullptr;
  }
  return a;
}

// E_CORRUPT for a damaged sparse bitmap or bucket run, worded as lib/reader.ts words it.
napi_value ThrowDamaged(napi_env env, Registry* reg, OpenArtifact* a) {
  return Throw(env, reg, Code::kCorrupt, a->reader.CorruptMessage());
}

// funcLoc(): scratch [id, namespace, index] -> boolean; scratch[0], scratch[1] = start, length.
napi_value FuncLoc(napi_env env, napi_callback_info info) {
  Registry* reg;
  OpenArtifact* a = LiveFromScratch(env, info, &reg);
  if (a == nullptr) return nullptr;
  const uint32_t ns = reg->scratch[1], index = reg->scratch[2];
  const Reader::Found f = a->reader.FuncLoc(ns, index, &reg->scratch[0], &reg->scratch[1]);
  if (f == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  return Bool(env, f == Reader::Found::kYes);
}

// srcLoc(): scratch [id, namespace, index] -> boolean; scratch[0] = FilePos.
napi_value SrcLoc(napi_env env, napi_callback_info info) {
  Registry* reg;
  OpenArtifact* a = LiveFromScratch(env, info, &reg);
  if (a == nullptr) return nullptr;
  uint32_t s = kNone;
  const Reader::Found f = a->reader.SrcLoc(reg->scratch[1], reg->scratch[2], &s);
  if (f == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  reg->scratch[0] = s;
  return Bool(env, f == Reader::Found::kYes && s != kNone);
}

// funcByOffset(): scratch [id, offset] -> boolean; scratch[0], scratch[1] = namespace, index.
napi_value FuncByOffset(napi_env env, napi_callback_info info) {
  Registry* reg;
  OpenArtifact* a = LiveFromScratch(env, info, &reg);
  if (a == nullptr) return nullptr;
  const uint32_t offset = reg->scratch[1];
  const Reader::Found f = a->reader.FuncByOffset(offset, &reg->scratch[0], &reg->scratch[1]);
  if (f == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  return Bool(env, f == Reader::Found::kYes);
}

bool GetModule(napi_env env, Registry* reg, OpenArtifact* a, napi_value v, uint32_t* module) {
  if (!GetU32(env, v, module)) {
    Throw(env, reg, Code::kArg, "module must be a number");
    return false;
  }
  if (*module >= a->reader.ModuleCount()) {
    Throw(env, reg, Code::kRange,
          "module " + std::to_string(*module) + " does not exist: the artifact has " + std::to_string(a->reader.ModuleCount()));
    return false;
  }
  return true;
}

// The name, undefined, or nullptr after throwing E_CORRUPT.
napi_value NameValue(napi_env env, Registry* reg, OpenArtifact* a, uint32_t func_index, uint32_t module) {
  const uint8_t* bytes;
  uint32_t length;
  switch (a->reader.FuncName(func_index, module, &bytes, &length)) {
    case Reader::NameResult::kFound: return MakeString(env, bytes, length);
    case Reader::NameResult::kAbsent: return Undefined(env);
    case Reader::NameResult::kCorrupt: break;
  }
  return Throw(env, reg, Code::kCorrupt, "the name of function " + std::to_string(func_index) + " lies outside .fk.names");
}

// funcName(): scratch [id, funcIndex, module] -> string | undefined
napi_value FuncName(napi_env env, napi_callback_info info) {
  Registry* reg;
  OpenArtifact* a = LiveFromScratch(env, info, &reg);
  if (a == nullptr) return nullptr;
  const uint32_t func_index = reg->scratch[1], module = reg->scratch[2];
  if (module >= a->reader.ModuleCount())
    return Throw(env, reg, Code::kRange,
                 "module " + std::to_string(module) + " does not exist: the artifact has " + std::to_string(a->reader.ModuleCount()));
  return NameValue(env, reg, a, func_index, module);
}

// funcLocs(id, namespaces, indices, starts, lengths): absent keys give (NONE, 0).
napi_value FuncLocs(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  OpenArtifact* a = Live(env, reg, argv[0]);
  if (a == nullptr) return nullptr;
  if (argc < 5) return Throw(env, reg, Code::kArg, "funcLocs needs four arrays");
  uint32_t *ns, *idx, *starts, *lengths;
  size_t n0, n1, n2, n3;
  if (!GetU32Array(env, reg, argv[1], "namespaces", &ns, &n0) || !GetU32Array(env, reg, argv[2], "indices", &idx, &n1) ||
      !GetU32Array(env, reg, argv[3], "starts", &starts, &n2) || !GetU32Array(env, reg, argv[4], "lengths", &lengths, &n3))
    return nullptr;
  if (n1 != n0 || n2 != n0 || n3 != n0) return Throw(env, reg, Code::kArg, "the arrays differ in length");
  if (a->reader.FuncLocs(ns, idx, n0, starts, lengths) == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  return Undefined(env);
}

// funcsByOffset(id, offsets, namespaces, indices): absent keys give (NONE, NONE).
napi_value FuncsByOffset(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  OpenArtifact* a = Live(env, reg, argv[0]);
  if (a == nullptr) return nullptr;
  if (argc < 4) return Throw(env, reg, Code::kArg, "funcsByOffset needs three arrays");
  uint32_t *offs, *ns, *idx;
  size_t n0, n1, n2;
  if (!GetU32Array(env, reg, argv[1], "offsets", &offs, &n0) || !GetU32Array(env, reg, argv[2], "namespaces", &ns, &n1) ||
      !GetU32Array(env, reg, argv[3], "indices", &idx, &n2))
    return nullptr;
  if (n1 != n0 || n2 != n0) return Throw(env, reg, Code::kArg, "the arrays differ in length");
  if (a->reader.FuncsByOffset(offs, n0, ns, idx) == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  return Undefined(env);
}

// funcNames(id, funcIndices, module) -> (string | undefined)[]
napi_value FuncNames(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  OpenArtifact* a = Live(env, reg, argv[0]);
  if (a == nullptr) return nullptr;
  if (argc < 3) return Throw(env, reg, Code::kArg, "funcNames needs an array and a module");
  uint32_t* fis;
  size_t n;
  if (!GetU32Array(env, reg, argv[1], "funcIndices", &fis, &n)) return nullptr;
  uint32_t module;
  if (!GetModule(env, reg, a, argv[2], &module)) return nullptr;
  // The names are appended in chunks with Array.prototype.push (one call per chunk), which
  // costs far less than setting elements one by one through N-API.
  napi_value out, push;
  if (napi_create_array(env, &out) != napi_ok || napi_get_reference_value(env, reg->array_push, &push) != napi_ok ||
      push == nullptr)
    return Throw(env, reg, Code::kIo, "cannot allocate the result");
  constexpr size_t kChunk = 256;
  napi_value chunk[kChunk];
  for (size_t k = 0; k < n;) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    size_t m = 0;
    for (; m < kChunk && k < n; m++, k++) {
      chunk[m] = NameValue(env, reg, a, fis[k], module);
      if (chunk[m] == nullptr) {
        napi_close_handle_scope(env, scope);
        return nullptr;
      }
    }
    napi_value ignored;
    const napi_status st = napi_call_function(env, out, push, m, chunk, &ignored);
    napi_close_handle_scope(env, scope);
    if (st != napi_ok) return nullptr;
  }
  return out;
}

double U64Number(uint64_t v) {
  // As lib/reader.ts computes it: high word * 2^32 + low word, in double arithmetic.
  return static_cast<double>(static_cast<uint32_t>(v >> 32)) * 4294967296.0 + static_cast<double>(static_cast<uint32_t>(v));
}

// describe(id) -> Description (lib/core.ts), equal to JsCore.describe().
napi_value Describe(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  OpenArtifact* a = Live(env, reg, argv[0]);
  if (a == nullptr) return nullptr;
  const Reader& r = a->reader;
  Napi::Env e(env);
  Napi::Object d = Napi::Object::New(e);
  d.Set("formatVersion", Napi::Number::New(e, r.FormatVersion()));
  d.Set("fileSize", Napi::Number::New(e, static_cast<double>(r.FileSize())));
  d.Set("textSize", Napi::Number::New(e, r.TextSize()));
  d.Set("funcCount", Napi::Number::New(e, r.FuncCount()));
  d.Set("sparseCount", Napi::Number::New(e, r.SparseCount()));
  d.Set("bitmapBlocks", Napi::Number::New(e, r.BitmapBlocks()));
  d.Set("bucketWords", Napi::Number::New(e, static_cast<double>(r.BucketWords())));
  d.Set("offsetShift", Napi::Number::New(e, r.OffsetShift()));
  d.Set("offsetCount", Napi::Number::New(e, r.OffsetCount()));
  d.Set("srcLocCount", Napi::Number::New(e, r.SrcLocCount()));
  d.Set("nameIndexWords", Napi::Number::New(e, r.NameIndexWords()));
  d.Set("nameBytes", Napi::Number::New(e, r.NameBytes()));
  const auto& secs = r.Sections();
  Napi::Array sections = Napi::Array::New(e, secs.size());
  for (size_t i = 0; i < secs.size(); i++) {
    Napi::Object s = Napi::Object::New(e);
    s.Set("name", Napi::String::New(e, secs[i].name));
    s.Set("offset", Napi::Number::New(e, U64Number(secs[i].offset)));
    s.Set("size", Napi::Number::New(e, U64Number(secs[i].size)));
    sections.Set(static_cast<uint32_t>(i), s);
  }
  d.Set("sections", sections);
  Napi::Array namespaces = Napi::Array::New(e, r.NamespaceCount());
  for (uint32_t i = 0; i < r.NamespaceCount(); i++) {
    Napi::Object n = Napi::Object::New(e);
    n.Set("namespace", Napi::Number::New(e, r.Namespace(i)));
    n.Set("funcStart", Napi::Number::New(e, r.FuncLocStart(i)));
    n.Set("funcCount", Napi::Number::New(e, r.FuncLocStart(i + 1) - r.FuncLocStart(i)));
    n.Set("sparseStart", Napi::Number::New(e, r.SparseStart(i)));
    n.Set("srcStart", Napi::Number::New(e, r.SrcLocStart(i)));
    n.Set("bitmapStart", Napi::Number::New(e, r.BitmapStart(i)));
    n.Set("bitmapBlocks", Napi::Number::New(e, r.BitmapStart(i + 1) - r.BitmapStart(i)));
    n.Set("bucketStart", Napi::Number::New(e, r.BucketStart(i)));
    n.Set("bucketWords", Napi::Number::New(e, r.BucketStart(i + 1) - r.BucketStart(i)));
    n.Set("bucketShift", Napi::Number::New(e, r.BucketShift(i)));
    n.Set("bucketFilterShift", Napi::Number::New(e, r.BucketFilterShift(i)));
    n.Set("encoding", Napi::String::New(e, Reader::EncodingName(r.EncodingOf(i))));
    namespaces.Set(i, n);
  }
  d.Set("namespaces", namespaces);
  Napi::Array modules = Napi::Array::New(e, r.ModuleCount());
  static const char kHex[] = "0123456789abcdef";
  for (uint32_t m = 0; m < r.ModuleCount(); m++) {
    const Reader::Module rec = r.ModuleAt(m);
    Napi::Object o = Napi::Object::New(e);
    if (rec.name_offset == kNone)
      o.Set("name", e.Undefined());
    else
      o.Set("name", Napi::Value(e, MakeString(env, r.NameBytesAt(rec.name_offset), rec.name_length)));
    o.Set("importedFuncs", Napi::Number::New(e, rec.imported_funcs));
    o.Set("definedFuncs", Napi::Number::New(e, rec.defined_funcs));
    o.Set("byteOffset", Napi::Number::New(e, rec.byte_offset));
    o.Set("nameEncoding", Napi::Number::New(e, rec.name_encoding));
    o.Set("nameCount", Napi::Number::New(e, rec.name_count));
    std::string hex;
    bool any = false;
    for (int k = 0; k < 32; k++) {
      hex.push_back(kHex[rec.sha256[k] >> 4]);
      hex.push_back(kHex[rec.sha256[k] & 15]);
      any = any || rec.sha256[k] != 0;
    }
    if (any)
      o.Set("sha256", Napi::String::New(e, hex));
    else
      o.Set("sha256", e.Undefined());
    modules.Set(m, o);
  }
  d.Set("modules", modules);
  return d;
}

// moduleCount(id) -> M, from the info header: what a module argument is checked against,
// without describing every module.
napi_value ModuleCount(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  OpenArtifact* a = Live(env, reg, argv[0]);
  if (a == nullptr) return nullptr;
  napi_value v;
  napi_create_uint32(env, a->reader.ModuleCount(), &v);
  return v;
}

// setErrorFactory(fn: (code, message) => Error)
napi_value SetErrorFactory(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Registry* reg = GetRegistry(env, info, &argc, argv);
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_function) return Throw(env, reg, Code::kArg, "the error factory must be a function");
  if (reg->error_factory != nullptr) napi_delete_reference(env, reg->error_factory);
  reg->error_factory = nullptr;
  napi_create_reference(env, argv[0], 1, &reg->error_factory);
  return Undefined(env);
}

// stats() -> { live, open }: artifacts not yet finalized, and not yet closed (for tests).
napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Registry* reg = GetRegistry(env, info, &argc, nullptr);
  Napi::Env e(env);
  Napi::Object o = Napi::Object::New(e);
  o.Set("live", Napi::Number::New(e, reg->live));
  o.Set("open", Napi::Number::New(e, reg->mapped));
  return o;
}

struct Holder {
  std::shared_ptr<Registry> registry;
};

void FinalizeHolder(napi_env env, void* data, void* /*hint*/) {
  Holder* h = static_cast<Holder*>(data);
  if (h->registry->error_factory != nullptr) napi_delete_reference(env, h->registry->error_factory);
  if (h->registry->array_push != nullptr) napi_delete_reference(env, h->registry->array_push);
  h->registry->error_factory = nullptr;
  h->registry->array_push = nullptr;
  delete h;
}

void FinalizeScratch(napi_env /*env*/, void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<Registry>*>(hint);
}

napi_value Init(napi_env env, napi_value exports) {
  auto registry = std::make_shared<Registry>();
  Registry* reg = registry.get();
  Holder* holder = new Holder{registry};
  if (napi_set_instance_data(env, holder, FinalizeHolder, nullptr) != napi_ok) {
    delete holder;
    return nullptr;
  }
  const napi_property_descriptor props[] = {
      {"openPath", nullptr, OpenPath, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"openBytes", nullptr, OpenBytes, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"funcLoc", nullptr, FuncLoc, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"srcLoc", nullptr, SrcLoc, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"funcByOffset", nullptr, FuncByOffset, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"funcName", nullptr, FuncName, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"funcLocs", nullptr, FuncLocs, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"funcsByOffset", nullptr, FuncsByOffset, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"funcNames", nullptr, FuncNames, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"describe", nullptr, Describe, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"moduleCount", nullptr, ModuleCount, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"setErrorFactory", nullptr, SetErrorFactory, nullptr, nullptr, nullptr, napi_enumerable, reg},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_enumerable, reg},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  napi_value array, push;
  if (napi_create_array(env, &array) != napi_ok || napi_get_named_property(env, array, "push", &push) != napi_ok ||
      napi_create_reference(env, push, 1, &reg->array_push) != napi_ok)
    return nullptr;
  // The scratch: memory owned by the registry, viewed from JS as a Uint32Array(4). The
  // ArrayBuffer keeps the registry alive, so the memory outlives every view of it even if
  // the buffer is detached.
  napi_value ab, scratch;
  auto* keep = new std::shared_ptr<Registry>(registry);
  if (napi_create_external_arraybuffer(env, reg->scratch, sizeof reg->scratch, FinalizeScratch, keep, &ab) != napi_ok) {
    delete keep;
    return nullptr;
  }
  if (napi_create_typedarray(env, napi_uint32_array, 4, ab, 0, &scratch) != napi_ok) return nullptr;
  napi_set_named_property(env, exports, "scratch", scratch);
  // The calling convention of these exports; lib/native.ts refuses an addon with another.
  napi_value abi;
  napi_create_uint32(env, kBindingAbi, &abi);
  napi_set_named_property(env, exports, "bindingAbi", abi);
  return exports;
}

}  // namespace
}  // namespace funckey

NAPI_MODULE_INIT() { return funckey::Init(env, exports); }
