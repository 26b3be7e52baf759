#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "worker/support/clerk_events.hpp"

/// Random Clerk histories and the final tables they must produce, computed
/// independently of the worker from the rules of design contracts 5 and 6:
/// per row, the fields of the greatest (version, event ts, event id) upsert, the
/// greatest deletion key (for memberships also their user's and organization's),
/// deleted when the deletion key beats the fields key.
namespace worker_test {

enum class Kind { kUser, kOrganization, kMembership };

/// One event as published: the Kafka key, headers and the envelope body.
struct HistoryEvent {
  std::string event_id;
  std::string type;
  Kind kind = Kind::kUser;
  bool is_delete = false;
  std::string entity_id;
  std::string key;           ///< Kafka key per the ingress contract
  std::int64_t version = 0;  ///< updated_at for upserts, timestamp for deletes
  std::int64_t fields_version =
      0;                       ///< updated_at of the fields carried (upserts, membership deletions)
  std::int64_t timestamp = 0;  ///< envelope timestamp (ms)
  std::string label;           ///< first_name / name / role carried by the event
  std::string organization_id;  ///< memberships
  std::string user_id;          ///< memberships
  std::string json;
};

struct ExpectedRow {
  std::string id;
  std::optional<std::int64_t> deleted_at_ms;
  std::optional<std::int64_t> version;
  std::optional<std::string> version_event_id;
  std::optional<std::string> label;
  bool operator==(const ExpectedRow&) const = default;
};

inline std::string describe(const ExpectedRow& r) {
  std::ostringstream out;
  out << r.id << " deleted_at=" << (r.deleted_at_ms ? std::to_string(*r.deleted_at_ms) : "null")
      << " version=" << (r.version ? std::to_string(*r.version) : "null")
      << " event=" << r.version_event_id.value_or("null") << " label=" << r.label.value_or("null");
  return out.str();
}

using Tables = std::map<std::string, std::vector<ExpectedRow>>;  ///< table -> rows by id

struct HistoryOptions {
  int users = 40;
  int organizations = 10;
  int memberships = 60;
  int max_updates = 4;
  double delete_probability = 0.25;
  double duplicate_fraction = 0.20;  ///< extra copies (same event id) of this share of events
  int reorder_window = 25;           ///< events move at most this far
  std::string id_prefix = "h";
};

/// A seeded history in delivery order: creations, updates, deletions over many
/// entities; duplicates; reordering within a window; some deletions moved before
/// their creation and memberships before their user and organization.
inline std::vector<HistoryEvent> make_history(std::uint64_t seed, const HistoryOptions& o) {
  std::mt19937_64 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto between = [&](std::int64_t a, std::int64_t b) {
    return std::uniform_int_distribution<std::int64_t>(a, b)(rng);
  };
  std::vector<HistoryEvent> events;
  int next_event = 0;
  auto event_id = [&] {
    // Svix-like ids; sometimes equal timestamps make the id the tie-breaker.
    return "msg_" + o.id_prefix + std::to_string(seed % 1000) + "_" + std::to_string(next_event++);
  };
  const std::int64_t base = 1700000000000;
  auto timeline = [&](Kind kind, const std::string& id, const std::string& key,
                      const std::string& org, const std::string& user) {
    std::int64_t t = base + between(0, 100000);
    int updates = static_cast<int>(between(0, o.max_updates));
    for (int u = 0; u <= updates; ++u) {
      HistoryEvent e;
      e.event_id = event_id();
      e.kind = kind;
      e.entity_id = id;
      e.key = key;
      e.organization_id = org;
      e.user_id = user;
      e.version = t;
      e.fields_version = t;
      e.timestamp = t + between(0, 3);
      e.label = "v" + std::to_string(u) + "_" + std::to_string(between(0, 999));
      switch (kind) {
        case Kind::kUser:
          e.type = u == 0 ? "user.created" : "user.updated";
          e.json = envelope(e.type, user_data(id, e.version, e.label), e.timestamp);
          break;
        case Kind::kOrganization:
          e.type = u == 0 ? "organization.created" : "organization.updated";
          e.json = envelope(e.type, organization_data(id, e.version, e.label), e.timestamp);
          break;
        case Kind::kMembership:
          e.type = u == 0 ? "organizationMembership.created" : "organizationMembership.updated";
          e.json =
              envelope(e.type, membership_data(id, org, user, e.version, e.label), e.timestamp);
          break;
      }
      events.push_back(e);
      t += between(0, 2) == 0 ? 0 : between(1, 5000);  // sometimes the same updated_at
    }
    if (chance(o.delete_probability)) {
      HistoryEvent e;
      e.event_id = event_id();
      e.kind = kind;
      e.is_delete = true;
      e.entity_id = id;
      e.key = key;
      e.organization_id = org;
      e.user_id = user;
      e.timestamp = t + between(1, 5000);
      e.version = e.timestamp;
      switch (kind) {
        case Kind::kUser:
          e.type = "user.deleted";
          e.json = envelope(e.type, deleted_data(id, "user"), e.timestamp);
          break;
        case Kind::kOrganization:
          e.type = "organization.deleted";
          e.json = envelope(e.type, deleted_data(id, "organization"), e.timestamp);
          break;
        case Kind::kMembership:
          // A membership deletion carries the membership as it was.
          e.type = "organizationMembership.deleted";
          e.label = events.back().label;
          e.fields_version = events.back().version;
          e.json = envelope(e.type, membership_data(id, org, user, events.back().version, e.label),
                            e.timestamp);
          e.version = e.timestamp;
          break;
      }
      events.push_back(e);
    }
  };
  std::vector<std::string> users, orgs;
  for (int i = 0; i < o.users; ++i) {
    users.push_back("user_" + o.id_prefix + std::to_string(i));
    timeline(Kind::kUser, users.back(), users.back(), "", "");
  }
  for (int i = 0; i < o.organizations; ++i) {
    orgs.push_back("org_" + o.id_prefix + std::to_string(i));
    timeline(Kind::kOrganization, orgs.back(), orgs.back(), "", "");
  }
  for (int i = 0; i < o.memberships; ++i) {
    std::string org = orgs[static_cast<std::size_t>(between(0, o.organizations - 1))];
    std::string user = users[static_cast<std::size_t>(between(0, o.users - 1))];
    std::string id = "orgmem_" + o.id_prefix + std::to_string(i);
    timeline(Kind::kMembership, id, org, org, user);
  }
  // Roughly the order Clerk would send them in, then disorder.
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
  // Deletions before creations, memberships before their parents: move some to the front.
  for (std::size_t i = 0; i < events.size(); ++i) {
    bool move = (events[i].is_delete && chance(0.3)) ||
                (events[i].kind == Kind::kMembership && chance(0.1));
    if (move) {
      auto e = events[i];
      events.erase(events.begin() + static_cast<std::ptrdiff_t>(i));
      events.insert(events.begin() + between(0, static_cast<std::int64_t>(i) / 4), e);
    }
  }
  // Duplicates (same event id, same body), delivered later.
  std::size_t originals = events.size();
  for (std::size_t n = 0; n < static_cast<std::size_t>(originals * o.duplicate_fraction); ++n) {
    auto copy =
        events[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(originals) - 1))];
    events.insert(events.begin() + between(0, static_cast<std::int64_t>(events.size())), copy);
  }
  // Reordering within a window.
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    auto j =
        std::min(events.size() - 1, i + static_cast<std::size_t>(between(0, o.reorder_window)));
    std::swap(events[i], events[j]);
  }
  return events;
}

