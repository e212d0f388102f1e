#include "gateway/hub/history_cache.hpp"

#include <algorithm>

namespace chatgate {
namespace {

// A string's heap block, if it has one (libstdc++ keeps up to 15 bytes inline).
std::size_t heap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 + 16 : 0; }

}  // namespace

std::size_t history_cache::cost(const protocol::chat_message& m) {
  // make_shared's block (control block + the message) and its malloc
  // header, and the deque slot holding the pointer.
  constexpr std::size_t fixed = sizeof(protocol::chat_message) + 16 + 16 + sizeof(protocol::stored_ptr);
  return fixed + heap(m.text) + heap(m.from) + heap(m.room);
}

history_cache::log& history_cache::touch(const std::string& room) {
  auto [it, created] = logs_.try_emplace(room);
  log& l = it->second;
  if (created) {
    l.room = room;
    l.lru = lru_.insert(lru_.end(), &l);
  } else {
    lru_.splice(lru_.end(), lru_, l.lru);
  }
  return l;
}

void history_cache::append(const std::string& room, protocol::stored_ptr m) {
  if (per_room_ == 0 || max_bytes_ == 0) return;
  log& l = touch(room);
  if (l.messages.empty() && l.floor == 0) l.floor = m->id - 1;
  const std::size_t c = cost(*m);
  l.messages.push_back(std::move(m));
  l.bytes += c;
  bytes_ += c;
  if (l.messages.size() > per_room_) pop_front(l);
  evict(l);
}

void history_cache::fill(const std::string& room, std::vector<protocol::stored_ptr> messages) {
  if (per_room_ == 0 || max_bytes_ == 0) return;
  log& l = touch(room);
  bytes_ -= l.bytes;
  l.bytes = 0;
  l.messages.clear();
  if (messages.size() > per_room_)
    messages.erase(messages.begin(), messages.end() - static_cast<std::ptrdiff_t>(per_room_));
  for (auto& m : messages) {
    l.bytes += cost(*m);
    l.messages.push_back(std::move(m));
  }
  bytes_ += l.bytes;
  l.floor = l.messages.empty() ? 0 : l.messages.front()->id - 1;
  l.complete = true;
  evict(l);
}

void history_cache::pop_front(log& l) {
  const std::size_t c = cost(*l.messages.front());
  l.floor = l.messages.front()->id;
  l.messages.pop_front();
  l.bytes -= c;
  bytes_ -= c;
}

void history_cache::drop(log& l) {
  bytes_ -= l.bytes;
  lru_.erase(l.lru);
  logs_.erase(l.room);  // `l` is gone
}

void history_cache::evict(const log& keep) {
  while (bytes_ > max_bytes_) {
    log* oldest = lru_.front();
    if (oldest != &keep) {
      drop(*oldest);
      continue;
    }
    // The room being written to is the only one left: it sheds its oldest.
    log& l = *oldest;
    if (l.messages.size() <= 1) return;  // one message over the cap: keep it
    pop_front(l);
    l.complete = false;
  }
}

std::vector<protocol::stored_ptr> history_cache::since(const std::string& room,
                                                       std::uint64_t after) const {
  std::vector<protocol::stored_ptr> out;
  auto it = logs_.find(room);
  if (it == logs_.end()) return out;
  const auto& ms = it->second.messages;
  auto first = std::upper_bound(ms.begin(), ms.end(), after,
                                [](std::uint64_t id, const protocol::stored_ptr& m) { return id < m->id; });
  out.assign(first, ms.end());
  return out;
}

bool history_cache::answers(const std::string& room, std::uint64_t after) const {
  auto it = logs_.find(room);
  if (it == logs_.end()) return false;
  const log& l = it->second;
  if (after == 0) return l.complete;
  return after >= l.floor && (l.complete || !l.messages.empty());
}

void history_cache::forget(const std::string& room) {
  auto it = logs_.find(room);
  if (it != logs_.end()) drop(it->second);
}

}  // namespace chatgate
