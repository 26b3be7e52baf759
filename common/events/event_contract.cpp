#include "common/events/event_contract.hpp"

namespace common::events {

static_assert(to_string(Source::kBackfill) == "backfill");

}  // namespace common::events