/// How much disorder a history holds (so a test can say it covered it).
struct Coverage {
  int deletes_before_first_upsert = 0;
  int memberships_before_parent = 0;
  int duplicates = 0;
};

inline Coverage history_coverage(const std::vector<HistoryEvent>& events) {
  Coverage c;
  std::set<std::string> seen_upsert, seen_any, seen_ids;
  for (const auto& e : events) {
    if (!seen_ids.insert(e.event_id).second) ++c.duplicates;
    if (e.is_delete && !seen_upsert.contains(e.entity_id)) ++c.deletes_before_first_upsert;
    if (e.kind == Kind::kMembership &&
        (!seen_any.contains(e.organization_id) || !seen_any.contains(e.user_id))) {
      ++c.memberships_before_parent;
    }
    if (!e.is_delete) seen_upsert.insert(e.entity_id);
    seen_any.insert(e.entity_id);
  }
  return c;
}

/// The tables `events` must converge to (any delivery order, any duplicates).
inline Tables expected_tables(const std::vector<HistoryEvent>& events) {
  using Key = std::tuple<std::int64_t, std::int64_t, std::string>;
  struct State {
    std::optional<Key> fields;
    std::optional<std::string> label;
    std::optional<Key> deletion;
    std::string organization_id, user_id;
  };
  std::map<std::string, State> rows[3];
  for (const auto& e : events) {
    auto& s = rows[static_cast<int>(e.kind)][e.entity_id];
    bool carries_fields = !e.is_delete || e.kind == Kind::kMembership;
    if (carries_fields) {
      // A membership deletion's fields are the membership as it was (its updated_at).
      Key k{e.fields_version, e.timestamp, e.event_id};
      if (!s.fields || *s.fields < k) {
        s.fields = k;
        s.label = e.label;
      }
    }
    if (e.is_delete) {
      Key k{e.timestamp, e.timestamp, e.event_id};
      if (!s.deletion || *s.deletion < k) s.deletion = k;
    }
    if (e.kind == Kind::kMembership) {
      s.organization_id = e.organization_id;
      s.user_id = e.user_id;
    }
  }
  // Memberships end with their user and organization.
  for (auto& [id, s] : rows[2]) {
    for (const auto* parent : {&rows[0], &rows[1]}) {
      const auto& pid = parent == &rows[0] ? s.user_id : s.organization_id;
      auto it = parent->find(pid);
      if (it != parent->end() && it->second.deletion &&
          (!s.deletion || *s.deletion < *it->second.deletion)) {
        s.deletion = it->second.deletion;
      }
    }
  }
  const char* names[] = {"users", "organizations", "organization_memberships"};
  Tables tables;
  for (int k = 0; k < 3; ++k) {
    auto& out = tables[names[k]];
    for (const auto& [id, s] : rows[k]) {
      ExpectedRow r;
      r.id = id;
      bool deleted = s.deletion && (!s.fields || *s.fields < *s.deletion);
      if (deleted) r.deleted_at_ms = std::get<0>(*s.deletion);
      if (s.fields) {
        r.version = std::get<0>(*s.fields);
        r.version_event_id = std::get<2>(*s.fields);
        r.label = s.label;
      }
      out.push_back(r);
    }
  }
  return tables;
}

