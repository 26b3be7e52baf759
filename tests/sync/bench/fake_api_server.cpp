// The fake Clerk Backend API of the sync tests as a standalone server, for
// ops/bench/reconcile (not a test):
//
//   fake_api_server <users> <mirror.tsv>
//
// Seeds <users> users, writes them as the mirror would hold them to <mirror.tsv>
// (id, created_at ms, updated_at ms; tab-separated, for COPY), prints
// "url=<base URL> key=<secret key>" on stdout and serves until stdin closes.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "support/fake_clerk_api.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fake_api_server <users> <mirror.tsv>\n");
    return 2;
  }
  int users = std::stoi(argv[1]);
  sync_test::FakeClerkApi api;
  std::ofstream mirror(argv[2]);
  for (int i = 0; i < users; ++i) {
    auto user = api.data().add_user();
    mirror << user.id << '\t' << user.created_at << '\t' << user.updated_at << '\n';
  }
  mirror.close();
  std::cout << "url=" << api.url() << " key=" << api.secret_key() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  api.stop();
  return 0;
}
