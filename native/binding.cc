// The N-API surface of the native backend; the only file that uses N-API, all of it through
// node-addon-api (C++ exceptions off: every failure is a JS exception left pending and an
// empty value returned). lib/native.ts wraps it in a Core (lib/core.ts).
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
#include "srclocs.h"

namespace funckey {
namespace {

// 2: describe() reports the bitmap blocks and the offset index (format 2); lookups that meet a
// damaged sparse bitmap throw E_CORRUPT, batch forms included.
// 3: describe() reports the bucket words and, per namespace, its encoding and bucket run and
// shifts (format 3); lookups that meet a damaged bucket run throw E_CORRUPT as for a bitmap.
// 4: moduleCount(id); openPath and openBytes return the token and leave the id in scratch[0].
constexpr uint32_t kBindingAbi = 6;
constexpr uint32_t kSlotBits = 22;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint32_t kGenMask = 0x1FF;  // id = gen << 22 | slot stays below 2^31

using Napi::CallbackInfo;

struct Registry;

struct OpenArtifact {
  std::shared_ptr<Registry> registry;  // keeps the registry alive until the token is finalized
  uint32_t id = 0;
  MappedFile map;
  std::unique_ptr<uint64_t[]> copy;  // the caller's bytes, for openBytes
  Reader reader;
  bool open = false;
  // Calls in progress that may run the caller's JS (a setter on Array.prototype or
  // Object.prototype meets every element and property they set): close() during one of them
  // only marks the artifact closed, and the last call to end releases the memory. A token
  // finalized meanwhile leaves the deletion to it too.
  uint32_t pins = 0;
  bool finalized = false;

  void Close() {
    open = false;
    if (pins == 0) Release();
  }
  void Release() {
    map.Unmap();
    copy.reset();
  }
};

// Keeps an artifact's memory for the length of a call that may run JS while it reads it.
class Pin {
 public:
  explicit Pin(const OpenArtifact* a) : a_(const_cast<OpenArtifact*>(a)) { a_->pins++; }
  ~Pin() {
    if (--a_->pins > 0) return;
    if (!a_->open) a_->Release();
    if (a_->finalized) delete a_;
  }
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;

