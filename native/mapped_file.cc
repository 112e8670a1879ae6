#include "mapped_file.h"

#include <cerrno>
#include <cstring>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace funckey {

#ifndef _WIN32

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

#else  // _WIN32

namespace {

std::string WinError(DWORD e, const char* what) {
  const char* name = "EUNKNOWN";
  switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: name = "ENOENT"; break;
    case ERROR_ACCESS_DENIED: name = "EACCES"; break;
    case ERROR_TOO_MANY_OPEN_FILES: name = "EMFILE"; break;
    case ERROR_NOT_ENOUGH_MEMORY: name = "ENOMEM"; break;
    default: break;
  }
  return std::string(name) + ": Windows error " + std::to_string(e) + " (" + what + ")";
}

}  // namespace

bool MappedFile::Open(const std::string& path, std::string* error) {
  Unmap();
  if (path.find('\0') != std::string::npos) {
    *error = "EINVAL: the path contains a NUL character";
    return false;
  }
  const int wlen = MultiByteToWideChar(CP_UTF8, 0, path.data(), static_cast<int>(path.size()), nullptr, 0);
  std::wstring wpath(static_cast<size_t>(wlen), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, path.data(), static_cast<int>(path.size()), &wpath[0], wlen);
  HANDLE file = CreateFileW(wpath.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    *error = WinError(GetLastError(), "open");
    return false;
  }
  BY_HANDLE_FILE_INFORMATION fi;
  if (!GetFileInformationByHandle(file, &fi)) {
    *error = WinError(GetLastError(), "stat");
    CloseHandle(file);
    return false;
  }
  if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
    *error = "EISDIR: is a directory";
    CloseHandle(file);
    return false;
  }
  const uint64_t size = (static_cast<uint64_t>(fi.nFileSizeHigh) << 32) | fi.nFileSizeLow;
  if (size == 0) {
    CloseHandle(file);
    return true;
  }
  if (size > static_cast<uint64_t>(SIZE_MAX)) {
    *error = "EFBIG: file too large";
    CloseHandle(file);
    return false;
  }
  HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
  CloseHandle(file);
  if (mapping == nullptr) {
    *error = WinError(GetLastError(), "mmap");
    return false;
  }
  void* view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
  CloseHandle(mapping);
  if (view == nullptr) {
    *error = WinError(GetLastError(), "mmap");
    return false;
  }
  view_ = view;
  data_ = static_cast<const uint8_t*>(view);
  size_ = static_cast<size_t>(size);
  return true;
}

void MappedFile::Unmap() {
  if (view_ != nullptr) UnmapViewOfFile(view_);
  view_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

#endif

}  // namespace funckey
