#pragma once
#include <string>

#include "worker/store/mirror_store.hpp"

namespace worker::commands {

/// What `clerk-mirror status` and the admin API print of the mirror's database,
/// as JSON members without the enclosing braces: `"tables":{"users":{"rows":N,
/// "deleted":N},...},"offsets":[{"group","topic","partition","next_offset"}],
/// "events":{"<outcome>":N},"last_commit_at":"..."|null`. Pure.
std::string summary_members_json(const store::MirrorSummary& summary);

}  // namespace worker::commands
