// Connection strings get timeouts, keepalives and a name, unless the user set them.
#include "common/config/database_url.hpp"

#include <catch2/catch.hpp>

using common::config::with_session_options;
using std::chrono::seconds;

TEST_CASE("session options are appended to a URL", "[unit]") {
  CHECK(with_session_options("postgresql://u@h:5432/db", "app", seconds(5)) ==
        "postgresql://u@h:5432/db?connect_timeout=5&application_name=app&keepalives=1"
        "&keepalives_idle=30&keepalives_interval=10&keepalives_count=3&tcp_user_timeout=60000");
  CHECK(with_session_options("postgres://u@h/db?sslmode=require", "app", seconds(2)) ==
        "postgres://u@h/db?sslmode=require&connect_timeout=2&application_name=app&keepalives=1"
        "&keepalives_idle=30&keepalives_interval=10&keepalives_count=3&tcp_user_timeout=60000");
}

TEST_CASE("a space in the application name is percent-encoded in a URL", "[unit]") {
  CHECK_THAT(with_session_options("postgresql://u@h/db", "clerk-mirror sync", seconds(5)),
             Catch::Contains("application_name=clerk-mirror%20sync&"));
}

TEST_CASE("session options are appended to a keyword string", "[unit]") {
  CHECK(with_session_options("host=h dbname=db", "clerk-mirror sync", seconds(10)) ==
        "host=h dbname=db connect_timeout='10' application_name='clerk-mirror sync' "
        "keepalives='1' keepalives_idle='30' keepalives_interval='10' keepalives_count='3' "
        "tcp_user_timeout='60000'");
}

TEST_CASE("options the connection string already sets are left alone", "[unit]") {
  std::string url = "postgresql://u@h/db?connect_timeout=30&application_name=mine&keepalives=0";
  CHECK(with_session_options(url, "app", seconds(5)) ==
        url +
            "&keepalives_idle=30&keepalives_interval=10&keepalives_count=3&tcp_user_timeout=60000");
}
