#include "worker/sync/page_cursor.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

using worker::sync::ApiEntity;
using worker::sync::CursorPosition;
using worker::sync::PageCursor;

namespace {

/// A newest-first list the test mutates between pages.
struct MovingList {
  std::vector<ApiEntity> items;  // newest first
  void add_newest(int n) {
    for (int i = 0; i < n; ++i) {
      std::int64_t t = items.empty() ? 1000 : items.front().created_at_ms + 1;
      items.insert(items.begin(), ApiEntity{"new_" + std::to_string(t), t, t, "", "", "{}"});
    }
  }
  std::vector<ApiEntity> page(std::int64_t offset, int limit) const {
    std::vector<ApiEntity> out;
    for (auto i = offset;
         i < static_cast<std::int64_t>(items.size()) && static_cast<int>(out.size()) < limit; ++i)
      out.push_back(items[static_cast<std::size_t>(i)]);
    return out;
  }
};

MovingList make_list(int n) {
  MovingList list;
  for (int i = n; i >= 1; --i)
    list.items.push_back(ApiEntity{"e" + std::to_string(i), i * 10, i * 10, "", "", "{}"});
  return list;
}

/// Walks the list, calling `between(page_number)` before each fetch; returns the ids taken in
/// order.
template <typename Between>
std::vector<std::string> walk(MovingList& list, PageCursor& cursor, Between between,
                              int max_pages = 1000) {
  std::vector<std::string> taken;
  for (int n = 1; !cursor.done() && n <= max_pages; ++n) {
    between(n);
    auto page = list.page(cursor.request_offset(), cursor.page_size());
    auto step = cursor.accept(page);
    for (auto i : step.fresh)
      taken.push_back(page[i].id);
  }
  return taken;
}

}  // namespace

TEST_CASE("a cursor takes every entity of a still list exactly once, in order", "[unit]") {
  MovingList list = make_list(23);
  PageCursor cursor(5, 2);
  auto taken = walk(list, cursor, [](int) {});
  REQUIRE(taken.size() == 23);
  CHECK(taken.front() == "e23");
  CHECK(taken.back() == "e1");
  CHECK(std::set<std::string>(taken.begin(), taken.end()).size() == 23);
  CHECK(cursor.done());
}

TEST_CASE("a list whose length is a multiple of the page size ends on the overlap page", "[unit]") {
  MovingList list = make_list(10);
  PageCursor cursor(5, 1);
  auto taken = walk(list, cursor, [](int) {});
  CHECK(taken.size() == 10);
  CHECK(cursor.done());
}

TEST_CASE("entities created during the walk shift pages forward without duplicates", "[unit]") {
  MovingList list = make_list(40);
  PageCursor cursor(10, 3);
  auto taken = walk(list, cursor, [&](int n) {
    if (n > 1) list.add_newest(4);
  });
  std::set<std::string> unique(taken.begin(), taken.end());
  CHECK(unique.size() == taken.size());
  for (int i = 1; i <= 40; ++i)
    CHECK(unique.count("e" + std::to_string(i)) == 1);
}

TEST_CASE("entities deleted ahead of the walk never make it skip the ones behind", "[unit]") {
  // Deleting more than the overlap from the part already walked shifts the
  // rest towards the front; the cursor must step back instead of skipping.
  for (int deleted_per_page : {1, 3, 7, 15}) {
    MovingList list = make_list(60);
    std::set<std::string> deleted;
    PageCursor cursor(10, 2);
    auto taken = walk(list, cursor, [&](int n) {
      if (n == 1) return;
      // Delete the oldest already-walked entities (those just before the cursor).
      for (int k = 0; k < deleted_per_page; ++k) {
        auto pos = std::min<std::int64_t>(cursor.position().next_offset - 1,
                                          static_cast<std::int64_t>(list.items.size()) - 1);
        if (pos < 0) return;
        deleted.insert(list.items[static_cast<std::size_t>(pos)].id);
        list.items.erase(list.items.begin() + pos);
      }
    });
    std::set<std::string> unique(taken.begin(), taken.end());
    INFO("deleted per page: " << deleted_per_page);
    CHECK(unique.size() == taken.size());
    for (int i = 1; i <= 60; ++i) {
      std::string id = "e" + std::to_string(i);
      if (deleted.count(id) == 0) CHECK(unique.count(id) == 1);
    }
  }
}

TEST_CASE("a cursor restored from its position continues where it stood", "[unit]") {
  MovingList list = make_list(30);
  PageCursor first(7, 2);
  std::vector<std::string> taken;
  for (int i = 0; i < 2; ++i) {
    auto page = list.page(first.request_offset(), 7);
    for (auto k : first.accept(page).fresh)
      taken.push_back(page[k].id);
  }
  CursorPosition saved = first.position();
  PageCursor second(7, 2, saved);
  auto rest = walk(list, second, [](int) {});
  taken.insert(taken.end(), rest.begin(), rest.end());
  CHECK(taken.size() == 30);
  CHECK(std::set<std::string>(taken.begin(), taken.end()).size() == 30);
}

TEST_CASE("entities sharing a creation time are neither lost nor repeated", "[unit]") {
  MovingList list;
  for (int i = 0; i < 12; ++i)
    list.items.push_back(ApiEntity{"same_" + std::to_string(20 - i), 500, 500, "", "", "{}"});
  PageCursor cursor(5, 2);
  auto taken = walk(list, cursor, [](int) {});
  CHECK(taken.size() == 12);
  CHECK(std::set<std::string>(taken.begin(), taken.end()).size() == 12);
}

TEST_CASE("a page size of one still walks the whole list", "[unit]") {
  MovingList list = make_list(4);
  PageCursor cursor(1, 5);
  auto taken = walk(list, cursor, [](int) {});
  CHECK(taken.size() == 4);
}
