#pragma once

namespace common::process {
class StopSignal;
}
namespace worker::config {
struct WorkerConfig;
}

namespace worker::commands {

/// The worker process body, shared by `worker` and `rebuild`: ops endpoints,
/// migrations (when configured), topics, then the consumer loop until `stop`.
/// Returns the exit code (0 stopped cleanly, 1 unexpected error, 3 migration refused).
int serve_worker(const config::WorkerConfig& config, common::process::StopSignal& stop);

}  // namespace worker::commands
