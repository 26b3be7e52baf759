#include "worker/sync/page_cursor.hpp"

#include <algorithm>

namespace worker::sync {

PageCursor::PageCursor(int page_size, int overlap, CursorPosition start)
    : page_size_(std::max(1, page_size)),
      overlap_(std::clamp(overlap, 0, std::max(0, page_size_ - 1))),
      position_(std::move(start)) {}

std::int64_t PageCursor::request_offset() const {
  return std::max<std::int64_t>(0, position_.next_offset - overlap_ - step_back_);
}

bool PageCursor::taken_before(const ApiEntity& entity) const {
  if (!position_.started) return false;
  if (entity.created_at_ms != position_.anchor_created_at_ms) {
    return entity.created_at_ms > position_.anchor_created_at_ms;
  }
  const auto& ids = position_.anchor_ids;
  return std::find(ids.begin(), ids.end(), entity.id) != ids.end();
}

PageStep PageCursor::accept(const std::vector<ApiEntity>& page) {
  PageStep step;
  if (position_.done) return step;
  const std::int64_t offset = request_offset();
  // The page should begin with something already taken. When it does not, the
  // entities between the last one taken and this page may have moved below our
  // offset: step back and look again (at offset 0 there is nothing to miss).
  // Without overlap (page size 1) shifts cannot be seen.
  bool overlaps = page.empty() ? false : taken_before(page.front());
  if (overlap_ > 0 && position_.started && offset > 0 && !overlaps) {
    step_back_ += page_size_;
    step.stepped_back = true;
    return step;
  }
  for (std::size_t i = 0; i < page.size(); ++i) {
    const ApiEntity& entity = page[i];
    if (taken_before(entity)) continue;
    step.fresh.push_back(i);
    if (!position_.started || entity.created_at_ms != position_.anchor_created_at_ms) {
      position_.anchor_ids.clear();
      position_.anchor_created_at_ms = entity.created_at_ms;
    }
    position_.anchor_ids.push_back(entity.id);
    position_.started = true;
  }
  position_.next_offset = offset + static_cast<std::int64_t>(page.size());
  step_back_ = 0;
  if (static_cast<int>(page.size()) < page_size_) position_.done = true;
  return step;
}

}  // namespace worker::sync
