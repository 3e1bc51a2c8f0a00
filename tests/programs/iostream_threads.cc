// A C++ program: std::thread workers send results through a pipe, the main thread reads them
// with iostreams-style parsing and prints a sorted report with std::cout.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

int main() {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  std::mutex write_mu;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([w, &fds, &write_mu] {
      for (int i = 1; i <= 50; ++i) {
        std::ostringstream line;
        line << "worker" << w << ' ' << i * i + w << '\n';
        std::string text = line.str();
        std::lock_guard<std::mutex> lock(write_mu);
        if (write(fds[1], text.data(), text.size()) != static_cast<ssize_t>(text.size())) return;
      }
    });
  }
  std::thread closer([&workers, &fds] {
    for (auto& worker : workers) worker.join();
    close(fds[1]);
  });
  std::string all;
  char buffer[256];
  for (;;) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    all.append(buffer, static_cast<size_t>(n));
  }
  closer.join();
  std::istringstream in(all);
  std::map<std::string, long> totals;
  std::string name;
  long value;
  while (in >> name >> value) totals[name] += value;
  for (const auto& [worker, total] : totals) std::cout << worker << " total " << total << '\n';
  std::cout << "threads: " << std::thread::hardware_concurrency() * 0 + workers.size() << std::endl;
  return 0;
}
