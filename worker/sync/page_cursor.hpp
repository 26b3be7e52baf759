#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "worker/sync/api_entity.hpp"

namespace worker::sync {

/// Where a walk through a newest-first list stands; what a checkpoint stores.
struct CursorPosition {
  std::int64_t next_offset = 0;           ///< offset just past the last entity taken
  std::int64_t anchor_created_at_ms = 0;  ///< created_at of the last entity taken
  std::vector<std::string> anchor_ids;    ///< ids taken with exactly that created_at
  bool started = false;                   ///< false until the first entity was taken
  bool done = false;                      ///< the end of the list was reached
  bool operator==(const CursorPosition&) const = default;
};

/// What to do with a fetched page.
struct PageStep {
  std::vector<std::size_t> fresh;  ///< indices of entities not taken before, in page order
  bool stepped_back = false;       ///< the list shrank under us: nothing taken, fetch again
};

/// Walks an offset-paginated list that is ordered by creation time, newest
/// first, while entities are created and deleted under it. Each request
/// overlaps the previous page by `overlap` entities; entities are taken only
/// when they are older than the last one taken (so insertions at the front
/// cause no duplicates), and when a page no longer overlaps what was taken
/// (deletions shifted the list towards the front) the cursor steps back a page
/// instead of skipping entities. Entities created after the walk passed their
/// place are not seen (webhooks deliver them). Pure; not thread-safe.
class PageCursor {
 public:
  PageCursor(int page_size, int overlap, CursorPosition start = {});
  /// The offset to request next, with limit page_size().
  std::int64_t request_offset() const;
  int page_size() const { return page_size_; }
  /// Feeds the page fetched at request_offset().
  PageStep accept(const std::vector<ApiEntity>& page);
  bool done() const { return position_.done; }
  const CursorPosition& position() const { return position_; }

 private:
  bool taken_before(const ApiEntity& entity) const;

  int page_size_;
  int overlap_;
  CursorPosition position_;
  std::int64_t step_back_ = 0;  ///< extra distance back after the list shrank
};

}  // namespace worker::sync
