// A main() for libFuzzer targets built without libFuzzer: runs LLVMFuzzerTestOneInput once
// on every file named on the command line, or found directly in a directory named there, so
// that a seed corpus runs as an ordinary test. Arguments starting with '-' (libFuzzer flags)
// are ignored. Fails if no input was found.
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Appends the regular files directly in `directory`, sorted, to `files`.
bool ListDirectory(const std::string& directory, std::vector<std::string>* files) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return false;
  std::vector<std::string> found;
  while (struct dirent* entry = readdir(dir)) {
    std::string path = directory + "/" + entry->d_name;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) found.push_back(path);
  }
  closedir(dir);
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg[0] == '-') continue;
    struct stat st;
    if (stat(arg.c_str(), &st) != 0) {
      fprintf(stderr, "fuzz_replay: cannot stat %s\n", arg.c_str());
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!ListDirectory(arg, &files)) {
        fprintf(stderr, "fuzz_replay: cannot read directory %s\n", arg.c_str());
        return 1;
      }
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    fprintf(stderr, "fuzz_replay: no inputs\n");
    return 1;
  }
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      fprintf(stderr, "fuzz_replay: cannot read %s\n", file.c_str());
      return 1;
    }
    fprintf(stderr, "fuzz_replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  fprintf(stderr, "fuzz_replay: %zu inputs ran\n", files.size());
  return 0;
}
