// A read-only, private memory mapping of a whole file (RAII). No N-API here.
//
// The descriptor is closed as soon as the mapping exists, so any number of files can stay
// mapped without holding descriptors. An empty file is not mapped (mmap refuses length 0):
// data() is null and size() is 0, which the reader rejects like any too-short input.
//
// Mappings are shared: opening a file that is already mapped (same device, inode, size and
// modification time) takes another reference to the same mapping, so that opening one file
// many times (say, once per request, closed only by the garbage collector) costs one entry
// of the process's map table, not one per open. And there are at most MaxMappings() distinct
// mappings at a time (half the kernel's vm.max_map_count): past that, Open fails with
// EMFILE, well before the kernel's limit would make every allocation of the process fail.
#ifndef FUNCKEY_MAPPED_FILE_H_
#define FUNCKEY_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace funckey {

class MappedFile {
 public:
  struct Mapping;

  MappedFile() = default;
  ~MappedFile() { Unmap(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` (UTF-8). On failure returns false and sets *error to a short reason that
  // starts with the errno name where there is one (e.g. "ENOENT: no such file or directory").
  bool Open(const std::string& path, std::string* error);
  // Releases the mapping now; harmless when there is none. Safe to call twice.
  void Unmap();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool mapped() const { return data_ != nullptr; }

  // The most distinct mappings open at once, and how many are open now (for tests).
  static size_t MaxMappings();
  static size_t OpenMappings();

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<Mapping> mapping_;
};

}  // namespace funckey

#endif  // FUNCKEY_MAPPED_FILE_H_