/// The same projection read from the database.
inline Tables actual_tables(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  Tables tables;
  const std::pair<const char*, const char*> columns[] = {
      {"users", "first_name"}, {"organizations", "name"}, {"organization_memberships", "role"}};
  for (const auto& [table, label] : columns) {
    auto& out = tables[table];
    for (const auto& row : tx.exec(std::string("select id, (extract(epoch from deleted_at) * "
                                               "1000)::bigint, version, version_event_id, ") +
                                   label + " from clerk." + table + " order by id collate \"C\"")) {
      ExpectedRow r;
      r.id = row[0].as<std::string>();
      if (!row[1].is_null()) r.deleted_at_ms = row[1].as<std::int64_t>();
      if (!row[2].is_null()) r.version = row[2].as<std::int64_t>();
      if (!row[3].is_null()) r.version_event_id = row[3].as<std::string>();
      if (!row[4].is_null()) r.label = row[4].as<std::string>();
      out.push_back(r);
    }
  }
  return tables;
}

/// Differences, one line each (empty when equal).
inline std::vector<std::string> diff_tables(const Tables& expected, const Tables& actual) {
  std::vector<std::string> out;
  for (const auto& [table, rows] : expected) {
    std::map<std::string, ExpectedRow> got;
    auto it = actual.find(table);
    if (it != actual.end()) {
      for (const auto& r : it->second)
        got[r.id] = r;
    }
    for (const auto& r : rows) {
      auto g = got.find(r.id);
      if (g == got.end()) {
        out.push_back(table + ": missing " + describe(r));
      } else {
        if (!(g->second == r)) {
          out.push_back(table + ": expected " + describe(r) + " got " + describe(g->second));
        }
        got.erase(g);
      }
    }
    for (const auto& [id, r] : got)
      out.push_back(table + ": unexpected " + describe(r));
  }
  return out;
}

/// A checksum of the mirrored tables (every column except synced_at), for replay
/// comparisons.
inline std::string tables_checksum(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  std::string out;
  for (const char* table : {"users", "organizations", "organization_memberships"}) {
    auto row = tx.exec1(std::string("select count(*), coalesce(md5(string_agg((to_jsonb(t) - "
                                    "'synced_at')::text, '|' order by t.id collate \"C\")), '') "
                                    "from clerk.") +
                        table + " t");
    out +=
        std::string(table) + ":" + row[0].as<std::string>() + ":" + row[1].as<std::string>() + " ";
  }
  return out;
}

}  // namespace worker_test
