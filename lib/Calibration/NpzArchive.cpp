//===- NpzArchive.cpp - reading .npz files (ZIP archives of .npy) ---------===//
//
// Only the part of ZIP that NumPy writes: one disk, members stored
// (np.savez) or deflated (np.savez_compressed), ZIP64 fields (NumPy forces
// them on every member's local header, and Python's zipfile writes them in
// the central directory once a size or offset passes 4 GiB). The central
// directory is the truth: local headers are only checked for their
// signature and name, since NumPy leaves their sizes at 0xffffffff and a
// streamed archive leaves them at zero. Every offset and size is checked
// against the buffer before it is used.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/NpyArray.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <climits>
#include <zlib.h>

namespace mlir::quarc::calibration {

namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndSize = 22;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kMaxCommentSize = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 1u << 0;
constexpr uint16_t kFlagStrongEncryption = 1u << 6;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
/// Deflate cannot compress by more than about 1032:1, so a member that
/// claims more is corrupt (and would only make us grow a buffer in vain).
constexpr uint64_t kMaxDeflateRatio = 1032;

/// Little-endian field of `width` bytes at `at`; the caller has checked
/// that it lies inside `bytes`.
uint64_t readLE(StringRef bytes, size_t at, unsigned width) {
  uint64_t value = 0;
  for (unsigned i = 0; i < width; ++i)
    value |= uint64_t(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}
uint16_t read16(StringRef bytes, size_t at) { return readLE(bytes, at, 2); }
uint32_t read32(StringRef bytes, size_t at) { return readLE(bytes, at, 4); }
uint64_t read64(StringRef bytes, size_t at) { return readLE(bytes, at, 8); }

/// Whether [offset, offset + size) lies inside [0, limit), without overflow.
bool fits(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

/// One central directory entry, with its ZIP64 fields applied.
struct Member {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressedSize = 0;
  uint64_t size = 0;
  uint64_t localHeaderOffset = 0;
};

class NpzReader {
public:
  NpzReader(StringRef bytes, StringRef what, std::string &error)
      : bytes(bytes), what(what), error(error) {}

  LogicalResult read(std::vector<std::pair<std::string, NpyArray>> &out) {
    uint64_t entries, directoryOffset, directorySize, directoryLimit;
    if (failed(
            readEnd(entries, directoryOffset, directorySize, directoryLimit)))
      return failure();
    if (!fits(directoryOffset, directorySize, directoryLimit))
      return fail("corrupt ZIP archive: the central directory (" +
                  Twine(directorySize) + " bytes at offset " +
                  Twine(directoryOffset) + ") is not inside the file");
    // Checked before anything is reserved: every entry takes 46 bytes.
    if (entries > directorySize / kCentralHeaderSize)
      return fail("corrupt ZIP archive: " + Twine(entries) +
                  " entries do not fit a central directory of " +
                  Twine(directorySize) + " bytes");

    std::vector<std::pair<std::string, NpyArray>> members;
    members.reserve(entries);
    llvm::StringSet<> names;
    uint64_t at = directoryOffset;
    uint64_t directoryEnd = directoryOffset + directorySize;
    for (uint64_t i = 0; i < entries; ++i) {
      Member member;
      if (failed(readCentralHeader(at, directoryEnd, member)))
        return failure();
      if (!names.insert(member.name).second)
        return failMember(member.name, "duplicate member");
      std::string inflated;
      StringRef data;
      if (failed(extract(member, inflated, data)))
        return failure();
      std::string memberWhat = (what + ": member '" + member.name + "'").str();
      NpyArray array;
      if (failed(readNpy(data, memberWhat, array, error)))
        return failure();
      members.emplace_back(StringRef(member.name).drop_back(4).str(),
                           std::move(array));
    }
    out = std::move(members);
    return success();
  }

private:
  LogicalResult fail(const Twine &message) {
    error = (what + ": " + message).str();
    return failure();
  }
  LogicalResult failMember(StringRef name, const Twine &message) {
    error = (what + ": member '" + name + "': " + message).str();
    return failure();
  }

  /// Finds the end of central directory record, which may be followed by
  /// a comment of up to 64 KiB, and the ZIP64 record when there is one.
  /// `directoryLimit` is where the central directory must end by.
  LogicalResult readEnd(uint64_t &entries, uint64_t &directoryOffset,
                        uint64_t &directorySize, uint64_t &directoryLimit) {
    if (bytes.size() < kEndSize)
      return fail("not a .npz file (too short for a ZIP archive)");
    size_t end = bytes.size() - kEndSize;
    size_t lowest = end > kMaxCommentSize ? end - kMaxCommentSize : 0;
    // The record is the one whose comment runs exactly to the end of the
    // file; a signature inside a comment does not end where it says.
    for (;; --end) {
      if (read32(bytes, end) == kEndSignature &&
          read16(bytes, end + 20) == bytes.size() - end - kEndSize)
        break;
      if (end == lowest)
        return fail("not a .npz file (no ZIP end of central directory "
                    "record)");
    }
    if (read16(bytes, end + 4) != 0 || read16(bytes, end + 6) != 0 ||
        read16(bytes, end + 8) != read16(bytes, end + 10))
      return fail("multi-disk ZIP archives are not supported");
    entries = read16(bytes, end + 10);
    directorySize = read32(bytes, end + 12);
    directoryOffset = read32(bytes, end + 16);
    directoryLimit = end;

    if (end < kZip64LocatorSize ||
        read32(bytes, end - kZip64LocatorSize) != kZip64LocatorSignature)
      return success();
    size_t locator = end - kZip64LocatorSize;
    uint64_t recordOffset = read64(bytes, locator + 8);
    if (read32(bytes, locator + 4) != 0 || read32(bytes, locator + 16) > 1)
      return fail("multi-disk ZIP archives are not supported");
    if (!fits(recordOffset, kZip64EndSize, locator) ||
        read32(bytes, recordOffset) != kZip64EndSignature)
      return fail("corrupt ZIP archive: bad ZIP64 end of central directory "
                  "locator");
    if (read32(bytes, recordOffset + 16) != 0 ||
        read32(bytes, recordOffset + 20) != 0 ||
        read64(bytes, recordOffset + 24) != read64(bytes, recordOffset + 32))
      return fail("multi-disk ZIP archives are not supported");
    entries = read64(bytes, recordOffset + 32);
    directorySize = read64(bytes, recordOffset + 40);
    directoryOffset = read64(bytes, recordOffset + 48);
    directoryLimit = recordOffset;
    return success();
  }

  /// Reads the central directory entry at `at` (advanced past it), which
  /// must end by `limit`, and checks what quarc can read.
  LogicalResult readCentralHeader(uint64_t &at, uint64_t limit,
                                  Member &member) {
    if (!fits(at, kCentralHeaderSize, limit) ||
        read32(bytes, at) != kCentralHeaderSignature)
      return fail("corrupt ZIP archive: bad central directory entry at "
                  "offset " +
                  Twine(at));
    uint16_t nameSize = read16(bytes, at + 28);
    uint16_t extraSize = read16(bytes, at + 30);
    uint16_t commentSize = read16(bytes, at + 32);
    uint64_t variableSize = uint64_t(nameSize) + extraSize + commentSize;
    if (!fits(at + kCentralHeaderSize, variableSize, limit))
      return fail("corrupt ZIP archive: central directory entry at offset " +
                  Twine(at) + " runs past the directory");
    member.name = bytes.substr(at + kCentralHeaderSize, nameSize).str();
    member.flags = read16(bytes, at + 8);
    member.method = read16(bytes, at + 10);
    member.crc = read32(bytes, at + 16);
    member.compressedSize = read32(bytes, at + 20);
    member.size = read32(bytes, at + 24);
    uint32_t disk = read16(bytes, at + 34);
    member.localHeaderOffset = read32(bytes, at + 42);
    StringRef extra =
        bytes.substr(at + kCentralHeaderSize + nameSize, extraSize);
    at += kCentralHeaderSize + variableSize;

    if (failed(applyZip64Extra(extra, member, disk)))
      return failure();
    if (disk != 0)
      return failMember(member.name,
                        "multi-disk ZIP archives are not supported");
    if (member.flags & (kFlagEncrypted | kFlagStrongEncryption))
      return failMember(member.name, "encrypted members are not supported");
    if (member.method != kMethodStored && member.method != kMethodDeflate)
      return failMember(member.name,
                        "compression method " + Twine(member.method) +
                            " is not supported (only stored and deflate, "
                            "what np.savez and np.savez_compressed write)");
    if (!StringRef(member.name).ends_with(".npy"))
      return failMember(member.name,
                        "not a .npy member (a .npz holds KEY.npy arrays)");
    return success();
  }

  /// Replaces the 32-bit fields saturated at 0xffffffff (0xffff for the
  /// disk) by the 64-bit values of the ZIP64 extra field, which holds
  /// exactly those, in this order.
  LogicalResult applyZip64Extra(StringRef extra, Member &member,
                                uint32_t &disk) {
    bool needed = member.size == UINT32_MAX ||
                  member.compressedSize == UINT32_MAX ||
                  member.localHeaderOffset == UINT32_MAX || disk == 0xffff;
    while (extra.size() >= 4) {
      uint16_t id = read16(extra, 0);
      uint16_t size = read16(extra, 2);
      if (extra.size() - 4 < size)
        return failMember(member.name, "corrupt ZIP archive: bad extra field");
      StringRef data = extra.substr(4, size);
      extra = extra.drop_front(4 + size);
      if (id != kZip64ExtraId)
        continue;
      size_t used = 0;
      auto take = [&](uint64_t &field, unsigned width) {
        if (data.size() - used < width)
          return false;
        field = readLE(data, used, width);
        used += width;
        return true;
      };
      uint64_t diskValue = disk;
      if ((member.size == UINT32_MAX && !take(member.size, 8)) ||
          (member.compressedSize == UINT32_MAX &&
           !take(member.compressedSize, 8)) ||
          (member.localHeaderOffset == UINT32_MAX &&
           !take(member.localHeaderOffset, 8)) ||
          (disk == 0xffff && !take(diskValue, 4)))
        return failMember(member.name,
                          "corrupt ZIP archive: ZIP64 extra field too short");
      disk = diskValue;
      return success();
    }
    if (needed)
      return failMember(member.name,
                        "corrupt ZIP archive: ZIP64 extra field missing");
    return success();
  }

  /// The member's uncompressed bytes, checked against its CRC-32: a view
  /// of the archive for a stored member, of `inflated` for a deflated one.
  LogicalResult extract(const Member &member, std::string &inflated,
                        StringRef &out) {
    uint64_t at = member.localHeaderOffset;
    if (!fits(at, kLocalHeaderSize, bytes.size()) ||
        read32(bytes, at) != kLocalHeaderSignature)
      return failMember(member.name, "corrupt ZIP archive: no local header "
                                     "at offset " +
                                         Twine(at));
    uint64_t nameSize = read16(bytes, at + 26);
    uint64_t extraSize = read16(bytes, at + 28);
    if (!fits(at + kLocalHeaderSize, nameSize + extraSize, bytes.size()))
      return failMember(member.name, "corrupt ZIP archive: local header runs "
                                     "past the end of the file");
    if (bytes.substr(at + kLocalHeaderSize, nameSize) != member.name)
      return failMember(member.name, "corrupt ZIP archive: the local header "
                                     "names another member");
    uint64_t dataOffset = at + kLocalHeaderSize + nameSize + extraSize;
    if (!fits(dataOffset, member.compressedSize, bytes.size()))
      return failMember(member.name,
                        "corrupt ZIP archive: " + Twine(member.compressedSize) +
                            " bytes of data at offset " + Twine(dataOffset) +
                            " run past the end of the " + Twine(bytes.size()) +
                            "-byte file");
    StringRef data = bytes.substr(dataOffset, member.compressedSize);

    if (member.method == kMethodStored) {
      if (member.size != member.compressedSize)
        return failMember(member.name,
                          "corrupt ZIP archive: a stored member of " +
                              Twine(member.compressedSize) + " bytes claims " +
                              Twine(member.size));
      out = data;
    } else {
      if (failed(inflateMember(member, data, inflated)))
        return failure();
      out = inflated;
    }

    // zlib's crc32 takes uInt lengths: feed it in chunks.
    uLong crc = crc32(0, Z_NULL, 0);
    for (StringRef rest = out; !rest.empty();) {
      StringRef chunk = rest.take_front(1u << 30);
      crc = crc32(crc, reinterpret_cast<const Bytef *>(chunk.data()),
                  static_cast<uInt>(chunk.size()));
      rest = rest.drop_front(chunk.size());
    }
    if (crc != member.crc)
      return failMember(member.name,
                        "CRC-32 mismatch (the archive is corrupt)");
    return success();
  }

  /// Inflates a raw deflate stream that must produce exactly member.size
  /// bytes. The output grows as data arrives, never beyond one byte more
  /// than declared, so a forged size cannot make us allocate it up front.
  LogicalResult inflateMember(const Member &member, StringRef data,
                              std::string &out) {
    if (member.size / kMaxDeflateRatio > member.compressedSize)
      return failMember(
          member.name, "corrupt ZIP archive: " + Twine(member.compressedSize) +
                           " deflated bytes cannot hold " + Twine(member.size));
    z_stream stream = {};
    // Negative window bits: a raw deflate stream, no zlib header.
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
      return failMember(member.name, "cannot start zlib");
    // One spare byte detects a member longer than declared.
    uint64_t limit = member.size + 1;
    out.assign(std::min<uint64_t>(
                   limit, std::max<uint64_t>(data.size() * 4, 1u << 16)),
               '\0');
    size_t produced = 0;
    int status = Z_OK;
    const char *problem = nullptr;
    while (status != Z_STREAM_END) {
      if (produced == out.size()) {
        if (out.size() == limit)
          break;
        out.resize(std::min<uint64_t>(limit, uint64_t(out.size()) * 2));
      }
      uInt inChunk = std::min<size_t>(data.size(), UINT_MAX);
      uInt outChunk = std::min<size_t>(out.size() - produced, UINT_MAX);
      stream.next_in =
          reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
      stream.avail_in = inChunk;
      stream.next_out = reinterpret_cast<Bytef *>(&out[produced]);
      stream.avail_out = outChunk;
      status = ::inflate(&stream, Z_NO_FLUSH);
      data = data.drop_front(inChunk - stream.avail_in);
      produced += outChunk - stream.avail_out;
      if (status == Z_BUF_ERROR && produced < out.size()) {
        problem = "the deflate stream is truncated";
        break;
      }
      if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
        problem = stream.msg ? stream.msg : "bad deflate stream";
        break;
      }
    }
    std::string detail = problem ? problem : "";
    inflateEnd(&stream);
    if (!detail.empty())
      return failMember(member.name, "corrupt ZIP archive: " + detail);
    if (produced > member.size)
      return failMember(member.name, "corrupt ZIP archive: inflates to more "
                                     "than its declared " +
                                         Twine(member.size) + " bytes");
    if (produced != member.size)
      return failMember(member.name,
                        "corrupt ZIP archive: inflates to " + Twine(produced) +
                            " bytes, not its declared " + Twine(member.size));
    out.resize(produced);
    return success();
  }

  StringRef bytes;
  StringRef what;
  std::string &error;
};

} // namespace

LogicalResult readNpz(StringRef bytes, StringRef what,
                      std::vector<std::pair<std::string, NpyArray>> &members,
                      std::string &error) {
  return NpzReader(bytes, what, error).read(members);
}

LogicalResult
readNpzFile(StringRef path,
            std::vector<std::pair<std::string, NpyArray>> &members,
            std::string &error) {
  // Read, not mapped (IsVolatile): a file truncated by someone else while
  // mapped would be a SIGBUS, not an error.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false,
                                  /*IsVolatile=*/true);
  if (!buffer) {
    error = "cannot read " + path.str() + ": " + buffer.getError().message();
    return failure();
  }
  return readNpz((*buffer)->getBuffer(), path, members, error);
}

} // namespace mlir::quarc::calibration
