#include "mapped_file.h"

#include <cerrno>
#include <cstring>

// POSIX only (Linux and macOS; see binding.gyp).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace funckey {

namespace {

const char* ErrnoName(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case EOVERFLOW: return "EOVERFLOW";
    case EFBIG: return "EFBIG";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case ENXIO: return "ENXIO";
    default: return "EUNKNOWN";
  }
}

std::string Describe(int e, const char* what) {
  return std::string(ErrnoName(e)) + ": " + std::strerror(e) + " (" + what + ")";
}

}  // namespace

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
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > static_cast<uint64_t>(SIZE_MAX)) {
    ::close(fd);
    *error = Describe(EFBIG, "fstat");
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return true;  // nothing to map; the reader sees 0 bytes
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
  data_ = static_cast<const uint8_t*>(p);
  size_ = size;
  return true;
}

void MappedFile::Unmap() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace funckey
