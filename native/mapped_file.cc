#include "mapped_file.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <tuple>

// POSIX only (Linux and macOS; see binding.gyp).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace funckey {

namespace {

const char* ErrnoName(int e) {
  switch (e) {
    case ENOENT:
      return "ENOENT";
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case EISDIR:
      return "EISDIR";
    case ENOTDIR:
      return "ENOTDIR";
    case ELOOP:
      return "ELOOP";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case ENOMEM:
      return "ENOMEM";
    case EINVAL:
      return "EINVAL";
    case ENODEV:
      return "ENODEV";
    case EOVERFLOW:
      return "EOVERFLOW";
    case EFBIG:
      return "EFBIG";
    case EIO:
      return "EIO";
    case EAGAIN:
      return "EAGAIN";
    case ENXIO:
      return "ENXIO";
    default:
      return "EUNKNOWN";
  }
}

std::string Describe(int e, const char* what) {
  return std::string(ErrnoName(e)) + ": " + std::strerror(e) + " (" + what + ")";
}

// The table of shared mappings, keyed by what identifies a file's contents to fstat.
struct FileKey {
  uint64_t dev, ino, size;
  int64_t mtime_sec, mtime_nsec;
  bool operator<(const FileKey& o) const {
    return std::tie(dev, ino, size, mtime_sec, mtime_nsec) < std::tie(o.dev, o.ino, o.size, o.mtime_sec, o.mtime_nsec);
  }
};

struct Table {
  std::mutex mu;
  std::map<FileKey, std::weak_ptr<MappedFile::Mapping>> by_file;
  size_t count = 0;  // distinct mappings alive
};

Table& TheTable() {
  static Table* t = new Table();  // never destroyed: mappings may outlive static destruction
  return *t;
}

size_t ComputeMaxMappings() {
  // FUNCKEY_MAX_MAPPINGS lowers (or raises) the limit; else half of vm.max_map_count, which
  // leaves the other half to the heap, the engine and the libraries of the process.
  if (const char* env = std::getenv("FUNCKEY_MAX_MAPPINGS")) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return static_cast<size_t>(v);
  }
  size_t max_maps = 65530;
  if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1 && v >= 2) max_maps = static_cast<size_t>(v);
    std::fclose(f);
  }
  return max_maps / 2;
}

}  // namespace

struct MappedFile::Mapping {
  const uint8_t* data = nullptr;
  size_t size = 0;
  FileKey key{};
  ~Mapping() {
    ::munmap(const_cast<uint8_t*>(data), size);
    Table& t = TheTable();
    std::lock_guard<std::mutex> lock(t.mu);
    t.count--;
    auto it = t.by_file.find(key);
    if (it != t.by_file.end() && it->second.expired()) t.by_file.erase(it);
  }
};

size_t MappedFile::MaxMappings() {
  static const size_t max = ComputeMaxMappings();
  return max;
}

size_t MappedFile::OpenMappings() {
  Table& t = TheTable();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.count;
}

bool MappedFile::Open(const std::string& path, std::string* error) {
  Unmap();
  if (path.find('\0') != std::string::npos) {
    *error = "EINVAL: the path contains a NUL character";
    return false;
  }
  int fd;
  do {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *error = Describe(errno, "open");
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    *error = Describe(e, "fstat");
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    *error = Describe(EISDIR, "open");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = "EINVAL: not a regular file";
    return false;
  }
  // An artifact is below 4 GiB (docs/FORMAT.md); the js backend reads no larger file either.
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > 0xFFFFFFFFull) {
    ::close(fd);
    *error = "EFBIG: larger than 4294967295 bytes (fstat)";
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return true;  // nothing to map; the reader sees 0 bytes
  }
#ifdef __APPLE__
  const struct timespec mtime = st.st_mtimespec;
#else
  const struct timespec mtime = st.st_mtim;
#endif
  const FileKey key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(size),
                    static_cast<int64_t>(mtime.tv_sec), static_cast<int64_t>(mtime.tv_nsec)};
  Table& t = TheTable();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.by_file.find(key);
  if (it != t.by_file.end()) {
    if (std::shared_ptr<Mapping> shared = it->second.lock()) {
      ::close(fd);
      mapping_ = std::move(shared);
      data_ = mapping_->data;
      size_ = mapping_->size;
      return true;
    }
  }
  if (t.count >= MaxMappings()) {
    ::close(fd);
    *error = "EMFILE: " + std::to_string(t.count) +
             " files are mapped, the most this process maps at once (close artifacts no longer used)";
    return false;
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    *error = Describe(e, "mmap");
    return false;
  }
  // Lookups touch a few scattered pages; read-ahead would only waste I/O.
  ::madvise(p, size, MADV_RANDOM);
  Mapping* m = new (std::nothrow) Mapping();
  if (m == nullptr) {
    ::munmap(p, size);
    *error = Describe(ENOMEM, "mmap");
    return false;
  }
  m->data = static_cast<const uint8_t*>(p);
  m->size = size;
  m->key = key;
  t.count++;
  // The Mapping's destructor takes the lock: hand it to the shared_ptr only after this
  // function's lock_guard is the sole holder, which it is (the destructor runs at release).
  mapping_ = std::shared_ptr<Mapping>(m);
  t.by_file[key] = mapping_;
  data_ = m->data;
  size_ = size;
  return true;
}

void MappedFile::Unmap() {
  // The last reference unmaps (Mapping's destructor), which takes the table's lock: never
  // call this while holding it.
  mapping_.reset();
  data_ = nullptr;
  size_ = 0;
}

}  // namespace funckey