 private:
  OpenArtifact* a_;
};

// Frames srcLocsScratch writes into its shared buffer; a longer chain goes through srcLocs.
constexpr size_t kSrcScratchFrames = 64;

struct Registry : std::enable_shared_from_this<Registry> {
  std::vector<OpenArtifact*> slots;
  std::vector<uint32_t> gens;
  std::vector<uint32_t> free_slots;
  uint32_t live = 0;    // artifacts not yet finalized
  uint32_t mapped = 0;  // artifacts open (not closed)
  uint32_t scratch[4] = {0, 0, 0, 0};
  // srcLocsScratch's frames, kSrcScratchFrames of 4 words: (function, file, line, column).
  uint32_t src_scratch[4 * kSrcScratchFrames] = {};
  Napi::FunctionReference error_factory;
  Napi::FunctionReference array_push;   // Array.prototype.push as it was when the addon loaded
  std::vector<SrcFrameRef> src_frames;  // srcLocLookup's frames, kept to reuse their memory

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

Registry* Reg(const CallbackInfo& info) { return static_cast<Registry*>(info.Data()); }

// Throws the error (code, message) and returns the empty value for the callback to return.
Napi::Value Throw(Napi::Env env, Registry* reg, Code code, const std::string& message) {
  if (env.IsExceptionPending()) return Napi::Value();
  const char* name = CodeName(code);
  if (reg != nullptr && !reg->error_factory.IsEmpty()) {
    const Napi::Value error = reg->error_factory.Call({Napi::String::New(env, name), Napi::String::New(env, message)});
    if (env.IsExceptionPending()) return Napi::Value();
    if (!error.IsEmpty()) {
      Napi::Error(env, error).ThrowAsJavaScriptException();
      return Napi::Value();
    }
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, name));
  error.ThrowAsJavaScriptException();
  return Napi::Value();
}

// A number argument as a u32 (as ToUint32 truncates it); false when it is not a number.
bool ArgU32(const Napi::Value& v, uint32_t* out) {
  if (!v.IsNumber()) return false;
  *out = v.As<Napi::Number>().Uint32Value();
  return true;
}

// The open artifact of id, or nullptr after throwing E_CLOSED.
OpenArtifact* Find(Napi::Env env, Registry* reg, uint32_t id) {
  OpenArtifact* a = reg->Find(id);
  if (a != nullptr && a->open) return a;
  Throw(env, reg, Code::kClosed, "the artifact is closed");
  return nullptr;
}

// The open artifact named by info[0], or nullptr after throwing E_ARG / E_CLOSED.
OpenArtifact* Live(const CallbackInfo& info) {
  uint32_t id;
  if (!ArgU32(info[0], &id)) {
    Throw(info.Env(), Reg(info), Code::kArg, "the artifact handle must be a number");
    return nullptr;
  }
  return Find(info.Env(), Reg(info), id);
}

// The Uint32Array arguments info[1 ..], named by `names`: their elements in data[], all of one
// length, in *n; false after throwing E_ARG. `need` is the message for too few arguments.
template <size_t K>
bool ArgArrays(const CallbackInfo& info, const char* need, const char* const (&names)[K], uint32_t* (&data)[K],
               size_t* n) {
  if (info.Length() < K + 1) {
    Throw(info.Env(), Reg(info), Code::kArg, need);
    return false;
  }
  size_t length[K];
  for (size_t k = 0; k < K; k++) {
    const Napi::Value v = info[k + 1];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Throw(info.Env(), Reg(info), Code::kArg, std::string(names[k]) + " must be a Uint32Array");
      return false;
    }
    Napi::Uint32Array a = v.As<Napi::Uint32Array>();
    data[k] = a.Data();
    length[k] = a.ElementLength();
  }
  for (size_t k = 1; k < K; k++)
    if (length[k] != length[0]) {
      Throw(info.Env(), Reg(info), Code::kArg, "the arrays differ in length");
      return false;
    }
  *n = length[0];
  return true;
}

// The module argument, or false after throwing E_ARG / E_RANGE.
bool CheckModule(Napi::Env env, Registry* reg, const OpenArtifact* a, uint32_t module) {
  if (module < a->reader.ModuleCount()) return true;
  Throw(env, reg, Code::kRange,
        "module " + std::to_string(module) + " does not exist: the artifact has " +
            std::to_string(a->reader.ModuleCount()));
  return false;
}

// A JS string from name bytes, decoded as lib/names.ts decodes them (invalid UTF-8 becomes
// U+FFFD). ASCII takes the Latin-1 path, which builds a one-byte string directly: the one raw
// N-API call of this file, as node-addon-api has no Latin-1 constructor.
Napi::Value MakeString(Napi::Env env, const uint8_t* p, uint32_t n) {
  uint8_t any = 0;
  for (uint32_t i = 0; i < n; i++) any |= p[i];
  if (any >= 0x80) return Napi::String::New(env, reinterpret_cast<const char*>(p), n);
  napi_value s;
  if (napi_create_string_latin1(env, reinterpret_cast<const char*>(p), n, &s) != napi_ok) return Napi::Value();
  return Napi::Value(env, s);
}

void FinalizeToken(Napi::Env /*env*/, OpenArtifact* a) {
  if (a->open) a->registry->mapped--;
  a->Close();
  a->registry->Remove(a->id);
  if (a->pins > 0)
    a->finalized = true;  // the last Pin deletes it
  else
    delete a;
}

// Opens an artifact already placed in `a` (mapping or copy): returns its token, its id in scratch[0].
Napi::Value Register(Napi::Env env, Registry* reg, std::unique_ptr<OpenArtifact> a, const uint8_t* data, size_t size) {
  a->registry = reg->shared_from_this();
  const Status st = a->reader.Open(data, size);
  if (!st.ok()) return Throw(env, reg, st.code, st.message);
  const uint32_t id = reg->Add(a.get());
  if (id == kNone) return Throw(env, reg, Code::kIo, "too many artifacts open");
  a->id = id;
  a->open = true;
  reg->mapped++;
  OpenArtifact* raw = a.release();
  const Napi::External<OpenArtifact> token = Napi::External<OpenArtifact>::New(env, raw, FinalizeToken);
  if (token.IsEmpty()) {
    raw->Close();
    reg->mapped--;
    reg->Remove(id);
    delete raw;
    return Throw(env, reg, Code::kIo, "cannot create the artifact handle");
  }
  // The id goes back in scratch, the token as the result: no array or object is built, so
  // no setter of the caller's (Array.prototype[0]) can swallow the id and leave JS with
  // another artifact's.
  reg->scratch[0] = id;
  return token;
}

// openPath(path: string) -> token; scratch[0] = id
Napi::Value OpenPath(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return Throw(env, Reg(info), Code::kArg, "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  auto a = std::make_unique<OpenArtifact>();
  std::string error;
  if (!a->map.Open(path, &error)) return Throw(env, Reg(info), Code::kIo, "cannot map " + path + ": " + error);
  const uint8_t* data = a->map.data();
  const size_t size = a->map.size();
  return Register(env, Reg(info), std::move(a), data, size);
}

// openBytes(bytes: Uint8Array) -> token; scratch[0] = id; the bytes are copied (see the top of the file).
Napi::Value OpenBytes(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value v = info[0];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    return Throw(env, Reg(info), Code::kArg, "bytes must be a Uint8Array");
  Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
  const size_t length = bytes.ElementLength();
  auto a = std::make_unique<OpenArtifact>();
  if (length > 0) {
    a->copy.reset(new (std::nothrow) uint64_t[(length + 7) / 8]);
    if (!a->copy)
      return Throw(env, Reg(info), Code::kIo, "cannot allocate " + std::to_string(length) + " bytes for the artifact");
    std::memcpy(a->copy.get(), bytes.Data(), length);
  }
  const uint8_t* data = reinterpret_cast<const uint8_t*>(a->copy.get());
  return Register(env, Reg(info), std::move(a), data, length);
}

// close(id): unmaps (or frees the copy) now. Closing a closed artifact does nothing.
Napi::Value Close(const CallbackInfo& info) {
  Registry* reg = Reg(info);
  uint32_t id;
  if (!ArgU32(info[0], &id)) return Throw(info.Env(), reg, Code::kArg, "the artifact handle must be a number");
  OpenArtifact* a = reg->Find(id);
  if (a != nullptr && a->open) {
    a->Close();
    reg->mapped--;
  }
  return info.Env().Undefined();
}

// E_CORRUPT for a damaged sparse bitmap or bucket run, worded as lib/table.ts words it.
Napi::Value ThrowDamaged(Napi::Env env, Registry* reg, const OpenArtifact* a) {
  return Throw(env, reg, Code::kCorrupt, a->reader.CorruptMessage());
}

// The single lookups take no arguments: JS writes the artifact id and the query into
// scratch[0..2] and calls; the answer comes back in scratch. Converting no JS values saves
// about a third of the cost of a call. For the same reason their entry (ScratchEntry) reads
// only the registry, where a Napi::CallbackInfo would read six arguments and `this`.

// funcLoc(): scratch [id, namespace, index] -> boolean; scratch[0], scratch[1] = start, length.
Napi::Value FuncLoc(Napi::Env env, Registry* reg) {
  const OpenArtifact* a = Find(env, reg, reg->scratch[0]);
  if (a == nullptr) return Napi::Value();
  const uint32_t ns = reg->scratch[1], index = reg->scratch[2];
  const Reader::Found f = a->reader.FuncLoc(ns, index, &reg->scratch[0], &reg->scratch[1]);
  if (f == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  return Napi::Boolean::New(env, f == Reader::Found::kYes);
}

// srcLoc(): scratch [id, namespace, index] -> boolean; scratch[0] = FilePos.
Napi::Value SrcLoc(Napi::Env env, Registry* reg) {
  const OpenArtifact* a = Find(env, reg, reg->scratch[0]);
  if (a == nullptr) return Napi::Value();
  uint32_t s = kNone;
  const Reader::Found f = a->reader.SrcLoc(reg->scratch[1], reg->scratch[2], &s);
  if (f == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  reg->scratch[0] = s;
  return Napi::Boolean::New(env, f == Reader::Found::kYes && s != kNone);
}

// funcByOffset(): scratch [id, offset] -> boolean; scratch[0], scratch[1] = namespace, index.
Napi::Value FuncByOffset(Napi::Env env, Registry* reg) {
  const OpenArtifact* a = Find(env, reg, reg->scratch[0]);
  if (a == nullptr) return Napi::Value();
  const uint32_t offset = reg->scratch[1];
  const Reader::Found f = a->reader.FuncByOffset(offset, &reg->scratch[0], &reg->scratch[1]);
  if (f == Reader::Found::kCorrupt) return ThrowDamaged(env, reg, a);
  return Napi::Boolean::New(env, f == Reader::Found::kYes);
}

// srcLocsScratch(): scratch [id, offset] -> the number of frames of the chain at offset,
// written to srcScratch as (function string, file string, line, column) each; or -count,
// with nothing written, when the chain has more frames than srcScratch holds.
Napi::Value SrcLocsScratch(Napi::Env env, Registry* reg) {
  const OpenArtifact* a = Find(env, reg, reg->scratch[0]);
  if (a == nullptr) return Napi::Value();
  std::vector<SrcFrameRef>& frames = reg->src_frames;
  const Status st = SrcLocLookup(ArtifactSrcLocs(a->reader), reg->scratch[1], &frames);
  if (!st.ok()) return Throw(env, reg, st.code, st.message);
  const size_t n = frames.size();
  if (n > kSrcScratchFrames) return Napi::Number::New(env, -static_cast<double>(n));
  uint32_t* w = reg->src_scratch;
  for (size_t i = 0; i < n; i++) {
    w[4 * i] = frames[i].function_index;
    w[4 * i + 1] = frames[i].file_index;
    w[4 * i + 2] = frames[i].line;
    w[4 * i + 3] = frames[i].column;
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// The name, undefined, or the empty value after throwing E_CORRUPT.
Napi::Value NameValue(Napi::Env env, Registry* reg, const OpenArtifact* a, uint32_t func_index, uint32_t module) {
  const uint8_t* bytes;
  uint32_t length;
  switch (a->reader.FuncName(func_index, module, &bytes, &length)) {
    case Reader::NameResult::kFound:
      return MakeString(env, bytes, length);
    case Reader::NameResult::kAbsent:
      return env.Undefined();
    case Reader::NameResult::kCorrupt:
      break;
    case Reader::NameResult::kTooLong:
      return Throw(env, reg, Code::kCorrupt,
                   "the name of function " + std::to_string(func_index) + " has " + std::to_string(length) +
                       " bytes, more than any name has (" + std::to_string(kMaxNameBytes) + ")");
  }
  return Throw(env, reg, Code::kCorrupt,
               "the name of function " + std::to_string(func_index) + " lies outside .fk.names");
}

// funcName(): scratch [id, funcIndex, module] -> string | undefined
Napi::Value FuncName(Napi::Env env, Registry* reg) {
  const OpenArtifact* a = Find(env, reg, reg->scratch[0]);
  if (a == nullptr) return Napi::Value();
  const uint32_t func_index = reg->scratch[1], module = reg->scratch[2];
  if (!CheckModule(env, reg, a, module)) return Napi::Value();
  return NameValue(env, reg, a, func_index, module);
}

// funcLocs(id, namespaces, indices, starts, lengths): absent keys give (NONE, 0).
Napi::Value FuncLocs(const CallbackInfo& info) {
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  static const char* const kNames[] = {"namespaces", "indices", "starts", "lengths"};
  uint32_t* arr[4];
  size_t n;
  if (!ArgArrays(info, "funcLocs needs four arrays", kNames, arr, &n)) return Napi::Value();
  if (a->reader.FuncLocs(arr[0], arr[1], n, arr[2], arr[3]) == Reader::Found::kCorrupt)
    return ThrowDamaged(info.Env(), Reg(info), a);
  return info.Env().Undefined();
}

// funcsByOffset(id, offsets, namespaces, indices): absent keys give (NONE, NONE).
Napi::Value FuncsByOffset(const CallbackInfo& info) {
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  static const char* const kNames[] = {"offsets", "namespaces", "indices"};
  uint32_t* arr[3];
  size_t n;
  if (!ArgArrays(info, "funcsByOffset needs three arrays", kNames, arr, &n)) return Napi::Value();
  if (a->reader.FuncsByOffset(arr[0], n, arr[1], arr[2]) == Reader::Found::kCorrupt)
    return ThrowDamaged(info.Env(), Reg(info), a);
  return info.Env().Undefined();
}

// funcNames(id, funcIndices, module) -> (string | undefined)[]
Napi::Value FuncNames(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  Registry* reg = Reg(info);
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  if (info.Length() < 3) return Throw(env, reg, Code::kArg, "funcNames needs an array and a module");
  static const char* const kNames[] = {"funcIndices"};
  uint32_t* fis[1];
  size_t n;
  if (!ArgArrays(info, "", kNames, fis, &n)) return Napi::Value();
  uint32_t module;
  if (!ArgU32(info[2], &module)) return Throw(env, reg, Code::kArg, "module must be a number");
  if (!CheckModule(env, reg, a, module)) return Napi::Value();
  // The names are appended in chunks with Array.prototype.push (one call per chunk), which
  // costs far less than setting elements one by one through N-API. push may meet a setter of
  // the caller's (Array.prototype[k]) that closes the artifact: the pin keeps the names
  // readable until the call ends.
  const Pin pin(a);
  Napi::Array out = Napi::Array::New(env);
  if (out.IsEmpty() || reg->array_push.IsEmpty()) return Throw(env, reg, Code::kIo, "cannot allocate the result");
  constexpr size_t kChunk = 256;
  napi_value chunk[kChunk];
  for (size_t k = 0; k < n;) {
    Napi::HandleScope scope(env);
    size_t m = 0;
    for (; m < kChunk && k < n; m++, k++) {
      chunk[m] = NameValue(env, reg, a, fis[0][k], module);
      if (chunk[m] == nullptr) return Napi::Value();
    }
    reg->array_push.Call(out, m, chunk);
    if (env.IsExceptionPending()) return Napi::Value();
  }
  return out;
}

double U64Number(uint64_t v) {
  // As lib/open.ts computes it: high word * 2^32 + low word, in double arithmetic.
  return static_cast<double>(static_cast<uint32_t>(v >> 32)) * 4294967296.0 +
         static_cast<double>(static_cast<uint32_t>(v));
}

// describe() builds its result with data properties defined on each object and array itself
// ([[DefineOwnProperty]], as the js core's object literals and Array.from do), never by
// assignment: no setter of the caller's on Object.prototype or Array.prototype runs, so the
// two backends build the same objects.
class Fields {
 public:
  explicit Fields(Napi::Env env) : env_(env) {}
  Fields& Add(const char* key, Napi::Value v) {
    d_.push_back(Napi::PropertyDescriptor::Value(key, v, napi_default_jsproperty));
    return *this;
  }
  Fields& Add(const char* key, double v) { return Add(key, Napi::Number::New(env_, v)); }
  Napi::Object Make() const {
    Napi::Object o = Napi::Object::New(env_);
    o.DefineProperties(d_);
    return o;
  }

 private:
  Napi::Env env_;
  std::vector<Napi::PropertyDescriptor> d_;
};

// Element i of an array, defined (see Fields).
void DefineElement(Napi::Env e, Napi::Array a, uint32_t i, Napi::Value v) {
  a.DefineProperty(
      Napi::PropertyDescriptor::Value(Napi::String::New(e, std::to_string(i)), v, napi_default_jsproperty));
}

Napi::Array DescribeSections(Napi::Env e, const Reader& r) {
  const auto& secs = r.Sections();
  Napi::Array sections = Napi::Array::New(e, secs.size());
  for (size_t i = 0; i < secs.size(); i++)
    DefineElement(e, sections, static_cast<uint32_t>(i),
                  Fields(e)
                      .Add("name", Napi::String::New(e, secs[i].name))
                      .Add("offset", U64Number(secs[i].offset))
                      .Add("size", U64Number(secs[i].size))
                      .Make());
  return sections;
}

Napi::Array DescribeNamespaces(Napi::Env e, const Reader& r) {
  Napi::Array namespaces = Napi::Array::New(e, r.NamespaceCount());
  for (uint32_t i = 0; i < r.NamespaceCount(); i++)
    DefineElement(e, namespaces, i,
                  Fields(e)
                      .Add("namespace", r.Namespace(i))
                      .Add("funcStart", r.FuncLocStart(i))
                      .Add("funcCount", r.FuncLocStart(i + 1) - r.FuncLocStart(i))
                      .Add("sparseStart", r.SparseStart(i))
                      .Add("srcStart", r.SrcLocStart(i))
                      .Add("bitmapStart", r.BitmapStart(i))
                      .Add("bitmapBlocks", r.BitmapStart(i + 1) - r.BitmapStart(i))
                      .Add("bucketStart", r.BucketStart(i))
                      .Add("bucketWords", r.BucketStart(i + 1) - r.BucketStart(i))
                      .Add("bucketShift", r.BucketShift(i))
                      .Add("bucketFilterShift", r.BucketFilterShift(i))
                      .Add("encoding", Napi::String::New(e, Reader::EncodingName(r.EncodingOf(i))))
                      .Make());
  return namespaces;
}

// 64 lowercase hex digits, or undefined when all 32 bytes are zero (no hash recorded).
Napi::Value Sha256Value(Napi::Env e, const uint8_t* sha256) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  bool any = false;
  for (int k = 0; k < 32; k++) {
    hex.push_back(kHex[sha256[k] >> 4]);
    hex.push_back(kHex[sha256[k] & 15]);
    any = any || sha256[k] != 0;
  }
  if (!any) return e.Undefined();
  return Napi::String::New(e, hex);
}

Napi::Array DescribeModules(Napi::Env e, const Reader& r) {
  Napi::Array modules = Napi::Array::New(e, r.ModuleCount());
  for (uint32_t m = 0; m < r.ModuleCount(); m++) {
    Napi::HandleScope scope(e);
    const Reader::Module rec = r.ModuleAt(m);
    const Napi::Value name =
        rec.name_offset == kNone ? e.Undefined() : MakeString(e, r.NameBytesAt(rec.name_offset), rec.name_length);
    DefineElement(e, modules, m,
                  Fields(e)
                      .Add("name", name)
                      .Add("importedFuncs", rec.imported_funcs)
                      .Add("definedFuncs", rec.defined_funcs)
                      .Add("byteOffset", rec.byte_offset)
                      .Add("nameEncoding", rec.name_encoding)
                      .Add("nameCount", rec.name_count)
                      .Add("sha256", Sha256Value(e, rec.sha256))
                      .Make());
  }
  return modules;
}

// describe(id) -> Description (lib/core.ts), equal to JsCore.describe().
Napi::Value Describe(const CallbackInfo& info) {
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  // No code of the caller's runs here (see Fields); the pin holds the memory even if some did.
  const Pin pin(a);
  const Reader& r = a->reader;
  Napi::Env e = info.Env();
  return Fields(e)
      .Add("formatVersion", r.FormatVersion())
      .Add("fileSize", static_cast<double>(r.FileSize()))
      .Add("textSize", r.TextSize())
      .Add("funcCount", r.FuncCount())
      .Add("sparseCount", r.SparseCount())
      .Add("bitmapBlocks", r.BitmapBlocks())
      .Add("bucketWords", static_cast<double>(r.BucketWords()))
      .Add("offsetShift", r.OffsetShift())
      .Add("offsetCount", r.OffsetCount())
      .Add("srcLocCount", r.SrcLocCount())
      .Add("nameIndexWords", r.NameIndexWords())
      .Add("nameBytes", r.NameBytes())
      .Add("sections", DescribeSections(e, r))
      .Add("namespaces", DescribeNamespaces(e, r))
      .Add("modules", DescribeModules(e, r))
      .Make();
}

// moduleCount(id) -> M, from the info header: what a module argument is checked against,
// without describing every module.
Napi::Value ModuleCount(const CallbackInfo& info) {
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), a->reader.ModuleCount());
}

// setErrorFactory(fn: (code, message) => Error)
Napi::Value SetErrorFactory(const CallbackInfo& info) {
  if (!info[0].IsFunction()) return Throw(info.Env(), Reg(info), Code::kArg, "the error factory must be a function");
  Reg(info)->error_factory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// stats() -> { live, open }: artifacts not yet finalized, and not yet closed (for tests).
Napi::Value Stats(const CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("live", Napi::Number::New(info.Env(), Reg(info)->live));
  o.Set("open", Napi::Number::New(info.Env(), Reg(info)->mapped));
  return o;
}

struct Holder {
  std::shared_ptr<Registry> registry;
};

// The environment is going away: its references are released now, while it still exists (the
// registry itself may live on in a token or the scratch buffer until they are finalized).
void FinalizeHolder(Napi::Env /*env*/, Holder* h) {
  h->registry->error_factory.Reset();
  h->registry->array_push.Reset();
  delete h;
}

// A Uint8Array or Uint32Array argument's bytes; false after throwing E_ARG.
bool ArgBytes(const CallbackInfo& info, size_t k, const char* what, const uint8_t** data, size_t* size) {
  const Napi::Value v = info[k];
  if (v.IsTypedArray()) {
    const Napi::TypedArray a = v.As<Napi::TypedArray>();
    const napi_typedarray_type type = a.TypedArrayType();
    if (type == napi_uint8_array || type == napi_uint32_array) {
      *data = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
      *size = a.ByteLength();
      return true;
    }
  }
  Throw(info.Env(), Reg(info), Code::kArg, std::string(what) + " must be a Uint8Array or a Uint32Array");
  return false;
}

// The frames as (function, file, line, column) in `out`, and their count; minus the count
// when `out` has too little room (the caller retries with a larger one).
Napi::Value WriteFrames(Napi::Env env, const std::vector<SrcFrameRef>& frames, Napi::Uint32Array out) {
  if (frames.size() > out.ElementLength() / 4) return Napi::Number::New(env, -static_cast<double>(frames.size()));
  uint32_t* w = out.Data();
  for (size_t i = 0; i < frames.size(); i++) {
    w[4 * i] = frames[i].function_index;
    w[4 * i + 1] = frames[i].file_index;
    w[4 * i + 2] = frames[i].line;
    w[4 * i + 3] = frames[i].column;
  }
  return Napi::Number::New(env, static_cast<double>(frames.size()));
}

// srcLocLookup(blocks, pieces, frames, strings, stringBytes, offset, out): the chain of
// source-location frames at offset (native/srclocs.h), innermost first, written into the
// Uint32Array out as (function string, file string, line, column) per frame; returns the
// number of frames, or -needed (out too small: nothing written). The caller decodes the
// strings by index (lib/srclocs.ts's string table), so a lookup creates no JS value but its
// result.
Napi::Value SrcLocLookupExport(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  Registry* reg = Reg(info);
  if (info.Length() < 7) return Throw(env, reg, Code::kArg, "srcLocLookup takes seven arguments");
  SrcLocTables t;
  if (!ArgBytes(info, 0, "blocks", &t.blocks, &t.blocks_size) ||
      !ArgBytes(info, 1, "pieces", &t.pieces, &t.pieces_size) ||
      !ArgBytes(info, 2, "frames", &t.frames, &t.frames_size) ||
      !ArgBytes(info, 3, "strings", &t.strings, &t.strings_size) ||
      !ArgBytes(info, 4, "stringBytes", &t.string_bytes, &t.string_bytes_size))
    return Napi::Value();
  uint32_t offset;
  if (!ArgU32(info[5], &offset)) return Throw(env, reg, Code::kArg, "offset must be a number");
  const Napi::Value o = info[6];
  if (!o.IsTypedArray() || o.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    return Throw(env, reg, Code::kArg, "out must be a Uint32Array");
  Napi::Uint32Array out = o.As<Napi::Uint32Array>();
  Status st = CheckSrcLocTables(t);
  std::vector<SrcFrameRef>& frames = reg->src_frames;
  if (st.ok()) st = SrcLocLookup(t, offset, &frames);
  if (!st.ok()) return Throw(env, reg, st.code, st.message);
  return WriteFrames(env, frames, out);
}

// srcLocs(id, offset, out): srcLocLookup over the artifact's own tables (FORMAT.md 3.5).
Napi::Value SrcLocs(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  Registry* reg = Reg(info);
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  uint32_t offset;
  if (!ArgU32(info[1], &offset)) return Throw(env, reg, Code::kArg, "offset must be a number");
  const Napi::Value o = info[2];
  if (!o.IsTypedArray() || o.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    return Throw(env, reg, Code::kArg, "out must be a Uint32Array");
  Napi::Uint32Array out = o.As<Napi::Uint32Array>();
  std::vector<SrcFrameRef>& frames = reg->src_frames;
  const Status st = SrcLocLookup(ArtifactSrcLocs(a->reader), offset, &frames);
  if (!st.ok()) return Throw(env, reg, st.code, st.message);
  return WriteFrames(env, frames, out);
}

// srcLocString(id, i): string i of the artifact's source-location tables.
Napi::Value SrcLocStringExport(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  Registry* reg = Reg(info);
  const OpenArtifact* a = Live(info);
  if (a == nullptr) return Napi::Value();
  uint32_t i;
  if (!ArgU32(info[1], &i)) return Throw(env, reg, Code::kArg, "the string index must be a number");
  const uint8_t* p = nullptr;
  size_t n = 0;
  const Status st = SrcLocString(ArtifactSrcLocs(a->reader), i, &p, &n);
  if (!st.ok()) return Throw(env, reg, st.code, st.message);
  return MakeString(env, p, static_cast<uint32_t>(n));
}

void FinalizeScratch(Napi::Env /*env*/, void* /*data*/, std::shared_ptr<Registry>* keep) { delete keep; }

// The entry of a single lookup: the registry, and no arguments (see FuncLoc). The second
// raw N-API call of this file: node-addon-api's callbacks all read the arguments.
template <Napi::Value (*fn)(Napi::Env, Registry*)>
napi_value ScratchEntry(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  return fn(Napi::Env(env), static_cast<Registry*>(data));
}

template <Napi::Value (*fn)(Napi::Env, Registry*)>
void ExportScratch(Napi::Object exports, const char* name, Registry* reg) {
  exports.DefineProperty(Napi::PropertyDescriptor(
      napi_property_descriptor{name, nullptr, ScratchEntry<fn>, nullptr, nullptr, nullptr, napi_enumerable, reg}));
}

// Defines fn as exports[name] (enumerable, read-only), with the registry as its data.
template <Napi::Function::Callback fn>
void Export(Napi::Env env, Napi::Object exports, const char* name, Registry* reg) {
  exports.DefineProperty(
      Napi::PropertyDescriptor::Value(name, Napi::Function::New<fn>(env, name, reg), napi_enumerable));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto registry = std::make_shared<Registry>();
  Registry* reg = registry.get();
  env.SetInstanceData<Holder, FinalizeHolder>(new Holder{registry});
  if (env.IsExceptionPending()) return exports;
  Export<OpenPath>(env, exports, "openPath", reg);
  Export<OpenBytes>(env, exports, "openBytes", reg);
  Export<Close>(env, exports, "close", reg);
  ExportScratch<FuncLoc>(exports, "funcLoc", reg);
  ExportScratch<SrcLoc>(exports, "srcLoc", reg);
  ExportScratch<FuncByOffset>(exports, "funcByOffset", reg);
  ExportScratch<FuncName>(exports, "funcName", reg);
  ExportScratch<SrcLocsScratch>(exports, "srcLocsScratch", reg);
  Export<FuncLocs>(env, exports, "funcLocs", reg);
  Export<FuncsByOffset>(env, exports, "funcsByOffset", reg);
  Export<FuncNames>(env, exports, "funcNames", reg);
  Export<Describe>(env, exports, "describe", reg);
  Export<ModuleCount>(env, exports, "moduleCount", reg);
  Export<SetErrorFactory>(env, exports, "setErrorFactory", reg);
  Export<Stats>(env, exports, "stats", reg);
  Export<SrcLocLookupExport>(env, exports, "srcLocLookup", reg);
  Export<SrcLocs>(env, exports, "srcLocs", reg);
  Export<SrcLocStringExport>(env, exports, "srcLocString", reg);
  reg->array_push = Napi::Persistent(Napi::Array::New(env).Get("push").As<Napi::Function>());
  // The scratch: memory owned by the registry, viewed from JS as a Uint32Array(4). The
  // ArrayBuffer keeps the registry alive, so the memory outlives every view of it even if
  // the buffer is detached.
  auto* keep = new std::shared_ptr<Registry>(registry);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, reg->scratch, sizeof reg->scratch, FinalizeScratch, keep);
  if (ab.IsEmpty()) {
    delete keep;
    return exports;
  }
  exports.Set("scratch", Napi::Uint32Array::New(env, 4, ab, 0));
  // srcLocsScratch's frames, the same way.
  auto* keep2 = new std::shared_ptr<Registry>(registry);
  Napi::ArrayBuffer fb = Napi::ArrayBuffer::New(env, reg->src_scratch, sizeof reg->src_scratch, FinalizeScratch, keep2);
  if (fb.IsEmpty()) {
    delete keep2;
    return exports;
  }
  exports.Set("srcScratch", Napi::Uint32Array::New(env, 4 * kSrcScratchFrames, fb, 0));
  // The calling convention of these exports; lib/native.ts refuses an addon with another.
  exports.Set("bindingAbi", Napi::Number::New(env, kBindingAbi));
  return exports;
}

}  // namespace
}  // namespace funckey

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return funckey::Init(env, exports); }

NODE_API_MODULE(funckey, InitModule)
