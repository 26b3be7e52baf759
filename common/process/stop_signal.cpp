#include "common/process/stop_signal.hpp"

#include <pthread.h>
#include <signal.h>

namespace common::process {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // SIGUSR1 wakes the waiting thread when the process stops on its own.
  sigaddset(&set, SIGUSR1);
  return set;
}

}  // namespace

StopSignal::StopSignal() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer closing a socket must be an error code, not a process kill.
  ::signal(SIGPIPE, SIG_IGN);
  thread_ = std::thread([this, set] {
    int received = 0;
    while (sigwait(&set, &received) == 0) {
      if (received == SIGUSR1 && stopped_.load()) break;
      if (received == SIGINT || received == SIGTERM) {
        signal_.store(received);
        request_stop();
        break;
      }
    }
  });
}

StopSignal::~StopSignal() {
  request_stop();
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

void StopSignal::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return stopped_.load(); });
}

bool StopSignal::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return stopped_.load(); });
}

void StopSignal::request_stop() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex_);
    if (stopped_.exchange(true)) return;
    callback = std::move(callback_);
  }
  cv_.notify_all();
  if (callback) callback();
}

void StopSignal::on_stop(std::function<void()> callback) {
  std::unique_lock lock(mutex_);
  if (stopped_.load()) {
    lock.unlock();
    callback();
    return;
  }
  callback_ = std::move(callback);
}

}  // namespace common::process
